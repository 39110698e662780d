//! The `sde` law against a naive step-by-step loop written from its documented formula.

use lrsde::data::TrainingCurve;
use lrsde::law::{AnyLaw, LawError, LossLaw, SdeSurrogate};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// w_i ← (1 − u κ_i)² w_i + u² s κ_i, u = lr / lr_ref, L = L0 + ½ Σ κ_i w_i.
fn naive(dim: usize, lr_ref: f64, p: &[f64; 6], lrs: &[f64], steps: &[u64]) -> Vec<f64> {
    let [_, lk, pp, _, lw, q] = *p;
    let kappa: Vec<f64> = (1..=dim).map(|i| lk.exp() * (i as f64).powf(-pp)).collect();
    let w: Vec<f64> = (1..=dim).map(|i| lw.exp() * (i as f64).powf(-q)).collect();
    naive_from(kappa, w, lr_ref, p, lrs, steps)
}

/// The spectrum as the law computed it before it moved to `nqm::power_law`
/// (`κ_i = κ_max e^(−p ln i)`, `w_i = w0 e^(−q ln i)`), then the same step-by-step loop.
fn naive_previous_spectrum(
    dim: usize,
    lr_ref: f64,
    p: &[f64; 6],
    lrs: &[f64],
    steps: &[u64],
) -> Vec<f64> {
    let [_, lk, pp, _, lw, q] = *p;
    let (kappa, w) = (1..=dim)
        .map(|i| {
            let li = (i as f64).ln();
            (lk.exp() * (-pp * li).exp(), lw.exp() * (-q * li).exp())
        })
        .unzip();
    naive_from(kappa, w, lr_ref, p, lrs, steps)
}

fn naive_from(
    kappa: Vec<f64>,
    mut w: Vec<f64>,
    lr_ref: f64,
    p: &[f64; 6],
    lrs: &[f64],
    steps: &[u64],
) -> Vec<f64> {
    let dim = kappa.len();
    let (l0, s) = (p[0], p[3].exp());
    let mut out = vec![];
    let mut j = 0;
    for (t, &lr) in lrs.iter().enumerate() {
        let u = lr / lr_ref;
        for i in 0..dim {
            w[i] = (1.0 - u * kappa[i]).powi(2) * w[i] + u * u * s * kappa[i];
        }
        if j < steps.len() && steps[j] == t as u64 + 1 {
            out.push(l0 + 0.5 * kappa.iter().zip(&w).map(|(k, w)| k * w).sum::<f64>());
            j += 1;
        }
    }
    out
}

fn grids() -> Vec<(&'static str, Vec<f64>)> {
    let n = 3000;
    let peak = 3e-4;
    let warm = 100;
    let wu = |t: usize| peak * (t + 1) as f64 / warm as f64;
    let cosine: Vec<f64> = (0..n)
        .map(|t| {
            if t < warm {
                wu(t)
            } else {
                let x = (t - warm) as f64 / (n - warm) as f64;
                0.1 * peak + 0.45 * peak * (1.0 + (std::f64::consts::PI * x).cos())
            }
        })
        .collect();
    let wsd: Vec<f64> = (0..n)
        .map(|t| {
            if t < warm {
                wu(t)
            } else if t < 2400 {
                peak
            } else {
                peak * (1.0 - (t - 2400) as f64 / 600.0)
            }
        })
        .collect();
    let constant = vec![peak; n];
    // Random piecewise-constant: runs of 1..200 steps at random levels (some long, some short).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut steps_rand = vec![];
    while steps_rand.len() < n {
        let len = if rng.random::<f64>() < 0.5 {
            rng.random_range(1..16)
        } else {
            rng.random_range(16..200)
        };
        let lr = peak * rng.random::<f64>();
        steps_rand.extend(std::iter::repeat_n(lr, len));
    }
    steps_rand.truncate(n);
    vec![
        ("cosine", cosine),
        ("wsd", wsd),
        ("constant", constant),
        ("random-step", steps_rand),
    ]
}

