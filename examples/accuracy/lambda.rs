//! The `momentum` law's decay `λ` profiled per data set (issue 13, point 3): for every row of
//! the MPL and grid tables and every `λ` of a grid, the fit cost, the leave-last-segment-out
//! RMS error and the held-out final-loss MAE; then the table means of three rules for choosing
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
const LAMBDAS: [f64; 9] = [
    0.995, 0.997, 0.998, 0.9985, 0.999, 0.9992, 0.9994, 0.9996, 0.9998,
];

/// Index of the default `λ = 0.999` in [`LAMBDAS`].
const DEFAULT: usize = 4;

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
    LAMBDAS
        .iter()
        .map(|lam| {
            let law: AnyLaw = format!("momentum:lambda={lam}").parse().expect("law");
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
    assert_eq!(LAMBDAS[DEFAULT], 0.999, "DEFAULT indexes the law's default");
    let mut tables: Vec<(String, Table)> = Vec::new();
    for (title, fit, test) in [
        ("MPL split", &MPL_FIT[..], &MPL_TEST[..]),
        ("Two-curve split", &TWO_FIT[..], &TWO_TEST[..]),
    ] {
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
    let lams: Vec<String> = LAMBDAS.iter().map(|l| l.to_string()).collect();
    for (title, rows) in &tables {
        println!("\n### {title}: held-out final-loss MAE / fit cost / segment RMS per λ\n");
        println!("| data | {} |", lams.join(" | "));
        println!("|---|{}", "---|".repeat(LAMBDAS.len()));
        for (label, p) in rows {
            let cells: Vec<String> = p
                .iter()
                .map(|p| format!("{:.4} / {:.3e} / {:.4}", p.mae, p.cost, p.seg))
                .collect();
            println!("| {label} | {} |", cells.join(" | "));
        }
        let rules: [(&str, Rule); 4] = [
            ("fixed 0.999", |_| DEFAULT),
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
