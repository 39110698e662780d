//! Multi-Power Law against the published parameters and reference predictions
//! (research/loss-curve-laws.md §2.3), and against a naive transcription of the formula.

use lrsde::data::TrainingCurve;
use lrsde::law::{LawError, LossLaw, MultiPowerLaw};

const PEAK: f64 = 3e-4;
const WARMUP: usize = 2160;

/// Published fits (repo `src/config.py`): L0, A, alpha, B, C, beta, gamma.
fn published(model: &str) -> [f64; 7] {
    MultiPowerLaw::published_fit(model.parse().unwrap()).unwrap()
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
        lrs: lrsde::schedule::LrGrid::new(lrs).unwrap(),
        steps,
        losses,
        batch: None,
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
        .predict(&p, &lr_grid(&lrs), &steps, &mut out)
        .unwrap();
    for (&s, o) in steps.iter().zip(&out) {
        let n = naive(&p, &lrs, s as usize);
        let tol = bound(&p, &lrs[..s as usize]) + 1e-12 * n.abs();
        assert!((o - n).abs() <= tol, "t={s}: {o} vs {n}");
    }
}

#[test]
fn rejects_bad_input() {
    let law = MultiPowerLaw::default();
    let mut out = [0.0];
    let p = published("400");
    assert!(matches!(
        law.predict(&p[..6], &lr_grid(&[1e-3; 4]), &[4], &mut out),
        Err(LawError::ParamCount { .. })
    ));
    assert!(matches!(
        law.predict(&p, &lr_grid(&[0.0; 4]), &[4], &mut out),
        Err(LawError::ZeroLrArea { .. })
    ));
    // A negative LR cannot reach the law: the grid refuses it.
    assert!(matches!(
        lrsde::schedule::LrGrid::new(vec![1e-3, -1e-3]),
        Err(lrsde::schedule::ScheduleError::BadLr { step: 2, .. })
    ));
    assert!(matches!(
        law.predict(&p, &lr_grid(&[1e-3; 4]), &[5], &mut out),
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
    // Both are the sum-of-exponentials evaluation (on grids for β and β + 1).
    let tol = 2.0 * bound(&p, &cos.lrs) + 1e-12;
    for (o, b) in out.iter().zip(&base) {
        assert!((o - b).abs() <= tol, "{o} vs {b}");
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

/// The stated error bound of `predict` against the direct sum:
/// `2e-8 · |B| · Σ_k |η_{k−1} − η_k|` (the kernel's relative error times the largest the sum can
/// weigh it), see [`MultiPowerLaw`].
fn bound(p: &[f64; 7], lrs: &[f64]) -> f64 {
    let mut prev = 0.0;
    let mut var = 0.0;
    for &lr in lrs {
        var += (prev - lr).abs();
        prev = lr;
    }
    2e-8 * p[3].abs() * var
}

/// The previous implementation, verbatim in substance: the direct double sum over LR changes for
/// each output (`O(changes × outputs)`), with its exact derivatives. The reference the
/// one-pass recursion is tested against.
fn exact(p: &[f64; 7], lrs: &[f64], steps: &[u64], jac: Option<&mut [f64]>) -> Vec<f64> {
    let [l0, a, alpha, b, c, beta, gamma] = *p;
    let last = *steps.last().unwrap() as usize;
    let mut area = vec![0.0];
    let mut acc = 0.0;
    for &lr in &lrs[..last] {
        acc += lr;
        area.push(acc);
    }
    let mut changes = Vec::new();
    let mut prev = 0.0;
    for (k, &lr) in lrs[..last].iter().enumerate() {
        let d = prev - lr;
        if d != 0.0 {
            changes.push((k, d, lr.powf(-gamma), lr.ln()));
        }
        prev = lr;
    }
    let mut out = Vec::new();
    let mut rows = Vec::new();
    for &step in steps {
        let n = step as usize;
        let s1 = area[n];
        let m = changes.partition_point(|ch| ch.0 < n);
        let (mut ld, mut d_c, mut d_beta, mut d_gamma) = (0.0, 0.0, 0.0, 0.0);
        for &(k, d, e, ln_eta) in &changes[..m] {
            let sk = s1 - area[k];
            let es = e * sk;
            let x = c * es;
            if !x.is_finite() {
                ld += if sk > 0.0 { d } else { 0.0 };
                continue;
            }
            let l = x.ln_1p();
            let g = -(-beta * l).exp_m1();
            let big_e = 1.0 - g;
            let gx = beta * big_e / (1.0 + x);
            ld += d * g;
            d_c += d * gx * es;
            d_beta += d * big_e * l;
            d_gamma -= d * gx * x * ln_eta;
        }
        let pw = s1.powf(-alpha);
        out.push(l0 + a * pw - b * ld);
        rows.extend([
            1.0,
            pw,
            -a * pw * s1.ln(),
            -ld,
            -b * d_c,
            -b * d_beta,
            -b * d_gamma,
        ]);
    }
    if let Some(j) = jac {
        j.copy_from_slice(&rows);
    }
    out
}

/// Real schedules: the released code's four 24k-step families (cosine, WSD with exponential
/// decay, a step schedule, constant) and a 72k cosine, plus the tabulated 24k grid of a fixture.
fn real_schedules() -> Vec<(String, Vec<f64>)> {
    let mut v: Vec<(String, Vec<f64>)> = [
        "cosine_24000",
        "wsd_20000_24000",
        "wsdcon_3",
        "constant_24000",
    ]
    .iter()
    .map(|n| (n.to_string(), our_grid(n)))
    .collect();
    let lin = |j: usize| j as f64 * (PEAK / (WARMUP - 1) as f64);
    let cos72: Vec<f64> = (1..72000)
        .map(|k| {
            if k < WARMUP {
                lin(k)
            } else {
                let x = (k - WARMUP) as f64 / (72000 - WARMUP) as f64;
                3e-5 + 0.5 * (PEAK - 3e-5) * (1.0 + (std::f64::consts::PI * x).cos())
            }
        })
        .collect();
    v.push(("cosine_72000".into(), cos72));
    // A decay to exactly zero (a cut-to-zero term) and a linear WSD cooldown to zero.
    let mut lin0: Vec<f64> = (1..24000)
        .map(|k| PEAK * (1.0 - k as f64 / 24000.0))
        .collect();
    lin0.extend([0.0; 10]);
    v.push(("linear_to_zero".into(), lin0));
    v.push((
        "fixture_cosine_24000".into(),
        read_fixture("400", "cosine_24000").lrs.into_vec(),
    ));
    v
}

/// Parameter vectors: the three published fits, and corners of the bounds (β from 0.01 to 5, γ
/// from 0 to 2, C from 1e-4 to 1e4) as a fit or a band draw may reach.
fn param_sets() -> Vec<[f64; 7]> {
    let mut v = vec![published("25"), published("100"), published("400")];
    let base = published("400");
    for (c, beta, gamma) in [
        (1e4, 5.0, 2.0),
        (1e-4, 0.01, 0.0),
        (1.0, 0.05, 1.0),
        (30.0, 2.5, 0.3),
        (0.01, 4.0, 1.5),
    ] {
        let mut p = base;
        p[4] = c;
        p[5] = beta;
        p[6] = gamma;
        v.push(p);
    }
    v
}

#[test]
fn one_pass_prediction_matches_direct_sum_on_real_schedules() {
    let law = MultiPowerLaw::default();
    let mut worst = 0.0f64;
    for (name, lrs) in real_schedules() {
        let steps: Vec<u64> = (1..=lrs.len() as u64)
            .filter(|s| s % 97 == 0 || *s <= 3 || *s == lrs.len() as u64)
            .collect();
        for p in param_sets() {
            let mut out = vec![0.0; steps.len()];
            law.predict(&p, &lr_grid(&lrs), &steps, &mut out).unwrap();
            let want = exact(&p, &lrs, &steps, None);
            let tol = bound(&p, &lrs);
            for ((s, o), w) in steps.iter().zip(&out).zip(&want) {
                let rel = (o - w).abs() / w.abs();
                worst = worst.max(rel);
                assert!(rel <= 1e-6, "{name} {p:?} t={s}: {o} vs {w}");
                assert!(
                    (o - w).abs() <= tol + 1e-13 * w.abs(),
                    "{name} {p:?} t={s}: {o} vs {w} (bound {tol:e})"
                );
            }
        }
    }
    eprintln!("largest relative difference from the direct sum: {worst:e}");
}

#[test]
fn one_pass_jacobian_matches_direct_sum_on_real_schedules() {
    let law = MultiPowerLaw::default();
    for (name, lrs) in real_schedules() {
        let steps: Vec<u64> = (1..=lrs.len() as u64).filter(|s| s % 331 == 0).collect();
        let m = steps.len();
        for p in param_sets() {
            let (mut out, mut jac, mut want_jac) =
                (vec![0.0; m], vec![0.0; m * 7], vec![0.0; m * 7]);
            assert!(
                law.predict_jacobian(&p, &lr_grid(&lrs), &steps, &mut out, &mut jac)
                    .unwrap()
            );
            let want = exact(&p, &lrs, &steps, Some(&mut want_jac));
            for (o, w) in out.iter().zip(&want) {
                assert!((o - w).abs() <= 1e-6 * w.abs(), "{name} {p:?}: {o} vs {w}");
            }
            // Each column to 1e-6 of its largest entry (entries pass through zero), or the
            // loss change for a relative parameter change `∂L/∂p_k · p_k` to 1e-9 of the loss.
            for k in 0..7 {
                let scale = (0..m)
                    .map(|j| want_jac[j * 7 + k].abs())
                    .fold(0.0, f64::max);
                let pk = p[k].abs().max(1e-3);
                for j in 0..m {
                    let (g, w) = (jac[j * 7 + k], want_jac[j * 7 + k]);
                    assert!(
                        (g - w).abs() <= 1e-6 * scale + 1e-9 * want[j].abs() / pk,
                        "{name} {p:?} column {k} t={}: {g} vs {w}",
                        steps[j]
                    );
                }
            }
        }
    }
}

#[test]
fn prediction_is_deterministic() {
    let law = MultiPowerLaw::default();
    let lrs = our_grid("wsd_20000_24000");
    let steps: Vec<u64> = (1..=lrs.len() as u64).collect();
    let p = published("400");
    let mut a = vec![0.0; steps.len()];
    let mut b = vec![0.0; steps.len()];
    law.predict(&p, &lr_grid(&lrs), &steps, &mut a).unwrap();
    law.predict(&p, &lr_grid(&lrs), &steps, &mut b).unwrap();
    assert_eq!(a, b);
    // The node grid spans the LR area up to the last requested step, so asking for fewer steps
    // may move a value by rounding, never beyond the stated bound.
    let some: Vec<u64> = steps.iter().copied().filter(|s| s % 1000 == 7).collect();
    let mut c = vec![0.0; some.len()];
    law.predict(&p, &lr_grid(&lrs), &some, &mut c).unwrap();
    let tol = 2.0 * bound(&p, &lrs);
    for (s, v) in some.iter().zip(&c) {
        assert!((v - a[*s as usize - 1]).abs() <= tol, "t={s}");
    }
}

/// The band's path: every draw in one shared pass (common node grid, shared exponentials) must
/// stay within the stated bound of the direct sum, draw by draw, on every real schedule; draws
/// the law refuses keep their error in place, draws outside the tabulated range take the
/// direct sum; the results do not depend on the thread count.
#[test]
fn predict_many_matches_direct_sum_per_draw() {
    let law = MultiPowerLaw::default();
    let mut draws: Vec<Vec<f64>> = param_sets().iter().map(|p| p.to_vec()).collect();
    // Outside the sum of exponentials (β > 10: direct sum), and invalid (NaN).
    let mut big_beta = published("400");
    big_beta[5] = 12.0;
    draws.push(big_beta.to_vec());
    let mut bad = published("400");
    bad[0] = f64::NAN;
    draws.push(bad.to_vec());
    // Draws that differ only in L0, A, α, B share one kernel (a band whose C, β, γ sit on
    // bounds): each must still match its own direct sum.
    for (i, scale) in [0.9, 1.05, 1.2].into_iter().enumerate() {
        let mut p = published("400");
        p[0] *= scale;
        p[1] /= scale;
        p[2] *= 1.0 + 0.1 * i as f64;
        p[3] *= scale;
        draws.push(p.to_vec());
    }
    for (name, lrs) in real_schedules() {
        let steps: Vec<u64> = (1..=lrs.len() as u64)
            .filter(|s| s % 997 == 0 || *s <= 5 || *s == lrs.len() as u64)
            .collect();
        let many = law.predict_many(&draws, &lr_grid(&lrs), &steps);
        assert_eq!(many.len(), draws.len());
        for (d, got) in draws.iter().zip(&many) {
            if d[0].is_nan() {
                assert!(got.is_err(), "{name}: a NaN draw must fail");
                continue;
            }
            let p: [f64; 7] = d.as_slice().try_into().unwrap();
            let got = got.as_ref().unwrap();
            let want = exact(&p, &lrs, &steps, None);
            let tol = bound(&p, &lrs);
            for ((s, o), w) in steps.iter().zip(got).zip(&want) {
                assert!(
                    (o - w).abs() <= tol + 1e-13 * w.abs(),
                    "{name} {p:?} t={s}: {o} vs {w} (bound {tol:e})"
                );
            }
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| law.predict_many(&draws, &lr_grid(&lrs), &steps));
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| law.predict_many(&draws, &lr_grid(&lrs), &steps));
        for (a, b) in one.iter().zip(&three) {
            if let (Ok(a), Ok(b)) = (a, b) {
                let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a), bits(b), "{name}: 1 vs 3 threads");
            }
        }
    }
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}

/// `fit_law` gives `mpl` its floor of three starts and 1000 iterations per start
/// (`LossLaw::min_starts` / `min_iters`) whatever the options ask: from its top guess alone
/// its fits stopped at about twice the best cost on the public curves, and the best start on
/// their cosine + constant pair needs 519 iterations (docs/accuracy.md, Caveats).
#[test]
fn fit_law_gives_mpl_its_floor_of_starts_and_iterations() {
    use lrsde::fit::{FitOptions, UncertaintyMethod, fit_law};
    use lrsde::law::AnyLaw;
    let law = MultiPowerLaw::default();
    assert_eq!((law.min_starts(), law.min_iters()), (3, 1000));
    let (n, warmup) = (3000usize, 300usize);
    let ramp = |k: usize| PEAK * (k + 1).min(warmup) as f64 / warmup as f64;
    let cosine = |k: usize| {
        let x = k as f64 / n as f64;
        3e-5 + (PEAK - 3e-5) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
    };
    let curves: Vec<TrainingCurve> = [("constant", false), ("cosine", true)]
        .into_iter()
        .map(|(name, decays)| {
            let lrs: Vec<f64> = (0..n)
                .map(|k| {
                    if decays && k >= warmup {
                        cosine(k)
                    } else {
                        ramp(k)
                    }
                })
                .collect();
            let mut curve = TrainingCurve {
                name: name.into(),
                lrs: lr_grid(&lrs),
                steps: (1..=n as u64 / 50).map(|i| 50 * i).collect(),
                losses: vec![],
                batch: None,
            };
            curve.losses = law.predict_curve(&published("400"), &curve).unwrap();
            curve
        })
        .collect();
    let options = FitOptions {
        max_iters: 1,
        polish_max_iters: 0,
        uncertainty: UncertaintyMethod::None,
        ..FitOptions::default()
    };
    let fit = fit_law(AnyLaw::Mpl(law), &curves, &options).unwrap();
    let starts = &fit.report.starts;
    assert_eq!(starts.len(), 3);
    // With the options' 1 iteration every start would stop after one step.
    assert!(starts.iter().any(|s| s.iterations > 1), "{starts:?}");
    assert!(
        starts.iter().all(|s| !s.termination.contains("(1)")),
        "{starts:?}"
    );
}
