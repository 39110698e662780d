//! Learning-rate schedules and their text form.
//!
//! A schedule maps an update index `t` (0-based: the LR of update `t + 1`) to a learning rate.
//! Every family of the spec grammar `family:key=value,…` is a [`ScheduleSpec`]; per-update
//! tables are [`Tabulated`]; [`Concat`] switches to another schedule (continued training);
//! [`Schedule`] holds any of them. All implement [`LrSchedule`]; simulations and laws consume
//! the precomputed [`LrGrid`]. A batch-size ramp is a [`BatchGrid`], written in the same grammar.
//!
//! # Spec grammar
//!
//! `family:key=value,key=value` (e.g. `wsd:peak=3e-4,steps=24000,warmup=500,decay=0.2,shape=sqrt`).
//! Family names and keys are ASCII case-insensitive, whitespace around separators is ignored, an
//! empty entry (trailing comma) is skipped. Numbers are Rust `f64` literals (`3e-4`, `0.001`);
//! `steps` and `warmup` are whole numbers (`24000` or `2.4e4`). `Display` prints the canonical
//! form (every family key written out, `warmup` only when non-zero, floats shortest
//! round-trip), and `parse(display(s)) == s` for every valid `s`.
//!
//! | family | keys (default) | LR after warmup, `s = t + 1`, `p` = decay progress |
//! |---|---|---|
//! | `constant` | — | `peak` |
//! | `cosine` | `final` (0) | `f + (peak − f)·½(1 + cos πp)`, `f = final·peak` |
//! | `linear` | `final` (0) | `f + (peak − f)·(1 − p)` |
//! | `wsd` | `decay` (0.2), `shape` (`linear`), `final` (0) | `peak` while `s ≤ S = steps − decay·steps`, then `f + (peak − f)·h(q)`, `q = (s − S)/(steps − S)`, `h` = `1 − q` \| `½(1 + cos πq)` \| `1 − √q` for `linear` \| `cosine` \| `sqrt` |
//! | `step` | `at` (required, `a/b/…`), `gamma` (0.1) | `peak·gammaⁿ`, `n` = number of milestones `kᵢ = round(atᵢ·steps)` with `t ≥ kᵢ` |
//! | `twostage` | `at` (required), `ratio` (0.1) | `peak` for `t < round(at·steps)`, then `ratio·peak` |
//! | `exp` | `final` (0.01) | `peak·finalᵖ` |
//! | `invsqrt` | — | `peak·√(max(warmup, 1)/s)` (no floor; the last LR is `peak·√(max(warmup,1)/steps)`) |
//! | `poly` | `power` (1), `final` (0) | `f + (peak − f)·(1 − p)^power` |
//!
//! Every family takes `peak` (required, finite, `> 0`), `steps` (required, `1 ≤ steps ≤ 2⁵³`)
//! and `warmup` (default 0, `≤ steps`). During warmup, `t < warmup`, the LR is
//! `peak·(t + 1)/warmup`, so update `warmup` (index `warmup − 1`) runs at exactly `peak`.
//!
//! **Decay convention.** The LR of update `t` is the decay curve at the position `s = t + 1`
//! reached after that update, the same convention as warmup. For `cosine`, `linear`, `exp` and
//! `poly`, `p = (s − warmup)/(steps − warmup)`: the first update after warmup is already slightly
//! decayed and the last update (`t = steps − 1`, `p = 1`) runs at exactly `final·peak`. For
//! `wsd`, the cooldown starts at the real position `S = (1 − decay)·steps`, not rounded (the LR is
//! continuous there, and a search over `decay` stays continuous); with integral `S`, updates
//! `t < S` run at `peak`. `step` and `twostage` milestones are rounded to whole updates because the
//! LR jumps there. For `t ≥ steps`, every schedule holds its last LR.
//!
//! **Validation** (errors name the key, value and spec): `final` in `[0, 1]` (`exp`: `(0, 1]`);
//! `decay` in `(0, 1]` with `decay·steps ≥ 1` (the cooldown covers an update) and
//! `(1 − decay)·steps ≥ warmup` (it does not overlap warmup); `gamma`, `ratio` in `[0, 1]`, so
//! `peak` is always the largest LR of a one-family spec (re-warming is a later phase); `at` fractions in `(0, 1)`,
//! strictly increasing, with milestones `round(at·steps)` in `[max(warmup, 1), steps)`; `power`
//! finite `> 0`; `cosine`, `linear`, `exp`, `poly` need `warmup < steps`.
//!
//! # Phases
//!
//! Multi-phase schedules (warmup → stable → decay → re-warm → …: WSD-S, cyclic cosine, "continue
//! at a lower LR, then cool down") join ordinary specs with `; @K`:
//! `cosine:peak=3e-4,steps=24000 ; @20000 linear:peak=1e-4,steps=4000`. `@K` is the number of
//! updates before the phase: the phase's own update 0 is update `K` overall (update `K + 1`
//! counted from 1, as `--resume RUN --at K` counts), and it runs for its own `steps`, with every
//! fraction (`decay`, `at`) relative to those `steps`. `K` must lie after the previous phase's
//! start and no later than its end (a phase may be cut short, not stretched); `@K` left out
//! means the previous phase's end. A phase's `warmup` re-warms linearly from the LR of the update
//! before it to its own `peak` (update `K + warmup − 1` runs at exactly `peak`): continued and
//! cyclic runs re-warm from where the LR is, not from 0 (after a decay to 0, the two agree).
//! Everything else is the phase's ordinary formula. `Display` always writes `; @K ` before a
//! later phase; errors name the phase (`phase 2 of schedule …`) and the key.
//! ```
//! use lrsde::schedule::{LrSchedule, ScheduleSpec};
//! let cos: ScheduleSpec = "cosine:peak=1,steps=100,final=0.1".parse().unwrap();
//! assert!((cos.lr(49) - 0.55).abs() < 1e-12); // midpoint: p = 0.5
//! assert_eq!(cos.lr(99), 0.1);
//! let step: ScheduleSpec = "step:peak=1,steps=100,at=0.5/0.75,gamma=0.5".parse().unwrap();
//! assert_eq!((step.lr(49), step.lr(50), step.lr(75)), (1.0, 0.5, 0.25));
//! let wsds: ScheduleSpec = "wsd:peak=1,steps=100,decay=0.1; @100 wsd:peak=1,steps=100,decay=0.1"
//!     .parse().unwrap();
//! assert_eq!((wsds.steps(), wsds.lr(99), wsds.lr(100)), (200, 0.0, 1.0)); // decayed, then back
//! ```

