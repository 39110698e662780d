//! Scoring a calibrated fit on held-out curves: accuracy metrics and band coverage.

use serde::{Deserialize, Serialize};

use super::auto::{LawChoice, fit_choice};
use super::calibrate::CalibrationOptions;
use super::metrics::{Evaluation, curve_metrics};
use crate::data::TrainingCurve;
use crate::fit::{FitOptions, FittedLaw};
use crate::law::Batched;

/// The predictive band of one held-out curve at its last observed point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FinalBand {
    /// Observed final loss.
    pub observed: f64,
    /// Predicted final loss.
    pub predicted: f64,
    /// Lower edge of the band.
    pub lo: f64,
    /// Upper edge of the band.
    pub hi: f64,
}

impl FinalBand {
    /// Whether the observed loss lies in the band.
    pub fn covers(&self) -> bool {
        self.lo <= self.observed && self.observed <= self.hi
    }

    /// Width of the band.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

/// A law chosen and calibrated on some curves, scored on others.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// Accuracy metrics (as [`super::metrics::evaluate`]).
    pub evaluation: Evaluation,
    /// The band at the final point of every held-out curve, by name.
    pub finals: Vec<(String, FinalBand)>,
    /// The calibrated fit.
    pub fitted: FittedLaw,
}

impl Assessment {
    /// Fraction of held-out final losses inside their band.
    pub fn coverage(&self) -> f64 {
        let n = self.finals.len().max(1) as f64;
        self.finals.iter().filter(|(_, b)| b.covers()).count() as f64 / n
    }
}

/// Fits `choice` on `fit_curves` with a calibrated predictive band ([`fit_choice`]), then
/// scores its predictions of `test_curves`: the metrics of [`super::metrics::evaluate`] (R² from
/// `r2_from_step`) and the band at every held-out final point. Nothing of `test_curves` reaches
/// the fit or the calibration.
///
/// # Errors
/// Fitting or prediction errors.
pub fn assess(
    choice: &LawChoice,
    fit_curves: &[TrainingCurve],
    test_curves: &[TrainingCurve],
    options: &FitOptions,
    cal: &CalibrationOptions,
    r2_from_step: u64,
) -> Result<Assessment, crate::Error> {
    let start = std::time::Instant::now();
    let fitted = fit_choice(choice, fit_curves, options, cal)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let law = fitted.law()?;
    let mut held_out = Vec::new();
    let mut finals = Vec::new();
    let mut bands = Vec::new();
    for (c, is_test) in fit_curves
        .iter()
        .map(|c| (c, false))
        .chain(test_curves.iter().map(|c| (c, true)))
    {
        let pred = fitted.predict(&Batched::new(&law, c.batch.as_ref()), &c.lrs, &c.steps)?;
        if is_test {
            held_out.push((
                c.name.clone(),
                curve_metrics(&c.steps, &c.losses, &pred, r2_from_step),
            ));
            if let (Some(&s), Some(&o)) = (c.steps.last(), c.losses.last()) {
                let band = fitted.predict_band(&law, &c.lrs.prefix(s as usize), &[s])?;
                bands.push((
                    c.name.clone(),
                    FinalBand {
                        observed: o,
                        predicted: band.loss[0],
                        lo: band.lo[0],
                        hi: band.hi[0],
                    },
                ));
            }
        }
        if let (Some(&s), Some(&p), Some(&o)) = (c.steps.last(), pred.last(), c.losses.last()) {
            finals.push((c.name.clone(), s, p, o));
        }
    }
    Ok(Assessment {
        evaluation: Evaluation {
            law: match &fitted.selection {
                Some(_) => "auto".to_string(),
                None => fitted.law.clone(),
            },
            converged: fitted.report.converged,
            fit_seconds,
            held_out,
            finals,
        },
        finals: bands,
        fitted,
    })
}
