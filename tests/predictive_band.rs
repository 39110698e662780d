//! The predictive band against a known truth: curves drawn from the power law plus Gaussian
//! noise of known standard deviation, so the band's noise estimate and its coverage of new
//! runs can be checked exactly.

use lrsde::assess::{CalibrationOptions, LawChoice, calibrate, fit_choice};
use lrsde::data::TrainingCurve;
use lrsde::fit::{FitOptions, Predictor, fit_law, z_of_level};
use rand_distr::{Distribution, StandardNormal};

const SIGMA: f64 = 0.002;

/// L(t) = 2 + 3·(t·lr/lr)^−0.5 at every 50th update of a constant LR, plus N(0, SIGMA²).
fn truth(step: u64) -> f64 {
    2.0 + 3.0 / (step as f64).sqrt()
}

fn noisy_curve(seed: u64, updates: usize) -> TrainingCurve {
    let mut rng = lrsde::rng::path_rng(seed, 0);
    let steps: Vec<u64> = (1..=(updates as u64 / 50)).map(|k| 50 * k).collect();
    let losses = steps
        .iter()
        .map(|&s| {
            let z: f64 = StandardNormal.sample(&mut rng);
            truth(s) + SIGMA * z
        })
        .collect();
    TrainingCurve {
        name: format!("run{seed}"),
        lrs: lrsde::schedule::LrGrid::new(vec![1e-3; updates]).unwrap(),
        steps,
        losses,
        batch: None,
    }
}

#[test]
fn noise_estimate_and_coverage_match_the_truth() {
    let curves = [noisy_curve(1, 8000)];
    let opts = FitOptions::default();
    let fitted = fit_law("power".parse().unwrap(), &curves, &opts).unwrap();
    let fitted = calibrate(fitted, &curves, &opts, &CalibrationOptions::default()).unwrap();
    let p = fitted.predictive.clone().unwrap();
    // The MAD estimate from 140 differences has a relative sd of about 10 %.
    assert!(
        (p.noise_sd / SIGMA - 1.0).abs() < 0.3,
        "noise sd {} vs {SIGMA}",
        p.noise_sd
    );
    // The law is right: the discrepancy must be small next to the noise.
    assert!(p.own_sd + p.shared_sd < 2.0 * SIGMA, "{p:?}");
    // New runs at the horizon: the observed loss lies in the 90 % band about 90 % of the time.
    let predictor = Predictor::from_fitted(fitted.clone()).unwrap();
    let band = predictor
        .predict_band(&lr_grid(&vec![1e-3; 8000]), &[8000])
        .unwrap();
    let (lo, hi) = (band.lo[0], band.hi[0]);
    assert!(lo < band.loss[0] && band.loss[0] < hi);
    let mut rng = lrsde::rng::path_rng(99, 0);
    let n = 2000;
    let inside = (0..n)
        .filter(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            let obs = truth(8000) + SIGMA * z;
            lo <= obs && obs <= hi
        })
        .count() as f64
        / n as f64;
    assert!(
        (0.8..=0.99).contains(&inside),
        "coverage {inside}, band [{lo}, {hi}]"
    );
}

#[test]
fn band_is_centred_widens_with_horizon_and_follows_the_level() {
    let curves = [noisy_curve(2, 4000)];
    let opts = FitOptions::default();
    let cal = CalibrationOptions {
        level: 0.5,
        noise_sd: Some(0.01),
        ..CalibrationOptions::default()
    };
    let fitted = fit_choice(
        &LawChoice::Law("power".parse().unwrap()),
        &curves,
        &opts,
        &cal,
    )
    .unwrap();
    let p = fitted.predictive.as_ref().unwrap();
    assert_eq!((p.noise_sd, p.noise_source.as_str()), (0.01, "given"));
    assert_eq!(fitted.band_quantiles, (0.25, 0.75));
    let predictor = Predictor::from_fitted(fitted.clone()).unwrap();
    let band = predictor
        .predict_band(&lr_grid(&vec![1e-3; 40_000]), &[4000, 40_000])
        .unwrap();
    for j in 0..2 {
        // Centred on the prediction (no clamping), and at least the noise's interval wide.
        let (below, above) = (band.loss[j] - band.lo[j], band.hi[j] - band.loss[j]);
        assert!((below - above).abs() < 1e-12);
        assert!(above >= z_of_level(0.5) * 0.01 - 1e-12);
    }
    // Ten times the horizon: at least as wide (parameter and discrepancy terms grow).
    assert!(band.hi[1] - band.lo[1] >= band.hi[0] - band.lo[0]);
    // The file keeps the model.
    let back = lrsde::fit::FittedLaw::from_json_str(&fitted.to_json_string().unwrap()).unwrap();
    assert_eq!(back.predictive, fitted.predictive);
}