mod batch;
mod concat;
mod error;
mod families;
mod phases;
mod spec;
mod tabulated;
mod text;
pub(crate) use text::{KeyKind, KeyValue, build, family_and_keys, key_kind};

pub use batch::BatchGrid;
pub use concat::{Concat, Schedule};
pub use error::ScheduleError;
pub use spec::{
    DEFAULT_EXP_FINAL, DEFAULT_GAMMA, DEFAULT_POLY_POWER, DEFAULT_WSD_DECAY, Family, MAX_STEPS,
    ScheduleSpec, WsdShape,
};
pub use tabulated::Tabulated;

/// Relative tolerance within which two learning rates count as the same LR, e.g. the peak of a
/// spec and the largest LR of a fitted curve: loggers such as W&B store LRs in single
/// precision (2e-3 comes back as 0.0019999999701604274, 1.5e-8 below).
///
/// ```
/// let logged = 2e-3_f32 as f64;
/// assert!(2e-3 <= logged * (1.0 + lrsde::schedule::SAME_LR_RTOL));
/// ```
pub const SAME_LR_RTOL: f64 = 1e-6;

/// Peak LRs within this factor of each other count as one peak: a fit whose curves peak
/// further apart fits across peaks, and a schedule whose peak is further from every fit
/// curve's runs at a peak the fit never saw (both warned about: docs/accuracy.md, "Model-size
/// sets").
///
/// ```
/// let (fitted, candidate) = (1e-3, 5e-4);
/// assert!(fitted > candidate * lrsde::schedule::SAME_PEAK_RATIO);
/// ```
pub const SAME_PEAK_RATIO: f64 = 1.2;

/// The family names of the spec grammar.
pub const FAMILIES: [&str; 9] = [
    "constant", "cosine", "linear", "wsd", "step", "twostage", "exp", "invsqrt", "poly",
];

