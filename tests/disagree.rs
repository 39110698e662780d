//! The disagreement term of the predictive band (`lrsde::fit::Disagreement`): the band's
//! variance grows by exactly `(k·(other − chosen))²`, not at all where the laws agree, and fit
//! files without the term still load.

use lrsde::assess::{CalibrationOptions, calibrate};
use lrsde::data::TrainingCurve;
use lrsde::fit::{Disagreement, FitOptions, FittedLaw, Predictor, fit_law};
use lrsde::schedule::LrGrid;

/// A calibrated power-law fit of L = 2 + 3·t^−0.5 (plus a small wiggle) on a constant LR.
fn calibrated() -> FittedLaw {
    let steps: Vec<u64> = (1..=80).map(|k| 50 * k).collect();
    let losses = steps
        .iter()
        .enumerate()
        .map(|(i, &s)| 2.0 + 3.0 / (s as f64).sqrt() + 1e-3 * ((i % 3) as f64 - 1.0))
        .collect();
    let curves = [TrainingCurve {
        name: "c".into(),
        lrs: LrGrid::new(vec![1e-3; 4000]).unwrap(),
        steps,
        losses,
        batch: None,
    }];
    let opts = FitOptions::default();
    let fitted = fit_law("power".parse().unwrap(), &curves, &opts).unwrap();
    calibrate(fitted, &curves, &opts, &CalibrationOptions::default()).unwrap()
}

/// The same law with `L0` raised by `dl0`: it disagrees by exactly `dl0` at every step.
fn shifted(fitted: &FittedLaw, dl0: f64, k: f64) -> Disagreement {
    assert_eq!(fitted.param_order[0], "L0");
    let mut params = fitted.params_vec();
    params[0] += dl0;
    Disagreement {
        law: fitted.law.clone(),
        law_config: fitted.law_config.clone(),
        params,
        k,
        n_pairs: 4,
    }
}

fn with(mut fitted: FittedLaw, d: Option<Disagreement>) -> Predictor {
    fitted.predictive.as_mut().unwrap().disagreement = d;
    Predictor::from_fitted(fitted).unwrap()
}

const STEPS: [u64; 3] = [1000, 4000, 12000];

fn grid() -> LrGrid {
    LrGrid::new(vec![1e-3; 12000]).unwrap()
}

#[test]
fn band_widens_by_exactly_the_disagreement_term() {
    let fitted = calibrated();
    let z = fitted.predictive.as_ref().unwrap().z();
    let plain = with(fitted.clone(), None)
        .predict_band(&grid(), &STEPS)
        .unwrap();
    let (dl0, k) = (0.01, 0.8);
    let wide = with(fitted.clone(), Some(shifted(&fitted, dl0, k)))
        .predict_band(&grid(), &STEPS)
        .unwrap();
    assert_eq!(
        wide.loss, plain.loss,
        "the term must not move the prediction"
    );
    for (j, step) in STEPS.iter().enumerate() {
        let (hw0, hw1) = (
            0.5 * (plain.hi[j] - plain.lo[j]),
            0.5 * (wide.hi[j] - wide.lo[j]),
        );
        let added = (hw1 * hw1 - hw0 * hw0) / (z * z);
        assert!(
            (added - (k * dl0).powi(2)).abs() < 1e-12,
            "step {step}: added variance {added}, expected {}",
            (k * dl0).powi(2)
        );
        assert!((wide.hi[j] + wide.lo[j] - 2.0 * wide.loss[j]).abs() < 1e-12);
    }
}

#[test]
fn laws_that_agree_or_a_zero_weight_add_nothing() {
    let fitted = calibrated();
    let plain = with(fitted.clone(), None)
        .predict_band(&grid(), &STEPS)
        .unwrap();
    let agree = with(fitted.clone(), Some(shifted(&fitted, 0.0, 0.8)))
        .predict_band(&grid(), &STEPS)
        .unwrap();
    assert_eq!(agree, plain);
    let unweighted = Disagreement {
        law_config: serde_json::Value::Null,
        params: Vec::new(),
        ..shifted(&fitted, 0.05, 0.0)
    };
    let zero = with(fitted, Some(unweighted))
        .predict_band(&grid(), &STEPS)
        .unwrap();
    assert_eq!(zero, plain);
}

#[test]
fn fit_files_without_the_term_load_and_files_with_it_round_trip() {
    let fitted = calibrated();
    let d = shifted(&fitted, 0.01, 0.5);
    let with_term = with(fitted.clone(), Some(d.clone()));
    let text = with_term.fitted().to_json_string().unwrap();
    let back = Predictor::from_json_str(&text).unwrap();
    assert_eq!(
        back.fitted().predictive.as_ref().unwrap().disagreement,
        Some(d)
    );
    // A file of an older build: no `disagreement` key.
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let removed = json["predictive"]
        .as_object_mut()
        .unwrap()
        .remove("disagreement");
    assert!(removed.is_some());
    let old = Predictor::from_json_str(&json.to_string()).unwrap();
    assert_eq!(old.fitted().predictive.as_ref().unwrap().disagreement, None);
    let plain = with(fitted, None);
    assert_eq!(
        old.predict_band(&grid(), &STEPS).unwrap(),
        plain.predict_band(&grid(), &STEPS).unwrap()
    );
    // Without the term nothing is written, so old builds read new files of such fits.
    assert!(
        !plain
            .fitted()
            .to_json_string()
            .unwrap()
            .contains("disagreement")
    );
}

#[test]
fn bad_disagreement_terms_in_a_fit_file_are_errors_naming_the_key() {
    let fitted = calibrated();
    let text = with(fitted.clone(), Some(shifted(&fitted, 0.01, 0.5)))
        .fitted()
        .to_json_string()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let edit = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j["predictive"]["disagreement"][key] = v;
        Predictor::from_json_str(&j.to_string())
            .unwrap_err()
            .to_string()
    };
    let e = edit("k", serde_json::json!(-1.0));
    assert!(e.contains("key `predictive.disagreement.k`"), "{e}");
    let e = edit("params", serde_json::json!([2.0, 3.0]));
    assert!(e.contains("key `predictive.disagreement.params`"), "{e}");
    let e = edit("law_config", serde_json::json!({"law": "nope"}));
    assert!(
        e.contains("key `predictive.disagreement.law_config`"),
        "{e}"
    );
    // An unused term (k = 0, as `auto` stores it) needs no law.
    let mut j = json.clone();
    j["predictive"]["disagreement"]["k"] = serde_json::json!(0.0);
    j["predictive"]["disagreement"]["law_config"] = serde_json::Value::Null;
    j["predictive"]["disagreement"]["params"] = serde_json::json!([]);
    assert!(Predictor::from_json_str(&j.to_string()).is_ok());
}
