//! Prints the accuracy tables of docs/accuracy.md: every law fitted on public training curves
//! and scored on held-out schedules. Needs ../shared/data/public (not part of the crate).
//!
//! ```sh
//! cargo run --release --example accuracy               # all laws
//! cargo run --release --example accuracy -- sde mpl    # some laws
//! LRSDE_ACC_STARTS=3 cargo run --release --example accuracy -- mpl   # 3 law starts per fit
//! LRSDE_ACC_SKIP_GRID=1 cargo run --release --example accuracy      # MPL tables only
//! LRSDE_ACC_SKIP_MPL=1 cargo run --release --example accuracy       # lr-scheduling grid only
//! LRSDE_ACC_GRID_MAX_T=15000 cargo run --release --example accuracy # grid horizons ≤ 15000
//! LRSDE_ACC_SKIP_SIZES=1 cargo run --release --example accuracy     # without the two-peak tables
//! LRSDE_ACC_HALF_PEAK=1 … -- bands  # the grid's two-peak cells fitted at 2p only (experiment)
//! cargo run --release --example accuracy -- bands                   # predictive bands, auto
//! cargo run --release --example accuracy -- bands sde momentum auto # the same, chosen laws
//! LRSDE_ACC_CONTINUED=1 cargo run --release --example accuracy -- bands # + continued training
//! LRSDE_ACC_DISAGREE_K=1,0.7071 cargo run --release --example accuracy -- bands sde momentum
//!     # + momentum's band widened by fixed multiples of its disagreement with sde
//! cargo run --release --example accuracy -- prior                   # the decay-response prior's data
//! cargo run --release --example accuracy -- lambda                  # momentum's λ profiled per row
//! LRSDE_ACC_LAMBDA_LAW=momentum:sat=1 LRSDE_ACC_LAMBDAS=0,0.9,0.99,0.999 … -- lambda  # another law, λ grid
//! cargo run --release --example accuracy -- curves momentum         # MAE vs number of fit curves
//!     # (fit sets of 2 + k MPL curves, k ≤ LRSDE_ACC_MAX_EXTRA, default 5; `curves auto`: with
//!     # the band's coverage, LRSDE_ACC_LOCO=1 adds leave-one-curve-out errors to its discrepancy)
//! cargo run --release --example accuracy -- mpl-published mpl  # + the MPL authors' own fit (MPL split)
//! cargo run --release --example accuracy -- momentum stack:momentum+sde stack:momentum+sde@seg
//!     # stacked predictions (equal weights / weight from the refit errors; final losses only)
//! Experiments on the fit (docs/accuracy.md, "Toward 0.005 on the MPL tables"):
//! LRSDE_ACC_EARLY_W=0.1:0 (weight of points before 10 % of the run), LRSDE_ACC_RAMP_W=1
//! (weights (step / last)^1), LRSDE_ACC_HUBER=1e-2, LRSDE_ACC_FIT_ALL=1 (held-out MPL curves
//! inside the fit: a bound), LRSDE_ACC_STEP_LR=1 (wsdcon LR stepped at 8000),
//! LRSDE_ACC_CURVE_W=1 (every curve weighs the same: `fit --weigh curves`); LRSDE_ACC_VERBOSE=1
//! prints every held-out final error.
//! ```

mod bands;
mod curves_needed;
mod lambda;
mod prior;
mod sizes;
mod suites;

use lrsde::law::AnyLaw;
use suites::*;

