//! Workload W (`shared/bench/WORKLOAD.md`) and its straightforward reference loop, shared by
//! `benches/simulate.rs`, `examples/w_ab.rs` and `examples/w_profile.rs` (included with
//! `#[path]`, so the ratio is always against the same loop).

#![allow(dead_code, reason = "each includer uses a different subset")]

use lrsde::rng::path_rng;
use rand_distr::{Distribution, StandardNormal};

/// State dimension D.
pub const DIM: usize = 32;
/// SGD updates K.
pub const STEPS: usize = 2000;
/// Updates between saved mean losses.
pub const SAVE_EVERY: usize = 10;

/// η_k: 20 warm-up steps to 0.5, then cosine to 0 at K.
pub fn w_grid() -> lrsde::schedule::LrGrid {
    let lrs = (0..STEPS)
        .map(|k| {
            if k < 20 {
                0.5 * (k + 1) as f64 / 20.0
            } else {
                0.25 * (1.0 + (std::f64::consts::PI * (k - 20) as f64 / 1980.0).cos())
            }
        })
        .collect();
    lrsde::schedule::LrGrid::new(lrs).expect("W's LRs are finite and >= 0")
}

/// The straightforward loop: one path after another, one `rand_distr::StandardNormal` per
/// element from the path's Xoshiro256++, no blocking, same arithmetic; mean loss every
/// `SAVE_EVERY` updates.
pub fn baseline(paths: usize, lrs: &[f64], milstein: bool) -> Vec<f64> {
    let h: Vec<f64> = (0..DIM).map(|i| 1.0 / (i + 1) as f64).collect();
    let s: Vec<f64> = h.iter().map(|hi| (hi / 16.0).sqrt()).collect();
    let mut sums = vec![0.0; STEPS / SAVE_EVERY];
    let mut x = [0.0f64; DIM];
    for p in 0..paths {
        let mut rng = path_rng(1, p as u64);
        x.fill(1.0);
        for (k, &lr) in lrs.iter().enumerate() {
            for i in 0..DIM {
                let z: f64 = StandardNormal.sample(&mut rng);
                let b = lr * s[i];
                x[i] += if milstein {
                    -(lr * h[i]) * x[i]
                        + b * (1.0 + x[i] * x[i]).sqrt() * z
                        + 0.5 * b * b * x[i] * (z * z - 1.0)
                } else {
                    -(lr * h[i]) * x[i] + b * z
                };
            }
            if (k + 1) % SAVE_EVERY == 0 {
                let loss: f64 = 0.5 * h.iter().zip(&x).map(|(hi, xi)| hi * xi * xi).sum::<f64>();
                sums[k / SAVE_EVERY] += loss;
            }
        }
    }
    sums.iter().map(|s| s / paths as f64).collect()
}
