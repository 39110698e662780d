//! Exact moment recursions against closed forms, workload W and Monte Carlo.

use lrsde::nqm::{
    DiagonalMoments, MomentsError, MomentumMoments, NqmDiffusion, NqmParams, QuadraticParams,
    SecondMomentRun, advance_second_moments, expected_loss_at, expected_loss_every_step,
    power_and_geometric_sum,
};
use lrsde::solver::Method;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

#[path = "../benches/w_workload.rs"]
mod w_workload;
use w_workload::w_grid as workload_w_lrs;

/// Additive-noise NQM (Gaussian-noise SGD) with these quadratic parameters.
fn sgd(quad: QuadraticParams) -> NqmParams {
    NqmParams {
        quad,
        diffusion: NqmDiffusion::Additive,
    }
}

/// Every (diffusion, method) pair; additive noise is the same recursion under both methods.
const RECURSIONS: [(NqmDiffusion, Method); 3] = [
    (NqmDiffusion::Additive, Method::Em),
    (NqmDiffusion::Sqrt1px2, Method::Em),
    (NqmDiffusion::Sqrt1px2, Method::Milstein),
];

#[test]
fn workload_w_expected_final_loss() {
    // WORKLOAD.md: EM 1.754547e-3 (additive noise), Milstein 1.759153e-3 (√(1+x²) noise);
    // 7 significant digits.
    let lrs = workload_w_lrs();
    let milstein = NqmParams {
        diffusion: NqmDiffusion::Sqrt1px2,
        ..NqmParams::default()
    };
    for (nqm, method, want) in [
        (NqmParams::default(), Method::Em, 1.754547e-3),
        (NqmParams::default(), Method::Milstein, 1.754547e-3),
        (milstein, Method::Milstein, 1.759153e-3),
    ] {
        let got = expected_loss_at(&nqm, method, &lr_grid(&lrs), &[2000]).unwrap()[0];
        assert!(
            (got - want).abs() < 0.5e-9,
            "{method:?}: {got:.9e} vs {want:e}"
        );
        let every = expected_loss_every_step(&nqm, method, &lr_grid(&lrs)).unwrap();
        assert_eq!(every[1999], got);
    }
}

#[test]
fn constant_lr_matches_geometric_series() {
    // m_t = (1−a)^{2t} m0 + b² (1 − (1−a)^{2t}) / (1 − (1−a)²), per coordinate.
    let quad = QuadraticParams {
        dim: 5,
        hmax: 2.0,
        power: 0.7,
        noise: 3.0,
        batch: 8.0,
        x0: 1.5,
    };
    let lr = 0.3;
    let h = quad.curvatures();
    let s2 = quad.noise_variances();
    let mut m = DiagonalMoments::new(&sgd(quad), Method::Em).unwrap();
    for t in 1..=300u32 {
        m.step(lr);
        for i in 0..5 {
            let q = (1.0 - lr * h[i]).powi(2);
            let qt = q.powi(t as i32);
            let want = qt * 2.25 + lr * lr * s2[i] * (1.0 - qt) / (1.0 - q);
            let got = m.second_moment()[i];
            assert!(
                (got - want).abs() <= 1e-13 * want,
                "t={t} i={i}: {got} vs {want}"
            );
            let mean = 1.5 * (1.0 - lr * h[i]).powi(t as i32);
            assert!((m.mean()[i] - mean).abs() <= 1e-13 * mean.abs().max(1e-300));
        }
    }
}

