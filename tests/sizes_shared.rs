//! Guards of docs/accuracy.md's "Model-size sets" on the public data in ../shared/data/public
//! (not part of the crate): the lr-scheduling runs beside the 124M grid, on which no law, band
//! or rule of `auto` was tuned. The section reports a failure, so these tests pin what it says:
//! when one of them breaks because the estimator got better, re-measure with
//! `cargo run --release --example accuracy -- bands sde momentum momentum:sat=1 auto` and
//! `… -- bands mpl`, and update the section, the user guide and the warning `fit` gives for fit
//! curves of different peak LRs (`src/fit/mod.rs`). Run with
//! `cargo test --release --test sizes_shared -- --ignored --nocapture` (~20 s). Passes with a
//! message when the data is absent.

#[path = "../examples/accuracy/bands.rs"]
mod bands;
#[path = "../examples/accuracy/sizes.rs"]
mod sizes;
#[path = "../examples/accuracy/suites.rs"]
mod suites;

use bands::{ranked_gaps, summarise, summary_line};
use lrsde::assess::{Assessment, LawChoice};
use suites::public_data;

/// Cells of the model-size sets: 10 models with a stable, cosine and cooldown run at 2–3
/// horizons each, and the 210M model at three.
const CELLS: usize = 28;

fn assessments(sets: &[sizes::SizeSet], law: &str) -> Vec<Assessment> {
    let choice: LawChoice = law.parse().unwrap();
    sets.iter()
        .map(|set| sizes::size_assess(set, &choice))
        .collect()
}

/// Every fit of `rows` warns that its curves peak at different LRs.
fn all_warn(rows: &[Assessment]) -> bool {
    rows.iter().all(|a| {
        a.fitted
            .report
            .warnings
            .iter()
            .any(|w| w.contains("peak at different LRs"))
    })
}

/// Held-out final errors (predicted − observed) of every cell.
fn errors(rows: &[Assessment]) -> Vec<f64> {
    rows.iter()
        .flat_map(|a| a.finals.iter().map(|(_, b)| b.predicted - b.observed))
        .collect()
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn every_law_predicts_the_lower_peak_cooldowns_too_high_and_autos_band_misses_them() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let sets = sizes::size_sets(&root);
    assert_eq!(sets.len(), CELLS, "cells of the model-size sets");
    for set in &sets {
        let peaks: Vec<f64> = set
            .fit
            .iter()
            .map(|c| c.lrs.as_slice().iter().copied().fold(0.0, f64::max))
            .collect();
        // The premise of the section: the cosine peaks at twice the stable (and WSD) run's LR.
        assert!(
            (peaks[1] / peaks[0] - 2.0).abs() < 1e-6 && peaks[0] == set.peak,
            "{}: fit peaks {peaks:?}",
            set.label
        );
    }
    let mut summaries = Vec::new();
    for law in ["sde", "momentum", "momentum:sat=1", "auto"] {
        let rows = assessments(&sets, law);
        let refs: Vec<&Assessment> = rows.iter().collect();
        let s = summarise(&refs);
        println!("{}", summary_line(law, &s));
        let e = errors(&rows);
        let high = e.iter().filter(|x| **x > 0.0).count();
        // Measured: 28, 28, 27 and 28 of 28 too high.
        assert!(
            high >= 27,
            "{law}: {high} of {} predicted too high",
            e.len()
        );
        assert!(all_warn(&rows), "{law}: a fit does not warn");
        summaries.push((law, s));
    }
    let mae = |law: &str| {
        summaries
            .iter()
            .find(|(l, _)| *l == law)
            .unwrap()
            .1
            .final_mae
    };
    let auto = &summaries[3].1;
    // Measured: auto 0.0297 against sde 0.0191 (mpl 0.0165, in the example); its band covers
    // 9 of 28 (32 %).
    assert!(
        auto.final_mae > mae("sde"),
        "auto ({:.4}) is no longer worse than sde ({:.4}): update the section",
        auto.final_mae,
        mae("sde")
    );
    assert!(
        auto.coverage() < 0.5,
        "auto's band covers {:.0} %: update the section",
        100.0 * auto.coverage()
    );
    // `sde`'s band covers these sets (measured 25/28, 89 %), though not the grid's below.
    let sde = &summaries[0].1;
    assert!(
        (0.80..=0.95).contains(&sde.coverage()),
        "sde's band covers {:.0} %",
        100.0 * sde.coverage()
    );
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn rank_calls_gaps_significant_that_are_observed_the_other_way() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let choice: LawChoice = "auto".parse().unwrap();
    let (mut cosine_best, mut significant, mut wrong_sign) = (0, 0, 0);
    for set in sizes::size_sets(&root) {
        let a = sizes::size_assess(&set, &choice);
        let curves: Vec<_> = set.fit.iter().chain(&set.test).cloned().collect();
        let (best, gaps) = ranked_gaps(&set.label, &a.fitted, &curves);
        let noise = a.fitted.predictive.as_ref().unwrap().noise_sd;
        cosine_best += usize::from(best == "cosine");
        for g in &gaps {
            println!(
                "{} best {best}: {:<9} gap {:+.4} observed {:+.4} noise {noise:.4} p_best {:.3} {}",
                set.label,
                g.label,
                g.gap,
                g.observed,
                g.p_best,
                if g.significant { "significant" } else { "tie" }
            );
            significant += usize::from(g.significant);
            wrong_sign += usize::from(g.significant && g.observed <= 0.0);
        }
    }
    // Measured: the cosine is predicted best on all 28 cells, 34 of 56 gaps are called
    // significant, and 7 of them (all cosine against the cooldown run) are observed the other
    // way — 21 %, where the other tables allow 5 % (tests/calibration_shared.rs).
    println!(
        "cosine predicted best on {cosine_best} cells; {significant} significant gaps, \
         {wrong_sign} observed the other way"
    );
    assert_eq!(
        cosine_best, CELLS,
        "the cosine is no longer always predicted best"
    );
    assert!(
        wrong_sign as f64 > 0.05 * significant as f64,
        "{wrong_sign} of {significant} significant gaps observed the other way: update the section"
    );
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn on_the_124m_grid_across_two_peaks_every_law_predicts_every_cooldown_too_high() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let sets = sizes::grid_cross_peak_sets(&root);
    // lr 5e-4 with the cosine at 1e-3 (T 25k, 50k), lr 1e-3 with the cosine at 2e-3 (T 15k–50k).
    assert_eq!(sets.len(), 6, "cells of the grid across two peaks");
    for law in ["sde", "momentum", "momentum:sat=1", "auto"] {
        let rows = assessments(&sets, law);
        let refs: Vec<&Assessment> = rows.iter().collect();
        let s = summarise(&refs);
        println!("{}", summary_line(law, &s));
        let e = errors(&rows);
        // Measured: 36 of 36 too high for every law; `auto` 0.0497 with 10/36 (28 %) covered.
        assert!(e.iter().all(|x| *x > 0.0), "{law}: {e:?}");
        assert!(all_warn(&rows), "{law}: a fit does not warn");
        if law == "auto" {
            assert!(
                s.coverage() < 0.5,
                "auto covers {:.0} %",
                100.0 * s.coverage()
            );
            assert!(s.final_mae > 0.03, "auto's MAE {:.4}", s.final_mae);
        }
    }
}