#[test]
fn predict_equals_naive_loop() {
    let dim = 64;
    let law = SdeSurrogate::new(dim, 3e-4).unwrap();
    let params = [
        [2.3, 1.5f64.ln(), 1.2, -3.0, 0.5, 0.4],
        [0.1, 0.05f64.ln(), 2.5, -8.0, 3.0, 1.5],
        [3.0, 1.99f64.ln(), 0.3, 1.0, -5.0, -1.0],
    ];
    for (name, lrs) in grids() {
        // Every step, sparse observations, and the last step.
        let every: Vec<u64> = (1..=lrs.len() as u64).collect();
        let sparse: Vec<u64> = (0..23).map(|j| 1 + 130 * j).chain([3000]).collect();
        for p in &params {
            for steps in [&every, &sparse] {
                let mut out = vec![0.0; steps.len()];
                law.predict(p, &lr_grid(&lrs), steps, &mut out).unwrap();
                let want = naive(dim, 3e-4, p, &lrs, steps);
                for ((o, w), s) in out.iter().zip(&want).zip(steps.iter()) {
                    let rel = (o - w).abs() / w.abs();
                    assert!(rel <= 1e-12, "{name} step {s}: {o} vs {w} (rel {rel:e})");
                }
            }
        }
    }
}

/// The spectrum now comes from `nqm` (the one power law): the law still predicts what the
/// previous formula did, to 1e-12 relative, through `predict`, the Jacobian's value and the
/// tabulated many-vector path (whose own tolerance is 1e-8 of the excess loss).
#[test]
fn predict_matches_the_previous_spectrum_formula() {
    let dim = 64;
    let law = SdeSurrogate::new(dim, 3e-4).unwrap();
    let params = [
        [2.3, 1.5f64.ln(), 1.2, -3.0, 0.5, 0.4],
        [0.1, 0.05f64.ln(), 2.5, -8.0, 3.0, 1.5],
        [3.0, 1.99f64.ln(), 0.3, 1.0, -5.0, -1.0],
        [1.0, 0.7f64.ln(), 5.5, -20.0, 8.0, 5.0],
    ];
    let np = law.params().len();
    for (name, lrs) in grids() {
        let steps: Vec<u64> = (0..23).map(|j| 1 + 130 * j).chain([3000]).collect();
        for p in &params {
            let want = naive_previous_spectrum(dim, 3e-4, p, &lrs, &steps);
            let mut out = vec![0.0; steps.len()];
            law.predict(p, &lr_grid(&lrs), &steps, &mut out).unwrap();
            let mut val = vec![0.0; steps.len()];
            let mut jac = vec![0.0; steps.len() * np];
            law.predict_jacobian(p, &lr_grid(&lrs), &steps, &mut val, &mut jac)
                .unwrap();
            for (j, w) in want.iter().enumerate() {
                for (what, got) in [("predict", out[j]), ("jacobian value", val[j])] {
                    let rel = (got - w).abs() / w.abs();
                    assert!(rel <= 1e-12, "{name} {what} {j}: {got} vs {w} ({rel:e})");
                }
            }
        }
        // The table's 1e-8 is stated for fitted draws: the extreme last vector is left out.
        let many: Vec<Vec<f64>> = (0..20).map(|k| params[k % 3].to_vec()).collect();
        for (k, got) in law
            .predict_many(&many, &lr_grid(&lrs), &steps)
            .into_iter()
            .enumerate()
        {
            let p: [f64; 6] = many[k].clone().try_into().unwrap();
            let want = naive_previous_spectrum(dim, 3e-4, &p, &lrs, &steps);
            for (g, w) in got.unwrap().iter().zip(&want) {
                let excess = (w - p[0]).abs().max(f64::MIN_POSITIVE);
                assert!(
                    (g - w).abs() <= 1e-8 * excess + 1e-12 * w.abs(),
                    "{name} many {k}: {g} vs {w}"
                );
            }
        }
    }
}

#[test]
fn closed_form_handles_a_near_one_and_zero() {
    // u κ tiny (A = (1 − uκ)² within ulps of 1) and u κ = 1 (A = 0), over a long constant run.
    for (lk, lrs) in [
        (1e-5f64.ln(), vec![1e-6; 5000]),
        (0.0, vec![1.0; 5000]),
        (1.9f64.ln(), vec![1.0; 5000]),
    ] {
        let law = SdeSurrogate::new(8, 1.0).unwrap();
        let p = [1.0, lk, 0.0, -2.0, 0.0, 0.0];
        let steps = [1, 17, 4999, 5000];
        let mut out = [0.0; 4];
        law.predict(&p, &lr_grid(&lrs), &steps, &mut out).unwrap();
        let want = naive(8, 1.0, &p, &lrs, &steps);
        for (o, w) in out.iter().zip(&want) {
            assert!((o - w).abs() <= 1e-12 * w.abs(), "{o} vs {w}");
        }
    }
}