#[test]
fn closed_form_equals_step_recursion() {
    // Includes a ≈ 0 (A within ulps of 1), a = 1 (A = 0), a > 1 (negative factor), a near 2.
    let h = vec![1e-12, 1e-6, 0.01, 0.5, 1.0, 1.5, 1.99];
    let d = h.len();
    for (diffusion, method) in RECURSIONS {
        let scheme = (diffusion, method);
        for (lr, n) in [
            (1.0, 1u64),
            (1.0, 17),
            (1.0, 1000),
            (0.37, 4321),
            (1.0, 20000),
        ] {
            let make = || {
                DiagonalMoments::from_spectrum(
                    h.clone(),
                    vec![1e-3; d],
                    vec![0.7; d],
                    vec![2.0; d],
                    diffusion,
                    method,
                )
                .unwrap()
            };
            let (mut fast, mut slow) = (make(), make());
            fast.advance_constant(lr, n);
            for _ in 0..n {
                slow.step(lr);
            }
            assert_eq!(fast.steps(), n);
            // The step recursion rounds once per update: where A > 1 (√(1+x²) noise on a flat
            // direction) its relative error grows like n ulps, so the bound does too.
            let tol = 1e-12f64.max(4.0 * f64::EPSILON * n as f64);
            for i in 0..d {
                let (f, s) = (fast.second_moment()[i], slow.second_moment()[i]);
                assert!(
                    (f - s).abs() <= tol * s,
                    "{scheme:?} lr={lr} n={n} i={i}: {f} vs {s}"
                );
                let (f, s) = (fast.mean()[i], slow.mean()[i]);
                assert!(
                    (f - s).abs() <= 1e-12 * s.abs() || (f - s).abs() < 1e-300,
                    "mean {scheme:?} lr={lr} n={n} i={i}: {f} vs {s}"
                );
            }
        }
    }
}

#[test]
fn power_and_geometric_sum_exact_cases() {
    assert_eq!(power_and_geometric_sum(0.5, 0), (1.0, 0.0));
    assert_eq!(power_and_geometric_sum(0.5, 3), (0.125, 1.75));
    assert_eq!(power_and_geometric_sum(1.0, 12345), (1.0, 12345.0));
    assert_eq!(power_and_geometric_sum(0.0, 5), (0.0, 1.0));
    // A = 1 − 1e−15, n = 1e6: the textbook (1 − Aⁿ)/(1 − A) keeps ~6 digits, binary powering all.
    let a = 1.0 - 1e-15;
    let (_, s) = power_and_geometric_sum(a, 1_000_000);
    let delta = 1.0 - a; // exact (Sterbenz), ≈ 1.07e−15 after rounding a
    let exact = -((1e6 * (-delta).ln_1p()).exp_m1()) / delta;
    assert!((s - exact).abs() <= 1e-12 * exact, "{s} vs {exact}");
}

#[test]
fn run_uses_segments_exactly() {
    let nqm = NqmParams::default();
    let mut lrs = workload_w_lrs().into_vec();
    lrs.extend(std::iter::repeat_n(0.05, 3000));
    lrs.extend(std::iter::repeat_n(0.01, 5));
    let steps: Vec<u64> = (1..=lrs.len() as u64).step_by(97).collect();
    let fast = expected_loss_at(&nqm, Method::Em, &lr_grid(&lrs), &steps).unwrap();
    let every = expected_loss_every_step(&nqm, Method::Em, &lr_grid(&lrs)).unwrap();
    for (s, f) in steps.iter().zip(&fast) {
        let e = every[*s as usize - 1];
        assert!((f - e).abs() <= 1e-12 * e, "step {s}: {f} vs {e}");
    }
}

#[test]
fn rejects_bad_input() {
    let nqm = NqmParams::default();
    // A NaN LR cannot reach the recursion: the grid refuses it.
    assert!(matches!(
        lrsde::schedule::LrGrid::new(vec![0.1, f64::NAN]),
        Err(lrsde::schedule::ScheduleError::BadLr { step: 2, .. })
    ));
    assert!(matches!(
        expected_loss_at(&nqm, Method::Em, &lr_grid(&[0.1; 3]), &[2, 1]),
        Err(MomentsError::BadSaveStep { index: 1, .. })
    ));
    assert!(matches!(
        expected_loss_at(&nqm, Method::Em, &lr_grid(&[0.1; 3]), &[4]),
        Err(MomentsError::BadSaveStep { .. })
    ));
    let bad = sgd(QuadraticParams {
        batch: 0.0,
        ..nqm.quad
    });
    assert!(matches!(
        DiagonalMoments::new(&bad, Method::Em),
        Err(MomentsError::InvalidParameter { name: "batch", .. })
    ));
    // The one validation rule: a negative spectrum exponent is rejected here as in model specs.
    let bad = sgd(QuadraticParams {
        power: -1.0,
        ..nqm.quad
    });
    assert!(matches!(
        DiagonalMoments::new(&bad, Method::Em),
        Err(MomentsError::InvalidParameter { name: "power", .. })
    ));
    assert!(MomentumMoments::new(&nqm.quad, 1.0).is_err());
    assert!(matches!(
        DiagonalMoments::from_spectrum(
            vec![1.0],
            vec![],
            vec![1.0],
            vec![1.0],
            NqmDiffusion::Additive,
            Method::Em
        ),
        Err(MomentsError::LengthMismatch { name: "s2", .. })
    ));
}

