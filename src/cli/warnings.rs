//! Warnings shared by `predict` and `rank`: a schedule outside what the fit saw.

use lrsde::fit::FittedLaw;

/// Plain-language warnings when `lrs` leaves the LR range or the horizon the fit saw.
pub fn extrapolation(fitted: &FittedLaw, lrs: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    let peak = lrs.iter().copied().fold(0.0, f64::max);
    let max_seen = fitted.lr_range_seen[1];
    if peak > max_seen * (1.0 + 1e-9) {
        out.push(format!(
            "peak LR {peak:.3e} is above the largest LR the fit saw ({max_seen:.3e}): extrapolating"
        ));
    }
    // Curves are often logged every few hundred steps, so a schedule a few percent longer than
    // the last observed step is not an extrapolation worth a warning.
    if lrs.len() as f64 > 1.05 * fitted.steps_seen as f64 {
        out.push(format!(
            "extrapolating to {} steps; the fit saw up to {}",
            lrs.len(),
            fitted.steps_seen
        ));
    }
    out
}
