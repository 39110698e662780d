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
use lrsde::solver::Method;

#[path = "../benches/w_workload.rs"]
mod w_workload;
use w_workload::{DIM, SAVE_EVERY, STEPS, baseline, w_grid};

/// CPU time of the calling thread in seconds (Linux), so single-threaded ratios are less
/// sensitive to other processes on a shared machine; wall clock elsewhere.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? * 1e-9)
}

/// `(wall, cpu)` seconds of `f`; `cpu` is the calling thread's (wall if unavailable).
fn time(f: &mut dyn FnMut()) -> (f64, f64) {
    let (t, c) = (Instant::now(), thread_cpu());
    f();
    let wall = t.elapsed().as_secs_f64();
    (wall, c.zip(thread_cpu()).map_or(wall, |(a, b)| b - a))
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
        let mut cpu = [f64::INFINITY; 2];
        let mut check = (0.0, 0.0);
        for _ in 0..reps {
            let (w, c) = time(&mut || {
                check.0 = *black_box(baseline(paths, black_box(&lrs), milstein))
                    .last()
                    .unwrap();
            });
            (best[0], cpu[0]) = (best[0].min(w), cpu[0].min(c));
            let (w, c) = time(&mut || {
                check.1 = black_box(one.run_spec(spec, method, black_box(&lrs)).unwrap())
                    .last()
                    .unwrap()
                    .mean;
            });
            (best[1], cpu[1]) = (best[1].min(w), cpu[1].min(c));
            best[2] = best[2].min(
                time(&mut || {
                    black_box(two.run_spec(spec, method, black_box(&lrs)).unwrap());
                })
                .0,
            );
        }
        let pds = (paths * DIM * STEPS) as f64;
        println!(
            "{name:8} baseline {:.3}s | engine 1 thread {:.3}s = {:.3}x ({:.2} ns/pds) | \
             cpu time {:.3}s / {:.3}s = {:.3}x | \
             2 threads {:.3}s = {:.3}x, scaling {:.2} | final mean loss baseline {:.6e} engine {:.6e}",
            best[0],
            best[1],
            best[1] / best[0],
            best[1] / pds * 1e9,
            cpu[0],
            cpu[1],
            cpu[1] / cpu[0],
            best[2],
            best[2] / best[0],
            best[1] / best[2],
            check.0,
            check.1,
        );
    }
}
