//! Workload W (see `shared/bench/WORKLOAD.md`): the default NQM (D = 32), M = 4096 paths,
//! K = 2000 updates of the warm-up + cosine schedule, loss summarised every 10 updates.
//!
//! Measures the engine with EM and Milstein on one thread and on two threads, against a
//! straightforward loop (per-element `StandardNormal` from a per-path Xoshiro256++, no chunking,
//! same arithmetic, mean loss at the same save points) in the same run.
//!
//! `LRSDE_W_PATHS=512 cargo bench --bench simulate` runs a smaller ensemble for a quick look.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lrsde::ensemble::{Ensemble, Parallelism};
use lrsde::model::ModelSpec;
use lrsde::rng::path_rng;
use lrsde::solver::Method;
use rand_distr::{Distribution, StandardNormal};

const DIM: usize = 32;
const STEPS: usize = 2000;
const SAVE_EVERY: usize = 10;

fn w_paths() -> usize {
    std::env::var("LRSDE_W_PATHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&m| m > 0)
        .unwrap_or(4096)
}

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

/// The straightforward loop: one path after another, one `StandardNormal` per element.
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

fn workload_w(c: &mut Criterion) {
    let paths = w_paths();
    let lrs = w_grid();
    let nqm: ModelSpec = "nqm".parse().unwrap();
    let nqm_w: ModelSpec = "nqm:diffusion=sqrt1px2".parse().unwrap();

    let mut g = c.benchmark_group("workload_w");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements((paths * DIM * STEPS) as u64));

    for (name, spec, method) in [
        ("em", &nqm, Method::Em),
        ("milstein", &nqm_w, Method::Milstein),
    ] {
        for (label, par) in [
            ("1thread", Parallelism::Sequential),
            ("2threads", Parallelism::Threads(2)),
        ] {
            let ens = Ensemble::builder()
                .paths(paths)
                .seed(1)
                .save_every(SAVE_EVERY)
                .parallelism(par)
                .build()
                .unwrap();
            g.bench_function(format!("{name}/{label}"), |b| {
                b.iter(|| black_box(ens.run_spec(spec, method, black_box(&lrs)).unwrap()))
            });
        }
        let milstein = method == Method::Milstein;
        g.bench_function(format!("{name}/baseline_loop"), |b| {
            b.iter(|| black_box(baseline(paths, black_box(&lrs), milstein)))
        });
    }
    g.finish();
}

criterion_group!(benches, workload_w);
criterion_main!(benches);
