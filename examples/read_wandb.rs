//! Read W&B-style JSON exports (as in the public lr-scheduling runs): a constant "stable" run and
//! a cooldown branch forked from it, which the reader splices onto its parent automatically.
//! Then compare the two at the end of the cooldown.
//!
//! `cargo run --release --example read_wandb`

use lrsde::data::{ReadOptions, read_curve};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lr-scheduling");
    let find = |prefix: &str| -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
            {
                return Ok(path);
            }
        }
        Err(format!("no fixture starting with {prefix}").into())
    };
    let opts = ReadOptions::default();
    let stable = read_curve(&find("stable-124m")?, &opts)?;
    // The branch's history starts at its fork step; `read_curve` finds the parent run named in
    // its `resume_from` and prepends the parent's curve up to the fork.
    let branch = read_curve(&find("ann124-0.2")?, &opts)?;
    println!(
        "stable run: {} updates, {} val points",
        stable.lrs.len(),
        stable.steps.len()
    );
    println!(
        "cooldown branch: {} updates, {} val points",
        branch.lrs.len(),
        branch.steps.len()
    );

    // The branch shares the stable run's LRs up to its fork, then cools down.
    let fork = stable
        .lrs
        .iter()
        .zip(&branch.lrs)
        .take_while(|(a, b)| a == b)
        .count() as u64;
    let at = |c: &lrsde::data::TrainingCurve, step: u64| {
        c.steps.iter().position(|&s| s == step).map(|i| c.losses[i])
    };
    let end = *branch.steps.last().ok_or("empty branch")?;
    println!("fork at update {fork}; cooldown to update {end}");
    if let (Some(cooled), Some(constant)) = (at(&branch, end), at(&stable, end)) {
        println!(
            "val loss at update {end}: constant LR {constant:.4}, after the cooldown {cooled:.4} ({:+.4})",
            cooled - constant
        );
    }
    println!(
        "fit both runs with `lrsde fit --curve STABLE.json --curve BRANCH.json` to predict other cooldowns"
    );
    Ok(())
}
