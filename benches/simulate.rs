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
use lrsde::solver::Method;

#[path = "w_workload.rs"]
mod w_workload;
use w_workload::{DIM, SAVE_EVERY, STEPS, baseline, w_grid};

fn w_paths() -> usize {
    std::env::var("LRSDE_W_PATHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&m| m > 0)
        .unwrap_or(4096)
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
