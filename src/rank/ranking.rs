//! Ranking candidate schedules by predicted final loss, with paired significance.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::RankError;
use super::eval::{self, DivergenceRule, Evaluated, paired_path_se};
use crate::fit::{Band, Predictor};
use crate::law::LossLaw;
use crate::quantile::quantile_select;
use crate::schedule::{Schedule, ScheduleSpec, Tabulated};

/// A schedule to rank, with the label it is reported under (the spec string or file name as
/// the user gave it).
///
/// ```
/// use lrsde::rank::Candidate;
/// let c: Candidate = "cosine:peak=3e-4,steps=24000".parse().unwrap();
/// assert_eq!(c.label, "cosine:peak=3e-4,steps=24000");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// How the candidate is reported.
    pub label: String,
    /// The schedule.
    pub schedule: Schedule,
}

impl Candidate {
    /// A candidate with an explicit label.
    pub fn new(label: impl Into<String>, schedule: impl Into<Schedule>) -> Self {
        Self {
            label: label.into(),
            schedule: schedule.into(),
        }
    }

    /// A command-line argument: a schedule spec, or a path to a file with an `lr` column (read
    /// with [`crate::data::read_lr_column`] into a tabulated schedule). It is a file if a file
    /// of that name exists, or if it has no `:` (no spec has none) — then a missing file is
    /// reported as such. The label is the argument as given.
    ///
    /// ```
    /// use lrsde::rank::Candidate;
    /// let c = Candidate::from_arg("wsd:peak=1e-3,steps=1000").unwrap();
    /// assert_eq!(c.label, "wsd:peak=1e-3,steps=1000");
    /// let err = Candidate::from_arg("no_such_schedule.csv").unwrap_err();
    /// assert!(err.to_string().contains("no_such_schedule.csv"));
    /// ```
    ///
    /// # Errors
    /// [`RankError::Schedule`] for a bad spec (naming the key and value),
    /// [`RankError::Data`] for an unreadable file.
    pub fn from_arg(arg: &str) -> Result<Self, RankError> {
        let path = Path::new(arg);
        if path.is_file() || !arg.contains(':') {
            let grid = crate::data::read_lr_column(path).map_err(|source| RankError::Data {
                path: arg.to_string(),
                source: source.into(),
            })?;
            let tab = Tabulated::new(grid.into_vec()).map_err(|source| RankError::Schedule {
                context: format!("schedule file `{arg}`"),
                source: source.into(),
            })?;
            return Ok(Self::new(arg, tab));
        }
        arg.parse()
    }
}

impl FromStr for Candidate {
    type Err = RankError;
    /// Parses a spec string; the label is the string as given (trimmed).
    fn from_str(s: &str) -> Result<Self, RankError> {
        let spec: ScheduleSpec =
            s.parse().map_err(
                |source: crate::schedule::ScheduleError| RankError::Schedule {
                    context: format!("candidate `{}`", s.trim()),
                    source: source.into(),
                },
            )?;
        Ok(Self::new(s.trim(), spec))
    }
}

impl From<ScheduleSpec> for Candidate {
    /// Labelled by the canonical spec string.
    fn from(spec: ScheduleSpec) -> Self {
        Self::new(spec.to_string(), spec)
    }
}

/// Options of [`rank`] (and of the final evaluation in [`search`](super::search)).
///
/// ```
/// let o = lrsde::rank::RankOptions::default();
/// assert_eq!((o.curve_points, o.divergence_factor), (200, 2.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RankOptions {
    /// Steps at which each predicted curve is evaluated (evenly spaced, last update included).
    pub curve_points: usize,
    /// Quantile of the paired per-draw gaps that must be `> 0` for a gap to be significant;
    /// `None`: the fit's lower band quantile (5 % by default), i.e. a one-sided test at that
    /// level.
    pub significance_quantile: Option<f64>,
    /// A prediction has diverged where it is non-finite or exceeds `divergence_factor` times
    /// the lowest loss predicted before it (training that doubles its loss has blown up).
    pub divergence_factor: f64,
    /// Also diverged where the prediction exceeds this loss.
    pub max_loss: Option<f64>,
}

impl Default for RankOptions {
    fn default() -> Self {
        Self {
            curve_points: 200,
            significance_quantile: None,
            divergence_factor: 2.0,
            max_loss: None,
        }
    }
}

