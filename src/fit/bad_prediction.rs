//! Where a fitted law first fails on the curves it was fitted to: the fit policy's diagnosis of
//! an unconverged fit (the CLI adds the file path, nothing else).

use std::fmt;

use super::Predictor;
use crate::data::TrainingCurve;
use crate::law::{LawError, LossLaw};

/// The first failure of a fitted law on an observed curve ([`Predictor::first_bad_prediction`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BadPrediction {
    /// Index of the curve in the slice given.
    pub curve: usize,
    /// What went wrong there.
    pub kind: BadPredictionKind,
}

/// How a fitted law fails on a curve.
#[derive(Debug, Clone, PartialEq)]
pub enum BadPredictionKind {
    /// The law refuses the curve's schedule or steps.
    Law(LawError),
    /// The first observed step whose predicted loss is not finite and positive.
    Loss {
        /// The observed step.
        step: u64,
        /// The predicted loss there.
        value: f64,
    },
}

impl fmt::Display for BadPredictionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Law(e) => write!(f, "the law fails: {e}"),
            Self::Loss { step, value } => {
                write!(
                    f,
                    "the fitted law predicts a loss of {value} at step {step}"
                )
            }
        }
    }
}

/// The first `(step, value)` whose value is not finite and positive.
fn first_bad(pred: &[f64], steps: &[u64]) -> Option<(u64, f64)> {
    pred.iter()
        .zip(steps)
        .find(|(v, _)| !(v.is_finite() && **v > 0.0))
        .map(|(v, s)| (*s, *v))
}

impl<L: LossLaw> Predictor<L> {
    /// The first curve, in order, on which the law at the fitted parameters fails: it refuses
    /// the curve, or predicts a loss that is not finite and positive at an observed step (the
    /// first such step). `None` when every prediction is usable.
    ///
    /// ```
    /// use lrsde::data::TrainingCurve;
    /// use lrsde::fit::{fit_law, BadPredictionKind, FitOptions, Predictor};
    /// let lrs = lrsde::schedule::LrGrid::new(vec![3e-4; 2000])?;
    /// let steps: Vec<u64> = (1..=50).map(|k| 40 * k).collect();
    /// let losses = steps.iter().map(|&s| 2.0 + 3.0 / (s as f64).sqrt()).collect();
    /// let curve = TrainingCurve { name: "c".into(), lrs, steps, losses, batch: None };
    /// let fitted = fit_law("power".parse()?, &[curve.clone()], &FitOptions::default())?;
    /// let predictor = Predictor::from_fitted(fitted)?;
    /// assert_eq!(predictor.first_bad_prediction(&[curve.clone()]), None);
    ///
    /// // A step beyond the curve's LR grid is refused by the law.
    /// let mut broken = curve.clone();
    /// broken.steps = vec![10, 4000];
    /// let bad = predictor.first_bad_prediction(&[curve, broken]).unwrap();
    /// assert_eq!(bad.curve, 1);
    /// assert!(matches!(bad.kind, BadPredictionKind::Law(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_bad_prediction(&self, curves: &[TrainingCurve]) -> Option<BadPrediction> {
        let params = self.params();
        curves.iter().enumerate().find_map(|(curve, c)| {
            let mut pred = vec![0.0; c.steps.len()];
            let kind = match self.law().predict_batched(
                &params,
                &c.lrs,
                c.batch.as_ref(),
                &c.steps,
                &mut pred,
            ) {
                Err(e) => Some(BadPredictionKind::Law(e)),
                Ok(()) => first_bad(&pred, &c.steps)
                    .map(|(step, value)| BadPredictionKind::Loss { step, value }),
            };
            kind.map(|kind| BadPrediction { curve, kind })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::first_bad;

    #[test]
    fn first_bad_names_the_first_non_finite_or_non_positive_step() {
        assert_eq!(first_bad(&[3.0, 2.0, 1.0], &[10, 20, 30]), None);
        assert_eq!(
            first_bad(&[3.0, f64::INFINITY, f64::NAN], &[10, 20, 30]),
            Some((20, f64::INFINITY))
        );
        assert_eq!(
            first_bad(&[3.0, 2.0, -1.0], &[10, 20, 30]),
            Some((30, -1.0))
        );
        assert_eq!(first_bad(&[0.0], &[5]), Some((5, 0.0)));
    }
}
