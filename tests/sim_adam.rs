//! The `adam` model against a direct discrete Adam on the noisy quadratic.
//!
//! The model's Euler–Maruyama step at `dt = 1` is Adam with β₁ momentum and bias correction.
//! The oracle below is textbook Adam written from the formula, on independent random numbers;
//! the two mean losses must agree within a few standard errors, and Adam without momentum must
//! not.

use lrsde::ensemble::Ensemble;
use lrsde::model::{Adam, AdamParams};
use lrsde::nqm::QuadraticParams;
use lrsde::rng::PathNormals;
use lrsde::solver::EulerMaruyama;

const LR: f64 = 0.02;
const STEPS: usize = 600;
const PATHS: usize = 4000;
const SAVE: [usize; 4] = [5, 50, 200, 600];

fn quad() -> QuadraticParams {
    QuadraticParams {
        dim: 4,
        hmax: 1.0,
        power: 1.0,
        noise: 0.5,
        batch: 1.0,
        x0: 1.0,
    }
}

/// Mean and standard error of the loss of textbook Adam at the save points.
fn discrete_adam(beta1: f64, beta2: f64, eps: f64, seed: u64) -> Vec<(f64, f64)> {
    let q = quad();
    let d = q.dim;
    let h: Vec<f64> = (0..d).map(|i| q.curvature(i)).collect();
    let s: Vec<f64> = (0..d).map(|i| q.noise_scale(i)).collect();
    let mut sums = vec![(0.0, 0.0); SAVE.len()];
    for p in 0..PATHS {
        let mut rng = PathNormals::new(seed, p as u64);
        let (mut x, mut m, mut v) = (vec![q.x0; d], vec![0.0; d], vec![0.0; d]);
        let mut k = 0;
        for t in 1..=STEPS {
            for i in 0..d {
                let g = h[i] * x[i] + s[i] * rng.standard_normal();
                m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
                let mhat = m[i] / (1.0 - beta1.powi(t as i32));
                let vhat = v[i] / (1.0 - beta2.powi(t as i32));
                x[i] -= LR * mhat / (vhat.sqrt() + eps);
            }
            if k < SAVE.len() && t == SAVE[k] {
                let l: f64 = 0.5 * (0..d).map(|i| h[i] * x[i] * x[i]).sum::<f64>();
                sums[k].0 += l;
                sums[k].1 += l * l;
                k += 1;
            }
        }
    }
    let n = PATHS as f64;
    sums.into_iter()
        .map(|(a, b)| {
            let mean = a / n;
            let var = (b / n - mean * mean) * n / (n - 1.0);
            (mean, (var / n).sqrt())
        })
        .collect()
}

fn model_adam(beta1: f64, beta2: f64, eps: f64) -> Vec<(f64, f64)> {
    let model = Adam::new(AdamParams {
        quad: quad(),
        beta1,
        beta2,
        eps,
    })
    .unwrap();
    let ens = Ensemble::builder()
        .paths(PATHS)
        .seed(7)
        .save_every(1)
        .build()
        .unwrap();
    let summary = ens
        .run(&model, EulerMaruyama, &lr_grid(&[LR; STEPS]))
        .unwrap();
    SAVE.iter()
        .map(|&t| {
            let r = &summary.rows[t - 1];
            assert_eq!(r.step, t as u64);
            (r.mean, r.se)
        })
        .collect()
}

/// `|a − b|` in combined standard errors.
fn z_scores(a: &[(f64, f64)], b: &[(f64, f64)]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.0 - y.0).abs() / (x.1 * x.1 + y.1 * y.1).sqrt())
        .collect()
}

#[test]
fn model_matches_discrete_adam_within_a_few_se() {
    for (beta1, beta2) in [(0.9, 0.99), (0.9, 0.999), (0.0, 0.99)] {
        let oracle = discrete_adam(beta1, beta2, 1e-8, 1234);
        let sim = model_adam(beta1, beta2, 1e-8);
        let z = z_scores(&sim, &oracle);
        assert!(
            z.iter().all(|&z| z < 4.0),
            "beta1={beta1}, beta2={beta2}: z = {z:?}\nsim {sim:?}\noracle {oracle:?}"
        );
    }
}

#[test]
fn momentum_matters_so_the_comparison_can_fail() {
    // The same oracle against the model without momentum: far outside the tolerance.
    let oracle = discrete_adam(0.9, 0.99, 1e-8, 1234);
    let sim = model_adam(0.0, 0.99, 1e-8);
    let z = z_scores(&sim, &oracle);
    assert!(z.iter().any(|&z| z > 10.0), "z = {z:?}");
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