impl RankOptions {
    pub(crate) fn validate(&self) -> Result<(), RankError> {
        let bad = |option, reason: &str| {
            Err(RankError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };
        if self.curve_points < 2 {
            return bad("curve_points", "must be >= 2");
        }
        if let Some(q) = self.significance_quantile
            && !(q.is_finite() && (0.0..=1.0).contains(&q))
        {
            return bad("significance_quantile", "must be in [0, 1]");
        }
        if !(self.divergence_factor.is_finite() && self.divergence_factor > 1.0) {
            return bad("divergence_factor", "must be finite and > 1");
        }
        if let Some(m) = self.max_loss
            && !(m.is_finite() && m > 0.0)
        {
            return bad("max_loss", "must be finite and > 0");
        }
        Ok(())
    }

    pub(crate) fn rule(&self) -> DivergenceRule {
        DivergenceRule {
            factor: self.divergence_factor,
            max_loss: self.max_loss,
        }
    }
}

/// One ranked candidate.
///
/// Serde (and [`Ranking::write_csv`]) field names: `rank, schedule, final_loss, loss_lo,
/// loss_hi, gap, significant, diverged, warnings`. A diverged candidate has `final_loss`,
/// `loss_lo`, `loss_hi` and `gap` = `+∞` (JSON `null`, CSV an empty cell).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankEntry {
    /// 1-based position, best first.
    pub rank: usize,
    /// The candidate's label.
    #[serde(rename = "schedule")]
    pub label: String,
    /// Predicted loss after the last update, at the fitted parameters.
    pub final_loss: f64,
    /// Lower edge of the band at the last update.
    pub loss_lo: f64,
    /// Upper edge of the band at the last update.
    pub loss_hi: f64,
    /// `final_loss − final_loss(best)` (0 for the best).
    pub gap: f64,
    /// Whether the candidate is worse than the best beyond the uncertainty: the
    /// `significance_quantile` (5 %) of the paired per-draw gaps `final_d(this) − final_d(best)`
    /// is `> 0`. Always `false` for the best, for diverged candidates and without draws.
    pub significant: bool,
    /// First step where the prediction diverged (non-finite or exploded), if it did.
    pub diverged: Option<u64>,
    /// Probability that this candidate has the lowest final loss of all, under the joint
    /// predictive distribution (parameter draws shared by all candidates; each candidate's own
    /// discrepancy and noise independent; the discrepancy shared by all cancels; for a Monte
    /// Carlo law, the path-to-path error of the shared paths, paired as in
    /// [`path_se`](Self::path_se)). 0 for a diverged candidate.
    #[serde(default)]
    pub p_best: f64,
    /// For a Monte Carlo law (`sim:model=adam|lossnoise`): the standard error of `gap` from the
    /// finite number of paths, paired (both candidates run on the same paths, so it is the
    /// spread of the path-by-path gap over `√paths`). It is added to the parameter
    /// uncertainty in `significant`. `None` for exact laws and for the best candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_se: Option<f64>,
    /// Extrapolation and band warnings.
    pub warnings: Vec<String>,
    /// The predicted curve with its band (not serialised).
    #[serde(skip)]
    pub curve: Option<Band>,
}

/// Candidates ranked best first; diverged ones last (latest divergence first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// The entries, best first.
    pub entries: Vec<RankEntry>,
}

impl Ranking {
    /// The best entry (`None` if every candidate diverged).
    pub fn best(&self) -> Option<&RankEntry> {
        self.entries.first().filter(|e| e.diverged.is_none())
    }

    /// Writes the ranking as CSV with the header
    /// `rank,schedule,final_loss,loss_lo,loss_hi,gap,significant,diverged,p_best` (warnings are left
    /// out: they are free text; use JSON for them). `diverged` is empty for a finite prediction,
    /// and a non-finite number (a diverged candidate's loss, band and gap) is an empty cell, as
    /// JSON gives `null`.
    ///
    /// # Errors
    /// [`std::io::Error`] from the writer.
    pub fn write_csv<W: std::io::Write>(&self, writer: W) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(writer);
        let io = |e: csv::Error| std::io::Error::other(e.to_string());
        w.write_record([
            "rank",
            "schedule",
            "final_loss",
            "loss_lo",
            "loss_hi",
            "gap",
            "significant",
            "diverged",
            "p_best",
        ])
        .map_err(io)?;
        for e in &self.entries {
            w.write_record([
                e.rank.to_string(),
                e.label.clone(),
                finite_cell(e.final_loss),
                finite_cell(e.loss_lo),
                finite_cell(e.loss_hi),
                finite_cell(e.gap),
                e.significant.to_string(),
                e.diverged.map(|s| s.to_string()).unwrap_or_default(),
                finite_cell(e.p_best),
            ])
            .map_err(io)?;
        }
        w.flush()
    }
}

