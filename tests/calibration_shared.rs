//! Guards of docs/accuracy.md's "Predictive bands and `--law auto`" on the public data in
//! ../shared/data/public (not part of the crate): the 90 % predictive band's coverage of
//! held-out final losses and its width, and `auto` against the best single law. Slow: run with
//! `cargo test --release --test calibration_shared -- --ignored --nocapture`. Passes with a
//! message when the data is absent.

#[path = "../examples/accuracy/bands.rs"]
mod bands;
#[path = "../examples/accuracy/prior.rs"]
mod prior;
#[path = "../examples/accuracy/suites.rs"]
mod suites;

use bands::*;
use lrsde::assess::{Assessment, LawChoice};
use suites::*;

/// Pooled coverage of held-out final losses by the 90 % band over the three tables: the
/// issue's target range.
const POOLED_COVERAGE: (f64, f64) = (0.80, 0.95);
/// Per-table coverage: the target range on every table (measured 83 %, 81 %, 90 %
/// with the disagreement term; the two-curve split was 76 % without it, docs/accuracy.md).
const TABLE_COVERAGE: (f64, f64) = (0.80, 0.95);
/// Median band width at the final step, at most this many times the table's final-loss MAE.
const WIDTH_PER_MAE: f64 = 4.0;
/// The 124M grid's exception: since `auto` decides between `momentum` and `momentum:sat=1` by
/// the full fits (it picks the saturating law on 9 of 12 cells) its MAE fell to 0.0063
/// (0.0152 with `momentum` alone) while the median band width stayed 0.0490 (0.0561 with
/// `momentum` alone), measured 7.8 × MAE (docs/accuracy.md, "The instability regime"); the
/// width is the band's discrepancy term, not the choice of law. No band of one width for
/// every final meets both targets there, even chosen knowing the errors (asserted below).
const GRID_WIDTH_PER_MAE: f64 = 8.5;
/// The target for `auto`'s final-loss MAE on the 124M grid (measured 0.0063).
const GRID_MAE_MAX: f64 = 0.010;
/// MAE differences below the tables' printed precision (0.0001) are ties: `momentum:sat=1`
/// fitted at its no-saturation bound (`eta_c` = 1e4) is `momentum` to ~1e-4 relative in the
/// LRs, so the two laws' MAEs differ in the sixth decimal (two-curve split: 0.0071 both).
const MAE_TIE: f64 = 5e-5;

/// Continued training with the decay-response prior (docs/accuracy.md): `auto`'s mean
/// final-loss error is at most the target (measured 0.0176 over 42 branches) …
const CONTINUED_MAE_MAX: f64 = 0.02;
/// … and its 90 % band covers at least this share of the branches' final losses (measured
/// 36/42 = 86 %; the misses are the 1e-4 forks, whose prior is extrapolated from higher peak LRs).
const CONTINUED_COVERAGE_MIN: f64 = 0.80;

