//! Interleaved A/B timing of workload W (see `docs/performance.md`): the straightforward loop
//! (per-element `rand_distr::StandardNormal` from a per-path Xoshiro256++, no blocking, same
//! arithmetic) against the engine, alternating runs so both see the same machine load, and
//! reporting minima and ratios.
//!
//! ```text
//! cargo run --release --example w_ab -- [reps=5] [paths=4096]
//! ```

use std::hint::black_box;
use std::time::Instant;

use lrsde::ensemble::{Ensemble, Parallelism};
use lrsde::model::ModelSpec;
use lrsde::rng::path_rng;
use lrsde::solver::Method;
use rand_distr::{Distribution, StandardNormal};

const DIM: usize = 32;
const STEPS: usize = 2000;
const SAVE_EVERY: usize = 10;

fn w_grid() -> Vec<f64> {
    (0..STEPS)
        .map(|k| {
            if k < 20 {
                0.5 * (k + 1) as f64 / 20.0
            } else {
                0.25 * (1.0 + (std::f64::consts::PI * (k - 20) as f64 / 1980.0).cos())
            }
        })
        .collect()
}

/// The same straightforward loop as `benches/simulate.rs`.
fn baseline(paths: usize, lrs: &[f64], milstein: bool) -> Vec<f64> {
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

fn time(f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let reps = args.first().copied().unwrap_or(5);
    let paths = args.get(1).copied().unwrap_or(4096);
    let lrs = w_grid();
    let nqm: ModelSpec = "nqm".parse().unwrap();
    let nqm_w: ModelSpec = "nqm:diffusion=sqrt1px2".parse().unwrap();
    for (name, spec, method) in [
        ("em", &nqm, Method::Em),
        ("milstein", &nqm_w, Method::Milstein),
    ] {
        let ens = |par| {
            Ensemble::builder()
                .paths(paths)
                .seed(1)
                .save_every(SAVE_EVERY)
                .parallelism(par)
                .build()
                .unwrap()
        };
        let (one, two) = (ens(Parallelism::Sequential), ens(Parallelism::Threads(2)));
        let milstein = method == Method::Milstein;
        let mut best = [f64::INFINITY; 3];
        let mut check = (0.0, 0.0);
        for _ in 0..reps {
            best[0] = best[0].min(time(&mut || {
                check.0 = *black_box(baseline(paths, black_box(&lrs), milstein))
                    .last()
                    .unwrap();
            }));
            best[1] = best[1].min(time(&mut || {
                check.1 = black_box(one.run_spec(spec, method, black_box(&lrs)).unwrap())
                    .last()
                    .unwrap()
                    .mean;
            }));
            best[2] = best[2].min(time(&mut || {
                black_box(two.run_spec(spec, method, black_box(&lrs)).unwrap());
            }));
        }
        let pds = (paths * DIM * STEPS) as f64;
        println!(
            "{name:8} baseline {:.3}s | engine 1 thread {:.3}s = {:.3}x ({:.2} ns/pds) | \
             2 threads {:.3}s = {:.3}x, scaling {:.2} | final mean loss baseline {:.6e} engine {:.6e}",
            best[0],
            best[1],
            best[1] / best[0],
            best[1] / pds * 1e9,
            best[2],
            best[2] / best[0],
            best[1] / best[2],
            check.0,
            check.1,
        );
    }
}
