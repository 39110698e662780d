//! How many fit curves, and which, a law needs to predict the other MPL schedules' final losses
//! (docs/accuracy.md, "How many curves a fit needs"): per model size, every fit set made of the
//! two-curve split's curves plus `k` of the other seven, scored on the curves left out.

use super::suites::{MPL_SIZES, MPL_TEST, TWO_FIT, mpl_suite};
use lrsde::law::AnyLaw;
use rayon::prelude::*;
use std::path::Path;

/// The curves that may join the two-curve split's fit set (every other MPL curve).
fn extra_pool() -> Vec<&'static str> {
    let mut pool = vec!["wsdcon_9"];
    pool.extend(MPL_TEST);
    pool
}

/// Every subset of `pool` with `k` members, in lexicographic order of positions.
fn subsets<'a>(pool: &[&'a str], k: usize) -> Vec<Vec<&'a str>> {
    fn grow<'a>(
        pool: &[&'a str],
        k: usize,
        from: usize,
        cur: &mut Vec<&'a str>,
        out: &mut Vec<Vec<&'a str>>,
    ) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in from..pool.len() {
            cur.push(pool[i]);
            grow(pool, k, i + 1, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    grow(pool, k, 0, &mut Vec::new(), &mut out);
    out
}

/// One fit set's held-out final-loss errors, per model size (order of [`MPL_SIZES`]).
struct SetScore {
    extras: Vec<&'static str>,
    /// Per size: every held-out curve's final-loss error (predicted − observed).
    errors: Vec<Vec<(String, f64)>>,
}

impl SetScore {
    /// Held-out final-loss MAE per size.
    fn mae(&self) -> Vec<f64> {
        self.errors
            .iter()
            .map(|e| e.iter().map(|(_, x)| x.abs()).sum::<f64>() / e.len() as f64)
            .collect()
    }

    fn mean(&self) -> f64 {
        let m = self.mae();
        m.iter().sum::<f64>() / m.len() as f64
    }

    /// `|error|` of held-out curve `curve` at size index `i`, if it was held out.
    fn abs_error(&self, i: usize, curve: &str) -> Option<f64> {
        self.errors[i]
            .iter()
            .find(|(n, _)| n == curve)
            .map(|(_, x)| x.abs())
    }
}

fn score_set(root: &Path, law: &AnyLaw, extras: Vec<&'static str>) -> SetScore {
    let fit: Vec<&str> = TWO_FIT
        .iter()
        .copied()
        .chain(extras.iter().copied())
        .collect();
    let test: Vec<&str> = extra_pool()
        .into_iter()
        .filter(|c| !extras.contains(c))
        .collect();
    let errors = MPL_SIZES
        .iter()
        .map(|&size| {
            let e = mpl_suite(root, law, size, &fit, &test);
            e.held_out
                .iter()
                .map(|(n, m)| (n.clone(), m.final_err))
                .collect()
        })
        .collect();
    SetScore { extras, errors }
}

fn joined(v: &[f64]) -> String {
    v.iter()
        .map(|m| format!("{m:.4}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Per size, the mean over the pool's curves of each curve's mean `|error|` over the fit sets
/// that hold it out: every curve weighs the same whatever `k`, so the rows compare (a plain
/// mean over sets would score fewer and different curves as `k` grows).
fn curve_balanced_mae(scores: &[SetScore]) -> Vec<f64> {
    (0..MPL_SIZES.len())
        .map(|i| {
            let per_curve: Vec<f64> = extra_pool()
                .iter()
                .filter_map(|c| {
                    let v: Vec<f64> = scores.iter().filter_map(|s| s.abs_error(i, c)).collect();
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect();
            per_curve.iter().sum::<f64>() / per_curve.len() as f64
        })
        .collect()
}

/// Prints, per law and number of extra curves `k` (0 to `LRSDE_ACC_MAX_EXTRA`, default 5),
/// the held-out final-loss error over every fit set of that size, and what each single extra
/// curve gains on the others (`k` = 1 against `k` = 0, on the same curves).
pub fn print_curves_needed(root: &Path, laws: &[String]) {
    let max_k: usize = std::env::var("LRSDE_ACC_MAX_EXTRA")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .min(extra_pool().len() - 1);
    let laws: Vec<String> = if laws.is_empty() {
        vec!["momentum".into()]
    } else {
        laws.to_vec()
    };
    for name in &laws {
        let law: AnyLaw = name.parse().expect("law name");
        println!(
            "\n### {name}: fit cosine_24000 + constant_24000 + k of the other 7 MPL curves, \
             predict the rest\n"
        );
        println!(
            "| k | fit sets | per-curve MAE (25M / 100M / 400M) | mean | sets with MAE ≤ 0.005 | \
             best set (in hindsight) | its MAE on the rest |\n|---|---|---|---|---|---|---|"
        );
        let mut by_k: Vec<Vec<SetScore>> = Vec::new();
        for k in 0..=max_k {
            let started = std::time::Instant::now();
            let mut scores: Vec<SetScore> = subsets(&extra_pool(), k)
                .into_par_iter()
                .map(|extras| score_set(root, &law, extras))
                .collect();
            let balanced = curve_balanced_mae(&scores);
            let mean = balanced.iter().sum::<f64>() / balanced.len() as f64;
            let within = scores.iter().filter(|s| s.mean() <= 0.005).count();
            scores.sort_by(|a, b| a.mean().total_cmp(&b.mean()));
            let best = &scores[0];
            println!(
                "| {k} | {} | {} | {mean:.4} | {within} | {} | {:.4} ({}) |",
                scores.len(),
                joined(&balanced),
                if best.extras.is_empty() {
                    "—".to_string()
                } else {
                    best.extras.join(" + ")
                },
                best.mean(),
                joined(&best.mae()),
            );
            eprintln!("    k = {k}: {:.0} s", started.elapsed().as_secs_f64());
            by_k.push(scores);
        }
        let (Some(base), Some(singles)) = (by_k.first().and_then(|s| s.first()), by_k.get(1))
        else {
            continue;
        };
        println!(
            "\nOne extra curve (k = 1): MAE on the six curves still held out, without → with it \
             (25M / 100M / 400M), best first:\n\n| added to the fit | without | with | mean \
             without → with |\n|---|---|---|---|"
        );
        let mut rows: Vec<(f64, String)> = singles
            .iter()
            .map(|s| {
                let added = s.extras[0];
                let mae_of = |score: &SetScore| -> Vec<f64> {
                    (0..MPL_SIZES.len())
                        .map(|i| {
                            let v: Vec<f64> = extra_pool()
                                .iter()
                                .filter(|c| **c != added)
                                .filter_map(|c| score.abs_error(i, c))
                                .collect();
                            v.iter().sum::<f64>() / v.len() as f64
                        })
                        .collect()
                };
                let (without, with) = (mae_of(base), mae_of(s));
                let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
                (
                    mean(&with),
                    format!(
                        "| {added} | {} | {} | {:.4} → {:.4} |",
                        joined(&without),
                        joined(&with),
                        mean(&without),
                        mean(&with)
                    ),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, row) in rows {
            println!("{row}");
        }
    }
}
