//! Simulate SGD on the reference noisy quadratic under cosine, WSD and constant schedules and
//! print the predicted final losses, Monte Carlo next to the exact moment recursion.
//!
//! `cargo run --release --example compare_schedules`

use lrsde::ensemble::Ensemble;
use lrsde::model::ModelSpec;
use lrsde::nqm::{NqmParams, expected_loss_at};
use lrsde::schedule::ScheduleSpec;
use lrsde::solver::Method;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model: ModelSpec = "nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1".parse()?;
    let ensemble = Ensemble::builder()
        .paths(4096)
        .seed(1)
        .save_every(500)
        .build()?;
    println!(
        "{:<42} {:>12} {:>10} {:>12}",
        "schedule", "MC final", "± s.e.", "exact"
    );
    for spec in [
        "cosine:peak=0.5,steps=2000,warmup=20",
        "wsd:peak=0.5,steps=2000,warmup=20,decay=0.2",
        "constant:peak=0.5,steps=2000,warmup=20",
    ] {
        let grid = spec.parse::<ScheduleSpec>()?.grid();
        let summary = ensemble.run_spec(&model, Method::Em, &grid)?;
        let last = summary.last().ok_or("empty summary")?;
        let exact = expected_loss_at(
            &NqmParams::default(),
            Method::Em,
            &grid,
            &[grid.len() as u64],
        )?;
        println!(
            "{spec:<42} {:>12.6e} {:>10.1e} {:>12.6e}",
            last.mean, last.se, exact[0]
        );
    }
    Ok(())
}
