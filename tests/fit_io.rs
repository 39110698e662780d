//! Fit files (JSON round trip, version and format checks, corrupt input), the Huber loss and
//! the parameter transforms.

mod fit_support;

use fit_support::*;
use lrsde::fit::{
    FitError, FitOptions, FittedLaw, Predictor, Transform, UncertaintyMethod, fit, huber,
};
use proptest::prelude::*;

fn small_fit() -> FittedLaw {
    let law = Power3::default();
    let c = vec![curve(
        &law,
        &[2.0, 3.0, 0.5],
        "c",
        constant(500),
        grid(500, 25),
        0.004,
        3,
    )];
    let opts = FitOptions {
        random_starts: 2,
        uncertainty: UncertaintyMethod::Laplace { draws: 20 },
        ..FitOptions::default()
    };
    fit(&law, &c, &opts)
        .unwrap()
        .with_law_config(serde_json::json!({"lr_ref": 3e-4}))
}

#[test]
fn json_round_trip_through_a_file() {
    let fitted = small_fit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fit.json");
    fitted.save(&path).unwrap();
    // Only the target is left behind (the temporary was renamed).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("fit.json")]);
    let back = FittedLaw::load(&path).unwrap();
    assert_eq!(back, fitted);
    assert_eq!(back.law_config["lr_ref"], 3e-4);
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], "lrsde-fit");
    assert_eq!(v["version"], 1);
    assert_eq!(v["law"], "test-power3");
    assert_eq!(v["param_order"], serde_json::json!(["L0", "A", "alpha"]));
    assert_eq!(v["bounds"][1], serde_json::json!([0.0, null]));
    assert!(v["params"]["alpha"].is_f64());
    // The reloaded fit predicts the same band.
    let a = Predictor::with_law(fitted, Power3::default())
        .unwrap()
        .predict_band(&lr_grid(&constant(1000)), &[10, 500, 1000])
        .unwrap();
    let b = Predictor::with_law(back, Power3::default())
        .unwrap()
        .predict_band(&lr_grid(&constant(1000)), &[10, 500, 1000])
        .unwrap();
    assert_eq!(a, b);
}

fn edit(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v = serde_json::to_value(small_fit()).unwrap();
    f(&mut v);
    v.to_string()
}

#[test]
fn future_version_is_refused() {
    let text = edit(|v| v["version"] = 2.into());
    match FittedLaw::from_json_str(&text) {
        Err(FitError::UnsupportedVersion {
            found: 2,
            supported: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_format_is_refused() {
    let text = edit(|v| v["format"] = "something-else".into());
    assert!(matches!(
        FittedLaw::from_json_str(&text),
        Err(FitError::WrongFormat { .. })
    ));
    let err = FittedLaw::from_json_str("[1, 2]").unwrap_err();
    assert!(
        matches!(err, FitError::BadKey { key: "format", .. }),
        "{err}"
    );
}

#[test]
fn corrupt_json_names_line_and_column() {
    let text = small_fit().to_json_string().unwrap();
    let truncated = &text[..text.len() / 2];
    let err = FittedLaw::from_json_str(truncated).unwrap_err();
    assert!(matches!(err, FitError::Json { .. }));
    let msg = err.to_string();
    assert!(msg.contains("line") && msg.contains("column"), "{msg}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, truncated).unwrap();
    let msg = FittedLaw::load(&path).unwrap_err().to_string();
    assert!(msg.contains("broken.json") && msg.contains("line"), "{msg}");
    let msg = FittedLaw::load(dir.path().join("absent.json"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("absent.json"), "{msg}");
}

#[test]
fn missing_keys_are_named() {
    let text = edit(|v| {
        v.as_object_mut().unwrap().remove("params");
    });
    let msg = FittedLaw::from_json_str(&text).unwrap_err().to_string();
    assert!(msg.contains("params"), "{msg}");
    let text = edit(|v| {
        v.as_object_mut().unwrap().remove("version");
    });
    assert!(matches!(
        FittedLaw::from_json_str(&text),
        Err(FitError::BadKey { key: "version", .. })
    ));
    // Inconsistent files are caught too.
    let text = edit(|v| {
        v["params"].as_object_mut().unwrap().remove("A");
    });
    let msg = FittedLaw::from_json_str(&text).unwrap_err().to_string();
    assert!(msg.contains("`A`"), "{msg}");
}

#[test]
fn predicting_with_another_law_is_an_error() {
    let fitted = small_fit();
    assert!(matches!(
        Predictor::with_law(fitted.clone(), Anneal5),
        Err(FitError::LawMismatch { .. })
    ));
    let predictor = Predictor::with_law(fitted, Power3::default()).unwrap();
    assert!(matches!(
        predictor.predict_band(&lr_grid(&constant(10)), &[5, 11]),
        Err(FitError::InvalidPredictionStep {
            index: 1,
            step: 11,
            ..
        })
    ));
}

#[test]
fn huber_values() {
    let d = 1e-3;
    assert_eq!(huber(0.0, d), 0.0);
    assert_eq!(huber(5e-4, d), 0.5 * 5e-4 * 5e-4);
    assert_eq!(huber(-5e-4, d), huber(5e-4, d));
    assert!((huber(0.1, d) - d * (0.1 - 0.5 * d)).abs() < 1e-18);
    // Continuous value and slope at |r| = δ.
    let eps = 1e-12;
    assert!((huber(d - eps, d) - huber(d + eps, d)).abs() < 1e-14);
    let slope = |r: f64| (huber(r + 1e-9, d) - huber(r - 1e-9, d)) / 2e-9;
    assert!((slope(d) - d).abs() < 1e-6);
    assert!((slope(0.5) - d).abs() < 1e-9);
}

fn transform_strategy() -> impl Strategy<Value = (Transform, f64, f64)> {
    // (transform, lower, upper) with finite or infinite bounds.
    (-1e3..1e3f64, 1e-3..1e3f64, 0..4u8).prop_map(|(l, w, kind)| {
        let (lo, hi) = match kind {
            0 => (l, l + w),
            1 => (l, f64::INFINITY),
            2 => (f64::NEG_INFINITY, l),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        };
        (Transform::from_bounds("x", lo, hi).unwrap(), lo, hi)
    })
}

proptest! {
    #[test]
    fn transform_round_trips((t, lo, hi) in transform_strategy(), frac in 0.0..1.0f64) {
        // A point inside the bounds (or near `lo` when unbounded).
        let x = match (lo.is_finite(), hi.is_finite()) {
            (true, true) => lo + frac * (hi - lo),
            (true, false) => lo + frac * 100.0,
            (false, true) => hi - frac * 100.0,
            _ => (frac - 0.5) * 100.0,
        };
        let back = t.to_constrained(t.to_unconstrained(x));
        let scale = if lo.is_finite() && hi.is_finite() { hi - lo } else { 1.0 };
        let tol = 1e-9 * scale.max(x.abs()).max(lo.abs().min(1e3)).max(1.0);
        prop_assert!((back - x).abs() <= tol, "{t:?}: {x} -> {back}");
    }

    #[test]
    fn any_u_maps_inside_bounds((t, lo, hi) in transform_strategy(), u in -1e3..1e3f64) {
        let x = t.to_constrained(u);
        prop_assert!(x.is_finite());
        prop_assert!(x >= lo && x <= hi, "{t:?}: u = {u} -> {x}");
    }
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
