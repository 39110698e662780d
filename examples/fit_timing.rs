//! Times `fit_law` on the bundled Multi-Power-Law 400M curves and scores the held-out schedules.
//!
//! ```text
//! cargo run --release --example fit_timing -- [law ...] [--starts N] [--iters N] [--polish N]
//! ```
//!
//! Fits each law (default: `sde`) on `cosine_24000` + `constant_24000`, then predicts
//! `wsd_20000_24000`, `wsdcon_9` and `wsdld_20000_24000`: prints cost, convergence, fit time,
//! the final-loss error and the curve MAE of each held-out schedule.

use std::path::Path;
use std::time::Instant;

use lrsde::data::{ReadOptions, TrainingCurve, read_curve};
use lrsde::fit::{FitOptions, fit_law};
use lrsde::law::AnyLaw;

fn load(name: &str) -> Result<TrainingCurve, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/MultiPowerLaw/csv_400")
        .join(format!("{name}.csv"));
    Ok(read_curve(&path, &ReadOptions::default())?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut laws = Vec::new();
    let mut opts = FitOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |flag: &str| -> Result<u64, Box<dyn std::error::Error>> {
            Ok(args
                .next()
                .ok_or(format!("{flag} needs a value"))?
                .parse()?)
        };
        match a.as_str() {
            "--starts" => opts.max_law_starts = num("--starts")? as usize,
            "--random" => opts.law_random_starts = num("--random")? as usize,
            "--iters" => opts.max_iters = num("--iters")?,
            "--polish" => opts.polish_max_iters = num("--polish")?,
            law => laws.push(law.to_string()),
        }
    }
    if laws.is_empty() {
        laws.push("sde".into());
    }
    let train = vec![load("cosine_24000")?, load("constant_24000")?];
    let held = ["wsd_20000_24000", "wsdcon_9", "wsdld_20000_24000"]
        .into_iter()
        .map(load)
        .collect::<Result<Vec<_>, _>>()?;
    for name in laws {
        let law: AnyLaw = name.parse()?;
        let t0 = Instant::now();
        let fitted = fit_law(law, &train, &opts)?;
        let secs = t0.elapsed().as_secs_f64();
        let r = &fitted.report;
        println!(
            "{name}: cost {:.6e} converged {} time {secs:.3} s, evals {}, iters {}, best start {} \
             of {}, train rmse_log {:.5} mae {:.5}",
            r.cost,
            r.converged,
            r.evaluations,
            r.iterations,
            r.best_start,
            r.starts.len(),
            r.rmse_log,
            r.mae
        );
        for s in &r.starts {
            println!(
                "    start cost {:.6e} iters {} evals {} converged {} ({})",
                s.cost, s.iterations, s.evaluations, s.converged, s.termination
            );
            if std::env::var_os("FIT_TIMING_PARAMS").is_some() {
                println!("      from {:?}\n      to   {:?}", s.initial, s.params);
            }
        }
        let predictor = lrsde::fit::Predictor::from_fitted(fitted)?;
        for c in &held {
            let t1 = Instant::now();
            let band = predictor.predict_band(&c.lrs, &c.steps)?;
            let pt = t1.elapsed().as_secs_f64();
            let n = c.losses.len();
            let mae = band
                .loss
                .iter()
                .zip(&c.losses)
                .map(|(p, o)| (p - o).abs())
                .sum::<f64>()
                / n as f64;
            let last = (band.loss[n - 1], c.losses[n - 1]);
            println!(
                "    {}: final pred {:.4} obs {:.4} err {:+.4} ({:+.3} %), MAE {:.4}, band [{:.4}, \
                 {:.4}], predict_band {pt:.3} s",
                c.name,
                last.0,
                last.1,
                last.0 - last.1,
                100.0 * (last.0 - last.1) / last.1,
                mae,
                band.lo[n - 1],
                band.hi[n - 1]
            );
        }
    }
    Ok(())
}
