//! Batch-size schedules: a constant batch equal to the model's `batch` key changes no bit, the
//! exact moments under a batch ramp match Monte Carlo, and the stationary variance follows the
//! closed form `η s² / (h (2 − η h))` with `s² ∝ 1/B`.

use lrsde::ensemble::{Ensemble, EnsembleError, NoObserver, Summary};
use lrsde::model::ModelSpec;
use lrsde::nqm::{DiagonalMoments, MomentumMoments, NqmDiffusion, NqmParams, QuadraticParams};
use lrsde::schedule::{BatchGrid, ScheduleSpec};
use lrsde::solver::Method;

mod kernel_support;
use kernel_support::Generic;

fn run(
    spec: &str,
    method: Method,
    lrs: &[f64],
    batch: Option<&BatchGrid>,
    paths: usize,
) -> Summary {
    let spec: ModelSpec = spec.parse().unwrap();
    Ensemble::builder()
        .paths(paths)
        .seed(7)
        .save_every(10)
        .build()
        .unwrap()
        .run_spec_batched_observed(&spec, method, &lr_grid(lrs), batch, &mut NoObserver)
        .unwrap()
}

fn ramp() -> BatchGrid {
    // 4 → 8 → 16 in three phases: noise variance ×4, ×2, ×1 relative to batch=16.
    let spec: ScheduleSpec =
        "constant:peak=4,steps=20; @20 constant:peak=8,steps=20; @40 constant:peak=16,steps=20"
            .parse()
            .unwrap();
    BatchGrid::from_schedule(&spec).unwrap()
}

#[test]
fn constant_batch_at_the_model_key_is_bit_identical() {
    let lrs: Vec<f64> = (0..60).map(|t| 0.4 - 0.005 * t as f64).collect();
    let same = BatchGrid::new(vec![16.0; 60]).unwrap();
    for (spec, method) in [
        ("nqm:dim=6,batch=16", Method::Em),
        ("nqm:dim=6,batch=16,diffusion=sqrt1px2", Method::Milstein),
        ("nqm:dim=6,batch=16,diffusion=sqrt1px2", Method::Em),
        ("momentum:dim=6,batch=16,mu=0.5", Method::Milstein),
        ("adam:dim=6,batch=16", Method::Em),
        ("lossnoise:dim=6,batch=16", Method::Milstein),
    ] {
        let a = run(spec, method, &lrs, None, 70);
        let b = run(spec, method, &lrs, Some(&same), 70);
        assert_eq!(a.rows, b.rows, "{spec} {method:?}");
        // A different batch does change the numbers (the test above can fail).
        let other = BatchGrid::new(vec![8.0; 60]).unwrap();
        let c = run(spec, method, &lrs, Some(&other), 70);
        assert_ne!(
            a.rows.last().unwrap().mean,
            c.rows.last().unwrap().mean,
            "{spec}"
        );
    }
}

#[test]
fn moments_with_unit_factors_are_the_plain_recursion() {
    let p = NqmParams {
        quad: QuadraticParams {
            dim: 5,
            ..Default::default()
        },
        diffusion: NqmDiffusion::Sqrt1px2,
    };
    let lrs: Vec<f64> = (0..30).map(|t| 0.5 / (1.0 + t as f64)).collect();
    let mut a = DiagonalMoments::new(&p, Method::Milstein).unwrap();
    let mut b = a.clone();
    a.run_batched(&lr_grid(&lrs), &[1.0; 30]).unwrap();
    for &lr in &lrs {
        b.step(lr);
    }
    assert_eq!(a, b);
    let mut m = MomentumMoments::new(&p.quad, 0.7).unwrap();
    let mut n = MomentumMoments::new(&p.quad, 0.7).unwrap();
    m.run_batched(&lr_grid(&lrs), &[1.0; 30]).unwrap();
    n.run(&lr_grid(&lrs));
    assert_eq!(m.expected_loss().to_bits(), n.expected_loss().to_bits());
    assert!(a.run_batched(&lr_grid(&lrs), &[1.0; 29]).is_err());
    assert!(a.run_batched(&lr_grid(&lrs[..1]), &[f64::NAN]).is_err());
}