#[test]
fn momentum_zero_equals_sgd() {
    let nqm = NqmParams::default();
    let lrs = workload_w_lrs();
    let mut mm = MomentumMoments::new(&nqm.quad, 0.0).unwrap();
    mm.run(&lr_grid(&lrs));
    let sgd = expected_loss_at(&nqm, Method::Em, &lr_grid(&lrs), &[2000]).unwrap()[0];
    assert!((mm.expected_loss() - sgd).abs() <= 1e-13 * sgd);
}

#[test]
fn momentum_reaches_stationary_closed_form() {
    let nqm = QuadraticParams {
        dim: 6,
        ..QuadraticParams::default()
    };
    let (mu, lr) = (0.9, 0.1);
    let mut mm = MomentumMoments::new(&nqm, mu).unwrap();
    mm.run(&lr_grid(&vec![lr; 20_000]));
    let stat = mm.stationary_second_moment(lr);
    for (i, (got, want)) in mm.second_moment().iter().zip(&stat).enumerate() {
        let want = want.unwrap();
        assert!((got - want).abs() <= 1e-10 * want, "i={i}: {got} vs {want}");
        // Stationary lag-one moment Q* = c P* / (1 + μ).
        let c = 1.0 + mu - lr * nqm.curvatures()[i];
        let q = mm.cross_moment()[i];
        assert!((q - c * want / (1.0 + mu)).abs() <= 1e-10 * want);
    }
    // Unstable coordinate (η h ≥ 2(1 + μ)) reports None.
    assert!(mm.stationary_second_moment(4.0)[0].is_none());
}

#[test]
fn momentum_matches_monte_carlo() {
    // Heavy ball simulated directly; E[x_i²] and the mean within 4 standard errors.
    let nqm = QuadraticParams {
        dim: 4,
        hmax: 1.0,
        power: 1.0,
        noise: 1.0,
        batch: 4.0,
        x0: 1.0,
    };
    let (mu, paths) = (0.8, 20_000);
    let lrs: Vec<f64> = (0..60).map(|k| 0.3 * (1.0 - k as f64 / 80.0)).collect();
    let h = nqm.curvatures();
    let s: Vec<f64> = nqm.noise_variances().iter().map(|v| v.sqrt()).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let d = nqm.dim;
    let (mut sum1, mut sum2, mut sum4) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    for _ in 0..paths {
        let mut x = vec![1.0; d];
        let mut xp = x.clone();
        for &lr in &lrs {
            for i in 0..d {
                let z: f64 = rng.sample(StandardNormal);
                let xn = x[i] + mu * (x[i] - xp[i]) - lr * h[i] * x[i] + lr * s[i] * z;
                xp[i] = x[i];
                x[i] = xn;
            }
        }
        for i in 0..d {
            sum1[i] += x[i];
            sum2[i] += x[i] * x[i];
            sum4[i] += x[i].powi(4);
        }
    }
    let mut mm = MomentumMoments::new(&nqm, mu).unwrap();
    mm.run(&lr_grid(&lrs));
    let n = paths as f64;
    for i in 0..d {
        let (m1, m2) = (sum1[i] / n, sum2[i] / n);
        let se1 = ((m2 - m1 * m1) / n).sqrt();
        let se2 = ((sum4[i] / n - m2 * m2) / n).sqrt();
        let (e1, e2) = (mm.mean()[i], mm.second_moment()[i]);
        assert!(
            (m1 - e1).abs() < 4.0 * se1,
            "mean i={i}: MC {m1} ± {se1} vs {e1}"
        );
        assert!(
            (m2 - e2).abs() < 4.0 * se2,
            "second i={i}: MC {m2} ± {se2} vs {e2}"
        );
    }
}