/// The assessments of one law, table by table.
type Tables = Vec<(&'static str, Vec<Assessment>)>;

fn choice(name: &str) -> LawChoice {
    name.parse().unwrap()
}

/// Every public table (MPL split, two-curve split, 124M grid) for one law.
fn tables(root: &std::path::Path, law: &LawChoice) -> Tables {
    let mut out = Vec::new();
    for (title, fit, test) in [
        ("MPL split", &MPL_FIT[..], &MPL_TEST[..]),
        ("two-curve split", &TWO_FIT[..], &TWO_TEST[..]),
    ] {
        let rows = MPL_SIZES
            .iter()
            .map(|&size| mpl_assess(root, law, size, fit, test))
            .collect();
        out.push((title, rows));
    }
    let grid = grid_sets(root, u64::MAX)
        .iter()
        .map(|set| grid_assess(set, law))
        .collect();
    out.push(("124M grid", grid));
    out
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn auto_band_is_calibrated_and_auto_matches_the_best_law() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let auto = tables(&root, &choice("auto"));
    let singles: Vec<(&str, Tables)> = ["sde", "momentum", "momentum:sat=1"]
        .into_iter()
        .map(|n| (n, tables(&root, &choice(n))))
        .collect();
    let (mut covered, mut total) = (0, 0);
    for (t, (title, rows)) in auto.iter().enumerate() {
        let refs: Vec<&Assessment> = rows.iter().collect();
        let s = summarise(&refs);
        println!(
            "{title}: auto MAE {:.6}, τ {:.2}, coverage {}/{}, median width {:.4}",
            s.final_mae, s.tau, s.covered, s.total, s.median_width
        );
        covered += s.covered;
        total += s.total;
        assert!(
            (TABLE_COVERAGE.0..=TABLE_COVERAGE.1).contains(&s.coverage()),
            "{title}: coverage {:.2} outside {TABLE_COVERAGE:?}",
            s.coverage()
        );
        // Every row has two schedule shapes: `auto` scored both laws and carries the term.
        assert!(
            rows.iter()
                .all(|a| a.fitted.predictive.as_ref().unwrap().disagreement.is_some()),
            "{title}: a row without the disagreement term"
        );

        let width_per_mae = if *title == "124M grid" {
            assert!(
                s.final_mae <= GRID_MAE_MAX,
                "{title}: auto MAE {:.4} > {GRID_MAE_MAX}",
                s.final_mae
            );
            // The exception stands only while no band of one width, even one chosen knowing
            // the errors, meets both targets on the grid (docs/accuracy.md: 4.09 × for 80 %).
            let one_width = one_width_reference(&refs, &s, TABLE_COVERAGE.0)
                .unwrap()
                .width_per_mae;
            assert!(
                one_width > WIDTH_PER_MAE,
                "{title}: a band of one width {one_width:.2} × MAE covers {:.0} %: the width \
                 target is within reach, GRID_WIDTH_PER_MAE needs revisiting",
                100.0 * TABLE_COVERAGE.0
            );
            GRID_WIDTH_PER_MAE
        } else {
            WIDTH_PER_MAE
        };
        assert!(
            s.median_width <= width_per_mae * s.final_mae,
            "{title}: median width {:.4} > {width_per_mae} × MAE {:.4}",
            s.median_width,
            s.final_mae
        );
        for (law, single) in &singles {
            let refs: Vec<&Assessment> = single[t].1.iter().collect();
            let o = summarise(&refs);
            println!("  {law}: MAE {:.6}, τ {:.2}", o.final_mae, o.tau);
        }
        let single_summaries: Vec<(&str, BandSummary)> = singles
            .iter()
            .map(|(law, single)| {
                let refs: Vec<&Assessment> = single[t].1.iter().collect();
                (*law, summarise(&refs))
            })
            .collect();
        let best_mae = single_summaries
            .iter()
            .min_by(|a, b| a.1.final_mae.total_cmp(&b.1.final_mae))
            .unwrap();
        assert!(
            s.final_mae <= best_mae.1.final_mae + MAE_TIE,
            "{title}: auto MAE {:.6} > best law {} {:.6}",
            s.final_mae,
            best_mae.0,
            best_mae.1.final_mae
        );
        let best_tau = single_summaries
            .iter()
            .max_by(|a, b| a.1.tau.total_cmp(&b.1.tau))
            .unwrap();
        assert!(
            s.tau >= best_tau.1.tau - 1e-12,
            "{title}: auto τ {:.2} < best law {} τ {:.2}",
            s.tau,
            best_tau.0,
            best_tau.1.tau
        );
    }
    let pooled = covered as f64 / total as f64;
    println!("pooled coverage {covered}/{total} = {pooled:.3}");
    assert!(
        (POOLED_COVERAGE.0..=POOLED_COVERAGE.1).contains(&pooled),
        "pooled coverage {pooled:.3} outside {POOLED_COVERAGE:?}"
    );
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn rank_calls_no_difference_within_the_noise_significant() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    // The 24k schedules of the MPL data, ranked by an `auto` fit of the two-curve split.
    let names = [
        "cosine_24000",
        "constant_24000",
        "wsd_20000_24000",
        "wsdld_20000_24000",
        "wsdcon_3",
        "wsdcon_9",
        "wsdcon_18",
    ];
    let mut counts = [0usize; 3];
    let mut add = |c: (usize, usize, usize)| {
        counts[0] += c.0;
        counts[1] += c.1;
        counts[2] += c.2;
    };
    for size in MPL_SIZES {
        let a = mpl_assess(&root, &choice("auto"), size, &TWO_FIT, &TWO_TEST);
        let curves: Vec<_> = names.iter().map(|n| mpl_curve(&root, size, n)).collect();
        add(check_ranking(&format!("{size}M"), &a.fitted, &curves));
    }
    // Every run of a 124M grid cell (constant, cosine, the WSD cooldowns), ranked by the
    // cell's `auto` fit of its constant and cosine runs: here some observed gaps are within
    // the noise (measured 3 of 70), so the check above is not vacuous.
    for set in grid_sets(&root, u64::MAX) {
        let a = grid_assess(&set, &choice("auto"));
        let curves: Vec<_> = set.fit.iter().chain(&set.test).cloned().collect();
        add(check_ranking(
            &format!("lr {} T {}", set.peak, set.horizon),
            &a.fitted,
            &curves,
        ));
    }
    let [significant, within_noise, wrong_sign] = counts;
    println!(
        "{significant} significant gaps ({wrong_sign} of the other sign observed), \
         {within_noise} observed within the noise"
    );
    assert!(
        within_noise > 0,
        "no observed gap within the noise: the check is vacuous"
    );
    // A gap is significant when the lower end of its 90 % interval is above 0: at most ~5 %
    // of them should be observed the other way.
    assert!(
        wrong_sign as f64 <= 0.05 * significant as f64,
        "{wrong_sign} of {significant} significant gaps observed with the other sign"
    );
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn continued_training_with_the_decay_prior_meets_the_targets() {
    let Some(root) = public_data() else {
        eprintln!("skipping: ../shared/data/public not found");
        return;
    };
    let responses = prior::grid_decay_responses(&grid_sets(&root, u64::MAX));
    let sets = fork_sets(&root);
    assert_eq!(sets.len(), 12, "forks");
    let run = |name: &str| -> Vec<Assessment> {
        sets.iter()
            .map(|set| {
                let p = prior::prior_for_peak(&responses, set.peak);
                assert!(p.is_some(), "{}: no prior", set.label);
                fork_assess(set, &choice(name), p)
            })
            .collect()
    };
    let auto = run("auto");
    let momentum = run("momentum");
    let (a, m) = (
        summarise(&auto.iter().collect::<Vec<_>>()),
        summarise(&momentum.iter().collect::<Vec<_>>()),
    );
    println!(
        "continued: auto MAE {:.4}, coverage {}/{}, median width {:.4}; momentum MAE {:.4}",
        a.final_mae, a.covered, a.total, a.median_width, m.final_mae
    );
    // With one schedule shape `auto` keeps the simplest law (`sde` erred by 0.658 on average,
    // docs/accuracy.md).
    assert!(
        auto.iter()
            .all(|x| x.fitted.selection.as_ref().unwrap().chosen == "momentum")
    );
    // … and, with no other law scored, has no disagreement term.
    assert!(
        auto.iter()
            .all(|x| x.fitted.predictive.as_ref().unwrap().disagreement.is_none())
    );
    assert_eq!(a.total, 42);
    assert!(a.final_mae <= m.final_mae + 1e-12);
    assert!(a.final_mae <= CONTINUED_MAE_MAX, "MAE {:.4}", a.final_mae);
    assert!(
        a.coverage() >= CONTINUED_COVERAGE_MIN,
        "coverage {:.2}",
        a.coverage()
    );
    assert!(
        a.median_width <= WIDTH_PER_MAE * a.final_mae,
        "median width {:.4} > {WIDTH_PER_MAE} × MAE {:.4}",
        a.median_width,
        a.final_mae
    );
}
