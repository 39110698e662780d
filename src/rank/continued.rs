//! Continued training: predict the rest of a run after a fork under a new schedule.

use serde::{Deserialize, Serialize};

use super::RankError;
use super::eval;
use crate::data::TrainingCurve;
use crate::fit::{Band, Predictor};
use crate::law::LossLaw;
use crate::schedule::{LrGrid, Schedule, Tabulated};

/// How the prediction is anchored to where the observed run actually is at the fork.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum LevelCorrection {
    /// The law's prediction as is.
    None,
    /// Shift the whole predicted curve (and band) by the mean residual
    /// `observed − predicted` over the last `points` observed points at or before the fork. A
    /// mean over a few points rather than the last one alone, because single evaluations are
    /// noisy (±0.01 nats on the public runs); a constant shift, because the residual at the
    /// fork is mostly a level error of the fit that persists after it.
    MeanResidual {
        /// Observed points averaged (the last ones up to the fork).
        points: usize,
    },
}

impl Default for LevelCorrection {
    /// `None`. Measured on the 42 public 124M cooldown branches with the law fitted on the
    /// constant run up to the fork (`tests/rank_continued_shared.rs`), the correction changes
    /// the mean final-loss error by under 0.003 nats (`sde` 0.118 → 0.117, `momentum` 0.132 →
    /// 0.134): a fit of the run itself already sits at the run's level at the fork, and the
    /// remaining error is the law's response to the cooldown. Use `MeanResidual` when the fit
    /// comes from other runs than the one being continued.
    fn default() -> Self {
        LevelCorrection::None
    }
}

/// Options of [`continue_from`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContinueOptions {
    /// Level correction at the fork.
    pub level_correction: LevelCorrection,
    /// Steps to predict (1-based, increasing, within the concatenated schedule); `None`:
    /// `rank.curve_points` evenly spaced steps from the fork + 1 to the end.
    pub steps: Option<Vec<u64>>,
    /// Curve resolution and divergence rule.
    pub rank: super::RankOptions,
}

/// A continued-training prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Continuation {
    /// The predicted curve after the fork with its band, level correction applied.
    pub band: Band,
    /// The shift added to the law's prediction (0 without correction).
    pub offset: f64,
    /// The LR of every update: the observed run's up to the fork, then the new schedule's.
    pub grid: LrGrid,
    /// First step where the central prediction diverged, if it did.
    pub diverged: Option<u64>,
    /// Extrapolation and correction warnings.
    pub warnings: Vec<String>,
}

/// The schedule of a continued run: the observed LRs for updates `1..=fork_step`, then
/// `new_schedule` (its update 0 is update `fork_step + 1` overall).
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::rank::continued_schedule;
/// let run = TrainingCurve { name: "const".into(), lrs: lrsde::schedule::LrGrid::new(vec![1.0; 10]).unwrap(), steps: vec![10],
///     losses: vec![3.0], batch: None };
/// let s = continued_schedule(&run, 6, "linear:peak=1,steps=4".parse::<lrsde::schedule::ScheduleSpec>()?)?;
/// assert_eq!(s.grid().as_slice(), &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RankError::ForkBeyondRun`] if the run has fewer than `fork_step` LRs;
/// [`RankError::Schedule`] if the observed LRs are invalid.
pub fn continued_schedule(
    observed: &TrainingCurve,
    fork_step: u64,
    new_schedule: impl Into<Schedule>,
) -> Result<Schedule, RankError> {
    let new_schedule = new_schedule.into();
    let prefix = fork_prefix(observed, fork_step)?;
    if fork_step == 0 {
        return Ok(new_schedule);
    }
    let prefix = Tabulated::new(prefix.into_vec()).map_err(|e| schedule_err(observed, e))?;
    Schedule::Tabulated(prefix)
        .then_at(fork_step, new_schedule)
        .map_err(|e| schedule_err(observed, e))
}

/// The observed run's LRs of updates `1..=fork_step`: what a continued run keeps (empty for
/// a fork at 0). [`continued_schedule`] puts them before the new schedule, and a search of the
/// continuation scores candidates on them (`SearchOptions::prefix`).
///
/// ```
/// use lrsde::data::TrainingCurve;
/// let run = TrainingCurve { name: "run".into(), lrs: lrsde::schedule::LrGrid::new(vec![1.0, 0.5, 0.25]).unwrap(), steps: vec![3],
///     losses: vec![3.0], batch: None };
/// assert_eq!(lrsde::rank::fork_prefix(&run, 2)?.as_slice(), &[1.0, 0.5]);
/// assert!(lrsde::rank::fork_prefix(&run, 4).is_err());
/// # Ok::<(), lrsde::rank::RankError>(())
/// ```
///
/// # Errors
/// [`RankError::ForkBeyondRun`] if the run has fewer than `fork_step` LRs;
/// [`RankError::Schedule`] if those LRs are invalid.
pub fn fork_prefix(observed: &TrainingCurve, fork_step: u64) -> Result<LrGrid, RankError> {
    if fork_step > observed.lrs.len() as u64 {
        return Err(RankError::ForkBeyondRun {
            curve: observed.name.clone(),
            fork_step,
            updates: observed.lrs.len(),
        });
    }
    LrGrid::new(observed.lrs[..fork_step as usize].to_vec()).map_err(|e| schedule_err(observed, e))
}