#[test]
fn sgd_matches_monte_carlo() {
    // Plain SGD (EM, Δs = 1) on the NQM: E[x²] within 4 standard errors.
    let nqm = QuadraticParams {
        dim: 3,
        ..QuadraticParams::default()
    };
    let lrs = vec![0.4; 50];
    let h = nqm.curvatures();
    let s: Vec<f64> = nqm.noise_variances().iter().map(|v| v.sqrt()).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let paths = 20_000;
    let (mut sum2, mut sum4) = (vec![0.0; 3], vec![0.0; 3]);
    for _ in 0..paths {
        let mut x = [1.0; 3];
        for &lr in &lrs {
            for i in 0..3 {
                let z: f64 = rng.sample(StandardNormal);
                x[i] += -lr * h[i] * x[i] + lr * s[i] * z;
            }
        }
        for i in 0..3 {
            sum2[i] += x[i] * x[i];
            sum4[i] += x[i].powi(4);
        }
    }
    let mut m = DiagonalMoments::new(&sgd(nqm), Method::Em).unwrap();
    m.run(&lr_grid(&lrs));
    let n = paths as f64;
    for i in 0..3 {
        let m2 = sum2[i] / n;
        let se = ((sum4[i] / n - m2 * m2) / n).sqrt();
        let e = m.second_moment()[i];
        assert!((m2 - e).abs() < 4.0 * se, "i={i}: MC {m2} ± {se} vs {e}");
    }
}

#[test]
fn sqrt_noise_em_matches_monte_carlo() {
    // EM on σ = η s √(1+x²) (spec `nqm:diffusion=sqrt1px2`, `--method em`), simulated directly:
    // E[x²] within 4 standard errors of the recursion ((1−a)² + b²) m₂ + b².
    let quad = QuadraticParams {
        dim: 3,
        ..QuadraticParams::default()
    };
    let lrs: Vec<f64> = (0..40).map(|k| 0.6 - 0.01 * k as f64).collect();
    let h = quad.curvatures();
    let s: Vec<f64> = quad.noise_variances().iter().map(|v| v.sqrt()).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let paths = 20_000;
    let (mut sum2, mut sum4) = (vec![0.0; 3], vec![0.0; 3]);
    for _ in 0..paths {
        let mut x = [1.0f64; 3];
        for &lr in &lrs {
            for i in 0..3 {
                let z: f64 = rng.sample(StandardNormal);
                x[i] += -lr * h[i] * x[i] + lr * s[i] * (1.0 + x[i] * x[i]).sqrt() * z;
            }
        }
        for i in 0..3 {
            sum2[i] += x[i] * x[i];
            sum4[i] += x[i].powi(4);
        }
    }
    let nqm = NqmParams {
        quad,
        diffusion: NqmDiffusion::Sqrt1px2,
    };
    let mut m = DiagonalMoments::new(&nqm, Method::Em).unwrap();
    m.run(&lr_grid(&lrs));
    let n = paths as f64;
    for i in 0..3 {
        let m2 = sum2[i] / n;
        let se = ((sum4[i] / n - m2 * m2) / n).sqrt();
        let e = m.second_moment()[i];
        assert!((m2 - e).abs() < 4.0 * se, "i={i}: MC {m2} ± {se} vs {e}");
    }
    // The multiplicative noise adds b² m₂ per step: strictly above additive-noise SGD.
    let mut add = DiagonalMoments::new(&sgd(quad), Method::Em).unwrap();
    add.run(&lr_grid(&lrs));
    assert!(m.expected_loss() > add.expected_loss());
}