#[test]
fn unstable_lr_gives_infinity_not_nan() {
    let law = SdeSurrogate::new(4, 1.0).unwrap();
    let p = [1.0, 1.5f64.ln(), 0.0, 0.0, 0.0, 0.0];
    let mut out = [0.0];
    law.predict(&p, &lr_grid(&vec![3.0; 100_000]), &[100_000], &mut out)
        .unwrap();
    assert!(!out[0].is_nan());
    assert!(out[0] > 1e300);
}

#[test]
fn rejects_bad_input() {
    let law = SdeSurrogate::default();
    let p = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let mut out = [0.0; 2];
    assert!(matches!(
        law.predict(&p[..5], &lr_grid(&[0.1; 3]), &[1, 2], &mut out),
        Err(LawError::ParamCount {
            expected: 6,
            found: 5,
            ..
        })
    ));
    assert!(matches!(
        law.predict(
            &[f64::NAN, 0.0, 1.0, 0.0, 0.0, 0.0],
            &lr_grid(&[0.1; 3]),
            &[1, 2],
            &mut out
        ),
        Err(LawError::NonFiniteParam { name: "L0", .. })
    ));
    assert!(matches!(
        law.predict(&p, &lr_grid(&[0.1; 3]), &[2, 2], &mut out),
        Err(LawError::BadStep { index: 1, .. })
    ));
    assert!(matches!(
        law.predict(&p, &lr_grid(&[0.1; 3]), &[0, 2], &mut out),
        Err(LawError::BadStep { index: 0, .. })
    ));
    assert!(matches!(
        law.predict(&p, &lr_grid(&[0.1; 3]), &[1, 2], &mut out[..1]),
        Err(LawError::OutputLength { .. })
    ));
    // An infinite LR cannot reach the law: the grid refuses it.
    assert!(matches!(
        lrsde::schedule::LrGrid::new(vec![0.1, f64::INFINITY, 0.1]),
        Err(lrsde::schedule::ScheduleError::BadLr { step: 2, .. })
    ));
    assert!(SdeSurrogate::new(0, 1.0).is_err());
    assert!(SdeSurrogate::new(4, 0.0).is_err());
}

#[test]
fn configure_and_guesses() {
    let lrs: Vec<f64> = (0..2000)
        .map(|t| 2e-3 * (1.0 + (std::f64::consts::PI * t as f64 / 2000.0).cos()) / 2.0 + 1e-5)
        .collect();
    // Data generated by the law itself.
    let mut law = SdeSurrogate::new(64, 2e-3).unwrap();
    let truth = [2.0, 0.8f64.ln(), 1.3, -2.0, 1.0, 0.7];
    let steps: Vec<u64> = (1..=20).map(|j| j * 100).collect();
    let mut losses = vec![0.0; steps.len()];
    law.predict(&truth, &lr_grid(&lrs), &steps, &mut losses)
        .unwrap();
    let curve = TrainingCurve {
        name: "synthetic".into(),
        lrs: lrsde::schedule::LrGrid::new(lrs).unwrap(),
        steps,
        losses,
        batch: None,
    };
    law.set_lr_ref(1.0).unwrap();
    law.configure(std::slice::from_ref(&curve)).unwrap();
    assert!((law.lr_ref() - (2e-3 + 1e-5)).abs() < 1e-15);
    let specs = law.params();
    let guesses = law.initial_guesses(std::slice::from_ref(&curve));
    assert_eq!(guesses.len(), 16);
    for g in &guesses {
        for (v, s) in g.iter().zip(&specs) {
            assert!(*v >= s.lower && *v <= s.upper, "{} = {v}", s.name);
        }
        assert!(
            law.predict_curve(g, &curve)
                .unwrap()
                .iter()
                .all(|x| x.is_finite())
        );
    }
}

#[test]
fn any_law_roundtrip_and_parse() {
    let law: AnyLaw = "sde:dim=16,lr_ref=0.5".parse().unwrap();
    match &law {
        AnyLaw::Sde(s) => assert_eq!((s.dim(), s.lr_ref()), (16, 0.5)),
        _ => panic!("wrong law"),
    }
    let json = serde_json::to_string(&law).unwrap();
    assert!(json.contains("\"law\":\"sde\""), "{json}");
    assert_eq!(serde_json::from_str::<AnyLaw>(&json).unwrap(), law);
    assert!("sde:dim=0".parse::<AnyLaw>().is_err());
    assert!("sde:foo=1".parse::<AnyLaw>().is_err());
    assert!("mpl:lambda=0.9".parse::<AnyLaw>().is_err());
    assert!(matches!(
        "chinchilla".parse::<AnyLaw>(),
        Err(LawError::UnknownLaw(_))
    ));
    let boxed: Box<dyn LossLaw> = Box::new(law);
    assert_eq!(boxed.name(), "sde");
}