fn schedule_err(observed: &TrainingCurve, source: crate::schedule::ScheduleError) -> RankError {
    RankError::Schedule {
        context: format!("continued training from `{}`", observed.name),
        source: source.into(),
    }
}

/// Predicts how a run continues after `fork_step` under `new_schedule`.
///
/// `observed` is the run so far (e.g. a constant-LR run; only its LRs up to the fork and its
/// losses up to the fork are used); the law predicts the concatenated schedule
/// ([`continued_schedule`]) with the fit's parameters and band. With
/// [`LevelCorrection::MeanResidual`] the prediction is shifted so that it continues from the
/// level the run actually reached: by the mean of `observed − predicted` over the last few
/// observed points at or before the fork (documented on the variant; measured on public data
/// in `tests/rank_continued_shared.rs` and `docs/accuracy.md`).
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit, FitOptions, Predictor};
/// use lrsde::law::{AnyLaw, LossLaw};
/// use lrsde::rank::{continue_from, ContinueOptions};
///
/// let lrs = lrsde::schedule::LrGrid::new(vec![1e-3; 1000]).unwrap();
/// let steps: Vec<u64> = (1..=20).map(|k| 50 * k).collect();
/// let losses = steps.iter().enumerate()
///     .map(|(i, &s)| (2.0 + 3.0 / (s as f64).sqrt()) * (1.0 + 1e-3 * ((i % 3) as f64 - 1.0)))
///     .collect();
/// let run = TrainingCurve { name: "const".into(), lrs, steps, losses, batch: None };
/// let mut law: AnyLaw = "power".parse()?;
/// law.configure(std::slice::from_ref(&run))?;
/// let opts = FitOptions { starts: law.initial_guesses(std::slice::from_ref(&run)), ..FitOptions::default() };
/// let predictor = Predictor::with_law(fit(&law, std::slice::from_ref(&run), &opts)?, law)?;
///
/// let cooldown: lrsde::schedule::Schedule = "linear:peak=1e-3,steps=200".parse()?;
/// let c = continue_from(&predictor, &run, 1000, &cooldown, &ContinueOptions::default())?;
/// assert_eq!(c.grid.len(), 1200);
/// assert_eq!(*c.band.steps.last().unwrap(), 1200);
/// assert!(c.offset.abs() < 0.01);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RankError::ForkBeyondRun`], [`RankError::Schedule`], [`RankError::InvalidOption`], or
/// [`RankError::Fit`] when a requested step is invalid.
pub fn continue_from<L: LossLaw>(
    predictor: &Predictor<L>,
    observed: &TrainingCurve,
    fork_step: u64,
    new_schedule: &Schedule,
    options: &ContinueOptions,
) -> Result<Continuation, RankError> {
    options.rank.validate()?;
    if let LevelCorrection::MeanResidual { points: 0 } = options.level_correction {
        return Err(RankError::InvalidOption {
            option: "level_correction",
            reason: "MeanResidual needs at least 1 point".into(),
        });
    }
    let fit_err = |source: crate::fit::FitError| RankError::Fit {
        context: format!("continued training from `{}`", observed.name),
        source: source.into(),
    };
    let fitted = predictor.fitted();
    let schedule = continued_schedule(observed, fork_step, new_schedule.clone())?;
    let grid = schedule.grid();
    let lrs = grid.as_slice();
    let n = lrs.len() as u64;
    let mut warnings = eval::extrapolation_warnings(fitted, grid.max_lr(), n);
    let steps = match &options.steps {
        Some(s) => s.clone(),
        None => {
            let first = (fork_step + 1).max(eval::first_positive(lrs).unwrap_or(1));
            eval::curve_steps(first, n, options.rank.curve_points)
        }
    };
    let mut band = predictor.predict_band(&grid, &steps).map_err(fit_err)?;
    let diverged =
        eval::first_divergence(predictor, &grid, &steps, &band.loss, options.rank.rule())
            .map_err(fit_err)?;

    let mut offset = 0.0;
    if let LevelCorrection::MeanResidual { points } = options.level_correction {
        let first = eval::first_positive(lrs).unwrap_or(u64::MAX);
        let obs: Vec<(u64, f64)> = observed
            .steps
            .iter()
            .zip(&observed.losses)
            .filter(|&(&s, &l)| s >= first && s <= fork_step && l.is_finite())
            .map(|(&s, &l)| (s, l))
            .collect();
        let tail = &obs[obs.len().saturating_sub(points)..];
        if tail.is_empty() {
            warnings.push(format!(
                "no observed loss at or before the fork step {fork_step}: no level correction"
            ));
        } else {
            let at: Vec<u64> = tail.iter().map(|p| p.0).collect();
            let pred = predictor.predict(&grid, &at).map_err(fit_err)?;
            let resid: Vec<f64> = tail
                .iter()
                .zip(&pred)
                .map(|(o, p)| o.1 - p)
                .filter(|r| r.is_finite())
                .collect();
            if resid.is_empty() {
                warnings.push(
                    "the law's prediction at the fork is not finite: no level correction".into(),
                );
            } else {
                offset = resid.iter().sum::<f64>() / resid.len() as f64;
                for v in band
                    .loss
                    .iter_mut()
                    .chain(band.lo.iter_mut())
                    .chain(band.hi.iter_mut())
                {
                    *v += offset;
                }
            }
        }
    }
    Ok(Continuation {
        band,
        offset,
        grid,
        diverged,
        warnings,
    })
}