#[test]
fn second_moment_runs_follow_diagonal_moments() {
    // The primitive the `sde` law uses is the additive recursion of `DiagonalMoments`, bit for
    // bit, on both sides of the closed-form threshold.
    let quad = QuadraticParams {
        dim: 7,
        ..QuadraticParams::default()
    };
    let (h, s2) = (quad.curvatures(), quad.noise_variances());
    let mut lrs = vec![0.3; 5];
    lrs.extend(vec![0.7; 40]);
    lrs.extend(vec![0.1; 15]);
    let mut m = DiagonalMoments::new(&sgd(quad), Method::Em).unwrap();
    m.run(&lr_grid(&lrs));
    let mut w = vec![1.0; 7];
    let mut run = SecondMomentRun::new(7);
    for (lr, n) in [(0.3, 5), (0.7, 40), (0.1, 15)] {
        advance_second_moments(lr, lr * lr, &h, &s2, &mut w, n, &mut run);
    }
    assert_eq!(w, m.second_moment());
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}

/// Closed-form runs of the momentum recursion against the step recursion (see below).
const TOL: f64 = 1e-11;

/// `max_i |got_i − want_i| / scale_i` over a slice.
fn worst(got: &[f64], want: &[f64], scale: impl Fn(usize) -> f64) -> f64 {
    got.iter()
        .zip(want)
        .enumerate()
        .map(|(i, (g, w))| (g - w).abs() / scale(i))
        .fold(0.0, f64::max)
}

#[test]
fn momentum_closed_form_runs_match_step_recursion() {
    // The oracle is the step recursion itself (one `step` per update). Runs of many lengths, μ = 0 (plain SGD) to 0.99, LRs from far inside to just inside
    // the stability edge η h₀ < 2 (1 + μ); errors are scaled by the natural size of each moment:
    // P itself, |Q| ≤ √(P R), |E x|² ≤ P. The bound is the oracle's own error: against 50-digit
    // arithmetic the step recursion is off by up to ~2e-12 here (μ = 0.9, n = 31, near critical
    // damping, where each step cancels terms ~4× its result) and the closed form by ~2e-13; at
    // 0.9999 of the stability edge with μ = 0.99 (n = 1000) both are off by 1e-11–2e-11 (the
    // problem itself is that ill-conditioned there), so those runs get a 10× wider bound.
    let quad = QuadraticParams {
        dim: 12,
        hmax: 1.0,
        power: 1.5,
        noise: 1.0,
        batch: 16.0,
        x0: 1.0,
    };
    for mu in [0.0, 0.5, 0.9, 0.99] {
        for edge in [0.05, 0.5, 0.99, 0.9999] {
            let lr = edge * 2.0 * (1.0 + mu) / quad.hmax;
            let tol = if edge > 0.999 { 10.0 * TOL } else { TOL };
            for n in [16, 17, 31, 100, 1000, 4097, 30_000] {
                let mut fast = MomentumMoments::new(&quad, mu).unwrap();
                let mut slow = fast.clone();
                let grid = lr_grid(&vec![lr; n]);
                fast.run(&grid);
                for _ in 0..n {
                    slow.step(lr);
                }
                let (p, q) = (slow.second_moment(), slow.cross_moment());
                let ctx = format!("mu={mu} edge={edge} n={n}");
                let e_p = worst(fast.second_moment(), p, |i| p[i]);
                let e_q = worst(fast.cross_moment(), q, |i| p[i]);
                let e_m = worst(fast.mean(), slow.mean(), |i| p[i].sqrt());
                assert!(
                    e_p <= tol && e_q <= tol && e_m <= tol,
                    "{ctx}: {e_p} {e_q} {e_m}"
                );
                assert_eq!(fast.steps(), n as u64);
                let (lf, ls) = (fast.expected_loss(), slow.expected_loss());
                assert!((lf - ls).abs() <= tol * ls, "{ctx}: loss {lf} vs {ls}");
            }
        }
    }
}

#[test]
fn momentum_runs_mixed_with_single_steps_match_step_recursion() {
    // A grid mixing short runs (stepped) and long ones (closed form), starting off rest.
    let quad = QuadraticParams::default();
    let mut lrs = Vec::new();
    for (k, &n) in [3usize, 40, 1, 15, 16, 700, 2, 5000].iter().enumerate() {
        lrs.extend(std::iter::repeat_n(0.02 + 0.03 * k as f64, n));
    }
    let x0: Vec<f64> = (0..quad.dim).map(|i| 1.0 - 0.05 * i as f64).collect();
    let mut fast = MomentumMoments::new(&quad, 0.9)
        .unwrap()
        .starting_at(&x0)
        .unwrap();
    let mut slow = fast.clone();
    fast.run(&lr_grid(&lrs));
    for &lr in &lrs {
        slow.step(lr);
    }
    let p = slow.second_moment();
    let e_p = worst(fast.second_moment(), p, |i| p[i]);
    let e_q = worst(fast.cross_moment(), slow.cross_moment(), |i| p[i]);
    let e_m = worst(fast.mean(), slow.mean(), |i| p[i].sqrt());
    assert!(e_p <= TOL && e_q <= TOL && e_m <= TOL, "{e_p} {e_q} {e_m}");
}

