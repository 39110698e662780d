//! The fit-file loader under mutation: byte flips, truncation at every length, deleted fields,
//! swapped types, version bumps, huge numbers, covariances and draws of the wrong size. Every
//! mutation loads cleanly or fails with an error; whatever loads can be used (rebuild the law,
//! predict a band) without a panic; and save → load is the identity.

use std::path::Path;

use lrsde::fit::{FitError, FittedLaw};
use proptest::prelude::*;
use serde_json::Value;

fn base_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors/fit.json"))
        .unwrap()
}

fn base() -> Value {
    serde_json::from_str(&base_text()).unwrap()
}

/// Uses a loaded fit the way `predict` does; must not panic whatever the file held.
fn exercise(f: &FittedLaw) {
    let p = f.param_order.len();
    assert_eq!(f.params_vec().len(), p);
    assert!(f.params_vec().iter().all(|v| v.is_finite()));
    assert_eq!(f.bounds.len(), p);
    if let Some(u) = &f.uncertainty {
        assert_eq!(u.std().len(), p);
        assert!(u.draws.iter().all(|d| d.len() == p));
    }
    if let Ok(predictor) = lrsde::fit::Predictor::from_fitted(f.clone()) {
        let lrs = [3e-4; 64];
        if let Ok(band) = predictor.predict_band(&lr_grid(&lrs), &[1, 8, 64]) {
            assert_eq!(band.loss.len(), 3);
        }
    }
}

/// Loads `text`; `Ok` fits are exercised, errors must have a message naming something.
fn load(text: &str) -> Result<FittedLaw, FitError> {
    let r = FittedLaw::from_json_str(text);
    match &r {
        Ok(f) => exercise(f),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("<string>"), "{msg}");
            assert!(!msg.chars().any(char::is_control), "{msg:?}");
        }
    }
    r
}

/// Every path to a value in `v` (object keys and array indices), parents before children.
fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                prefix.push(Seg::Key(k.clone()));
                out.push(prefix.clone());
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            // The first and last elements stand for the rest (200-entry arrays add nothing).
            let idx: Vec<usize> = match a.len() {
                0 => vec![],
                1 => vec![0],
                n => vec![0, n - 1],
            };
            for i in idx {
                prefix.push(Seg::Index(i));
                out.push(prefix.clone());
                paths(&a[i], prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn all_paths() -> Vec<Vec<Seg>> {
    let mut out = Vec::new();
    paths(&base(), &mut Vec::new(), &mut out);
    out
}

fn at<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, s| match s {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    })
}

fn delete(v: &mut Value, path: &[Seg]) {
    let (last, parent) = path.split_last().unwrap();
    match (at(v, parent), last) {
        (Some(Value::Object(m)), Seg::Key(k)) => {
            m.remove(k);
        }
        (Some(Value::Array(a)), Seg::Index(i)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(Value::Bool(true)),
        Just(serde_json::json!("text")),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([1.0, 2.0])),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(0)),
        Just(serde_json::json!(1.7e308)),
        Just(serde_json::json!(-1.7e308)),
        Just(serde_json::json!(5e-324)),
        Just(serde_json::json!(u64::MAX)),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|x| serde_json::json!(x)),
    ]
}