/// `predict_jacobian` is available, its values equal `predict`'s, and every column matches
/// central differences of `predict` (step 1e-5 in the law's parameter space).
fn assert_exact_jacobian(law: &SdeSurrogate, p: &[f64], lrs: &[f64], steps: &[u64], name: &str) {
    let (m, np) = (steps.len(), p.len());
    let (mut out, mut base) = (vec![0.0; m], vec![0.0; m]);
    let mut jac = vec![0.0; m * np];
    assert!(
        law.predict_jacobian(p, &lr_grid(lrs), steps, &mut out, &mut jac)
            .unwrap()
    );
    law.predict(p, &lr_grid(lrs), steps, &mut base).unwrap();
    for (o, b) in out.iter().zip(&base) {
        assert!((o - b).abs() <= 1e-12 * b.abs(), "{name}: {o} vs {b}");
    }
    for k in 0..np {
        let h = 1e-5;
        let (mut hi, mut lo) = (p.to_vec(), p.to_vec());
        hi[k] += h;
        lo[k] -= h;
        let (mut oh, mut ol) = (vec![0.0; m], vec![0.0; m]);
        law.predict(&hi, &lr_grid(lrs), steps, &mut oh).unwrap();
        law.predict(&lo, &lr_grid(lrs), steps, &mut ol).unwrap();
        for j in 0..m {
            let fd = (oh[j] - ol[j]) / (2.0 * h);
            let an = jac[j * np + k];
            let tol = 1e-6 * (an.abs() + 1e-3 * out[j].abs());
            assert!(
                (fd - an).abs() <= tol,
                "{name} k={k} step {}: fd {fd} vs {an}",
                steps[j]
            );
        }
    }
}

#[test]
fn jacobian_matches_predict_and_finite_differences() {
    let law = SdeSurrogate::new(64, 3e-4).unwrap();
    let params = [
        [2.3, 1.5f64.ln(), 1.2, -3.0, 0.5, 0.4],
        [0.1, 0.05f64.ln(), 2.5, -8.0, 3.0, 1.5],
    ];
    for (name, lrs) in grids() {
        let steps: Vec<u64> = (0..23).map(|j| 1 + 130 * j).chain([3000]).collect();
        for p in &params {
            assert_exact_jacobian(&law, p, &lrs, &steps, name);
        }
    }
    // Wrong Jacobian size is an error, not a panic.
    let mut out = [0.0];
    let mut jac = [0.0; 5];
    assert!(matches!(
        law.predict_jacobian(&params[0], &lr_grid(&[1e-4; 4]), &[4], &mut out, &mut jac),
        Err(LawError::OutputLength { .. })
    ));
}

#[test]
fn lr_exponents_reduce_to_plain_law_and_have_exact_jacobian() {
    let plain = SdeSurrogate::new(32, 3e-4).unwrap();
    let law = plain.clone().with_lr_exponents(true);
    assert_eq!(law.params().len(), 8);
    let base = [2.3, 1.5f64.ln(), 1.2, -3.0, 0.5, 0.4];
    for (name, lrs) in grids() {
        let steps: Vec<u64> = (0..23).map(|j| 1 + 130 * j).chain([3000]).collect();
        let m = steps.len();
        // a = 1, b = 2 is the plain law.
        let mut p8 = base.to_vec();
        p8.extend([1.0, 2.0]);
        let (mut o6, mut o8) = (vec![0.0; m], vec![0.0; m]);
        plain
            .predict(&base, &lr_grid(&lrs), &steps, &mut o6)
            .unwrap();
        law.predict(&p8, &lr_grid(&lrs), &steps, &mut o8).unwrap();
        for (x, y) in o6.iter().zip(&o8) {
            assert!((x - y).abs() <= 1e-12 * x.abs(), "{name}: {x} vs {y}");
        }
        let p = [2.3, 1.5f64.ln(), 1.2, -3.0, 0.5, 0.4, 0.7, 1.6];
        assert_exact_jacobian(&law, &p, &lrs, &steps, name);
    }
    let parsed: AnyLaw = "sde:exponents=1,dim=16".parse().unwrap();
    assert_eq!(parsed.params().len(), 8);
}