fn main() {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public not found: this example evaluates on the public data set");
        std::process::exit(2);
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("prior") {
        return prior::print_responses(&root);
    }
    if args.first().map(String::as_str) == Some("lambda") {
        return lambda::print_profiles(&root);
    }
    if args.first().map(String::as_str) == Some("curves") {
        return curves_needed::print_curves_needed(&root, &args[1..]);
    }
    if args.first().map(String::as_str) == Some("bands") {
        return bands_tables(&root, &args[1..]);
    }
    let names: Vec<&str> = if args.is_empty() {
        vec![
            "sde",
            "mpl",
            "momentum",
            "power",
            "sim:model=nqm",
            "sim:model=momentum",
            "sim:model=adam",
            "sim:model=lossnoise",
        ]
    } else {
        args.iter().map(String::as_str).collect()
    };
    // `mpl-published`: the MPL authors' own parameters, on the MPL split only (fitted there).
    let published = names.contains(&"mpl-published");
    let rows: Vec<(&str, Row)> = names
        .iter()
        .filter(|n| **n != "mpl-published")
        .map(|n| (*n, n.parse().expect("law name")))
        .collect();
    let verbose = std::env::var_os("LRSDE_ACC_VERBOSE").is_some();
    let show = |label: String, e: &lrsde::assess::metrics::Evaluation| {
        println!("{}", summary_row(&label, e));
        if verbose {
            println!("{}", final_errors(e));
        }
    };

    let mpl_tables = std::env::var_os("LRSDE_ACC_SKIP_MPL").is_none();
    for (title, fit, test) in [
        (
            "MPL split: fit cosine_24000 + constant_24000 + wsdcon_9",
            &MPL_FIT[..],
            &MPL_TEST[..],
        ),
        (
            "Two-curve split: fit cosine_24000 + constant_24000",
            &TWO_FIT[..],
            &TWO_TEST[..],
        ),
    ]
    .into_iter()
    .filter(|_| mpl_tables)
    {
        println!("\n### {title}\n\n{SUMMARY_HEADER}");
        let mut means = Vec::new();
        if published && fit == &MPL_FIT[..] {
            let evals: Vec<_> = MPL_SIZES
                .iter()
                .map(|&size| {
                    let stepped = std::env::var_os("LRSDE_ACC_STEP_LR").is_some();
                    mpl_published_suite(&root, size, stepped)
                })
                .collect();
            for (size, e) in MPL_SIZES.iter().zip(&evals) {
                show(format!("{size}M"), e);
            }
            means.push(("mpl-published", evals));
        }
        for (name, row) in &rows {
            let evals: Vec<_> = MPL_SIZES
                .iter()
                .map(|&size| {
                    let names = fit_set(fit, test);
                    let curves: Vec<_> = names.iter().map(|n| mpl_curve(&root, size, n)).collect();
                    row.eval(|law| mpl_suite(&root, law, size, &names, test), &curves)
                })
                .collect();
            for (size, e) in MPL_SIZES.iter().zip(&evals) {
                show(format!("{size}M"), e);
            }
            means.push((name, evals));
        }
        print_means(&means);
    }
    if std::env::var_os("LRSDE_ACC_SKIP_GRID").is_none() {
        grid_table(&root, &rows, &show);
    }
    if std::env::var_os("LRSDE_ACC_SKIP_SIZES").is_none() {
        for (title, sets) in two_peak_tables(&root) {
            println!(
                "\n### {title}: fit stable + cosine, predict the cooldowns\n\n{SUMMARY_HEADER}"
            );
            let means = law_rows(
                &rows,
                &sets,
                |set| (set.label.clone(), &set.fit),
                sizes::size_eval,
                &show,
            );
            print_means(&means);
        }
    }
}

/// The tables whose fit curves peak at two LRs (docs/accuracy.md, "Model-size sets"): the
/// model-size sets and the 124M grid across two peaks.
fn two_peak_tables(root: &std::path::Path) -> Vec<(&'static str, Vec<sizes::SizeSet>)> {
    vec![
        ("lr-scheduling model-size sets", sizes::size_sets(root)),
        (
            "lr-scheduling 124M grid across two peaks",
            sizes::grid_cross_peak_sets(root),
        ),
        (
            "lr-scheduling 124M grid, other pairs of peaks",
            sizes::grid_other_pair_sets(root),
        ),
    ]
}

/// The 124M grid's table: every row of `rows` on every cell, then the means.
fn grid_table(
    root: &std::path::Path,
    rows: &[(&str, Row)],
    show: &impl Fn(String, &lrsde::assess::metrics::Evaluation),
) {
    println!(
        "\n### lr-scheduling 124M: fit constant + cosine, predict WSD cooldowns\n\n{SUMMARY_HEADER}"
    );
    let max_t = std::env::var("LRSDE_ACC_GRID_MAX_T")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let sets = grid_sets(root, max_t);
    let means = law_rows(
        rows,
        &sets,
        |set| (format!("lr {} T {}", set.peak, set.horizon), &set.fit),
        |set, law| grid_cell(set, law).eval,
        show,
    );
    print_means(&means);
}

