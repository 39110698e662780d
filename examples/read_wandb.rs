//! Read W&B-style JSON exports (as in the public lr-scheduling runs): a constant "stable" run and
//! a cooldown branch forked from it, which the reader splices onto its parent automatically.
//! Then fit the `sde` law on the stable run's prefix and predict the branch's cooldown.
//!
//! `cargo run --release --example read_wandb`

use lrsde::data::{ReadOptions, read_curve};
use lrsde::fit::{FitOptions, fit_law};
use lrsde::law::LossLaw;
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

    // Fit on what the branch shares with the stable run (its constant-LR prefix) …
    let fork = branch
        .lrs
        .iter()
        .rposition(|&lr| lr == branch.lrs[400])
        .unwrap_or(0) as u64
        + 1;
    let keep = stable.steps.iter().take_while(|&&s| s <= fork).count();
    let prefix = lrsde::data::TrainingCurve {
        name: "stable prefix".into(),
        lrs: stable.lrs[..fork as usize].to_vec(),
        steps: stable.steps[..keep].to_vec(),
        losses: stable.losses[..keep].to_vec(),
    };
    let fitted = fit_law("sde".parse()?, &[prefix], &FitOptions::default())?;
    let law = fitted.law()?;
    // … and predict the cooldown the branch actually ran.
    let mut pred = vec![0.0; branch.steps.len()];
    law.predict(&fitted.params_vec(), &branch.lrs, &branch.steps, &mut pred)?;
    let (p, o) = (pred[pred.len() - 1], branch.losses[branch.losses.len() - 1]);
    println!(
        "fork at step {fork}; final val loss observed {o:.4}, predicted {p:.4} ({:+.4})",
        p - o
    );
    println!(
        "(one constant run cannot identify the cooldown response: fit on two shapes for real use)"
    );
    Ok(())
}