#[test]
fn the_base_file_loads_and_round_trips() {
    let f = load(&base_text()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.json");
    f.save(&path).unwrap();
    assert_eq!(FittedLaw::load(&path).unwrap(), f);
}

#[test]
fn truncation_at_every_length_is_an_error() {
    let text = base_text();
    let end = text.trim_end().len();
    for n in 0..end {
        if !text.is_char_boundary(n) {
            continue;
        }
        assert!(load(&text[..n]).is_err(), "cut at {n} loaded");
    }
}

#[test]
fn deleting_any_field_is_clean() {
    for path in all_paths() {
        let mut v = base();
        delete(&mut v, &path);
        let _ = load(&v.to_string());
    }
    // Required fields are named when missing.
    for key in [
        "params",
        "param_order",
        "bounds",
        "band_quantiles",
        "report",
    ] {
        let mut v = base();
        v.as_object_mut().unwrap().remove(key);
        let msg = load(&v.to_string()).unwrap_err().to_string();
        assert!(msg.contains(key), "{msg}");
    }
}

#[test]
fn versions_other_than_1_are_refused() {
    for version in [
        serde_json::json!(0),
        serde_json::json!(2),
        serde_json::json!(u64::MAX),
        serde_json::json!(-1),
        serde_json::json!(1.5),
        serde_json::json!("1"),
        Value::Null,
    ] {
        let mut v = base();
        v["version"] = version.clone();
        let e = load(&v.to_string()).unwrap_err();
        assert!(
            matches!(
                e,
                FitError::UnsupportedVersion { .. } | FitError::BadKey { key: "version", .. }
            ),
            "{version}: {e}"
        );
    }
}

#[test]
fn inconsistent_uncertainty_is_refused_by_key() {
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit); 6] = [
        ("uncertainty.covariance", |v| {
            v["uncertainty"]["covariance"][0]
                .as_array_mut()
                .unwrap()
                .pop();
        }),
        ("uncertainty.covariance", |v| {
            v["uncertainty"]["covariance"][2][2] = (-1e-9).into();
        }),
        ("uncertainty.covariance_unconstrained", |v| {
            v["uncertainty"]["covariance_unconstrained"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!([0.0, 0.0, 0.0]));
        }),
        ("uncertainty.draws", |v| {
            v["uncertainty"]["draws"][0]
                .as_array_mut()
                .unwrap()
                .push(1.0.into());
        }),
        ("uncertainty.sigma2_log", |v| {
            v["uncertainty"]["sigma2_log"] = (-1.0).into();
        }),
        ("uncertainty.rank", |v| {
            v["uncertainty"]["rank"] = 4.into();
        }),
    ];
    for (key, edit) in cases {
        let mut v = base();
        edit(&mut v);
        let e = load(&v.to_string()).unwrap_err();
        assert!(
            matches!(e, FitError::BadKey { key: k, .. } if k == key),
            "{key}: {e}"
        );
    }
    // A huge but finite parameter loads (and predicts without a panic).
    let mut v = base();
    v["params"]["A"] = 1.7e308.into();
    load(&v.to_string()).unwrap();
    // Out-of-range literals are JSON errors with a line and column.
    let text = base_text().replacen("\"A\": ", "\"A\": 1e400, \"x\": ", 1);
    let msg = load(&text).unwrap_err().to_string();
    assert!(msg.contains("line") && msg.contains("column"), "{msg}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn byte_flips_are_clean(flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8)) {
        let mut bytes = base_text().into_bytes();
        for (i, x) in &flips {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        let _ = load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn swapped_types_are_clean(
        i in any::<prop::sample::Index>(),
        value in replacement(),
    ) {
        let all = all_paths();
        let path = &all[i.index(all.len())];
        let mut v = base();
        if let Some(slot) = at(&mut v, path) {
            *slot = value;
        }
        let _ = load(&v.to_string());
    }

    #[test]
    fn covariances_and_draws_of_any_size_are_clean(
        rows in 0usize..6,
        cols in 0usize..6,
        draw_len in 0usize..6,
    ) {
        let mut v = base();
        let m = serde_json::json!(vec![vec![0.5; cols]; rows]);
        v["uncertainty"]["covariance"] = m.clone();
        v["uncertainty"]["covariance_unconstrained"] = m;
        v["uncertainty"]["draws"] = serde_json::json!(vec![vec![1.0; draw_len]; 3]);
        let r = load(&v.to_string());
        prop_assert_eq!(r.is_ok(), rows == 3 && cols == 3 && draw_len == 3);
    }
}

proptest! {
    // Each case syncs a file to disk: few cases.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn save_then_load_is_the_identity(
        scale in proptest::collection::vec(0.5f64..2.0, 3),
        q in 0.0f64..0.5,
    ) {
        let mut f = load(&base_text()).unwrap();
        for (name, s) in f.param_order.clone().iter().zip(&scale) {
            *f.params.get_mut(name).unwrap() *= s;
        }
        f.band_quantiles = (q, 1.0 - q);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fit.json");
        f.save(&path).unwrap();
        let back = FittedLaw::load(&path).unwrap();
        prop_assert_eq!(back, f);
    }
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