/// Exact moments under the ramp vs the ensemble mean, at every save point, within 4 SE.
#[test]
fn moments_under_a_batch_ramp_match_monte_carlo() {
    let grid = ramp();
    let lrs = vec![0.3; 60];
    let var = grid.variance_factors(16.0, 60);
    let p = NqmParams {
        quad: QuadraticParams {
            dim: 4,
            x0: 0.5,
            ..Default::default()
        },
        diffusion: NqmDiffusion::Additive,
    };
    for (spec, mu) in [
        ("nqm:dim=4,x0=0.5", None),
        ("momentum:dim=4,x0=0.5,mu=0.6", Some(0.6)),
    ] {
        let mc = run(spec, Method::Em, &lrs, Some(&grid), 8192);
        let plain = run(spec, Method::Em, &lrs, None, 8192);
        for row in mc.rows.iter().filter(|r| r.step > 0) {
            let t = row.step as usize;
            let exact = match mu {
                None => {
                    let mut m = DiagonalMoments::new(&p, Method::Em).unwrap();
                    m.run_batched(&lr_grid(&lrs[..t]), &var[..t]).unwrap();
                    m.expected_loss()
                }
                Some(mu) => {
                    let mut m = MomentumMoments::new(&p.quad, mu).unwrap();
                    m.run_batched(&lr_grid(&lrs[..t]), &var[..t]).unwrap();
                    m.expected_loss()
                }
            };
            let z = (row.mean - exact) / row.se;
            assert!(
                z.abs() < 4.0,
                "{spec} step {t}: mc {} exact {exact} z {z}",
                row.mean
            );
        }
        // The small early batches leave the loss visibly higher than a constant batch of 16.
        let (a, b) = (&mc.rows[2], &plain.rows[2]);
        assert!(
            a.mean - b.mean > 4.0 * (a.se + b.se),
            "{spec}: {} vs {}",
            a.mean,
            b.mean
        );
    }
}

/// Doubling the batch halves the stationary `E[x²] = η² s² / (1 − (1 − η h)²)` of EM/SGD.
#[test]
fn doubling_batch_halves_the_stationary_variance() {
    let (lr, h, noise, batch) = (0.2, 1.0, 1.0, 16.0);
    let p = NqmParams {
        quad: QuadraticParams {
            dim: 1,
            hmax: h,
            noise,
            batch,
            x0: 0.0,
            ..Default::default()
        },
        diffusion: NqmDiffusion::Additive,
    };
    let steps = 2000;
    let grid = BatchGrid::new(vec![2.0 * batch; steps]).unwrap();
    let mut m = DiagonalMoments::new(&p, Method::Em).unwrap();
    m.run_batched(
        &lr_grid(&vec![lr; steps]),
        &grid.variance_factors(batch, steps),
    )
    .unwrap();
    let s2 = noise * h / (2.0 * batch);
    let stationary = lr * lr * s2 / (1.0 - (1.0 - lr * h) * (1.0 - lr * h));
    assert!((m.second_moment()[0] / stationary - 1.0).abs() < 1e-12);
    // And the ensemble agrees with it.
    let mc = run(
        "nqm:dim=1,x0=0,batch=16",
        Method::Em,
        &vec![lr; steps],
        Some(&grid),
        8192,
    );
    let last = mc.rows.last().unwrap();
    let z = (last.mean - 0.5 * h * stationary) / last.se;
    assert!(
        z.abs() < 4.0,
        "mc {} vs {} (z {z})",
        last.mean,
        0.5 * h * stationary
    );
}

