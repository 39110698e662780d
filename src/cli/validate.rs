//! `lrsde fit --validate`: leave-one-curve-out refits, so a user sees whether the observed
//! curves suffice to predict a schedule the fit has not seen.

use super::error::{CliError, CliResult};
use lrsde::data::TrainingCurve;
use lrsde::fit::FitOptions;
use lrsde::law::{AnyLaw, LossLaw};

/// Held-out error of one curve when the law is fitted on all the others.
#[derive(Debug, Clone)]
pub struct HeldOut {
    /// The held-out curve.
    pub name: String,
    /// Mean absolute error over its observed points.
    pub mae: f64,
    /// Predicted minus observed loss at its last observed point.
    pub final_err: f64,
    /// Whether the refit converged.
    pub converged: bool,
}

/// Refits leaving each curve out in turn and prints the held-out errors.
pub fn leave_one_out(
    law: &AnyLaw,
    curves: &[TrainingCurve],
    options: &FitOptions,
) -> CliResult<Vec<HeldOut>> {
    if curves.len() < 2 {
        eprintln!("validate: needs at least two curves (one to hold out, one to fit); skipped");
        return Ok(Vec::new());
    }
    let pb = super::progress::bar(curves.len() as u64, "validate");
    let mut rows = Vec::with_capacity(curves.len());
    for (i, held) in curves.iter().enumerate() {
        let rest: Vec<TrainingCurve> = curves
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c.clone())
            .collect();
        let fitted = lrsde::fit::fit_law(law.clone(), &rest, options)?;
        let refit_law = fitted.law()?;
        let mut pred = vec![0.0; held.steps.len()];
        refit_law
            .predict(&fitted.params_vec(), &held.lrs, &held.steps, &mut pred)
            .map_err(|e| CliError::user(format!("{}: {e}", held.name)))?;
        let mae = pred
            .iter()
            .zip(&held.losses)
            .map(|(p, o)| (p - o).abs())
            .sum::<f64>()
            / held.losses.len() as f64;
        let final_err = pred.last().copied().unwrap_or(f64::NAN)
            - held.losses.last().copied().unwrap_or(f64::NAN);
        rows.push(HeldOut {
            name: held.name.clone(),
            mae,
            final_err,
            converged: fitted.report.converged,
        });
        pb.inc(1);
    }
    pb.finish_and_clear();
    println!("leave-one-out validation ({} refits):", rows.len());
    println!(
        "  {:<28} {:>10} {:>12}",
        "held-out curve", "MAE", "final err"
    );
    for r in &rows {
        println!(
            "  {:<28} {:>10.5} {:>+12.5} {}",
            r.name,
            r.mae,
            r.final_err,
            if r.converged {
                ""
            } else {
                "(refit did not converge)"
            }
        );
    }
    let mean = rows.iter().map(|r| r.mae).sum::<f64>() / rows.len() as f64;
    println!("  mean held-out MAE {mean:.5}");
    if super::fit::distinct_shapes(curves) < 3 {
        println!(
            "  note: with fewer than three distinct schedule shapes, each refit sees a single shape; \
             expect the held-out error to shrink as you add runs with other schedules."
        );
    }
    Ok(rows)
}
