//! Fit recovery, joint fits, bounds, failure reporting, bands and determinism.

mod fit_support;

use fit_support::*;
use lrsde::data::TrainingCurve;
use lrsde::fit::{FitError, FitOptions, FittedLaw, Predictor, UncertaintyMethod, fit};
use lrsde::law::LossLaw;

const POWER: [f64; 3] = [2.0, 3.0, 0.5];
const ANNEAL: [f64; 5] = [2.0, 3.0, 0.5, 0.02, 0.8];

fn two_curves(law: &dyn LossLaw, p: &[f64], sigma: f64) -> Vec<TrainingCurve> {
    vec![
        curve(
            law,
            p,
            "constant",
            constant(2000),
            grid(2000, 100),
            sigma,
            1,
        ),
        curve(law, p, "cosine", cosine(2000), grid(2000, 100), sigma, 2),
    ]
}

fn assert_recovers(fitted: &FittedLaw, truth: &[f64], tol: f64) {
    assert!(fitted.report.converged, "{:#?}", fitted.report);
    for ((name, x), t) in fitted
        .param_order
        .iter()
        .zip(fitted.params_vec())
        .zip(truth)
    {
        assert!(rel_err(x, *t) < tol, "{name}: fitted {x}, true {t}");
    }
}

#[test]
fn power_law_noiseless_default_starts() {
    let law = Power3::default();
    let curves = two_curves(&law, &POWER, 0.0);
    let fitted = fit(&law, &curves, &FitOptions::default()).unwrap();
    assert_recovers(&fitted, &POWER, 1e-4);
    assert_eq!(fitted.report.starts.len(), 8);
    assert_eq!(fitted.report.n_points, 200);
    assert!(fitted.report.rmse_log < 1e-6);
}

#[test]
fn anneal_law_noiseless_from_a_guess() {
    let curves = two_curves(&Anneal5, &ANNEAL, 0.0);
    let opts = FitOptions {
        starts: vec![vec![2.5, 1.0, 0.3, 0.1, 1.0]],
        random_starts: 3,
        ..FitOptions::default()
    };
    let fitted = fit(&Anneal5, &curves, &opts).unwrap();
    assert_recovers(&fitted, &ANNEAL, 1e-4);
}

#[test]
fn anneal_law_noisy_within_reported_uncertainty() {
    let curves = two_curves(&Anneal5, &ANNEAL, 0.003);
    let opts = FitOptions {
        starts: vec![vec![2.5, 1.0, 0.3, 0.1, 1.0]],
        random_starts: 3,
        ..FitOptions::default()
    };
    let fitted = fit(&Anneal5, &curves, &opts).unwrap();
    assert!(fitted.report.converged, "{:#?}", fitted.report);
    let unc = fitted.uncertainty.as_ref().expect("Laplace uncertainty");
    assert_eq!(unc.rank, 5);
    assert_eq!(unc.draws.len(), 200);
    // Huber ≈ least absolute deviations here, less efficient than the least-squares
    // covariance assumes (≈ 1.25× in std): allow 5 reported standard deviations.
    for (((name, x), t), s) in fitted
        .param_order
        .iter()
        .zip(fitted.params_vec())
        .zip(ANNEAL)
        .zip(unc.std())
    {
        assert!(s > 0.0 && s.is_finite(), "{name}: std {s}");
        assert!(
            (x - t).abs() < 5.0 * s,
            "{name}: fitted {x} ± {s}, true {t}"
        );
    }
    // The residual scale matches the injected noise.
    assert!(
        (unc.sigma2_log.sqrt() - 0.003).abs() < 0.001,
        "{}",
        unc.sigma2_log
    );
}

#[test]
fn joint_fit_uses_each_curves_own_grid() {
    // The cosine curve has its own, longer horizon.
    let curves = vec![
        curve(
            &Anneal5,
            &ANNEAL,
            "constant",
            constant(2000),
            grid(2000, 100),
            0.0,
            1,
        ),
        curve(
            &Anneal5,
            &ANNEAL,
            "cosine3000",
            cosine(3000),
            grid(3000, 60),
            0.0,
            2,
        ),
    ];
    let opts = FitOptions {
        starts: vec![vec![2.5, 1.0, 0.3, 0.1, 1.0]],
        random_starts: 0,
        uncertainty: UncertaintyMethod::None,
        ..FitOptions::default()
    };
    let fitted = fit(&Anneal5, &curves, &opts).unwrap();
    assert_recovers(&fitted, &ANNEAL, 1e-4);
    assert_eq!(fitted.steps_seen, 3000);
    assert_eq!(fitted.curves[1].last_step, 3000);

    // Giving the cosine losses the constant grid makes them unfittable with the true law.
    let mut wrong = curves.clone();
    wrong[1].lrs = lrsde::schedule::LrGrid::new(constant(3000)).unwrap();
    let misfit = fit(&Anneal5, &wrong, &opts).unwrap();
    assert!(misfit.report.rmse_log > 1e-3, "{}", misfit.report.rmse_log);
    assert!(fitted.report.cost < 1e-3 * misfit.report.cost);
}

#[test]
fn parameters_on_their_bounds() {
    // True L0 = 0 (lower bound) and alpha = 0.5 (upper bound).
    let law = Power3 {
        l0: (0.0, 10.0),
        alpha: (0.1, 0.5),
    };
    let truth = [0.0, 3.0, 0.5];
    let curves = two_curves(&law, &truth, 0.0);
    let fitted = fit(&law, &curves, &FitOptions::default()).unwrap();
    let p = fitted.params_vec();
    assert!((0.0..=1e-3).contains(&p[0]), "L0 = {}", p[0]);
    assert!(rel_err(p[1], 3.0) < 1e-3, "A = {}", p[1]);
    assert!((0.499..=0.5).contains(&p[2]), "alpha = {}", p[2]);
    assert!(fitted.report.rmse_log < 1e-4);
    assert!(fitted.report.params_at_bounds.iter().any(|n| n == "alpha"));
    // Every start stayed within the bounds.
    for s in &fitted.report.starts {
        assert!(s.params[0] >= 0.0 && s.params[0] <= 10.0);
        assert!(s.params[2] >= 0.1 && s.params[2] <= 0.5);
    }
}

