//! The exact recursions' per-instruction-set copies (`nqm::moments`, issue 12 point 1): every
//! copy computes the bits of the one-update-at-a-time baseline, so a `sim:` fit is the same
//! file under every `LRSDE_SIMD` level.

use lrsde::nqm::{DiagonalMoments, MomentumMoments, NqmParams, QuadraticParams};
use lrsde::schedule::LrGrid;
use lrsde::solver::Method;

/// Warmup, cosine decay (a new LR every update: all stepped) and a constant tail of 200 (closed
/// form), so both halves of `run` and their seams are exercised.
fn mixed_lrs() -> Vec<f64> {
    let warm = (1..=50).map(|t| 0.4 * t as f64 / 50.0);
    let cos = (0..300).map(|t| 0.2 + 0.2 * (std::f64::consts::PI * t as f64 / 300.0).cos());
    warm.chain(cos)
        .chain(std::iter::repeat_n(0.05, 200))
        .collect()
}

#[test]
fn momentum_run_has_the_bits_of_one_step_at_a_time() {
    // 37 directions: a remainder after every vector width.
    let quad = QuadraticParams {
        dim: 37,
        ..Default::default()
    };
    let lrs = mixed_lrs();
    let stepped_len = 350;
    let base = MomentumMoments::new(&quad, 0.9).unwrap();
    let (mut run, mut one) = (base.clone(), base);
    run.run(&LrGrid::new(lrs[..stepped_len].to_vec()).unwrap());
    for &lr in &lrs[..stepped_len] {
        one.step(lr);
    }
    assert_eq!(run.second_moment(), one.second_moment());
    assert_eq!(run.cross_moment(), one.cross_moment());
    assert_eq!(run.mean(), one.mean());
    assert_eq!(run.steps(), one.steps());
    // The closed-form tail is exact too: the loss agrees with stepping to rounding.
    run.run(&LrGrid::new(lrs[stepped_len..].to_vec()).unwrap());
    for &lr in &lrs[stepped_len..] {
        one.step(lr);
    }
    let (a, b) = (run.expected_loss(), one.expected_loss());
    assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
}

#[test]
fn nqm_run_has_the_bits_of_one_step_at_a_time() {
    let nqm = NqmParams {
        quad: QuadraticParams {
            dim: 37,
            ..Default::default()
        },
        ..Default::default()
    };
    for method in [Method::Em, Method::Milstein] {
        let base = DiagonalMoments::new(&nqm, method).unwrap();
        let (mut run, mut one) = (base.clone(), base);
        let lrs = &mixed_lrs()[..350];
        run.run(&LrGrid::new(lrs.to_vec()).unwrap());
        for &lr in lrs {
            one.step(lr);
        }
        assert_eq!(run.second_moment(), one.second_moment());
        assert_eq!(run.mean(), one.mean());
    }
}

#[cfg(feature = "cli")]
#[test]
fn sim_exact_fits_are_identical_for_every_instruction_set() {
    use std::fmt::Write;
    use std::process::Command;
    // A short warmup-cosine-constant curve: a fit runs the stepped copies and the closed form.
    let dir = tempfile::tempdir().unwrap();
    let curve = dir.path().join("curve.csv");
    let lrs = mixed_lrs();
    let mut csv = String::from("step,lr,loss\n");
    for (t, lr) in lrs.iter().enumerate().skip(9).step_by(10) {
        let s = (t + 1) as f64;
        writeln!(
            csv,
            "{},{lr},{}",
            t + 1,
            2.0 + 3.0 / (1.0 + s / 80.0).sqrt()
        )
        .unwrap();
    }
    std::fs::write(&curve, csv).unwrap();
    for law in ["sim:model=momentum,dim=8", "sim:model=nqm,dim=8"] {
        let run = |pass: &str| {
            let out = dir.path().join(format!("fit_{pass}.json"));
            let o = Command::new(env!("CARGO_BIN_EXE_lrsde"))
                .args(["fit", "--law", law, "--curve", curve.to_str().unwrap()])
                .args(["-o", out.to_str().unwrap()])
                .env("LRSDE_SIMD", pass)
                .output()
                .expect("run lrsde");
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::fs::read_to_string(&out).unwrap()
        };
        let portable = run("portable");
        assert!(portable.contains("\"law\": \"sim\""), "{portable}");
        assert_eq!(run("avx2"), portable, "{law}");
        assert_eq!(run("avx512"), portable, "{law}");
    }
}

#[test]
fn costly_jacobian_laws_predict_the_bits_of_their_jacobian_base() {
    // The fitter prices a trial by `predict` and accepts it by that cost only for a law with
    // `jacobian_is_costly`: the bits must be those `predict_jacobian` writes, or fits would move.
    use lrsde::law::{AnyLaw, LossLaw};
    let lrs = LrGrid::new(mixed_lrs()).unwrap();
    let steps: Vec<u64> = (1..=11).map(|k| k * 50).collect();
    for spec in ["sim:model=momentum,dim=16", "sim:model=nqm,dim=16"] {
        let law: AnyLaw = spec.parse().unwrap();
        assert!(law.jacobian_is_costly(), "{spec}");
        let params = [1.5, 0.3, (0.5f64).ln(), 1.2, (0.02f64).ln(), 0.7];
        let mut pred = vec![0.0; steps.len()];
        law.predict(&params, &lrs, &steps, &mut pred).unwrap();
        let mut out = vec![0.0; steps.len()];
        let mut jac = vec![0.0; steps.len() * params.len()];
        assert!(
            law.predict_jacobian(&params, &lrs, &steps, &mut out, &mut jac)
                .unwrap()
        );
        assert_eq!(bits(&pred), bits(&out), "{spec}");
        assert!(pred.iter().all(|p| p.is_finite() && *p > 1.5), "{pred:?}");
    }
}

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}
