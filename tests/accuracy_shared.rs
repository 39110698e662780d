//! Accuracy guards of docs/accuracy.md on the public data in ../shared/data/public (not part of
//! the crate). Slow: run with `cargo test --release --test accuracy_shared -- --ignored`.
//! Every test prints a message and passes when the data is absent.

#[path = "../examples/accuracy/suites.rs"]
mod suites;

use lrsde::assess::metrics::Evaluation;
use lrsde::law::AnyLaw;
use suites::*;

/// Largest horizon of the lr-scheduling cells the guard fits.
const GRID_TEST_MAX_T: u64 = 15_000;

fn law(name: &str) -> AnyLaw {
    name.parse().unwrap()
}

/// Mean over evaluations of the per-evaluation mean of a metric.
fn table_mean(
    evals: &[Evaluation],
    f: impl Fn(&lrsde::assess::metrics::CurveMetrics) -> f64 + Copy,
) -> f64 {
    evals.iter().map(|e| e.mean(f)).sum::<f64>() / evals.len() as f64
}

/// Which of `sde` and `mpl` docs/accuracy.md says is better on a metric of a table.
#[derive(Clone, Copy)]
enum Better {
    Sde,
    Mpl,
}

/// Asserts the documented order of `sde` and `mpl` on a table's mean final-loss MAE and mean
/// curve MAE (ties pass).
fn assert_documented_order(
    table: &str,
    sde: &[Evaluation],
    mpl: &[Evaluation],
    final_loss: Better,
    curve: Better,
) {
    for (metric, f, better) in [
        (
            "final-loss MAE",
            (|m: &lrsde::assess::metrics::CurveMetrics| m.final_err.abs()) as fn(&_) -> f64,
            final_loss,
        ),
        ("curve MAE", |m| m.mae, curve),
    ] {
        let (s, m) = (table_mean(sde, f), table_mean(mpl, f));
        println!("{table}: {metric}: sde {s:.5}, mpl {m:.5}");
        match better {
            Better::Sde => assert!(s <= m, "{table}: sde {metric} {s:.5} > mpl {m:.5}"),
            Better::Mpl => assert!(m <= s, "{table}: mpl {metric} {m:.5} > sde {s:.5}"),
        }
    }
}

fn mpl_split(fit: &[&str], test: &[&str], title: &str, paper_curve_mae: Option<[f64; 3]>) {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public absent: skipping {title}");
        return;
    };
    let (sde, mpl) = (law(SDE_LAW), law("mpl"));
    let (mut es, mut em) = (vec![], vec![]);
    for (k, size) in MPL_SIZES.into_iter().enumerate() {
        let m = mpl_suite(&root, &mpl, size, fit, test);
        let s = mpl_suite(&root, &sde, size, fit, test);
        for e in [&m, &s] {
            println!("{}", summary_row(&format!("{size}M"), e));
            for (name, x) in &e.held_out {
                println!(
                    "    {} {size}M {name}: final {:+.4}, MAE {:.4}",
                    e.law, x.final_err, x.mae
                );
            }
        }
        if let Some(paper) = paper_curve_mae {
            let mae = m.mean(|x| x.mae);
            assert!(
                mae <= paper[k] + MPL_PAPER_TOLERANCE,
                "{size}M: mpl held-out curve MAE {mae:.5} > the paper's {} + {MPL_PAPER_TOLERANCE}",
                paper[k]
            );
        }
        em.push(m);
        es.push(s);
    }
    // On both MPL tables `sde` has the lower final-loss error, our `mpl` fit the lower curve
    // error (docs/accuracy.md, Results).
    assert_documented_order(title, &es, &em, Better::Sde, Better::Mpl);
}

#[test]
#[ignore = "slow; needs ../shared/data/public"]
fn mpl_split_mpl_reproduces_paper_and_sde_has_lower_final_error() {
    mpl_split(&MPL_FIT, &MPL_TEST, "MPL split", Some(MPL_PAPER_CURVE_MAE));
}

#[test]
#[ignore = "slow; needs ../shared/data/public"]
fn two_curve_split_sde_has_lower_final_error() {
    mpl_split(&TWO_FIT, &TWO_TEST, "two-curve split", None);
}

#[test]
#[ignore = "slow; needs ../shared/data/public"]
fn lr_scheduling_grid_mpl_has_lower_final_error() {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public absent: skipping the lr-scheduling grid");
        return;
    };
    // Horizons ≤ 15k only, to keep the guard short (docs/accuracy.md, Results: there `mpl`
    // has the lower final-loss error and `sde` the lower curve error; over all 12 cells `mpl`
    // has the lower of both).
    let cells = |name| -> Vec<Evaluation> {
        lr_scheduling_cells(&root, &law(name), GRID_TEST_MAX_T)
            .into_iter()
            .map(|c| {
                println!(
                    "{}",
                    summary_row(&format!("lr {} T {}", c.peak, c.horizon), &c.eval)
                );
                c.eval
            })
            .collect()
    };
    let (sde, mpl) = (cells(SDE_LAW), cells("mpl"));
    assert!(!sde.is_empty() && sde.len() == mpl.len());
    assert_documented_order(
        "lr-scheduling 124M, T ≤ 15k",
        &sde,
        &mpl,
        Better::Mpl,
        Better::Sde,
    );
}