#[test]
fn fit_files_without_a_predictive_model_still_load() {
    let curves = [noisy_curve(3, 4000)];
    let fitted = fit_law("power".parse().unwrap(), &curves, &FitOptions::default()).unwrap();
    let text = fitted.to_json_string().unwrap();
    assert!(!text.contains("predictive") && !text.contains("selection"));
    let back = lrsde::fit::FittedLaw::from_json_str(&text).unwrap();
    assert!(back.predictive.is_none() && back.selection.is_none());
}

#[test]
fn bad_levels_are_refused() {
    let curves = [noisy_curve(4, 4000)];
    for level in [0.0, 1.0, f64::NAN] {
        let cal = CalibrationOptions {
            level,
            ..CalibrationOptions::default()
        };
        let err = fit_choice(&LawChoice::Auto, &curves, &FitOptions::default(), &cal).unwrap_err();
        assert!(err.to_string().contains("level"), "{err}");
    }
}

#[test]
fn rank_p_best_sums_to_one_and_identical_candidates_tie() {
    use lrsde::rank::{Candidate, RankOptions, rank};
    let curves = [noisy_curve(5, 4000)];
    let opts = FitOptions::default();
    let cal = CalibrationOptions {
        noise_sd: Some(0.005),
        ..CalibrationOptions::default()
    };
    let fitted = fit_choice(
        &LawChoice::Law("power".parse().unwrap()),
        &curves,
        &opts,
        &cal,
    )
    .unwrap();
    let predictor = Predictor::from_fitted(fitted.clone()).unwrap();
    let c: Vec<Candidate> = [
        "constant:peak=1e-3,steps=4000",
        "constant:peak=1e-3,steps=4000",
        "cosine:peak=1e-3,steps=4000",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let r = rank(&predictor, &c, &RankOptions::default()).unwrap();
    let sum: f64 = r.entries.iter().map(|e| e.p_best).sum();
    assert!((sum - 1.0).abs() < 1e-12, "{sum}");
    // The two identical constants: same prediction, each best about half the time, a tie.
    let (a, b) = (&r.entries[0], &r.entries[1]);
    assert_eq!(a.final_loss, b.final_loss);
    assert!(!b.significant);
    assert!(
        (a.p_best - b.p_best).abs() < 0.05,
        "{} vs {}",
        a.p_best,
        b.p_best
    );
    // The cosine has half the LR area: with a noise of 0.005 its gap of ~0.02 (2.8 noise sd of a difference) is significant.
    let cos = &r.entries[2];
    assert!(cos.gap > 2.0 * 0.005 * 2f64.sqrt(), "{}", cos.gap);
    assert!(cos.significant && cos.p_best < 0.01, "{cos:?}");
    // Same inputs, same output, bit for bit.
    let again = rank(&predictor, &c, &RankOptions::default()).unwrap();
    assert_eq!(r, again);
}

#[test]
fn auto_without_evidence_keeps_the_simplest_law_and_says_so() {
    // Six points: enough to fit `momentum` (4 parameters), too few to refit it on half.
    let mut c = noisy_curve(6, 600);
    c.steps.truncate(6);
    c.losses.truncate(6);
    let fitted = fit_choice(
        &LawChoice::Auto,
        &[c],
        &FitOptions::default(),
        &CalibrationOptions::default(),
    )
    .unwrap();
    let s = fitted.selection.as_ref().unwrap();
    assert_eq!(
        (s.chosen.as_str(), fitted.law.as_str()),
        ("momentum", "momentum")
    );
    assert!(s.reason.contains("no evidence"), "{}", s.reason);
    assert!(s.candidates.iter().all(|c| c.score.is_nan()));
    assert!(
        fitted
            .report
            .warnings
            .iter()
            .any(|w| w.contains("no model-discrepancy term")),
        "{:?}",
        fitted.report.warnings
    );
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