/// Every row of `rows` on every one of `sets` (`cell`: its label and fit curves, `eval`: one
/// law's evaluation), each shown as it comes; per row, its evaluations (for [`print_means`]).
fn law_rows<'a, S>(
    rows: &'a [(&'a str, Row)],
    sets: &[S],
    cell: impl Fn(&S) -> (String, &Vec<lrsde::data::TrainingCurve>),
    eval: impl Fn(&S, &AnyLaw) -> lrsde::assess::metrics::Evaluation,
    show: &impl Fn(String, &lrsde::assess::metrics::Evaluation),
) -> Vec<(&'a str, Vec<lrsde::assess::metrics::Evaluation>)> {
    rows.iter()
        .map(|(name, row)| {
            let evals = sets
                .iter()
                .map(|set| {
                    let (label, fit) = cell(set);
                    let e = row.eval(|law| eval(set, law), fit);
                    show(label, &e);
                    e
                })
                .collect();
            (*name, evals)
        })
        .collect()
}

/// The fit curves, or with `LRSDE_ACC_FIT_ALL=1` (a bound, not a prediction) the fit and the
/// held-out curves together: how close the law's family can come to the held-out finals at all.
fn fit_set<'a>(fit: &[&'a str], test: &[&'a str]) -> Vec<&'a str> {
    let mut v = fit.to_vec();
    if std::env::var_os("LRSDE_ACC_FIT_ALL").is_some() {
        v.extend_from_slice(test);
    }
    v
}

/// A row of the plain tables: one law, or a stack of two (`stack:A+B[@W]`: the prediction
/// `W·A + (1 − W)·B`, default `W = 0.5`; `@seg`: `W` from the leave-last-segment-out refit
/// errors of both laws on the fit curves, the least-squares weight in `[0, 1]`). An experiment,
/// scored on final losses only.
enum Row {
    Law(AnyLaw),
    Stack(AnyLaw, AnyLaw, Option<f64>),
}

impl std::str::FromStr for Row {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let Some(rest) = s.strip_prefix("stack:") else {
            return s.parse().map(Row::Law).map_err(|e| format!("{e}"));
        };
        let (pair, w) = rest.split_once('@').unwrap_or((rest, "0.5"));
        let (a, b) = pair.split_once('+').ok_or("stack:A+B[@W]")?;
        let law = |x: &str| x.parse::<AnyLaw>().map_err(|e| format!("{e}"));
        let w = match w {
            "seg" => None,
            w => Some(w.parse().map_err(|_| "W")?),
        };
        Ok(Row::Stack(law(a)?, law(b)?, w))
    }
}

impl Row {
    /// The row's evaluation, from `f` (one law's) and the fit curves (for `@seg`).
    fn eval(
        &self,
        f: impl Fn(&AnyLaw) -> lrsde::assess::metrics::Evaluation,
        fit: &[lrsde::data::TrainingCurve],
    ) -> lrsde::assess::metrics::Evaluation {
        match self {
            Row::Law(l) => f(l),
            Row::Stack(a, b, w) => {
                let w = w.unwrap_or_else(|| segment_weight(a, b, fit));
                stack(&f(a), &f(b), w)
            }
        }
    }
}

/// The weight `w ∈ [0, 1]` minimising `Σ (w·e_a + (1 − w)·e_b)²` over the two laws'
/// leave-last-segment-out refit errors on `fit` (cuts 0.5 and 0.7, as the bands use).
fn segment_weight(a: &AnyLaw, b: &AnyLaw, fit: &[lrsde::data::TrainingCurve]) -> f64 {
    use lrsde::assess::{DEFAULT_CUTS, segment_errors};
    let errs = |l: &AnyLaw| {
        segment_errors(l, fit, &fit_options_for(fit), &DEFAULT_CUTS).expect("segment refits")
    };
    let (ea, eb) = (errs(a), errs(b));
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in ea.iter().zip(&eb) {
        assert_eq!(
            (&x.curve, x.step),
            (&y.curve, y.step),
            "paired refit errors"
        );
        let d = x.error - y.error;
        num -= y.error * d;
        den += d * d;
    }
    let w = if den > 0.0 {
        (num / den).clamp(0.0, 1.0)
    } else {
        0.5
    };
    if std::env::var_os("LRSDE_ACC_VERBOSE").is_some() {
        println!("    stack weight from the refits: {w:.2}");
    }
    w
}

