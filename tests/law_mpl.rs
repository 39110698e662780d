//! Multi-Power Law against the published parameters and reference predictions
//! (research/loss-curve-laws.md §2.3), and against a naive transcription of the formula.

use lrsde::data::TrainingCurve;
use lrsde::law::{LawError, LossLaw, MultiPowerLaw};

const PEAK: f64 = 3e-4;
const WARMUP: usize = 2160;

/// Published fits (repo `src/config.py`): L0, A, alpha, B, C, beta, gamma.
fn published(model: &str) -> [f64; 7] {
    match model {
        "25" => [
            3.04045406,
            0.52468604,
            0.50786857,
            363.78751622,
            2.06560812,
            0.58279013,
            0.64142257,
        ],
        "100" => [
            2.6514477,
            0.60115152,
            0.45295811,
            437.9464276,
            2.13245612,
            0.59785199,
            0.65523644,
        ],
        "400" => [
            2.37474466,
            0.65421216,
            0.42878731,
            523.42464371,
            2.02462735,
            0.59350493,
            0.63472457,
        ],
        _ => unreachable!(),
    }
}

/// The released code's per-step array (`src/lr_schedules.py`, index = its step):
/// `linspace(0, 3e-4, 2160)` then the schedule evaluated at the array index.
fn repo_schedule(name: &str) -> Vec<f64> {
    let lin = |j: usize| {
        if j == WARMUP - 1 {
            PEAK
        } else {
            j as f64 * (PEAK / (WARMUP - 1) as f64)
        }
    };
    let (total, f): (usize, Box<dyn Fn(usize) -> f64>) = match name {
        "constant_24000" => (24000, Box::new(|_| PEAK)),
        "cosine_24000" => (
            24000,
            Box::new(|k| {
                let x = (k - WARMUP) as f64 / (24000 - WARMUP) as f64;
                3e-5 + 0.5 * (PEAK - 3e-5) * (1.0 + (std::f64::consts::PI * x).cos())
            }),
        ),
        "wsd_20000_24000" => (
            24000,
            Box::new(|k| {
                if k < 20000 {
                    PEAK
                } else {
                    let (t, d) = (24000.0, 20000.0);
                    let k = k as f64;
                    PEAK.powf((t - k) / (t - d)) * 3e-5f64.powf((k - d) / (t - d))
                }
            }),
        ),
        "wsdcon_3" => (16000, Box::new(|k| if k < 8000 { PEAK } else { 3e-5 })),
        _ => unreachable!(),
    };
    (0..total)
        .map(|j| if j < WARMUP { lin(j) } else { f(j) })
        .collect()
}

/// Our grid: `lrs[t]` is the LR of update `t + 1`, which is the code's `lrs[t + 1]` — the code's
/// leading warmup LR of 0 is the `η_0 = 0` before the first update.
fn our_grid(name: &str) -> Vec<f64> {
    repo_schedule(name)[1..].to_vec()
}

fn read_fixture(model: &str, name: &str) -> TrainingCurve {
    let path = format!(
        "{}/tests/fixtures/mpl/csv_{model}/{name}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut steps, mut lr_col, mut losses) = (vec![], vec![], vec![]);
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        steps.push(f[0].parse::<u64>().unwrap());
        lr_col.push(f[1].parse::<f64>().unwrap());
        losses.push(f[2].parse::<f64>().unwrap());
    }
    let lrs = our_grid(name);
    // The CSV's `lr` column is the LR of update `step`: it must be our lrs[step − 1].
    for (&s, &lr) in steps.iter().zip(&lr_col) {
        let ours = lrs[s as usize - 1];
        assert!(
            (ours - lr).abs() <= 1e-12 * lr,
            "{name}: step {s}: csv lr {lr} vs grid {ours}"
        );
    }
    TrainingCurve {
        name: name.into(),
        lrs,
        steps,
        losses,
    }
}

#[test]
fn published_parameters_reproduce_reference_vectors() {
    let cases: &[(&str, &str, &[u64], &[f64])] = &[
        (
            "400",
            "constant_24000",
            &[2176, 13056, 23936],
            &[3.573613, 2.908123, 2.817176],
        ),
        (
            "400",
            "cosine_24000",
            &[2160, 13040, 23920],
            &[3.579503, 2.868348, 2.757200],
        ),
        ("400", "wsd_20000_24000", &[23936], &[2.700452]),
        ("400", "wsdcon_3", &[9024, 15936], &[2.877714, 2.849061]),
        ("100", "cosine_24000", &[23920], &[2.990141]),
        ("25", "cosine_24000", &[23920], &[3.315292]),
    ];
    let law = MultiPowerLaw::default();
    for &(model, name, steps, expect) in cases {
        let curve = read_fixture(model, name);
        let mut out = vec![0.0; steps.len()];
        law.predict(&published(model), &curve.lrs, steps, &mut out)
            .unwrap();
        for ((s, o), e) in steps.iter().zip(&out).zip(expect) {
            // Reference values carry 6 decimals.
            assert!((o - e).abs() < 1e-6, "{model} {name} t={s}: {o} vs {e}");
        }
    }
}

#[test]
fn published_fit_quality_on_fixture_curves() {
    // repo logs/400.log: MAE 0.001680 (constant_24000), 0.007135 (cosine_24000).
    let law = MultiPowerLaw::default();
    for (name, mae_ref) in [("constant_24000", 0.001680), ("cosine_24000", 0.007135)] {
        let c = read_fixture("400", name);
        let pred = law.predict_curve(&published("400"), &c).unwrap();
        let mae = pred
            .iter()
            .zip(&c.losses)
            .map(|(p, l)| (p - l).abs())
            .sum::<f64>()
            / c.losses.len() as f64;
        assert!(
            (mae - mae_ref).abs() < 2e-6,
            "{name}: MAE {mae} vs {mae_ref}"
        );
    }
}

