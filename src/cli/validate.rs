//! `lrsde fit --validate`: leave-one-curve-out refits, so a user sees whether the observed
//! curves suffice to predict a schedule the fit has not seen.

use super::error::CliResult;
use lrsde::assess::HeldOut;
use lrsde::data::TrainingCurve;
use lrsde::fit::FitOptions;
use lrsde::law::AnyLaw;

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
    let rows = lrsde::assess::leave_one_out(law, curves, options, &mut |done| {
        pb.set_position(done as u64)
    })?;
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
    println!(
        "  mean held-out MAE {:.5}",
        lrsde::assess::mean_held_out_mae(&rows)
    );
    if let Some(note) = lrsde::assess::validation_note(curves) {
        println!("  note: {note}");
    }
    Ok(rows)
}