#[test]
fn a_law_that_returns_nan_reports_failure() {
    let curves = two_curves(&Power3::default(), &POWER, 0.0);
    let fitted = fit(&NanLaw, &curves, &FitOptions::default()).unwrap();
    assert!(!fitted.report.converged);
    assert_eq!(fitted.report.bad_points, 200);
    assert!(
        fitted.report.termination.contains("non-finite"),
        "{}",
        fitted.report.termination
    );
    assert!(fitted.uncertainty.is_none());
    assert!(fitted.report.rmse_log.is_nan());
    // The failed fit still round-trips through JSON (NaN metrics become null).
    let back = FittedLaw::from_json_str(&fitted.to_json_string().unwrap()).unwrap();
    assert!(!back.report.converged && back.report.rmse_log.is_nan());
}

#[test]
fn one_iteration_is_not_convergence() {
    let curves = two_curves(&Anneal5, &ANNEAL, 0.0);
    let opts = FitOptions {
        max_iters: 1,
        polish_max_iters: 1,
        random_starts: 1,
        uncertainty: UncertaintyMethod::None,
        ..FitOptions::default()
    };
    let fitted = fit(&Anneal5, &curves, &opts).unwrap();
    assert!(!fitted.report.converged);
    assert!(fitted.report.starts.iter().all(|s| !s.converged));
    assert!(
        fitted
            .report
            .termination
            .contains("maximum number of iterations"),
        "{}",
        fitted.report.termination
    );
}

fn band_width(fitted: &FittedLaw, last: usize, at: u64) -> f64 {
    let predictor = Predictor::with_law(fitted.clone(), Power3::default()).unwrap();
    let b = predictor
        .predict_band(&lr_grid(&constant(last)), &[at])
        .unwrap();
    assert!(b.lo[0] <= b.loss[0] && b.loss[0] <= b.hi[0]);
    b.hi[0] - b.lo[0]
}

#[test]
fn band_widens_when_extrapolating_and_narrows_with_data() {
    let law = Power3::default();
    let fit_n = |n: u64| {
        let c = vec![curve(
            &law,
            &POWER,
            "c",
            constant(2000),
            grid(2000, n),
            0.005,
            7,
        )];
        fit(&law, &c, &FitOptions::default()).unwrap()
    };
    let small = fit_n(25);
    let large = fit_n(400);
    assert!(small.report.converged && large.report.converged);
    let (w_in, w_out) = (
        band_width(&large, 20000, 1000),
        band_width(&large, 20000, 20000),
    );
    assert!(w_in > 0.0);
    assert!(w_out > 1.5 * w_in, "in-range {w_in}, extrapolated {w_out}");
    let (ws, wl) = (
        band_width(&small, 2000, 1000),
        band_width(&large, 2000, 1000),
    );
    assert!(wl < 0.6 * ws, "25 points: {ws}, 400 points: {wl}");
}

#[test]
fn bit_identical_for_one_and_two_threads() {
    let curves = two_curves(&Anneal5, &ANNEAL, 0.003);
    let opts = FitOptions {
        starts: vec![vec![2.5, 1.0, 0.3, 0.1, 1.0]],
        random_starts: 3,
        ..FitOptions::default()
    };
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            fit(&Anneal5, &curves, &opts)
                .unwrap()
                .to_json_string()
                .unwrap()
        })
    };
    let (one, two) = (run(1), run(2));
    assert!(one == two, "fits differ between 1 and 2 threads");
}

#[test]
fn impossible_inputs_are_errors() {
    let law = Power3::default();
    let ok = curve(&law, &POWER, "c", constant(100), grid(100, 10), 0.0, 1);
    let opts = FitOptions::default();
    assert!(matches!(fit(&law, &[], &opts), Err(FitError::NoCurves)));

    let mut few = ok.clone();
    few.steps.truncate(3);
    few.losses.truncate(3);
    assert!(matches!(
        fit(&law, &[few], &opts),
        Err(FitError::TooFewPoints {
            found: 3,
            needed: 4
        })
    ));

    let mut mism = ok.clone();
    mism.losses.pop();
    assert!(matches!(
        fit(&law, &[mism], &opts),
        Err(FitError::LengthMismatch { .. })
    ));

    let mut neg = ok.clone();
    neg.losses[4] = 0.0;
    let err = fit(&law, &[neg], &opts).unwrap_err();
    assert!(matches!(err, FitError::InvalidLoss { index: 4, .. }));
    assert!(err.to_string().contains("curve `c`"), "{err}");

    let mut beyond = ok.clone();
    beyond.steps[9] = 101;
    assert!(matches!(
        fit(&law, &[beyond], &opts),
        Err(FitError::InvalidStep { index: 9, .. })
    ));

    let bad_start = FitOptions {
        starts: vec![vec![1.0, 1.0, 5.0]],
        ..FitOptions::default()
    };
    assert!(matches!(
        fit(&law, std::slice::from_ref(&ok), &bad_start),
        Err(FitError::InvalidStart { start: 0, .. })
    ));

    let bad_delta = FitOptions {
        huber_delta: 0.0,
        ..FitOptions::default()
    };
    assert!(matches!(
        fit(&law, &[ok], &bad_delta),
        Err(FitError::InvalidOption {
            option: "huber_delta",
            ..
        })
    ));
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