/// A CSV cell: the number, or empty when it is not finite, since `inf` and `NaN` are not numbers
/// to most CSV readers and a diverged candidate has no loss.
fn finite_cell(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

impl fmt::Display for Ranking {
    /// An aligned text table (the CLI's `--format table`), warnings listed below it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .entries
            .iter()
            .map(|e| e.label.chars().count())
            .max()
            .unwrap_or(0)
            .max(8);
        writeln!(
            f,
            "{:>4}  {:<width$}  {:>10}  {:>23}  {:>9}  {:<11}  {:>6}  diverged",
            "rank", "schedule", "final_loss", "band", "gap", "significant", "p_best"
        )?;
        for e in &self.entries {
            if let Some(step) = e.diverged {
                writeln!(
                    f,
                    "{:>4}  {:<width$}  {:>10}  {:>23}  {:>9}  {:<11}  {:>6}  at step {step}",
                    e.rank, e.label, "-", "-", "-", "-", "-"
                )?;
            } else {
                writeln!(
                    f,
                    "{:>4}  {:<width$}  {:>10.4}  {:>23}  {:>+9.4}  {:<11}  {:>6.3}  -",
                    e.rank,
                    e.label,
                    e.final_loss,
                    format!("[{:.4}, {:.4}]", e.loss_lo, e.loss_hi),
                    e.gap,
                    match (e.significant, e.rank) {
                        (true, _) => "yes",
                        (false, 1) => "-",
                        (false, _) => "tie",
                    },
                    e.p_best,
                )?;
            }
        }
        for e in &self.entries {
            for w in &e.warnings {
                writeln!(f, "warning: {}: {w}", e.label)?;
            }
        }
        Ok(())
    }
}