#[test]
fn models_without_batch_and_bad_multipliers_are_errors() {
    let grid = BatchGrid::new(vec![2.0]).unwrap();
    let spec: ModelSpec = "ou".parse().unwrap();
    let ens = Ensemble::builder().paths(32).build().unwrap();
    let err = ens
        .run_spec_batched_observed(
            &spec,
            Method::Em,
            &lr_grid(&[0.1; 3]),
            Some(&grid),
            &mut NoObserver,
        )
        .unwrap_err();
    assert!(matches!(err, EnsembleError::BadBatch { .. }));
    assert!(err.to_string().contains("`ou`"), "{err}");
    let m = lrsde::model::Nqm::new(Default::default()).unwrap();
    let short = ens.run_batched_observed(
        &m,
        lrsde::solver::EulerMaruyama,
        &lr_grid(&[0.1; 3]),
        &[1.0; 2],
        &mut NoObserver,
    );
    assert!(
        short
            .unwrap_err()
            .to_string()
            .contains("2 noise multipliers for 3")
    );
    let zero = ens.run_batched_observed(
        &m,
        lrsde::solver::EulerMaruyama,
        &lr_grid(&[0.1; 3]),
        &[1.0, 0.0, 1.0],
        &mut NoObserver,
    );
    assert!(zero.unwrap_err().to_string().contains("step 2"));
}

/// Under a real ramp, the row kernel (NQM, momentum) and the generic per-path kernel give the
/// same bits, for every thread count.
#[test]
fn row_and_path_kernels_agree_under_a_ramp() {
    use lrsde::ensemble::Parallelism;
    use lrsde::model::{Momentum, MomentumParams, Nqm};
    use lrsde::nqm::NqmParams as ModelNqm;
    use lrsde::solver::{EulerMaruyama, Milstein};
    let lrs: Vec<f64> = (0..60).map(|t| 0.5 - 0.004 * t as f64).collect();
    let noise = ramp().diffusion_factors(16.0, 60);
    let ens = |p| {
        Ensemble::builder()
            .paths(70)
            .seed(3)
            .save_every(7)
            .parallelism(p)
            .build()
            .unwrap()
    };
    let nqm = Nqm::new(ModelNqm::default()).unwrap();
    let mom = Momentum::new(MomentumParams::default()).unwrap();
    let seq = ens(Parallelism::Sequential);
    let fast = seq
        .run_batched_observed(&nqm, EulerMaruyama, &lr_grid(&lrs), &noise, &mut NoObserver)
        .unwrap();
    let slow = seq
        .run_batched_observed(
            &Generic(nqm.clone()),
            EulerMaruyama,
            &lr_grid(&lrs),
            &noise,
            &mut NoObserver,
        )
        .unwrap();
    assert_eq!(fast.rows, slow.rows);
    let threads = ens(Parallelism::Threads(3))
        .run_batched_observed(&nqm, EulerMaruyama, &lr_grid(&lrs), &noise, &mut NoObserver)
        .unwrap();
    assert_eq!(fast.rows, threads.rows);
    let fast = seq
        .run_batched_observed(&mom, Milstein, &lr_grid(&lrs), &noise, &mut NoObserver)
        .unwrap();
    let slow = seq
        .run_batched_observed(
            &Generic(mom.clone()),
            Milstein,
            &lr_grid(&lrs),
            &noise,
            &mut NoObserver,
        )
        .unwrap();
    assert_eq!(fast.rows, slow.rows);
}

/// `simulate --batch-schedule FILE` (a `batch_size` column) and the same ramp as a spec give the
/// same output, and a ramp differs from no batch schedule.
#[cfg(feature = "cli")]
#[test]
fn cli_file_and_spec_forms_agree() {
    let dir = std::env::temp_dir().join(format!("lrsde-batch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ramp.csv");
    let mut csv = String::from("step,batch_size\n");
    for s in 1..=20 {
        csv += &format!("{s},{}\n", if s <= 10 { 4 } else { 16 });
    }
    std::fs::write(&file, csv).unwrap();
    let sim = |batch: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lrsde"));
        cmd.args([
            "simulate",
            "--model",
            "nqm:dim=4,batch=16",
            "--schedule",
            "constant:peak=0.3,steps=20",
            "--paths",
            "64",
            "--save-every",
            "5",
        ]);
        if let Some(b) = batch {
            cmd.args(["--batch-schedule", b]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let from_file = sim(Some(file.to_str().unwrap()));
    let from_spec = sim(Some(
        "constant:peak=4,steps=10; @10 constant:peak=16,steps=10",
    ));
    assert_eq!(from_file, from_spec);
    assert_ne!(from_file, sim(None));
    std::fs::remove_dir_all(&dir).ok();
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
