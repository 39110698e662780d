//! Rank learning-rate schedules from Rust: fit a law on two bundled Multi-Power-Law curves
//! (cosine and constant, 400M model) and rank cosine, WSD and constant at 24,000 steps.
//!
//! `cargo run --release --example rank_schedules [-- sde|mpl|momentum|power]` (default `sde`;
//! `power` is instant but blind to annealing, so it ranks constant first).

use std::path::Path;

use lrsde::data::{ReadOptions, read_curve};
use lrsde::fit::{FitOptions, Predictor, fit};
use lrsde::law::{AnyLaw, LossLaw};
use lrsde::rank::{Candidate, RankOptions, rank};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/MultiPowerLaw/csv_400");
    let curves = ["cosine_24000.csv", "constant_24000.csv"]
        .iter()
        .map(|f| read_curve(&dir.join(f), &ReadOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;

    let kind = std::env::args().nth(1).unwrap_or_else(|| "sde".into());
    let mut law: AnyLaw = kind.parse()?;
    law.configure(&curves)?;
    let options = FitOptions {
        starts: law.initial_guesses(&curves),
        ..FitOptions::default()
    };
    // `fit` works for any law; the predictor pairs the fit with the law it was made for.
    let predictor = Predictor::with_law(fit(&law, &curves, &options)?, law)?;

    let candidates = [
        "cosine:peak=3e-4,steps=24000,warmup=2160",
        "wsd:peak=3e-4,steps=24000,warmup=2160,decay=0.2,shape=sqrt",
        "constant:peak=3e-4,steps=24000,warmup=2160",
    ]
    .iter()
    .map(|s| s.parse::<Candidate>())
    .collect::<Result<Vec<_>, _>>()?;
    let ranking = rank(&predictor, &candidates, &RankOptions::default())?;
    println!(
        "law `{}` fitted on {} curves",
        predictor.law().name(),
        curves.len()
    );
    print!("{ranking}");
    Ok(())
}