/// `predict_many` (a table over the curvature for many vectors) against the naive loop, vector
/// by vector: parameters spread around the three test laws (so the draws cover curvatures from
/// 1e-9 to 1.99, the steep ones above the table's cap `κ ≤ lr_ref / max lr` included), on every
/// test grid and on one whose peak is twice `lr_ref` (part of the draws then diverge).
#[test]
fn predict_many_matches_the_naive_loop_vector_by_vector() {
    let dim = 64;
    let law = SdeSurrogate::new(dim, 3e-4).unwrap();
    let centres = [
        [2.3, 1.5f64.ln(), 1.2, -3.0, 0.5, 0.4],
        [0.1, 0.05f64.ln(), 2.5, -8.0, 3.0, 1.5],
        [2.4, 0.003f64.ln(), 1.8, 4.9, 7.2, 0.0],
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut grids = grids();
    grids.push(("twice-peak", vec![6e-4; 3000]));
    let steps: Vec<u64> = (1..=40).map(|k| 75 * k).collect();
    for centre in &centres {
        let draws: Vec<Vec<f64>> = (0..40)
            .map(|_| {
                let mut p = centre.to_vec();
                p[1] = (p[1] + 0.4 * (rng.random::<f64>() - 0.5)).min(1.99f64.ln());
                p[2] += 0.5 * (rng.random::<f64>() - 0.5);
                p[3] += rng.random::<f64>() - 0.5;
                p[5] += 0.5 * (rng.random::<f64>() - 0.5);
                p
            })
            .collect();
        for (name, lrs) in &grids {
            let many = law.predict_many(&draws, &lr_grid(lrs), &steps);
            for (p, got) in draws.iter().zip(&many) {
                let p6: [f64; 6] = p.as_slice().try_into().unwrap();
                let want = naive(dim, 3e-4, &p6, lrs, &steps);
                for ((g, w), s) in got.as_ref().unwrap().iter().zip(&want).zip(&steps) {
                    if !w.is_finite() || *w > 1e200 {
                        assert!(*g > 1e200, "{name} step {s}: {g} for a diverged {w}");
                        continue;
                    }
                    // Relative to the excess loss, plus the naive loop's own rounding.
                    let tol = 1e-8 * (w - p[0]).abs() + 1e-12 * w.abs();
                    assert!((g - w).abs() <= tol, "{name} step {s}: {g} vs {w}");
                }
            }
        }
    }
}

#[test]
fn predict_many_reports_bad_vectors_like_predict() {
    let law = SdeSurrogate::new(16, 1.0).unwrap();
    let lrs = vec![0.5; 300];
    let good = [2.0, 0.1f64.ln(), 1.0, -3.0, 0.0, 0.5];
    let mut draws: Vec<Vec<f64>> = (0..20).map(|_| good.to_vec()).collect();
    draws[3][2] = f64::NAN;
    draws[7].pop();
    let many = law.predict_many(&draws, &lr_grid(&lrs), &[10, 300]);
    let mut out = [0.0; 2];
    for (p, got) in draws.iter().zip(&many) {
        match law.predict(p, &lr_grid(&lrs), &[10, 300], &mut out) {
            Ok(()) => {
                let got = got.as_ref().unwrap();
                for (g, o) in got.iter().zip(&out) {
                    assert!((g - o).abs() <= 1e-10 * (o - 2.0), "{g} vs {o}");
                }
            }
            // Compared as text: the NaN inside the error is not equal to itself.
            Err(e) => assert_eq!(got.as_ref().unwrap_err().to_string(), e.to_string()),
        }
    }
    // A bad grid is every good vector's error; a few vectors are predicted one by one, exactly.
    let mut one = [0.0];
    for (p, r) in draws
        .iter()
        .zip(law.predict_many(&draws, &lr_grid(&lrs), &[0]))
    {
        let e = law.predict(p, &lr_grid(&lrs), &[0], &mut one).unwrap_err();
        assert_eq!(r.unwrap_err().to_string(), e.to_string());
    }
    let few = law.predict_many(&draws[..2], &lr_grid(&lrs), &[10, 300]);
    law.predict(&good, &lr_grid(&lrs), &[10, 300], &mut out)
        .unwrap();
    assert_eq!(few[0].as_ref().unwrap(), &out.to_vec());
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