/// docs/accuracy.md ("The `momentum` law's decay `λ`"): the default `λ = 0.999` has the lowest
/// mean final-loss MAE on both MPL tables among its neighbours 0.998 and 0.9994 (measured
/// 0.0077 / 0.0071 against 0.0095 / 0.0089 and 0.0089 / 0.0084). A change to the fit that
/// moves the best `λ` should revisit the default.
#[test]
#[ignore = "slow; needs ../shared/data/public"]
fn momentum_default_lambda_is_best_on_mpl_tables() {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public absent: skipping the momentum λ profile");
        return;
    };
    for (title, fit, test) in [
        ("MPL split", &MPL_FIT[..], &MPL_TEST[..]),
        ("two-curve split", &TWO_FIT[..], &TWO_TEST[..]),
    ] {
        let mae = |name: &str| {
            let evals: Vec<Evaluation> = MPL_SIZES
                .iter()
                .map(|&size| mpl_suite(&root, &law(name), size, fit, test))
                .collect();
            table_mean(&evals, |m| m.final_err.abs())
        };
        let default = mae("momentum");
        for other in ["momentum:lambda=0.998", "momentum:lambda=0.9994"] {
            let m = mae(other);
            println!("{title}: momentum {default:.5}, {other} {m:.5}");
            assert!(
                default < m,
                "{title}: {other} {m:.5} ≤ default {default:.5}"
            );
        }
    }
}

/// docs/accuracy.md, "How many curves a fit needs": `momentum` is not short of data. A run of
/// three times the length added to cosine_24000 + constant_24000 makes it predict the other
/// six MPL schedules' finals *worse* (mean over sizes 0.0068 → 0.0079 with constant_72000,
/// 0.0075 → 0.0095 with cosine_72000), because every point weighs the same and the long run
/// has three times the points; and no one added curve brings it to 0.005.
#[test]
#[ignore = "slow; needs ../shared/data/public"]
fn momentum_is_not_short_of_curves_on_the_mpl_runs() {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public absent: skipping the curves-needed guard");
        return;
    };
    let mut pool = vec!["wsdcon_9"];
    pool.extend(MPL_TEST);
    let momentum = law("momentum");
    let fit_on = |fit: &[&str], test: &[&str]| -> Vec<Evaluation> {
        MPL_SIZES
            .iter()
            .map(|&size| mpl_suite(&root, &momentum, size, fit, test))
            .collect()
    };
    // Mean over sizes of the final-loss MAE of `evals` on every held-out curve but `added`.
    let mae_without = |evals: &[Evaluation], added: &str| {
        let per_size: Vec<f64> = evals
            .iter()
            .map(|e| {
                let errs: Vec<f64> = e
                    .held_out
                    .iter()
                    .filter(|(n, _)| n != added)
                    .map(|(_, m)| m.final_err.abs())
                    .collect();
                errs.iter().sum::<f64>() / errs.len() as f64
            })
            .collect();
        per_size.iter().sum::<f64>() / per_size.len() as f64
    };
    // One fit of the two-curve split predicts every pool curve: the baseline for each addition.
    let base = fit_on(&TWO_FIT, &pool);
    for &added in &pool {
        let test: Vec<&str> = pool.iter().copied().filter(|c| *c != added).collect();
        let mut fit = TWO_FIT.to_vec();
        fit.push(added);
        let (without, with) = (
            mae_without(&base, added),
            mae_without(&fit_on(&fit, &test), added),
        );
        println!("momentum + {added}: {without:.5} → {with:.5} on the other six");
        assert!(with > 0.005, "{added}: {with:.5}");
        if added.ends_with("_72000") {
            assert!(with > without + 0.0005, "{added}: {without:.5} → {with:.5}");
        }
    }
}

/// The MPL authors' published 400M fit (`mpl-published` in docs/accuracy.md) scored by this
/// crate reproduces the per-curve held-out MAEs of their repo's `logs/400.log`
/// (../shared/research/loss-curve-laws.md §2.4, printed to 6 decimals): the row is their law as
/// they evaluate it, not a refit. The tolerance, 2e-5, covers how the crate's CSV reader
/// rebuilds the schedules from rows 128 updates apart (warmup `peak·s/W` instead of
/// `linspace(0, peak, W)`: half an update of LR area; the geometric and linear decays
/// interpolated linearly between rows). The curves are read with `--lr-between-rows auto`
/// (`mpl_curve_stepped`), which keeps the two-stage `wsdcon_*` drop at 8000 a drop as in the
/// authors' code; read as the accuracy tables read them (linear: a 64-update ramp between the
/// rows at 7936 and 8000) they miss the log by 9e-4 and 4e-4, which the last assertion checks.
/// Fast (no fit).
#[test]
fn mpl_published_reproduces_the_papers_400m_log() {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public absent: skipping mpl-published");
        return;
    };
    let log = [
        ("constant_72000", 0.004118),
        ("cosine_72000", 0.005613),
        ("wsd_20000_24000", 0.004702),
        ("wsdld_20000_24000", 0.003854),
        ("wsdcon_3", 0.008174),
        ("wsdcon_18", 0.002558),
    ];
    let (stepped, ramped) = (
        mpl_published_suite(&root, 400, true),
        mpl_published_suite(&root, 400, false),
    );
    let mae = |stepped_lr: bool, name: &str| {
        let e = if stepped_lr { &stepped } else { &ramped };
        e.held_out
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not held out"))
            .1
            .mae
    };
    for (name, want) in log {
        let got = mae(true, name);
        println!("{name}: MAE {got:.6} (log {want:.6})");
        assert!(
            (got - want).abs() <= 2e-5,
            "{name}: MAE {got:.7} vs the authors' {want}"
        );
    }
    let ramped = mae(false, "wsdcon_3");
    assert!(
        (ramped - 0.008174).abs() > 5e-4,
        "wsdcon_3 read with the ramp: {ramped:.6}, expected to differ from the log"
    );
}
