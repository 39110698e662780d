//! Guards of docs/accuracy.md's "Model-size sets" on the public data in ../shared/data/public
//! (not part of the crate): fits of curves at two peak LRs — the lr-scheduling model-size sets
//! and the 124M grid refitted across two peaks — on which no law or band was tuned; `auto`'s
//! rule for them (the refits have no veto on the saturating law) was chosen after seeing both,
//! and the grid's other pairs of peaks, added later as that check, showed `auto` undercovering
//! (63 %); the rule now kept (across peaks the saturating law whenever its fit is sound) was
//! chosen after seeing all three. Every law still predicts the lower peak's cooldowns too high;
//! the tests pin that, `auto`'s coverage and MAE, and the ranking. Re-measure with
//! `LRSDE_ACC_SKIP_MPL=1 LRSDE_ACC_SKIP_GRID=1 cargo run --release --example accuracy -- bands
//! sde momentum momentum:sat=1 auto` (and `… -- bands mpl`) and update the section, the user
//! guide and the warnings (`src/fit/mod.rs`, `src/rank/eval.rs`) when one breaks. Run with
//! `cargo test --release --test sizes_shared -- --ignored --nocapture` (~1 min). Passes with a
//! message when the data is absent.

#[path = "../examples/accuracy/bands.rs"]
mod bands;
#[path = "../examples/accuracy/sizes.rs"]
mod sizes;
#[path = "../examples/accuracy/suites.rs"]
mod suites;

use bands::{check_ranking, summarise, summary_line};
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

/// `law` on every cell of `sets`: the assessments, their summary (printed) and their held-out
/// final errors.
fn measure(sets: &[sizes::SizeSet], law: &str) -> (Vec<Assessment>, bands::BandSummary, Vec<f64>) {
    let rows = assessments(sets, law);
    let refs: Vec<&Assessment> = rows.iter().collect();
    let summary = summarise(&refs);
    println!("{}", summary_line(law, &summary));
    let e = errors(&rows);
    (rows, summary, e)
}

/// Held-out final errors (predicted − observed) of every cell.
fn errors(rows: &[Assessment]) -> Vec<f64> {
    rows.iter()
        .flat_map(|a| a.finals.iter().map(|(_, b)| b.predicted - b.observed))
        .collect()
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn on_the_model_size_sets_every_law_predicts_the_cooldowns_too_high_and_autos_band_covers_them() {
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
        let (rows, s, e) = measure(&sets, law);
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
    // Measured: auto (momentum:sat=1 on 26 cells, sde on 2) 0.0267, below momentum 0.0406 and
    // momentum:sat=1 0.0274, above sde 0.0191 (mpl 0.0165, in the example); 28/28 (100 %)
    // covered, 6.0 × its MAE wide: over-covered, never under.
    assert!(auto.final_mae <= mae("momentum") && auto.final_mae <= mae("momentum:sat=1"));
    assert!(
        auto.final_mae > mae("sde"),
        "auto ({:.4}) is no longer worse than sde ({:.4}): update the section",
        auto.final_mae,
        mae("sde")
    );
    assert!(
        auto.coverage() >= 0.80,
        "auto's band covers {:.0} %",
        100.0 * auto.coverage()
    );
    let sde = &summaries[0].1;
    assert!(
        (0.80..=0.95).contains(&sde.coverage()),
        "sde's band covers {:.0} %",
        100.0 * sde.coverage()
    );
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn rank_across_two_peaks_calls_no_significant_gap_the_wrong_way() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let choice: LawChoice = "auto".parse().unwrap();
    // (significant gaps, of them observed the other way) per table.
    let mut counts = Vec::new();
    for sets in [
        sizes::size_sets(&root),
        sizes::grid_cross_peak_sets(&root),
        sizes::grid_other_pair_sets(&root),
    ] {
        let (mut significant, mut wrong_sign) = (0, 0);
        for set in sets {
            let a = sizes::size_assess(&set, &choice);
            let curves: Vec<_> = set.fit.iter().chain(&set.test).cloned().collect();
            let (s, _, w) = check_ranking(&set.label, &a.fitted, &curves);
            significant += s;
            wrong_sign += w;
        }
        println!("{significant} significant gaps, {wrong_sign} observed the other way");
        counts.push((significant, wrong_sign));
    }
    // Measured: the model-size sets 15 significant gaps (7 of 34 observed the other way before
    // the two-peak rule, all cosine against the cooldown run); the grid across two peaks 5 (3
    // of 11 the other way while the likelihood ratio still decided saturation across peaks:
    // lr 5e-4 T 25k kept `momentum` and called every cooldown significantly worse than the
    // cosine); the other pairs 62 of 124 (71 before). None observed the other way; the
    // one-peak tables' guard allows 5 % (tests/calibration_shared.rs).
    let tables = ["model-size sets", "grid across two peaks", "other pairs"];
    for (table, &(significant, wrong_sign)) in tables.iter().zip(&counts) {
        assert!(significant > 0, "{table}");
        assert!(
            wrong_sign as f64 <= 0.05 * significant as f64,
            "{table}: {wrong_sign} of {significant} significant gaps observed the other way"
        );
    }
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
    let mut maes = Vec::new();
    for law in ["sde", "momentum", "momentum:sat=1", "auto"] {
        let (rows, s, e) = measure(&sets, law);
        // Measured: 36 of 36 too high for every law.
        assert!(e.iter().all(|x| *x > 0.0), "{law}: {e:?}");
        assert!(all_warn(&rows), "{law}: a fit does not warn");
        maes.push(s.final_mae);
        if law == "auto" {
            // Measured: 0.0305 (momentum:sat=1 on every cell, the best single law), 35/36
            // (97 %) covered, 6.4 × its MAE wide: over-covered, never under.
            assert!(
                s.coverage() >= 0.80,
                "auto covers {:.0} %",
                100.0 * s.coverage()
            );
            let best = maes.iter().copied().fold(f64::INFINITY, f64::min);
            assert!(
                s.final_mae <= best + 5e-5,
                "auto {:.4}, best {best:.4}",
                s.final_mae
            );
        }
    }
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn on_the_grids_other_pairs_of_peaks_auto_covers_and_errs_as_the_saturating_law() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let sets = sizes::grid_other_pair_sets(&root);
    // Ordered pairs of the peaks 1e-4, 5e-4, 1e-3, 2e-3 at a shared horizon, without (p, 2p).
    assert_eq!(sets.len(), 22, "cells of the grid's other pairs");
    let (rows, auto, _) = measure(&sets, "auto");
    let (_, sat, _) = measure(&sets, "momentum:sat=1");
    assert!(all_warn(&rows), "a fit of auto does not warn");
    // Measured: auto (momentum:sat=1 on every cell) 0.0426, 87/102 (85 %) covered, 3.4 × its
    // MAE wide; momentum:sat=1 alone 0.0426, 73/102 (72 %: auto adds the disagreement with
    // sde). Before the saturating law was kept across peaks whenever its fit is sound, auto
    // erred 0.0636 and covered 64/102 (63 %), which is why it is: these pairs were added as a
    // check of the rule chosen on the two tables above, so no independent check remains.
    assert!(
        (0.80..=0.95).contains(&auto.coverage()),
        "auto covers {:.0} %",
        100.0 * auto.coverage()
    );
    assert!(
        auto.final_mae <= sat.final_mae + 5e-5,
        "momentum:sat=1 {:.4}, auto {:.4}",
        sat.final_mae,
        auto.final_mae
    );
}