/// A learning-rate schedule over a fixed number of updates.
///
/// ```
/// use lrsde::schedule::{LrGrid, LrSchedule};
/// struct Halving;
/// impl LrSchedule for Halving {
///     fn lr(&self, t: u64) -> f64 { if t < 5 { 1.0 } else { 0.5 } }
///     fn steps(&self) -> u64 { 10 }
/// }
/// let grid = LrGrid::from_schedule(&Halving).unwrap();
/// assert_eq!(grid.len(), 10);
/// assert_eq!(grid.as_slice()[5], 0.5);
/// ```
pub trait LrSchedule {
    /// The LR of update `t + 1` (`t` counted from 0). Defined for every `t < steps()`.
    fn lr(&self, t: u64) -> f64;
    /// The number of updates the schedule covers.
    fn steps(&self) -> u64;
}

/// A schedule evaluated once per update: `as_slice()[t]` is the LR of update `t + 1`.
///
/// Hot loops read this grid instead of calling [`LrSchedule::lr`], so no dynamic dispatch or
/// transcendental function sits on the per-step path.
///
/// This is the one LR type the crate's APIs take, and [`LrGrid::new`] (which serde
/// deserialisation also goes through) the one place where an LR is checked: every LR on a grid
/// is finite and `>= 0`, so consumers never check again. The grid reads as a slice (`Deref`).
///
/// ```
/// use lrsde::schedule::LrGrid;
/// let grid = LrGrid::new(vec![0.1, 0.2, 0.3]).unwrap();
/// assert_eq!(grid[1], 0.2);
/// assert_eq!(grid.prefix(2).as_slice(), &[0.1, 0.2]);
/// assert!(serde_json::from_str::<LrGrid>("[0.1, -1.0]").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct LrGrid {
    lrs: Vec<f64>,
}

impl LrGrid {
    /// Evaluates `schedule` at every update.
    ///
    /// # Errors
    /// [`ScheduleError::BadLr`] if the schedule gives a negative or non-finite LR (a
    /// user-written [`LrSchedule`] may; the crate's own schedules cannot, and their `grid()`
    /// methods are infallible).
    pub fn from_schedule<S: LrSchedule + ?Sized>(schedule: &S) -> Result<Self, ScheduleError> {
        Self::new(Self::evaluate(schedule))
    }

    /// Evaluates one of the crate's schedules, whose validation already bounds every LR.
    pub(crate) fn from_valid_schedule<S: LrSchedule + ?Sized>(schedule: &S) -> Self {
        Self::from_validated(Self::evaluate(schedule))
    }

    fn evaluate<S: LrSchedule + ?Sized>(schedule: &S) -> Vec<f64> {
        (0..schedule.steps()).map(|t| schedule.lr(t)).collect()
    }

    /// Wraps per-update LRs, rejecting non-finite or negative values.
    ///
    /// ```
    /// let grid = lrsde::schedule::LrGrid::new(vec![0.1, 0.2]).unwrap();
    /// assert_eq!(grid.len(), 2);
    /// assert!(lrsde::schedule::LrGrid::new(vec![f64::NAN]).is_err());
    /// ```
    pub fn new(lrs: Vec<f64>) -> Result<Self, ScheduleError> {
        if let Some((t, &lr)) = lrs.iter().enumerate().find(|(_, lr)| !Self::valid_lr(**lr)) {
            return Err(ScheduleError::BadLr {
                step: t as u64 + 1,
                lr,
            });
        }
        Ok(Self { lrs })
    }

    /// The rule every LR obeys: finite and `>= 0`. [`LrGrid::new`] applies it; the curve
    /// readers apply it per cell too, to name the file, line and column of a bad LR.
    ///
    /// ```
    /// use lrsde::schedule::LrGrid;
    /// assert!(LrGrid::valid_lr(0.0) && !LrGrid::valid_lr(-1e-9) && !LrGrid::valid_lr(f64::NAN));
    /// ```
    pub fn valid_lr(lr: f64) -> bool {
        lr.is_finite() && lr >= 0.0
    }

    /// The per-update LRs.
    pub fn as_slice(&self) -> &[f64] {
        &self.lrs
    }

    /// Number of updates.
    pub fn len(&self) -> usize {
        self.lrs.len()
    }

