//! Continued-training accuracy on real cooldown branches (Hägele et al., lr-scheduling data):
//! fit a law on a constant-LR run up to the fork, predict each cooldown branch after the fork,
//! with and without level correction. Needs `../shared/data/public/lr-scheduling` (not part of
//! a clone); run with
//! `cargo test --release --test rank_continued_shared -- --ignored --nocapture`
//! to print the markdown table reported in `docs/accuracy.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lrsde::data::{ReadOptions, TrainingCurve, read_curve};
use lrsde::fit::{FitOptions, Predictor, UncertaintyMethod, fit};
use lrsde::law::{AnyLaw, LossLaw};
use lrsde::rank::{ContinueOptions, LevelCorrection, continue_from};
use lrsde::schedule::{Schedule, Tabulated};

#[path = "../examples/accuracy/suites.rs"]
mod suites;

fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/public")
}

fn fit_prefix(kind: &str, prefix: &TrainingCurve) -> Predictor {
    let mut law: AnyLaw = kind.parse().unwrap();
    let curves = std::slice::from_ref(prefix);
    law.configure(curves).unwrap();
    let opts = FitOptions {
        // LRSDE_CONTINUED_STARTS=N keeps the law's best N guesses (the Monte Carlo laws take
        // tens of seconds per start); default all.
        starts: law
            .initial_guesses(curves)
            .into_iter()
            .take(
                std::env::var("LRSDE_CONTINUED_STARTS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX),
            )
            .collect(),
        // Only the central prediction is scored here; a few draws keep the bands cheap.
        uncertainty: UncertaintyMethod::Laplace { draws: 20 },
        ..FitOptions::default()
    };
    let fitted = fit(&law, curves, &opts).unwrap();
    Predictor::with_law(fitted, law).unwrap()
}

/// `(final-loss error pred − obs, MAE after the fork)`.
fn errors(pred: &[f64], obs: &[f64]) -> (f64, f64) {
    let n = obs.len();
    let mae = pred
        .iter()
        .zip(obs)
        .map(|(p, o)| (p - o).abs())
        .sum::<f64>()
        / n as f64;
    (pred[n - 1] - obs[n - 1], mae)
}

#[derive(Default)]
struct Acc {
    n: usize,
    final_none: f64,
    final_corr: f64,
    mae_none: f64,
    mae_corr: f64,
    final_corr1: f64,
    final_corr10: f64,
}

#[test]
#[ignore = "needs ../shared/data/public/lr-scheduling (not in a clone of the repository)"]
fn continued_training_on_124m_cooldown_branches() {
    let root = data_root();
    if !root.join("lr-scheduling/data").is_dir() {
        eprintln!("skipping: {} not found", root.display());
        return;
    }
    let all = suites::cooldown_branches(&root);
    assert!(all.len() >= 30, "found only {} branches", all.len());
    // One fit per (fork step, parent run) and law, shared by that fork's branches; earliest
    // forks first, so a run stopped early has covered whole fork steps across every parent.
    let mut groups: BTreeMap<(u64, PathBuf), Vec<&suites::CooldownBranch>> = BTreeMap::new();
    for b in &all {
        groups
            .entry((b.fork, b.parent.clone()))
            .or_default()
            .push(b);
    }
    // LRSDE_CONTINUED_FORKS=10000,20000 keeps only those fork steps: the Monte Carlo laws take
    // minutes per fork, so a documented subset of forks is sometimes all a session can afford.
    if let Ok(forks) = std::env::var("LRSDE_CONTINUED_FORKS") {
        let keep: Vec<u64> = forks
            .split(',')
            .map(|f| f.trim().parse().expect("LRSDE_CONTINUED_FORKS: fork steps"))
            .collect();
        groups.retain(|(fork, _), _| keep.contains(fork));
    }
    // `mpl` takes minutes per fit on 40k-step prefixes and cannot identify its annealing
    // parameters from a constant-LR run (errors of 1.5–2.3 nats on the 1e-4 runs); add it with
    // LRSDE_CONTINUED_LAWS=sde,momentum,mpl.
    let laws_env = std::env::var("LRSDE_CONTINUED_LAWS").unwrap_or_else(|_| "sde,momentum".into());
    let laws: Vec<&str> = laws_env.split(',').map(str::trim).collect();
    let mut acc: BTreeMap<&str, Acc> = BTreeMap::new();
    println!(
        "| branch | fork | law | final obs | err (raw) | err (corrected) | MAE (raw) | MAE (corrected) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for ((fork, parent), group) in &groups {
        let stable = read_curve(parent, &ReadOptions::default()).unwrap();
        let keep = stable.steps.iter().take_while(|&&s| s <= *fork).count();
        let prefix = TrainingCurve {
            name: stable.name.clone(),
            lrs: stable.lrs.prefix(*fork as usize),
            steps: stable.steps[..keep].to_vec(),
            losses: stable.losses[..keep].to_vec(),
            batch: None,
        };
        for &kind in &laws {
            let t0 = std::time::Instant::now();
            let predictor = fit_prefix(kind, &prefix);
            eprintln!(
                "{} fork {fork} {kind}: fit {:.1}s",
                stable.name,
                t0.elapsed().as_secs_f64()
            );
            for b in group {
                let curve = read_curve(&b.path, &ReadOptions::default()).unwrap();
                let after: Vec<usize> = (0..curve.steps.len())
                    .filter(|&j| curve.steps[j] > *fork)
                    .collect();
                let steps: Vec<u64> = after.iter().map(|&j| curve.steps[j]).collect();
                let obs: Vec<f64> = after.iter().map(|&j| curve.losses[j]).collect();
                let new = Schedule::Tabulated(
                    Tabulated::new(curve.lrs[*fork as usize..].to_vec()).unwrap(),
                );
                let predict = |lc| {
                    let opts = ContinueOptions {
                        level_correction: lc,
                        steps: Some(steps.clone()),
                        ..ContinueOptions::default()
                    };
                    continue_from(&predictor, &prefix, *fork, &new, &opts).unwrap()
                };
                let raw = predict(LevelCorrection::None);
                let cor = predict(LevelCorrection::MeanResidual { points: 5 });
                let c1 = predict(LevelCorrection::MeanResidual { points: 1 });
                let c10 = predict(LevelCorrection::MeanResidual { points: 10 });
                let (f0, m0) = errors(&raw.band.loss, &obs);
                let (f1, m1) = errors(&cor.band.loss, &obs);
                let a = acc.entry(kind).or_default();
                a.n += 1;
                a.final_none += f0.abs();
                a.final_corr += f1.abs();
                a.mae_none += m0;
                a.mae_corr += m1;
                a.final_corr1 += errors(&c1.band.loss, &obs).0.abs();
                a.final_corr10 += errors(&c10.band.loss, &obs).0.abs();
                println!(
                    "| {} | {fork} | {kind} | {:.4} | {f0:+.4} | {f1:+.4} | {m0:.4} | {m1:.4} |",
                    b.label,
                    obs[obs.len() - 1]
                );
            }
        }
    }
    println!();
    println!(
        "| law | branches | mean abs final-loss error, raw | corrected (last 5 points) | corrected (1) | corrected (10) | mean MAE after fork, raw | corrected |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (law, a) in &acc {
        let n = a.n as f64;
        println!(
            "| {law} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
            a.n,
            a.final_none / n,
            a.final_corr / n,
            a.final_corr1 / n,
            a.final_corr10 / n,
            a.mae_none / n,
            a.mae_corr / n
        );
    }
    // Bounds a little above what the current fitter measures on 42 branches: sde 0.455 / 0.318,
    // momentum 0.132 / 0.056. A constant-LR prefix alone does not identify the cooldown
    // response; the sde law's fit of it is the weaker one (an earlier fitter reached 0.118 /
    // 0.053 for sde, so better is possible: see docs/accuracy.md). These guard regressions.
    for (law, max_final, max_mae) in [("sde", 0.5, 0.35), ("momentum", 0.145, 0.065)] {
        let Some(a) = acc.get(law) else { continue };
        let n = a.n as f64;
        assert!(a.n >= 30, "{law}: only {} branches", a.n);
        assert!(
            a.final_none / n < max_final,
            "{law}: mean final error {}",
            a.final_none / n
        );
        assert!(
            a.mae_none / n < max_mae,
            "{law}: mean MAE {}",
            a.mae_none / n
        );
        // The correction is a small shift when the fit saw the run itself.
        assert!(
            (a.final_corr - a.final_none).abs() / n < 0.01,
            "{law}: correction moved the error"
        );
    }
}
