//! `Predictor::first_bad_prediction`: the first curve and step where a fitted law stops giving
//! a usable loss, checked against where the fitted formula crosses zero.

use lrsde::data::TrainingCurve;
use lrsde::fit::{BadPredictionKind, FitOptions, Predictor, fit};
use lrsde::law::{LawError, LossLaw, ParamSpec};

mod fit_support;

/// L(t) = a − b·S1(t), S1 the LR area: turns negative once S1 > a / b.
struct Linear;

impl LossLaw for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("a", 0.0, 10.0),
            ParamSpec::linear("b", 0.0, 1.0),
        ]
    }
    fn predict(
        &self,
        p: &[f64],
        lrs: &lrsde::schedule::LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        fit_support::by_lr_area(lrs, steps, out, |s1| p[0] - p[1] * s1);
        Ok(())
    }
    fn configure(&mut self, _: &[TrainingCurve]) -> Result<(), LawError> {
        Ok(())
    }
    fn initial_guesses(&self, _: &[TrainingCurve]) -> Vec<Vec<f64>> {
        vec![vec![1.0, 0.01]]
    }
}

fn curve(name: &str, updates: usize, steps: Vec<u64>) -> TrainingCurve {
    let losses = steps.iter().map(|&k| 3.0 - 1e-3 * k as f64).collect();
    TrainingCurve {
        name: name.into(),
        lrs: lrsde::schedule::LrGrid::new(vec![1.0; updates]).unwrap(),
        batch: None,
        steps,
        losses,
    }
}

#[test]
fn finds_the_first_curve_and_step_where_the_loss_stops_being_positive() {
    let seen = curve("seen", 2000, (1..=20).map(|k| 100 * k).collect());
    // Started at the exact line, so the fit is that line (the search itself is not under test).
    let options = FitOptions {
        starts: vec![vec![3.0, 1e-3]],
        random_starts: 0,
        ..FitOptions::default()
    };
    let fitted = fit(&Linear, std::slice::from_ref(&seen), &options).unwrap();
    assert!(fitted.report.converged, "{}", fitted.report.termination);
    let predictor = Predictor::with_law(fitted, Linear).unwrap();
    assert_eq!(
        predictor.first_bad_prediction(std::slice::from_ref(&seen)),
        None
    );

    // Observed at 50, 150, …: the fitted line (a ≈ 3, b ≈ 1e-3) crosses zero at ≈ 3000, so the
    // first bad step is the first observed k with a − b k ≤ 0, i.e. 3050.
    let long = curve("long", 6000, (0..60).map(|j| 50 + 100 * j).collect());
    let p = predictor.params();
    let want = long
        .steps
        .iter()
        .copied()
        .find(|&k| p[0] - p[1] * k as f64 <= 0.0);
    assert_eq!(want, Some(3050));
    let bad = predictor
        .first_bad_prediction(&[seen.clone(), long.clone(), long])
        .expect("the long curve goes negative");
    assert_eq!(bad.curve, 1);
    match bad.kind {
        BadPredictionKind::Loss { step, value } => {
            assert_eq!(Some(step), want);
            assert!(value <= 0.0 && value > -0.1, "{value}");
        }
        other => panic!("expected a loss, got {other:?}"),
    }
    assert!(
        bad.kind
            .to_string()
            .starts_with("the fitted law predicts a loss of "),
        "{}",
        bad.kind
    );
}

#[test]
fn a_curve_the_law_refuses_is_reported_with_the_law_error() {
    let seen = curve("seen", 2000, (1..=20).map(|k| 100 * k).collect());
    let fitted = lrsde::fit::fit_law(
        "power".parse().unwrap(),
        std::slice::from_ref(&seen),
        &FitOptions::default(),
    )
    .unwrap();
    let predictor = Predictor::from_fitted(fitted).unwrap();
    // Steps beyond the LR grid.
    let beyond = curve("beyond", 100, vec![50, 500]);
    let bad = predictor
        .first_bad_prediction(&[seen, beyond])
        .expect("the law refuses a step past the grid");
    assert_eq!(bad.curve, 1);
    assert!(
        matches!(bad.kind, BadPredictionKind::Law(_)),
        "{:?}",
        bad.kind
    );
    assert!(bad.kind.to_string().starts_with("the law fails: "));
}
