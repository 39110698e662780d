//! Wall and CPU time of the estimator hot paths, once each (a quick look; the criterion numbers
//! come from `cargo bench --bench estimator`).
//!
//! ```text
//! cargo run --release --example estimator_timing -- [repetitions]
//! ```
//!
//! Fits the `sde` law on the bundled `cosine_24000` + `constant_24000` curves (as
//! `benches/estimator.rs`), prints the fitted parameters, then ranks the bench's 100 WSD
//! candidates and prints the first ranks.

use std::path::Path;
use std::time::Instant;

use lrsde::data::{ReadOptions, TrainingCurve, WarmupPolicy, read_curve};
use lrsde::fit::{FitOptions, Predictor, fit_law};
use lrsde::law::AnyLaw;
use lrsde::rank::{Candidate, RankOptions, rank};

fn curves() -> Result<Vec<TrainingCurve>, Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/MultiPowerLaw/csv_400");
    let opts = ReadOptions::default().with_warmup(WarmupPolicy::Linear { steps: 2160 });
    ["cosine_24000", "constant_24000"]
        .iter()
        .map(|n| Ok(read_curve(&dir.join(format!("{n}.csv")), &opts)?))
        .collect()
}

/// CPU seconds of this process so far (user + system, all threads), from `/proc/self/stat`;
/// NaN where that file does not exist.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which may contain spaces) start at field 3; utime and
    // stime are fields 14 and 15, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    if f.len() == 2 {
        (f[0] + f[1]) / 100.0
    } else {
        f64::NAN
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps: usize = std::env::args().nth(1).map_or(Ok(1), |s| s.parse())?;
    let curves = curves()?;
    let law: AnyLaw = "sde".parse()?;
    let options = FitOptions::default();
    let candidates: Vec<Candidate> = (0..100)
        .map(|i| {
            let decay = 0.05 + 0.5 * f64::from(i) / 99.0;
            format!("wsd:peak=3e-4,steps=24000,warmup=2160,decay={decay}").parse()
        })
        .collect::<Result<_, _>>()?;
    for _ in 0..reps {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        let fitted = fit_law(law.clone(), &curves, &options)?;
        let (fit_s, fit_cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        let r = &fitted.report;
        println!(
            "fit: {fit_s:.3} s wall, {fit_cpu:.2} s CPU, cost {:.9e}, iterations {}, evaluations {}, converged {}",
            r.cost, r.iterations, r.evaluations, r.converged
        );
        println!("  params {:?}", fitted.params_vec());
        let predictor = Predictor::from_fitted(fitted)?;
        let (t1, c1) = (Instant::now(), cpu_seconds());
        let ranking = rank(&predictor, &candidates, &RankOptions::default())?;
        let (rank_s, rank_cpu) = (t1.elapsed().as_secs_f64(), cpu_seconds() - c1);
        println!("rank 100: {rank_s:.3} s wall, {rank_cpu:.2} s CPU");
        for e in ranking.entries.iter().take(3).chain(ranking.entries.last()) {
            println!(
                "  {:>3} {} {:.5} [{:.5}, {:.5}] gap {:+.5} sig {}",
                e.rank, e.label, e.final_loss, e.loss_lo, e.loss_hi, e.gap, e.significant
            );
        }
        let nsig = ranking.entries.iter().filter(|e| e.significant).count();
        println!("  significant: {nsig} of {}", ranking.entries.len());
    }
    Ok(())
}