/// Ranks `candidates` by the loss `predictor` predicts after their last update, best first.
///
/// **Common random numbers.** Every candidate's band comes from the same stored parameter
/// draws of the fit, so two candidates' predictions are correlated through the parameters. A
/// gap is therefore judged *paired*: for each draw `d`, `gap_d = final_d(candidate) −
/// final_d(best)`, and the gap is `significant` when the `significance_quantile` (default: the
/// fit's lower band quantile, 5 %) of the `gap_d` is above 0 — "worse than the best in at least
/// 95 % of the plausible parameter sets". This is far sharper than asking whether two bands
/// overlap, since most of a band's width is shared by every candidate. Draws that fail for
/// either candidate are left out of its pairs.
///
/// **Monte Carlo laws.** A law whose prediction is a mean over fixed paths
/// ([`LossLaw::path_predictions`], `sim:model=adam|lossnoise`) runs every candidate on the same
/// paths, so the Monte Carlo error of a gap is that of the path-by-path gaps: their standard
/// error ([`RankEntry::path_se`]) is added, as an independent normal error, to every paired
/// draw's gap before the quantile is taken. Two identical schedules have `path_se = 0`.
/// [`RankEntry::p_best`] samples the same error jointly: each sample weights the shared paths
/// with one set of normals, so every pair of candidates gets exactly its `path_se` and
/// identical schedules get identical errors.
///
/// **Divergence.** A candidate whose central prediction becomes non-finite or exceeds
/// `divergence_factor` × its lowest earlier prediction (or `max_loss`) is ranked last with the
/// first such step (refined to the exact update), e.g. the `sde` law beyond its stable LR.
///
/// **Warnings.** A peak LR above the largest the fit saw, or more than 1 % more steps than it
/// saw, are reported per entry ("extrapolating to N steps, fit saw up to M"), not refused.
///
/// Candidates are evaluated in parallel (rayon); the result does not depend on the thread
/// count. Ties keep the input order.
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit, FitOptions, Predictor};
/// use lrsde::law::{AnyLaw, LossLaw};
/// use lrsde::rank::{rank, Candidate, RankOptions};
///
/// // A constant-LR run following L = 2 + 3·S1^−0.5 (S1 = LR area in units of the peak).
/// let lrs = lrsde::schedule::LrGrid::new(vec![1e-3; 2000]).unwrap();
/// let steps: Vec<u64> = (1..=40).map(|k| 50 * k).collect();
/// let losses = steps.iter().enumerate()
///     .map(|(i, &s)| (2.0 + 3.0 / (s as f64).sqrt()) * (1.0 + 1e-3 * ((i % 3) as f64 - 1.0)))
///     .collect();
/// let curves = [TrainingCurve { name: "const".into(), lrs, steps, losses, batch: None }];
/// let mut law: AnyLaw = "power".parse()?;
/// law.configure(&curves)?;
/// let opts = FitOptions { starts: law.initial_guesses(&curves), ..FitOptions::default() };
/// let predictor = Predictor::with_law(fit(&law, &curves, &opts)?, law)?;
///
/// let candidates: Vec<Candidate> = ["cosine:peak=1e-3,steps=2000", "constant:peak=1e-3,steps=2000"]
///     .iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
/// let ranking = rank(&predictor, &candidates, &RankOptions::default())?;
/// assert_eq!(ranking.entries[0].label, "constant:peak=1e-3,steps=2000"); // more LR area
/// assert!(ranking.entries[1].gap > 0.0 && ranking.entries[1].significant);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RankError::NoCandidates`], [`RankError::InvalidOption`], [`RankError::Fit`] when a
/// schedule has no positive LR.
pub fn rank<L: LossLaw>(
    predictor: &Predictor<L>,
    candidates: &[Candidate],
    options: &RankOptions,
) -> Result<Ranking, RankError> {
    options.validate()?;
    if candidates.is_empty() {
        return Err(RankError::NoCandidates);
    }
    let fitted = predictor.fitted();
    let rule = options.rule();
    // Parallel over candidates (each band is itself parallel over draws), collected in input
    // order; the first error in input order is reported.
    let evaluated: Vec<Evaluated> = candidates
        .par_iter()
        .map(|c| {
            let grid = c.schedule.grid();
            eval::evaluate(predictor, &grid, options.curve_points, rule).map_err(|source| {
                RankError::Fit {
                    context: format!("candidate `{}`", c.label),
                    source: source.into(),
                }
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<_, _>>()?;
    // With a predictive model the gap's interval is central at the model's level; without
    // one, the historical one-sided test at the lower band quantile.
    let q = options.significance_quantile.unwrap_or_else(|| {
        fitted
            .predictive
            .as_ref()
            .map_or(fitted.band_quantiles.0, |p| 0.5 - 0.5 * p.level)
    });
    Ok(assemble(candidates, evaluated, q))
}

/// Stream index of the predictive noise in rank's Monte Carlo (the parameter draws use
/// indices from 0, the fit's random starts 2⁴⁰ on).
const RANK_STREAM: u64 = 1 << 41;
/// Noise samples per parameter draw in rank's Monte Carlo.
const REPLICATES: usize = 64;

/// Normal samples of candidate `i`'s own error for every (draw, replicate), deterministic.
fn own_noise(i: usize, n: usize) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = crate::rng::path_rng(0, RANK_STREAM + i as u64);
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// Stream of the disagreement factor in rank's Monte Carlo (one standard normal per sample,
/// shared by every candidate); below the path stream, far above every candidate's own.
const SHIFT_STREAM: u64 = RANK_STREAM + (1 << 39);

/// The shared disagreement factor of `n` samples, deterministic.
fn shift_factor(n: usize) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = crate::rng::path_rng(0, SHIFT_STREAM);
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// Stream of the path weights in rank's Monte Carlo; above every candidate's own stream
/// (`RANK_STREAM + i`), so adding it leaves those, and exact laws' `p_best`, unchanged.
const PATH_STREAM: u64 = RANK_STREAM + (1 << 40);

/// Candidate `i`'s path finals centred and scaled so that `Σ_p z_p·w[i][p]`, with `z` standard
/// normals shared by all candidates, is a normal Monte Carlo error whose paired difference for
/// any two candidates has exactly their `paired_path_se` as standard deviation:
/// `Var = Σ_p (d_p − d̄)² / (P(P−1))`. Empty (no such error) without ≥ 2 finite paths, as in
/// `paired_path_se`.
fn path_weights(e: &Evaluated) -> Vec<f64> {
    let x = &e.path_finals;
    let n = x.len();
    if e.diverged.is_some() || n < 2 || !x.iter().all(|v| v.is_finite()) {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let scale = ((n * (n - 1)) as f64).sqrt();
    x.iter().map(|v| (v - mean) / scale).collect()
}

/// `P(candidate i is best)` for every candidate: per parameter draw `d` (or the central
/// prediction when there are none) and replicate, each finite candidate's final loss plus its
/// own error `own_sd·z` plus, for a Monte Carlo law, its path error (one set of normal path
/// weights per sample, shared by all candidates, so they stay paired on the same paths and
/// identical schedules get identical errors); the lowest wins. Diverged candidates get 0.
// The sample index picks one noise value of every candidate's stream and the draw `s / R`.
#[allow(clippy::needless_range_loop)]
fn p_best(evaluated: &[Evaluated]) -> Vec<f64> {
    use rand_distr::{Distribution, StandardNormal};
    let n_draws = evaluated
        .iter()
        .filter(|e| e.diverged.is_none())
        .map(|e| e.finals.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let samples = n_draws * REPLICATES;
    let noise: Vec<Vec<f64>> = (0..evaluated.len())
        .map(|i| own_noise(i, samples))
        .collect();
    let weights: Vec<Vec<f64>> = evaluated.iter().map(path_weights).collect();
    // Fits without a disagreement term draw no factor, keeping their samples' bits.
    let shared = if evaluated.iter().any(|e| e.shift != 0.0) {
        shift_factor(samples)
    } else {
        Vec::new()
    };
    let n_paths = weights.iter().map(Vec::len).max().unwrap_or(0);
    // Drawn sample by sample from one stream, so the result is sequential and deterministic.
    let mut path_rng = crate::rng::path_rng(0, PATH_STREAM);
    let mut z = vec![0.0; n_paths];
    let mut wins = vec![0usize; evaluated.len()];
    let mut total = 0usize;
    for s in 0..samples {
        let d = s / REPLICATES;
        for zp in z.iter_mut() {
            *zp = StandardNormal.sample(&mut path_rng);
        }
        let mut best: Option<(usize, f64)> = None;
        for (i, e) in evaluated.iter().enumerate() {
            if e.diverged.is_some() {
                continue;
            }
            let centre = if e.finals.is_empty() {
                e.final_loss()
            } else {
                e.finals.get(d).copied().unwrap_or(f64::NAN)
            };
            let mut x = centre + e.own_sd * noise[i][s];
            if e.shift != 0.0 {
                x += e.shift * shared[s];
            }
            if !weights[i].is_empty() {
                // Exact laws skip this, keeping their samples bit-identical.
                x += weights[i].iter().zip(&z).map(|(w, z)| w * z).sum::<f64>();
            }
            if x.is_finite() && best.is_none_or(|(_, b)| x < b) {
                best = Some((i, x));
            }
        }
        if let Some((i, _)) = best {
            wins[i] += 1;
            total += 1;
        }
    }
    wins.iter()
        .map(|&w| {
            if total == 0 {
                0.0
            } else {
                w as f64 / total as f64
            }
        })
        .collect()
}

/// Orders evaluated candidates and computes gaps and paired significance.
pub(crate) fn assemble(candidates: &[Candidate], evaluated: Vec<Evaluated>, q: f64) -> Ranking {
    let best = evaluated
        .iter()
        .enumerate()
        .filter(|(_, e)| e.diverged.is_none())
        .min_by(|a, b| a.1.final_loss().total_cmp(&b.1.final_loss()))
        .map(|(i, _)| i);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    // Finite predictions by final loss; diverged ones after them, latest divergence first; a
    // stable sort keeps the input order on ties.
    order.sort_by(|&a, &b| {
        let (ea, eb) = (&evaluated[a], &evaluated[b]);
        match (ea.diverged, eb.diverged) {
            (None, None) => ea.final_loss().total_cmp(&eb.final_loss()),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(&x),
        }
    });
    let p_best = p_best(&evaluated);
    let mut slots: Vec<Option<Evaluated>> = evaluated.into_iter().map(Some).collect();
    let best_eval = best.and_then(|b| slots[b].clone());
    let entries = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| {
            let e = slots[i]
                .take()
                .expect("each index appears once in the order");
            let mut warnings = e.warnings.clone();
            let mut path_se = None;
            let (final_loss, lo, hi, gap, significant) = match (&e.diverged, &best_eval) {
                (None, Some(b)) => {
                    let last = e.band.loss.len() - 1;
                    let gap = e.final_loss() - b.final_loss();
                    let significant = if Some(i) == best {
                        false
                    } else {
                        // Paired over the shared parameter draws, plus the two candidates' own
                        // discrepancy and noise, which do not cancel, plus the Monte Carlo
                        // error of the gap on the shared paths (independent of both).
                        path_se = paired_path_se(&e.path_finals, &b.path_finals);
                        let own =
                            (e.own_sd.powi(2) + b.own_sd.powi(2) + path_se.unwrap_or(0.0).powi(2))
                                .sqrt();
                        let noise = own_noise(candidates.len() + i, REPLICATES * e.finals.len());
                        // The disagreement moves both candidates with one factor: only the
                        // difference of their shifts separates them.
                        let dshift = e.shift - b.shift;
                        let shared = if dshift != 0.0 {
                            shift_factor(REPLICATES * e.finals.len())
                        } else {
                            Vec::new()
                        };
                        let mut gaps: Vec<f64> = e
                            .finals
                            .iter()
                            .zip(&b.finals)
                            .map(|(x, y)| x - y)
                            .enumerate()
                            .flat_map(|(d, g)| {
                                let (noise, shared) = (&noise, &shared);
                                (0..REPLICATES).map(move |r| {
                                    let k = d * REPLICATES + r;
                                    let x = g + own * noise[k];
                                    if dshift != 0.0 {
                                        x + dshift * shared[k]
                                    } else {
                                        x
                                    }
                                })
                            })
                            .filter(|g| g.is_finite())
                            .collect();
                        if gaps.is_empty() && !e.finals.is_empty() {
                            warnings.push(
                                "no parameter draw is finite for both this candidate and the \
                                 best: significance unknown"
                                    .into(),
                            );
                        }
                        !gaps.is_empty() && quantile_select(&mut gaps, q) > 0.0
                    };
                    (
                        e.final_loss(),
                        e.band.lo[last],
                        e.band.hi[last],
                        gap,
                        significant,
                    )
                }
                _ => (
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::INFINITY,
                    false,
                ),
            };
            RankEntry {
                rank: pos + 1,
                label: candidates[i].label.clone(),
                final_loss,
                loss_lo: lo,
                loss_hi: hi,
                gap,
                significant,
                diverged: e.diverged,
                p_best: p_best[i],
                path_se,
                warnings,
                curve: Some(e.band),
            }
        })
        .collect();
    Ranking { entries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Band;

    /// A finite candidate with constant parameter draws `centre`, own error `own_sd` and the
    /// given path finals.
    fn ev(centre: f64, draws: usize, own_sd: f64, path_finals: Vec<f64>) -> Evaluated {
        Evaluated {
            band: Band {
                steps: vec![1],
                loss: vec![centre],
                lo: vec![centre],
                hi: vec![centre],
                draws_used: draws,
                draws_dropped: 0,
            },
            finals: vec![centre; draws],
            diverged: None,
            warnings: Vec::new(),
            own_sd,
            shift: 0.0,
            path_finals,
        }
    }

    fn candidates(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| {
                format!("constant:peak=1e-3,steps={}", 10 + i)
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_disagreement_shared_by_every_candidate_changes_no_comparison() {
        let plain = [ev(1.0, 50, 0.0, Vec::new()), ev(1.01, 50, 0.0, Vec::new())];
        let mut shifted = plain.clone();
        for e in &mut shifted {
            e.shift = 0.05;
        }
        assert_eq!(p_best(&shifted), p_best(&plain));
        let r = assemble(&candidates(2), shifted.to_vec(), 0.05);
        assert!(r.entries[1].significant);
    }

    #[test]
    fn opposite_disagreements_make_a_gap_uncertain() {
        // a = 1.00 + 0.05·ζ, b = 1.01 − 0.05·ζ: a is best when ζ < 0.1, P = Φ(0.1).
        let mut e = [
            ev(1.0, 200, 0.0, Vec::new()),
            ev(1.01, 200, 0.0, Vec::new()),
        ];
        e[0].shift = 0.05;
        e[1].shift = -0.05;
        let p = p_best(&e);
        let oracle = 0.5 * statrs::function::erf::erfc(-0.1 / std::f64::consts::SQRT_2);
        // 12 800 samples: the binomial standard error is below 0.0045.
        assert!(
            (p[0] - oracle).abs() < 0.02,
            "p_best {p:?}, oracle {oracle}"
        );
        // The gap 0.01 against a 0.1·ζ shift: its 5 % quantile is far below 0.
        let r = assemble(&candidates(2), e.to_vec(), 0.05);
        assert!(!r.entries[1].significant && r.entries[1].gap > 0.0);
        // Without the shifts the same gap is certain.
        let e = [
            ev(1.0, 200, 0.0, Vec::new()),
            ev(1.01, 200, 0.0, Vec::new()),
        ];
        assert!(assemble(&candidates(2), e.to_vec(), 0.05).entries[1].significant);
    }

    /// The formula before the path error was sampled: exact laws must keep its bits.
    // As in `p_best`: the sample index picks one noise value of every candidate's stream.
    #[allow(clippy::needless_range_loop)]
    fn p_best_without_paths(evaluated: &[Evaluated]) -> Vec<f64> {
        let n_draws = evaluated
            .iter()
            .map(|e| e.finals.len())
            .max()
            .unwrap()
            .max(1);
        let samples = n_draws * REPLICATES;
        let noise: Vec<Vec<f64>> = (0..evaluated.len())
            .map(|i| own_noise(i, samples))
            .collect();
        let mut wins = vec![0usize; evaluated.len()];
        for s in 0..samples {
            let (i, _) = evaluated
                .iter()
                .enumerate()
                .map(|(i, e)| (i, e.finals[s / REPLICATES] + e.own_sd * noise[i][s]))
                .fold((0, f64::INFINITY), |b, c| if c.1 < b.1 { c } else { b });
            wins[i] += 1;
        }
        wins.iter().map(|&w| w as f64 / samples as f64).collect()
    }

    #[test]
    fn exact_laws_keep_the_previous_p_best_bits() {
        let e = [
            ev(1.0, 50, 0.02, Vec::new()),
            ev(1.01, 50, 0.03, Vec::new()),
            ev(0.99, 50, 0.05, Vec::new()),
        ];
        let (new, old) = (p_best(&e), p_best_without_paths(&e));
        assert_eq!(new, old);
        assert!(new.iter().all(|&p| p > 0.05), "{new:?}");
    }

    #[test]
    fn p_best_of_two_candidates_matches_the_paired_normal_oracle() {
        // Path finals: b = a + 0.01 + small path-by-path scatter, so the mean gap is 0.01 and
        // its paired standard error is `paired_path_se`; with no other error,
        // P(a best) = Φ(gap / se) exactly (the weights make the gap's error normal).
        let a: Vec<f64> = (0..8).map(|p| 1.0 + 0.3 * (p as f64).sin()).collect();
        let b: Vec<f64> = a
            .iter()
            .enumerate()
            .map(|(p, x)| x + 0.01 + 0.05 * (1.7 * p as f64).cos())
            .collect();
        let gap = b.iter().sum::<f64>() / 8.0 - a.iter().sum::<f64>() / 8.0;
        let se = paired_path_se(&b, &a).unwrap();
        let e = [ev(1.0, 200, 0.0, a), ev(1.0 + gap, 200, 0.0, b)];
        let p = p_best(&e);
        let oracle = 0.5 * statrs::function::erf::erfc(-gap / se / std::f64::consts::SQRT_2);
        assert!(
            oracle > 0.55 && oracle < 0.95,
            "oracle {oracle} not informative"
        );
        // 12 800 samples: the binomial standard error is below 0.0045.
        assert!(
            (p[0] - oracle).abs() < 0.02,
            "p_best {p:?}, oracle {oracle}"
        );
        assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn identical_paths_give_identical_errors_and_a_worse_candidate_loses() {
        let a: Vec<f64> = (0..8).map(|p| 1.0 + 0.3 * (p as f64).sin()).collect();
        let slow: Vec<f64> = a.iter().map(|x| x + 0.5).collect();
        // Without own error, identical candidates tie in every sample (the first wins):
        // their path errors are identical, not independent.
        let e = [
            ev(1.0, 100, 0.0, a.clone()),
            ev(1.0, 100, 0.0, a.clone()),
            ev(1.5, 100, 0.0, slow.clone()),
        ];
        assert_eq!(p_best(&e), vec![1.0, 0.0, 0.0]);
        // With own error they share the wins; the clearly worse one never wins.
        let e = [
            ev(1.0, 100, 0.01, a.clone()),
            ev(1.0, 100, 0.01, a),
            ev(1.5, 100, 0.01, slow),
        ];
        let p = p_best(&e);
        assert!((p[0] - p[1]).abs() < 0.05 && p[2] == 0.0, "{p:?}");
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
