//! How curves weigh against each other in a fit (`FitOptions::curve_weighting`), given point
//! weights in the leave-last-segment-out refits of the predictive band, and the warning on fit
//! curves of different peak LRs.

mod fit_support;

use lrsde::assess::{DEFAULT_CUTS, segment_errors};
use lrsde::data::TrainingCurve;
use lrsde::fit::{CurveWeighting, FitOptions, UncertaintyMethod, fit_law};
use lrsde::law::PowerLaw;

/// A constant-LR run of 4000 updates that follows `L = l0 + 3·S1^(−0.5)` exactly, logged
/// every `every` updates.
fn run(name: &str, l0: f64, every: u64) -> TrainingCurve {
    let steps: Vec<u64> = (1..=4000 / every).map(|k| k * every).collect();
    let law = PowerLaw::new(1e-3).unwrap();
    fit_support::curve(&law, &[l0, 3.0, 0.5], name, vec![1e-3; 4000], steps, 0.0, 0)
}

/// The fitted `L0` of the power law on two runs that disagree by 0.001 in their floor (inside
/// the Huber threshold, so the fit averages them), the second logged every `every_b` updates.
fn fitted_floor(weighting: CurveWeighting, every_b: u64) -> f64 {
    let curves = [run("a", 2.000, 100), run("b", 2.001, every_b)];
    let opts = FitOptions {
        curve_weighting: weighting,
        uncertainty: UncertaintyMethod::None,
        ..FitOptions::default()
    };
    let fitted = fit_law("power".parse().unwrap(), &curves, &opts).unwrap();
    assert!(fitted.report.converged, "{}", fitted.report.termination);
    fitted.params["L0"]
}

#[test]
fn weighing_curves_equally_makes_the_fit_independent_of_how_often_a_curve_was_logged() {
    // Logged as often as `a`, `b` pulls the floor half way under either weighting.
    for w in [CurveWeighting::Points, CurveWeighting::Curves] {
        let even = fitted_floor(w, 100);
        assert!((even - 2.0005).abs() < 5e-5, "{w:?}: {even}");
    }
    // Logged ten times as often, `b` outweighs `a` 10 : 1 point by point: the floor moves to
    // their weighted mean (2.0000 + 10 · 2.0010) / 11 ≈ 2.00091, unless each curve weighs the
    // same, when it stays half way whatever the logging frequency (within 1e-4: the denser log
    // also has more points early in the run, where the floor and the power trade off).
    let points = fitted_floor(CurveWeighting::Points, 10);
    assert!((points - 2.000_909).abs() < 3e-5, "{points}");
    for every_b in [50, 20, 10] {
        let curves = fitted_floor(CurveWeighting::Curves, every_b);
        assert!((curves - 2.0005).abs() < 1e-4, "every {every_b}: {curves}");
    }
}

#[test]
fn given_point_weights_follow_their_points_into_the_refits() {
    // Unit weights given explicitly are no weights: the refits on shortened curves must keep
    // them point for point (they once failed: "N weights for M points").
    let curves = [run("a", 2.000, 100), run("b", 2.001, 50)];
    let plain = FitOptions::default();
    let ones = FitOptions {
        weights: Some(curves.iter().map(|c| vec![1.0; c.steps.len()]).collect()),
        ..FitOptions::default()
    };
    let law = "power".parse().unwrap();
    let a = segment_errors(&law, &curves, &plain, &DEFAULT_CUTS).unwrap();
    let b = segment_errors(&law, &curves, &ones, &DEFAULT_CUTS).unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a, b);
}

/// `run` at another constant LR.
fn run_at(name: &str, lr: f64) -> TrainingCurve {
    let steps: Vec<u64> = (1..=40).map(|k| k * 100).collect();
    let law = PowerLaw::new(1e-3).unwrap();
    fit_support::curve(&law, &[2.0, 3.0, 0.5], name, vec![lr; 4000], steps, 0.0, 0)
}

#[test]
fn a_fit_of_curves_at_different_peak_lrs_says_what_the_public_data_showed() {
    let opts = FitOptions {
        uncertainty: UncertaintyMethod::None,
        ..FitOptions::default()
    };
    let warned = |lrs: [f64; 2]| {
        let curves = [run_at("a", lrs[0]), run_at("b", lrs[1])];
        let fitted = fit_law("power".parse().unwrap(), &curves, &opts).unwrap();
        fitted
            .report
            .warnings
            .iter()
            .any(|w| w.contains("peak at different LRs") && w.contains("Model-size sets"))
    };
    assert!(warned([1e-3, 2e-3]));
    assert!(!warned([1e-3, 1e-3]));
    // Within 20 %: one peak (e.g. a logged LR rounded differently).
    assert!(!warned([1e-3, 1.1e-3]));
}
