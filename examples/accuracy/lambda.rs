//! The `momentum` law's decay `λ` profiled per data set (issue 13, point 3): for every row of
//! the MPL and grid tables and the two-peak tables (`LRSDE_ACC_SKIP_MPL`, `…_GRID`, `…_SIZES`
//! leave tables out), and every `λ` of a grid (`LRSDE_ACC_LAMBDAS=0,0.9,0.999` replaces it;
//! the law is `momentum` or `LRSDE_ACC_LAMBDA_LAW`, e.g. `momentum:sat=1`), the fit cost, the
//! leave-last-segment-out RMS error and the held-out final-loss MAE; then the table means of three rules for choosing
//! `λ` from the fit curves alone (fixed 0.999, least fit cost, least segment error) and of the
//! rule that cheats (best held-out MAE per row, a bound on what any choice of `λ` can reach).

use crate::suites::*;
use lrsde::assess::metrics::evaluate;
use lrsde::assess::{DEFAULT_CUTS, segment_errors};
use lrsde::data::TrainingCurve;
use lrsde::fit::fit_law;
use lrsde::law::AnyLaw;
use std::path::Path;

/// The `λ` grid (0.999 is the default).
const LAMBDAS: [f64; 11] = [
    0.99, 0.993, 0.995, 0.997, 0.998, 0.9985, 0.999, 0.9992, 0.9994, 0.9996, 0.9998,
];

/// The law's default `λ`.
const DEFAULT: f64 = 0.999;

/// Index of [`DEFAULT`] in [`lambdas`] (0 when the list lacks it).
fn default_index() -> usize {
    lambdas().iter().position(|&x| x == DEFAULT).unwrap_or(0)
}

/// [`LAMBDAS`], or the list in `LRSDE_ACC_LAMBDAS` (comma-separated).
fn lambdas() -> Vec<f64> {
    std::env::var("LRSDE_ACC_LAMBDAS").map_or(LAMBDAS.to_vec(), |v| {
        v.split(',').map(|x| x.parse().expect("λ")).collect()
    })
}

/// One `λ` on one data set.
struct Point {
    /// Fit cost on the fit curves.
    cost: f64,
    /// RMS of the leave-last-segment-out errors.
    seg: f64,
    /// Held-out final-loss MAE.
    mae: f64,
}

/// A table: per row, its label and one [`Point`] per `λ`.
type Table = Vec<(String, Vec<Point>)>;

/// A rule choosing the index of `λ` from a row's points.
type Rule = fn(&[Point]) -> usize;

/// One [`Point`] per `λ` of [`LAMBDAS`].
fn profile(fit: &[TrainingCurve], test: &[TrainingCurve], warmup: u64) -> Vec<Point> {
    let base = std::env::var("LRSDE_ACC_LAMBDA_LAW").unwrap_or_else(|_| "momentum".into());
    let sep = if base.contains(':') { ',' } else { ':' };
    lambdas()
        .iter()
        .map(|lam| {
            let law: AnyLaw = format!("{base}{sep}lambda={lam}").parse().expect("law");
            let opts = fit_options();
            let cost = fit_law(law.clone(), fit, &opts).map_or(f64::NAN, |f| f.report.cost);
            let seg = segment_errors(&law, fit, &opts, &DEFAULT_CUTS).map_or(f64::NAN, |e| {
                (e.iter().map(|s| s.error * s.error).sum::<f64>() / e.len().max(1) as f64).sqrt()
            });
            let mae = evaluate(&law, fit, test, &opts, warmup)
                .map_or(f64::NAN, |e| e.mean(|m| m.final_err.abs()));
            Point { cost, seg, mae }
        })
        .collect()
}

/// Index of the smallest finite value.
fn argmin(v: impl Iterator<Item = f64>) -> usize {
    v.enumerate()
        .filter(|(_, x)| x.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(i, _)| i)
}

/// Prints the profile of every row and the table means of each rule.
pub fn print_profiles(root: &Path) {
    let mut tables: Vec<(String, Table)> = Vec::new();
    let mpl = if std::env::var_os("LRSDE_ACC_SKIP_MPL").is_none() {
        vec![
            ("MPL split", &MPL_FIT[..], &MPL_TEST[..]),
            ("Two-curve split", &TWO_FIT[..], &TWO_TEST[..]),
        ]
    } else {
        Vec::new()
    };
    for (title, fit, test) in mpl {
        let rows = MPL_SIZES
            .iter()
            .map(|&size| {
                let f: Vec<_> = fit.iter().map(|n| mpl_curve(root, size, n)).collect();
                let t: Vec<_> = test.iter().map(|n| mpl_curve(root, size, n)).collect();
                (format!("{size}M"), profile(&f, &t, MPL_WARMUP))
            })
            .collect();
        tables.push((title.to_string(), rows));
    }
    if std::env::var_os("LRSDE_ACC_SKIP_GRID").is_none() {
        let rows = grid_sets(root, u64::MAX)
            .iter()
            .map(|s| {
                let label = format!("lr {} T {}", s.peak, s.horizon);
                (label, profile(&s.fit, &s.test, 300))
            })
            .collect();
        tables.push(("124M grid".to_string(), rows));
    }
    if std::env::var_os("LRSDE_ACC_SKIP_SIZES").is_none() {
        for (title, sets) in [
            ("Model-size sets", crate::sizes::size_sets(root)),
            (
                "124M grid across two peaks",
                crate::sizes::grid_cross_peak_sets(root),
            ),
        ] {
            let rows = sets
                .iter()
                .map(|s| (s.label.clone(), profile(&s.fit, &s.test, 300)))
                .collect();
            tables.push((title.to_string(), rows));
        }
    }
    let lams: Vec<String> = lambdas().iter().map(|l| l.to_string()).collect();
    for (title, rows) in &tables {
        println!("\n### {title}: held-out final-loss MAE / fit cost / segment RMS per λ\n");
        println!("| data | {} |", lams.join(" | "));
        println!("|---|{}", "---|".repeat(lams.len()));
        for (label, p) in rows {
            let cells: Vec<String> = p
                .iter()
                .map(|p| format!("{:.4} / {:.3e} / {:.4}", p.mae, p.cost, p.seg))
                .collect();
            println!("| {label} | {} |", cells.join(" | "));
        }
        let rules: [(&str, Rule); 4] = [
            ("fixed 0.999", |_| default_index()),
            ("least fit cost", |p| argmin(p.iter().map(|x| x.cost))),
            ("least segment RMS", |p| argmin(p.iter().map(|x| x.seg))),
            ("best held-out (bound)", |p| argmin(p.iter().map(|x| x.mae))),
        ];
        println!("\n| rule | final-loss MAE | λ chosen per row |\n|---|---|---|");
        for (name, rule) in rules {
            let picks: Vec<usize> = rows.iter().map(|(_, p)| rule(p)).collect();
            let mae = rows
                .iter()
                .zip(&picks)
                .map(|((_, p), &i)| p[i].mae)
                .sum::<f64>()
                / rows.len() as f64;
            let chosen: Vec<String> = picks.iter().map(|&i| lams[i].clone()).collect();
            println!("| {name} | {mae:.4} | {} |", chosen.join(", "));
        }
    }
}
