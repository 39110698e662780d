//! The saturating-LR adapter (`LAW:sat=1`): the plain law as `eta_c → ∞`, exact derivatives
//! of the inner parameters and a central difference in `eta_c` that agree with the prediction,
//! and recovery of a known `eta_c` from a constant and a cosine run.

mod fit_support;

use fit_support::*;
use lrsde::assess::{CalibrationOptions, LawChoice, fit_choice};
use lrsde::fit::{FitOptions, fit_law};
use lrsde::law::{AnyLaw, LossLaw};
use lrsde::schedule::LrGrid;

/// A warmup-then-cosine grid peaking at `peak`: LRs from 0 to the peak, as the fits see them.
fn warm_cosine(n: usize, peak: f64) -> LrGrid {
    let w = n / 20;
    LrGrid::new(
        (0..n)
            .map(|t| {
                if t < w {
                    peak * (t + 1) as f64 / w as f64
                } else {
                    peak * cosine(n - w)[t - w]
                }
            })
            .collect(),
    )
    .unwrap()
}

#[test]
fn an_infinite_eta_c_is_the_plain_law() {
    let lrs = warm_cosine(3000, 2e-3);
    let steps = grid(3000, 30);
    for (name, params) in [
        ("momentum", vec![2.0, 3.0, 0.5, 0.02]),
        ("power", vec![2.0, 3.0, 0.5]),
        ("mpl", vec![2.0, 300.0, 0.5, 40.0, 1.0, 0.5, 0.5]),
        ("sde", vec![2.0, -1.0, 1.0, -2.0, 0.0, 1.0]),
    ] {
        let spec = format!("{name}:lr_ref=2e-3");
        let plain: AnyLaw = spec.parse().unwrap();
        let sat: AnyLaw = format!("{spec},sat=1").parse().unwrap();
        assert_eq!(sat.name(), format!("{name}+sat"));
        let (mut a, mut b) = (vec![0.0; steps.len()], vec![0.0; steps.len()]);
        plain.predict(&params, &lrs, &steps, &mut a).unwrap();
        let mut p = params.clone();
        p.push(f64::MAX);
        sat.predict(&p, &lrs, &steps, &mut b).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                "{name}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn the_jacobian_matches_difference_quotients_of_the_prediction() {
    let law: AnyLaw = "momentum:lr_ref=2e-3,sat=1".parse().unwrap();
    let lrs = warm_cosine(2000, 2e-3);
    let steps = grid(2000, 20);
    let p = [2.0, 3.0, 0.5, 0.02, 0.7];
    let n = p.len();
    let mut out = vec![0.0; steps.len()];
    let mut jac = vec![0.0; steps.len() * n];
    assert!(
        law.predict_jacobian(&p, &lrs, &steps, &mut out, &mut jac)
            .unwrap()
    );
    let mut plain = vec![0.0; steps.len()];
    law.predict(&p, &lrs, &steps, &mut plain).unwrap();
    assert_eq!(out, plain);
    for k in 0..n {
        // Richardson-free central difference with a step far from the adapter's own.
        let h = 1e-4 * p[k].abs();
        let (mut up, mut down) = (p, p);
        up[k] += h;
        down[k] -= h;
        let (mut fu, mut fd) = (vec![0.0; steps.len()], vec![0.0; steps.len()]);
        law.predict(&up, &lrs, &steps, &mut fu).unwrap();
        law.predict(&down, &lrs, &steps, &mut fd).unwrap();
        for j in 0..steps.len() {
            let num = (fu[j] - fd[j]) / (2.0 * h);
            let got = jac[j * n + k];
            assert!(
                (num - got).abs() <= 1e-6 * num.abs().max(1e-3),
                "param {k} step {}: {got} vs {num}",
                steps[j]
            );
        }
    }
}

/// A constant and a warmup-cosine run at peak 2e-3 from `momentum:sat=1` at `truth`.
fn sat_curves(truth: &[f64]) -> Vec<lrsde::data::TrainingCurve> {
    let law: AnyLaw = "momentum:lr_ref=2e-3,sat=1".parse().unwrap();
    let (n, peak) = (4000, 2e-3);
    let mk = |name: &str, lrs: LrGrid| {
        let steps = grid(n as u64, 80);
        let mut losses = vec![0.0; steps.len()];
        law.predict(truth, &lrs, &steps, &mut losses).unwrap();
        lrsde::data::TrainingCurve {
            name: name.into(),
            lrs,
            steps,
            losses,
            batch: None,
        }
    };
    vec![
        mk("constant", LrGrid::new(vec![peak; n]).unwrap()),
        mk("cosine", warm_cosine(n, peak)),
    ]
}

#[test]
fn a_known_eta_c_is_recovered_from_a_constant_and_a_cosine_run() {
    // Progress halves at 0.3 × the peak: the cosine run's decay through that LR bends the
    // curve away from what the constant run's LR area predicts.
    let truth = [2.0, 3.0, 0.5, 0.01, 0.3];
    let fitted = fit_law(
        "momentum:sat=1".parse().unwrap(),
        &sat_curves(&truth),
        &FitOptions::default(),
    )
    .unwrap();
    assert!(fitted.report.converged, "{:#?}", fitted.report);
    assert_eq!(fitted.law, "momentum+sat");
    for (name, t) in ["L0", "A", "alpha", "C", "eta_c"].iter().zip(truth) {
        let x = fitted.params[*name];
        assert!(rel_err(x, t) < 0.02, "{name}: fitted {x}, true {t}");
    }
}

#[test]
fn the_fit_report_warns_only_when_progress_saturates_below_the_peak() {
    let law: LawChoice = "momentum:sat=1".parse().unwrap();
    let (opts, cal) = (FitOptions::default(), CalibrationOptions::default());
    let warned = |eta_c: f64| {
        let fitted = fit_choice(
            &law,
            &sat_curves(&[2.0, 3.0, 0.5, 0.01, eta_c]),
            &opts,
            &cal,
        )
        .unwrap();
        let w = fitted
            .report
            .warnings
            .iter()
            .find(|w| w.contains("saturating LR"));
        w.cloned()
    };
    // eta_c = 0.3 of the peak 2e-3: halves at 6e-4.
    let w = warned(0.3).expect("a warning at eta_c = 0.3");
    assert!(w.contains("5.99") || w.contains("6.00"), "{w}");
    assert!(warned(1e4).is_none());
}

#[test]
fn rank_warns_for_candidates_that_spend_long_above_the_saturating_lr() {
    use lrsde::fit::Predictor;
    use lrsde::rank::{Candidate, RankOptions, rank};
    use lrsde::schedule::Schedule;
    // Progress halves at 0.3 × the peak 2e-3 = 6e-4.
    let fitted = fit_law(
        "momentum:sat=1".parse().unwrap(),
        &sat_curves(&[2.0, 3.0, 0.5, 0.01, 0.3]),
        &FitOptions::default(),
    )
    .unwrap();
    let predictor = Predictor::from_fitted(fitted).unwrap();
    let constant =
        |peak: f64| -> Schedule { format!("constant:peak={peak},steps=4000").parse().unwrap() };
    let ranking = rank(
        &predictor,
        &[
            Candidate::new("hot", constant(2e-3)),
            Candidate::new("cool", constant(4e-4)),
        ],
        &RankOptions::default(),
    )
    .unwrap();
    let warns = |label: &str| {
        let row = ranking.entries.iter().find(|r| r.label == label).unwrap();
        row.warnings.iter().any(|w| w.contains("saturating law"))
    };
    assert!(warns("hot"), "{:#?}", ranking.entries);
    assert!(!warns("cool"), "{:#?}", ranking.entries);
}

#[test]
fn a_non_positive_eta_c_is_refused_with_its_domain() {
    let law: AnyLaw = "momentum:sat=1".parse().unwrap();
    let lrs = LrGrid::new(vec![1e-3; 10]).unwrap();
    let mut out = [0.0];
    for c in [0.0, -1.0] {
        let err = law
            .predict(&[2.0, 3.0, 0.5, 0.01, c], &lrs, &[10], &mut out)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("eta_c") && err.contains("must be > 0"),
            "{err}"
        );
    }
}

#[test]
fn sat_is_an_option_of_the_closed_form_laws_only() {
    let err = "momentum:sat=2".parse::<AnyLaw>().unwrap_err().to_string();
    assert!(err.contains("sat") && err.contains("0 or 1"), "{err}");
    assert!("sim:model=nqm,sat=1".parse::<AnyLaw>().is_err());
    let off: AnyLaw = "momentum:sat=0".parse().unwrap();
    assert_eq!(off.name(), "momentum");
    let law: AnyLaw = "power:sat=1".parse().unwrap();
    let back: AnyLaw = serde_json::from_str(&serde_json::to_string(&law).unwrap()).unwrap();
    assert_eq!(back, law);
}
