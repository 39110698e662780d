//! Leave-last-segment-out refits: fit the law on the first part of every curve, predict the
//! final loss of each curve, record the errors.

use crate::data::TrainingCurve;
use crate::fit::{FitError, FitOptions, SegmentError, UncertaintyMethod, fit_law};
use crate::law::{AnyLaw, LossLaw};

/// Fractions of each curve's length kept by the default refits (one refit per fraction).
pub const DEFAULT_CUTS: [f64; 2] = [0.5, 0.7];

/// A curve's points up to `cut` × its last step (`None` when fewer than 3 points remain or
/// nothing is held out).
fn truncate(c: &TrainingCurve, cut: f64) -> Option<TrainingCurve> {
    let last = *c.steps.last()?;
    let end = ((last as f64) * cut).floor() as u64;
    let keep = c.steps.iter().take_while(|&&s| s <= end).count();
    (keep >= 3 && keep < c.steps.len()).then(|| TrainingCurve {
        name: c.name.clone(),
        lrs: c.lrs.prefix(end as usize),
        steps: c.steps[..keep].to_vec(),
        losses: c.losses[..keep].to_vec(),
        batch: c.batch.clone(),
    })
}

/// For every fraction in `cuts`: refits `law` on the first `cut` of every curve (without
/// uncertainty), then predicts each truncated curve's final observed loss on its full LR
/// schedule. Returns the errors (predicted − observed), refit by refit, curve by curve.
///
/// ```
/// use lrsde::assess::segment_errors;
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::FitOptions;
///
/// // L = 2 + 3·S1^−0.5 exactly: the power law extrapolates it without error.
/// let lrs = lrsde::schedule::LrGrid::new(vec![1e-3; 2000]).unwrap();
/// let steps: Vec<u64> = (1..=40).map(|k| 50 * k).collect();
/// let losses = steps.iter().map(|&s| 2.0 + 3.0 / (s as f64).sqrt()).collect();
/// let curve = TrainingCurve { name: "c".into(), lrs, steps, losses, batch: None };
/// let errs = segment_errors(&"power".parse()?, &[curve], &FitOptions::default(), &[0.5])?;
/// assert_eq!(errs.len(), 1);
/// assert_eq!((errs[0].seen, errs[0].step), (1000, 2000));
/// assert!(errs[0].error.abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`fit_law`] on the truncated curves, or the law's refusal to predict a curve.
pub fn segment_errors(
    law: &AnyLaw,
    curves: &[TrainingCurve],
    options: &FitOptions,
    cuts: &[f64],
) -> Result<Vec<SegmentError>, FitError> {
    let mut out = Vec::new();
    for &cut in cuts {
        let pairs: Vec<(usize, &TrainingCurve, TrainingCurve)> = curves
            .iter()
            .enumerate()
            .filter_map(|(i, c)| truncate(c, cut).map(|t| (i, c, t)))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let truncated: Vec<TrainingCurve> = pairs.iter().map(|(_, _, t)| t.clone()).collect();
        // Given point weights follow their points into the refit: the kept curves, the kept
        // points of each.
        let weights = options.weights.as_ref().map(|w| {
            pairs
                .iter()
                .map(|(i, _, t)| {
                    w.get(*i).map_or_else(Vec::new, |wc| {
                        wc.iter().take(t.steps.len()).copied().collect()
                    })
                })
                .collect()
        });
        let opts = FitOptions {
            uncertainty: UncertaintyMethod::None,
            weights,
            ..options.clone()
        };
        let fitted = fit_law(law.clone(), &truncated, &opts)?;
        let refit = fitted.law()?;
        let params = fitted.params_vec();
        let seen = truncated
            .iter()
            .filter_map(|t| t.steps.last().copied())
            .max()
            .unwrap_or(0);
        for (_, full, _) in &pairs {
            let (Some(&step), Some(&obs)) = (full.steps.last(), full.losses.last()) else {
                continue;
            };
            let mut pred = [0.0];
            refit.predict_batched(&params, &full.lrs, full.batch.as_ref(), &[step], &mut pred)?;
            out.push(SegmentError {
                curve: full.name.clone(),
                seen,
                step,
                error: pred[0] - obs,
            });
        }
    }
    Ok(out)
}
