//! Runs ONE variant of workload W once, for profilers (`perf record`, `valgrind --tool=cachegrind`),
//! where `w_ab`'s interleaving would mix the variants.
//!
//! ```text
//! cargo run --release --example w_profile -- {engine|baseline} {em|milstein} [paths=4096]
//! ```

use std::hint::black_box;

use lrsde::ensemble::{Ensemble, Parallelism};
use lrsde::model::ModelSpec;
use lrsde::solver::Method;

#[path = "../benches/w_workload.rs"]
mod w_workload;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("engine", String::as_str);
    let milstein = args.get(1).is_some_and(|m| m == "milstein");
    let paths: usize = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(4096);
    let lrs = w_workload::w_grid();
    let last = if what == "baseline" {
        *w_workload::baseline(paths, &lrs, milstein).last().unwrap()
    } else {
        let (spec, method): (ModelSpec, _) = if milstein {
            ("nqm:diffusion=sqrt1px2".parse().unwrap(), Method::Milstein)
        } else {
            ("nqm".parse().unwrap(), Method::Em)
        };
        let ens = Ensemble::builder()
            .paths(paths)
            .seed(1)
            .save_every(w_workload::SAVE_EVERY)
            .parallelism(Parallelism::Sequential)
            .build()
            .unwrap();
        black_box(ens.run_spec(&spec, method, &lrs).unwrap())
            .last()
            .unwrap()
            .mean
    };
    println!("{what} milstein={milstein} paths={paths}: final mean loss {last:.6e}");
}