/// An LR grid of runs (long ones in closed form, short ones stepped) and batch-noise factors
/// that change inside LR runs, on both sides of `CLOSED_FORM_MIN_RUN`.
fn batched_grid() -> (Vec<f64>, Vec<f64>) {
    let mut lrs = Vec::new();
    for (lr, n) in [(0.3, 40), (0.2, 100), (0.25, 5), (0.15, 600)] {
        lrs.extend(std::iter::repeat_n(lr, n));
    }
    lrs.extend((0..10).map(|t| 0.1 / (1.0 + t as f64)));
    let v = (0..lrs.len())
        .map(|t| match t {
            0..20 => 4.0,
            20..90 => 2.0,
            300..310 => 0.5,
            400.. => 0.25,
            _ => 1.0,
        })
        .collect();
    (lrs, v)
}

#[test]
fn batched_closed_form_runs_match_step_recursion() {
    let (lrs, v) = batched_grid();
    let grid = lr_grid(&lrs);
    let quad = QuadraticParams {
        dim: 8,
        x0: 1.0,
        ..QuadraticParams::default()
    };
    for (diffusion, method) in RECURSIONS {
        let p = NqmParams { quad, diffusion };
        let mut fast = DiagonalMoments::new(&p, method).unwrap();
        let (mut slow, mut plain) = (fast.clone(), fast.clone());
        fast.run_batched(&grid, &v).unwrap();
        for (&lr, &f) in lrs.iter().zip(&v) {
            slow.step_scaled(lr, f);
        }
        let ctx = format!("{diffusion:?} {method:?}");
        let w = slow.second_moment();
        let e_w = worst(fast.second_moment(), w, |i| w[i]);
        let e_m = worst(fast.mean(), slow.mean(), |i| w[i].sqrt());
        assert!(e_w <= 1e-12 && e_m <= 1e-12, "{ctx}: {e_w} {e_m}");
        let (lf, ls) = (fast.expected_loss(), slow.expected_loss());
        assert!((lf - ls).abs() <= 1e-12 * ls, "{ctx}: loss {lf} vs {ls}");
        assert_eq!(fast.steps(), lrs.len() as u64);
        // Unit factors: the unbatched run's bits (closed form on the same runs).
        let mut ones = plain.clone();
        ones.run_batched(&grid, &vec![1.0; lrs.len()]).unwrap();
        plain.run(&grid);
        assert_eq!(ones, plain, "{ctx}");
    }
    for mu in [0.0, 0.9] {
        let mut fast = MomentumMoments::new(&quad, mu).unwrap();
        let (mut slow, mut plain) = (fast.clone(), fast.clone());
        fast.run_batched(&grid, &v).unwrap();
        for (&lr, &f) in lrs.iter().zip(&v) {
            slow.step_scaled(lr, f);
        }
        let p = slow.second_moment();
        let e_p = worst(fast.second_moment(), p, |i| p[i]);
        let e_q = worst(fast.cross_moment(), slow.cross_moment(), |i| p[i]);
        let e_m = worst(fast.mean(), slow.mean(), |i| p[i].sqrt());
        assert!(
            e_p <= TOL && e_q <= TOL && e_m <= TOL,
            "mu={mu}: {e_p} {e_q} {e_m}"
        );
        let mut ones = plain.clone();
        ones.run_batched(&grid, &vec![1.0; lrs.len()]).unwrap();
        plain.run(&grid);
        let bits = |m: &MomentumMoments| {
            m.second_moment()
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&ones), bits(&plain), "mu={mu}");
    }
}