/// The formula transcribed literally, O(t²), η_0 = 0.
fn naive(p: &[f64; 7], lrs: &[f64], t: usize) -> f64 {
    let [l0, a, al, b, c, be, ga] = *p;
    let eta = |k: usize| if k == 0 { 0.0 } else { lrs[k - 1] };
    let s1: f64 = (1..=t).map(eta).sum();
    let mut ld = 0.0;
    for k in 1..=t {
        let sk: f64 = (k..=t).map(eta).sum();
        let g = 1.0 - (c * eta(k).powf(-ga) * sk + 1.0).powf(-be);
        ld += (eta(k - 1) - eta(k)) * g;
    }
    l0 + a * s1.powf(-al) - b * ld
}

#[test]
fn matches_naive_formula_on_irregular_grid() {
    // Warmup ramp, plateau, drops, a rise, repeats (zero differences are skipped in predict).
    let mut lrs = vec![];
    for t in 0..40 {
        lrs.push(1e-3 * (t + 1) as f64 / 40.0);
    }
    lrs.extend([1e-3; 30]);
    lrs.extend((0..50).map(|t| 1e-3 * (1.0 - t as f64 / 60.0)));
    lrs.extend([2e-4; 20]);
    lrs.extend([5e-4; 10]);
    let p = [2.0, 0.6, 0.45, 400.0, 2.0, 0.6, 0.65];
    let steps: Vec<u64> = vec![1, 2, 39, 40, 41, 70, 100, 120, 121, 140, 150];
    let mut out = vec![0.0; steps.len()];
    MultiPowerLaw::default()
        .predict(&p, &lrs, &steps, &mut out)
        .unwrap();
    for (&s, o) in steps.iter().zip(&out) {
        let n = naive(&p, &lrs, s as usize);
        assert!((o - n).abs() <= 1e-12 * n.abs(), "t={s}: {o} vs {n}");
    }
}

#[test]
fn rejects_bad_input() {
    let law = MultiPowerLaw::default();
    let mut out = [0.0];
    let p = published("400");
    assert!(matches!(
        law.predict(&p[..6], &[1e-3; 4], &[4], &mut out),
        Err(LawError::ParamCount { .. })
    ));
    assert!(matches!(
        law.predict(&p, &[0.0; 4], &[4], &mut out),
        Err(LawError::ZeroLrArea { .. })
    ));
    assert!(matches!(
        law.predict(&p, &[1e-3, -1e-3], &[2], &mut out),
        Err(LawError::BadLr { update: 2, .. })
    ));
    assert!(matches!(
        law.predict(&p, &[1e-3; 4], &[5], &mut out),
        Err(LawError::BadStep { .. })
    ));
}

#[test]
fn initial_guesses_are_in_bounds_and_ranked() {
    let curves = vec![
        read_fixture("400", "constant_24000"),
        read_fixture("400", "cosine_24000"),
    ];
    let mut law = MultiPowerLaw::default();
    law.configure(&curves).unwrap();
    assert_eq!(law.scale().lr_ref, PEAK);
    let specs = law.params();
    let guesses = law.initial_guesses(&curves);
    assert!(!guesses.is_empty() && guesses.len() <= 8);
    for g in &guesses {
        assert_eq!(g.len(), 7);
        for (v, s) in g.iter().zip(&specs) {
            assert!(*v >= s.lower && *v <= s.upper, "{} = {v} outside", s.name);
        }
    }
    // The published fit is inside the bounds too.
    for (v, s) in published("400").iter().zip(&specs) {
        assert!(*v >= s.lower && *v <= s.upper, "{} = {v} outside", s.name);
    }
}

#[test]
fn jacobian_matches_predict_and_finite_differences() {
    let law = MultiPowerLaw::default();
    let cos = read_fixture("400", "cosine_24000");
    let steps: Vec<u64> = cos.steps.iter().step_by(17).copied().collect();
    let p = published("400");
    let m = steps.len();
    let (mut out, mut base, mut jac) = (vec![0.0; m], vec![0.0; m], vec![0.0; m * 7]);
    assert!(
        law.predict_jacobian(&p, &cos.lrs, &steps, &mut out, &mut jac)
            .unwrap()
    );
    law.predict(&p, &cos.lrs, &steps, &mut base).unwrap();
    for (o, b) in out.iter().zip(&base) {
        assert!((o - b).abs() <= 1e-12 * b, "{o} vs {b}");
    }
    for k in 0..7 {
        let h = 1e-6 * p[k].abs().max(1e-3);
        let (mut hi, mut lo) = (p, p);
        hi[k] += h;
        lo[k] -= h;
        let (mut oh, mut ol) = (vec![0.0; m], vec![0.0; m]);
        law.predict(&hi, &cos.lrs, &steps, &mut oh).unwrap();
        law.predict(&lo, &cos.lrs, &steps, &mut ol).unwrap();
        for j in 0..m {
            let fd = (oh[j] - ol[j]) / (2.0 * h);
            let an = jac[j * 7 + k];
            assert!(
                (fd - an).abs() <= 1e-5 * (an.abs() + 1e-6),
                "k={k} step {}: fd {fd} vs {an}",
                steps[j]
            );
        }
    }
}