    /// Whether the grid has no updates.
    pub fn is_empty(&self) -> bool {
        self.lrs.is_empty()
    }

    /// The largest LR on the grid (0 for an empty grid).
    pub fn max_lr(&self) -> f64 {
        self.lrs.iter().copied().fold(0.0, f64::max)
    }

    /// Consumes the grid, returning the LRs.
    pub fn into_vec(self) -> Vec<f64> {
        self.lrs
    }

    /// The first `k` updates (all of them if `k >= len()`), as a grid of their own.
    ///
    /// ```
    /// let grid = lrsde::schedule::LrGrid::new(vec![1.0, 0.5, 0.25]).unwrap();
    /// assert_eq!(grid.prefix(2).as_slice(), &[1.0, 0.5]);
    /// assert_eq!(grid.prefix(9).len(), 3);
    /// ```
    #[must_use]
    pub fn prefix(&self, k: usize) -> Self {
        Self {
            lrs: self.lrs[..k.min(self.lrs.len())].to_vec(),
        }
    }

    /// Wraps LRs already known to be finite and `>= 0` (taken from grids or schedules whose
    /// validation guarantees it), so they are not checked twice.
    pub(crate) fn from_validated(lrs: Vec<f64>) -> Self {
        debug_assert!(lrs.iter().all(|lr| Self::valid_lr(*lr)));
        Self { lrs }
    }
}

impl std::ops::Deref for LrGrid {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.lrs
    }
}

impl PartialEq<Vec<f64>> for LrGrid {
    fn eq(&self, other: &Vec<f64>) -> bool {
        self.lrs == *other
    }
}

impl PartialEq<&[f64]> for LrGrid {
    fn eq(&self, other: &&[f64]) -> bool {
        self.lrs == *other
    }
}

impl<const N: usize> PartialEq<[f64; N]> for LrGrid {
    fn eq(&self, other: &[f64; N]) -> bool {
        self.lrs == *other
    }
}

impl IntoIterator for LrGrid {
    type Item = f64;
    type IntoIter = std::vec::IntoIter<f64>;
    fn into_iter(self) -> Self::IntoIter {
        self.lrs.into_iter()
    }
}

impl<'a> IntoIterator for &'a LrGrid {
    type Item = &'a f64;
    type IntoIter = std::slice::Iter<'a, f64>;
    fn into_iter(self) -> Self::IntoIter {
        self.lrs.iter()
    }
}

impl AsRef<[f64]> for LrGrid {
    fn as_ref(&self) -> &[f64] {
        &self.lrs
    }
}

impl TryFrom<Vec<f64>> for LrGrid {
    type Error = ScheduleError;
    fn try_from(lrs: Vec<f64>) -> Result<Self, ScheduleError> {
        Self::new(lrs)
    }
}

impl From<LrGrid> for Vec<f64> {
    fn from(grid: LrGrid) -> Self {
        grid.lrs
    }
}

impl LrSchedule for LrGrid {
    /// `as_slice()[t]`; for `t >= steps` the last LR is held (as every schedule does), and an
    /// empty grid gives 0.
    fn lr(&self, t: u64) -> f64 {
        let last = self.lrs.len().saturating_sub(1);
        let i = usize::try_from(t).map_or(last, |t| t.min(last));
        self.lrs.get(i).copied().unwrap_or(0.0)
    }
    fn steps(&self) -> u64 {
        self.lrs.len() as u64
    }
}

impl<S: LrSchedule + ?Sized> LrSchedule for &S {
    fn lr(&self, t: u64) -> f64 {
        (**self).lr(t)
    }
    fn steps(&self) -> u64 {
        (**self).steps()
    }
}

impl<S: LrSchedule + ?Sized> LrSchedule for Box<S> {
    fn lr(&self, t: u64) -> f64 {
        (**self).lr(t)
    }
    fn steps(&self) -> u64 {
        (**self).steps()
    }
}

impl<S: LrSchedule + ?Sized> LrSchedule for std::sync::Arc<S> {
    fn lr(&self, t: u64) -> f64 {
        (**self).lr(t)
    }
    fn steps(&self) -> u64 {
        (**self).steps()
    }
}

#[cfg(test)]
mod tests;
