//! The blocked fast path (models with a `DiagonalForm` under EM / Milstein) against the generic
//! per-path kernel: the same summaries to the bit, divergence reports included.

use lrsde::ensemble::{Ensemble, Parallelism, Summary};
use lrsde::model::{DiffusionDerivative, Momentum, MomentumParams, Nqm};
use lrsde::nqm::{NqmDiffusion, NqmParams, QuadraticParams};
use lrsde::solver::{EulerMaruyama, Milstein, Stepper};

mod kernel_support;
use kernel_support::Generic;

fn assert_same(a: &Summary, b: &Summary, what: &str) {
    assert_eq!(a.divergence, b.divergence, "{what}");
    assert_eq!(a.rows.len(), b.rows.len(), "{what}");
    for (x, y) in a.rows.iter().zip(&b.rows) {
        let bits = |r: &lrsde::ensemble::SummaryRow| {
            [r.mean, r.std, r.se, r.p05, r.p50, r.p95].map(f64::to_bits)
        };
        assert_eq!(bits(x), bits(y), "{what}: step {}", x.step);
        assert_eq!(
            (x.step, x.diverged, x.live),
            (y.step, y.diverged, y.live),
            "{what}"
        );
    }
}

fn compare<M, S>(model: M, stepper: S, what: &str, lrs: &[f64], bound: f64) -> bool
where
    M: DiffusionDerivative + Clone,
    S: Stepper<M> + Stepper<Generic<M>>,
{
    let mut diverged = false;
    for substeps in [1, 3] {
        // 77 paths: two full blocks and a ragged one.
        let ens = Ensemble::builder()
            .paths(77)
            .seed(31)
            .save_every(6)
            .substeps(substeps)
            .divergence_bound(bound)
            .parallelism(Parallelism::Sequential)
            .build()
            .unwrap();
        let fast = ens.run(&model, stepper, &lr_grid(lrs)).unwrap();
        let generic = ens
            .run(&Generic(model.clone()), stepper, &lr_grid(lrs))
            .unwrap();
        assert_same(&fast, &generic, &format!("{what}, {substeps} substeps"));
        diverged |= fast.divergence.is_some();
    }
    diverged
}

#[test]
fn fast_path_equals_generic_kernel() {
    let lrs: Vec<f64> = (0..60).map(|k| 0.9 + 0.02 * k as f64).collect();
    let quad = QuadraticParams {
        dim: 13, // not a multiple of 4: the loss's tail accumulator is covered
        noise: 3.0,
        batch: 2.0,
        ..Default::default()
    };
    let mut diverged = false;
    for diffusion in [NqmDiffusion::Additive, NqmDiffusion::Sqrt1px2] {
        let m = || Nqm::new(NqmParams { quad, diffusion }).unwrap();
        diverged |= compare(
            m(),
            EulerMaruyama,
            &format!("nqm {diffusion:?} em"),
            &lrs,
            40.0,
        );
        diverged |= compare(
            m(),
            Milstein,
            &format!("nqm {diffusion:?} milstein"),
            &lrs,
            40.0,
        );
    }
    let mom = || Momentum::new(MomentumParams { quad, mu: 0.6 }).unwrap();
    diverged |= compare(mom(), EulerMaruyama, "momentum em", &lrs, 40.0);
    diverged |= compare(mom(), Milstein, "momentum milstein", &lrs, 40.0);
    assert!(diverged, "the divergence bookkeeping should be exercised");
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