/// Per law, the means over its rows of the final-loss MAE and Kendall τ (the table means of
/// docs/accuracy.md).
fn print_means(means: &[(&str, Vec<lrsde::assess::metrics::Evaluation>)]) {
    println!("\n| law | rows | final-loss MAE | Kendall τ |\n|---|---|---|---|");
    for (name, evals) in means {
        let n = evals.len() as f64;
        let mae = evals
            .iter()
            .map(|e| e.mean(|m| m.final_err.abs()))
            .sum::<f64>()
            / n;
        let tau = evals.iter().map(mean_tau).sum::<f64>() / n;
        println!("| {name} | {} | {mae:.4} | {tau:.2} |", evals.len());
    }
}

/// The predictive-band tables: per table, every row of every law, then a summary per law.
fn bands_tables(root: &std::path::Path, names: &[String]) {
    use bands::*;
    use lrsde::assess::LawChoice;
    let names: Vec<String> = if names.is_empty() {
        vec!["sde".into(), "momentum".into(), "auto".into()]
    } else {
        names.to_vec()
    };
    let choices: Vec<LawChoice> = names.iter().map(|n| n.parse().expect("law")).collect();
    let mut tables: Vec<(String, Vec<Vec<lrsde::assess::Assessment>>)> = Vec::new();
    if std::env::var_os("LRSDE_ACC_SKIP_MPL").is_none() {
        for (title, fit, test) in [
            ("MPL split", &MPL_FIT[..], &MPL_TEST[..]),
            ("Two-curve split", &TWO_FIT[..], &TWO_TEST[..]),
        ] {
            println!("\n### {title}\n\n{BAND_HEADER}");
            let per_law = band_rows(
                &names,
                &choices,
                &MPL_SIZES,
                |size| format!("{size}M"),
                |&size, choice| mpl_assess(root, choice, size, fit, test),
            );
            tables.push((title.to_string(), per_law));
        }
    }
    if std::env::var_os("LRSDE_ACC_SKIP_GRID").is_none() {
        let max_t = std::env::var("LRSDE_ACC_GRID_MAX_T")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        let sets = grid_sets(root, max_t);
        println!("\n### lr-scheduling 124M grid\n\n{BAND_HEADER}");
        let per_law = band_rows(
            &names,
            &choices,
            &sets,
            |set| format!("lr {} T {}", set.peak, set.horizon),
            grid_assess,
        );
        tables.push(("lr-scheduling 124M grid".to_string(), per_law));
    }
    if std::env::var_os("LRSDE_ACC_SKIP_SIZES").is_none() {
        for (title, sets) in two_peak_tables(root) {
            println!("\n### {title}\n\n{BAND_HEADER}");
            let per_law = band_rows(
                &names,
                &choices,
                &sets,
                |set| set.label.clone(),
                sizes::size_assess,
            );
            tables.push((title.to_string(), per_law));
        }
    }
    if std::env::var_os("LRSDE_ACC_CONTINUED").is_some() {
        let sets = fork_sets(root);
        // LRSDE_ACC_NO_PRIOR=1: the forks without the decay-response prior (as before it).
        let responses = if std::env::var_os("LRSDE_ACC_NO_PRIOR").is_none() {
            prior::grid_decay_responses(&grid_sets(root, u64::MAX))
        } else {
            Vec::new()
        };
        println!("\n### Continued training (124M cooldown branches)\n\n{BAND_HEADER}");
        let per_law = band_rows(
            &names,
            &choices,
            &sets,
            |set| set.label.clone(),
            |set, choice| {
                // LRSDE_ACC_PRIOR_FILE=FILE: one fixed prior file for every fork (e.g. the
                // shipped examples/priors one) instead of the per-peak construction.
                let p = match std::env::var_os("LRSDE_ACC_PRIOR_FILE") {
                    Some(f) => Some(lrsde::fit::ParamPrior::load(&f).expect("prior file")),
                    None => prior::prior_for_peak(&responses, set.peak),
                };
                if let Some(t) = p.as_ref().map(|p| &p.terms[0]) {
                    println!(
                        "    prior for {}: ln C ~ N({:.3}, {:.3}²)",
                        set.label,
                        t.mean_ln_at(set.peak),
                        t.sd_ln
                    );
                }
                fork_assess(set, choice, p)
            },
        );
        tables.push(("Continued training".to_string(), per_law));
    }
    for (title, per_law) in &tables {
        println!("\n**{title}**\n\n{}", bands::SUMMARY_HEADER);
        let mut references = Vec::new();
        for (name, rows) in names.iter().zip(per_law) {
            let refs: Vec<&lrsde::assess::Assessment> = rows.iter().collect();
            let summary = summarise(&refs);
            println!("{}", summary_line(name, &summary));
            references.push(bands::one_width_reference(&refs, &summary, 0.8));
        }
        println!(
            "\nOne width for every held-out final, chosen knowing the errors (a reference for \
             the width target, not a band), and the MAE pooled over finals:\n\n| law | \
             narrowest one-width band covering 80 % / MAE | one width 4 × MAE covers | pooled \
             MAE | median width / pooled MAE | that one-width band / pooled MAE |\n\
             |---|---|---|---|---|---|"
        );
        for (name, reference) in names.iter().zip(&references) {
            if let Some(r) = reference {
                println!(
                    "| {name} | {:.2} | {}/{} ({:.0} %) | {:.4} | {:.1} | {:.2} |",
                    r.width_per_mae,
                    r.covered_at_4,
                    r.total,
                    100.0 * r.covered_at_4 as f64 / r.total as f64,
                    r.pooled_mae,
                    r.band_width_per_pooled_mae,
                    r.width_per_pooled_mae
                );
            }
        }
        // With both `momentum` and `sde` among the laws: `momentum`'s band widened by their
        // disagreement (LRSDE_ACC_DISAGREE_K, default 1), and `sde`'s by `momentum`'s.
        let pos = |n: &str| names.iter().position(|x| x == n);
        if let (Some(m), Some(s)) = (pos("momentum"), pos("sde")) {
            let ks: Vec<f64> = std::env::var("LRSDE_ACC_DISAGREE_K")
                .map(|v| v.split(',').map(|x| x.parse().expect("k")).collect())
                .unwrap_or_else(|_| vec![1.0]);
            let mom: Vec<&lrsde::assess::Assessment> = per_law[m].iter().collect();
            let sde: Vec<&lrsde::assess::Assessment> = per_law[s].iter().collect();
            for k in ks {
                let label = |a: &str, b: &str| format!("{a} + disagreement with {b}, k = {k}");
                let (ms, sm) = (
                    with_disagreement(&mom, &sde, k),
                    with_disagreement(&sde, &mom, k),
                );
                println!("{}", summary_line(&label("momentum", "sde"), &ms));
                println!("{}", summary_line(&label("sde", "momentum"), &sm));
            }
            for joint in [false, true] {
                let (s, coefs) = with_learned_disagreement(&mom, &sde, joint);
                let what = if joint {
                    "d, k from refits"
                } else {
                    "k from refits"
                };
                println!("{}", summary_line(&format!("momentum, {what}"), &s));
                let coefs: Vec<String> = coefs
                    .iter()
                    .map(|(d, k)| format!("({d:.4}, {k:.2})"))
                    .collect();
                println!("    (d, k) per row: {}", coefs.join(" "));
            }
        }
    }
}

/// Per law of `names` / `choices`, its assessment (`assess`) on every one of `sets`, each
/// printed as a band row labelled `label(set)` and the law's name as it comes.
fn band_rows<S>(
    names: &[String],
    choices: &[lrsde::assess::LawChoice],
    sets: &[S],
    label: impl Fn(&S) -> String,
    assess: impl Fn(&S, &lrsde::assess::LawChoice) -> lrsde::assess::Assessment,
) -> Vec<Vec<lrsde::assess::Assessment>> {
    names
        .iter()
        .zip(choices)
        .map(|(name, choice)| {
            sets.iter()
                .map(|set| {
                    let a = assess(set, choice);
                    println!("{}", bands::band_row(&format!("{} {name}", label(set)), &a));
                    verbose(&a);
                    a
                })
                .collect()
        })
        .collect()
}

/// With `LRSDE_ACC_VERBOSE` set: every held-out final point of an assessment.
fn verbose(a: &lrsde::assess::Assessment) {
    if std::env::var_os("LRSDE_ACC_VERBOSE").is_some() {
        if let Some(sel) = &a.fitted.selection {
            println!("    chose {}: {}", sel.chosen, sel.reason);
        }
        println!("{}", bands::band_details(a));
    }
}
