//! The validated schedule description behind the spec grammar.

use serde::{Deserialize, Serialize};

use super::error::ScheduleError;
use super::phases::Phase;
use super::text::fmt_f64;
use super::{LrGrid, LrSchedule};

/// The largest accepted `steps`: every update index converts to `f64` exactly below 2⁵³.
pub const MAX_STEPS: u64 = 1 << 53;

/// Default `decay` of `wsd`: the last 20 % of the updates cool down.
pub const DEFAULT_WSD_DECAY: f64 = 0.2;
/// Default `final` of `exp`: the LR decays by a factor 100 (exponential decay cannot reach 0).
pub const DEFAULT_EXP_FINAL: f64 = 0.01;
/// Default `gamma` of `step` and `ratio` of `twostage`.
pub const DEFAULT_GAMMA: f64 = 0.1;
/// Default `power` of `poly` (linear decay, as in PyTorch / TF / HF polynomial schedules).
pub const DEFAULT_POLY_POWER: f64 = 1.0;

/// Shape of the cooldown of a `wsd` schedule, as a function of decay progress `p ∈ [0, 1]`.
///
/// ```
/// use lrsde::schedule::WsdShape;
/// assert_eq!("sqrt".parse::<WsdShape>().unwrap(), WsdShape::Sqrt);
/// assert_eq!(WsdShape::Cosine.to_string(), "cosine");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WsdShape {
    /// `h(p) = 1 − p` (spec value `linear`, the default).
    #[default]
    Linear,
    /// `h(p) = ½·(1 + cos(π·p))` (spec value `cosine`).
    Cosine,
    /// `h(p) = 1 − √p`, the "1−sqrt" cooldown of Hägele et al. (spec value `sqrt`).
    Sqrt,
}

impl WsdShape {
    /// The spec-string name: `linear`, `cosine` or `sqrt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Cosine => "cosine",
            Self::Sqrt => "sqrt",
        }
    }
}

/// The family of a [`ScheduleSpec`] with its family-specific parameters.
///
/// Field `floor` is the spec key `final` (a Rust keyword): the last LR as a fraction of `peak`.
/// Formulas are in the [module docs](super). Values are checked by [`ScheduleSpec::new`].
///
/// ```
/// use lrsde::schedule::{Family, ScheduleSpec};
/// let spec = ScheduleSpec::new(Family::Cosine { floor: 0.1 }, 1e-3, 1000, 0).unwrap();
/// assert_eq!(spec.to_string(), "cosine:peak=0.001,steps=1000,final=0.1");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Family {
    /// `constant`: `peak` after warmup.
    Constant,
    /// `cosine`: half-cosine from `peak` to `floor·peak`.
    Cosine {
        /// `final`, in `[0, 1]`; default 0.
        floor: f64,
    },
    /// `linear`: straight line from `peak` to `floor·peak`.
    Linear {
        /// `final`, in `[0, 1]`; default 0.
        floor: f64,
    },
    /// `wsd`: warmup, stable at `peak`, then a cooldown over the last `decay` fraction of the steps.
    Wsd {
        /// `decay`: fraction of `steps` in the cooldown, in `(0, 1]`; default 0.2.
        decay: f64,
        /// `shape` of the cooldown; default `linear`.
        shape: WsdShape,
        /// `final`, in `[0, 1]`; default 0.
        floor: f64,
    },
    /// `step`: multiply by `gamma` at each milestone.
    Step {
        /// `at`: milestone fractions of `steps`, strictly increasing, each in `(0, 1)`; required.
        at: Vec<f64>,
        /// `gamma`, in `[0, 1]`; default 0.1.
        gamma: f64,
    },
    /// `twostage`: `peak` until the milestone, then `ratio·peak`.
    TwoStage {
        /// `at`: milestone fraction of `steps`, in `(0, 1)`; required.
        at: f64,
        /// `ratio`, in `[0, 1]`; default 0.1.
        ratio: f64,
    },
    /// `exp`: geometric decay from `peak` to `floor·peak`.
    Exp {
        /// `final`, in `(0, 1]`; default 0.01.
        floor: f64,
    },
    /// `invsqrt`: `peak·√(max(warmup, 1) / (t + 1))` after warmup.
    InvSqrt,
    /// `poly`: `(1 − p)^power` decay from `peak` to `floor·peak`.
    Poly {
        /// `power`, finite and `> 0`; default 1.
        power: f64,
        /// `final`, in `[0, 1]`; default 0.
        floor: f64,
    },
}

impl Family {
    /// The spec-string family name, e.g. `"wsd"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine { .. } => "cosine",
            Self::Linear { .. } => "linear",
            Self::Wsd { .. } => "wsd",
            Self::Step { .. } => "step",
            Self::TwoStage { .. } => "twostage",
            Self::Exp { .. } => "exp",
            Self::InvSqrt => "invsqrt",
            Self::Poly { .. } => "poly",
        }
    }

    /// Turns `-0.0` into `0.0` so that equal schedules compare and print alike.
    fn normalized(mut self) -> Self {
        let norm = |x: &mut f64| *x += 0.0;
        match &mut self {
            Self::Constant | Self::InvSqrt => {}
            Self::Cosine { floor } | Self::Linear { floor } | Self::Exp { floor } => norm(floor),
            Self::Wsd { floor, .. } | Self::Poly { floor, .. } => norm(floor),
            Self::Step { gamma, .. } => norm(gamma),
            Self::TwoStage { ratio, .. } => norm(ratio),
        }
        self
    }
}

/// A validated schedule of one family of the spec grammar `family:key=value,…`.
///
/// Build it by parsing a spec string or with [`ScheduleSpec::new`]; `Display` prints the canonical
/// spec, which parses back to an equal value. Serde reads and writes it as that string. Several
/// such specs joined at update boundaries (`a; @K b`, [`ScheduleSpec::then_at`]) are one
/// multi-phase `ScheduleSpec` (see the [module docs](super)); the accessors then describe the
/// first phase, except [`Self::steps`] and [`Self::peak`], which cover the whole schedule.
///
/// ```
/// use lrsde::schedule::{LrSchedule, ScheduleSpec};
/// let spec: ScheduleSpec = "wsd:peak=1e-3,steps=1000,warmup=100,decay=0.2,shape=sqrt".parse().unwrap();
/// assert_eq!(spec.lr(0), 1e-5); // warmup: peak·(t+1)/warmup
/// assert_eq!(spec.lr(799), 1e-3); // stable until 80 % of the steps
/// assert_eq!(spec.lr(999), 0.0); // the last update reaches final·peak exactly
/// assert_eq!(spec.to_string().parse::<ScheduleSpec>().unwrap(), spec);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScheduleSpec {
    // `family`, `peak`, `steps`, `warmup`: the first (for most specs the only) phase.
    pub(super) family: Family,
    pub(super) peak: f64,
    pub(super) steps: u64,
    pub(super) warmup: u64,
    /// The phases after the first, in order (see [`ScheduleSpec::then_at`]).
    pub(super) later: Vec<Phase>,
}

impl ScheduleSpec {
    /// Validates and builds a schedule: `peak` finite `> 0`, `1 ≤ steps ≤ 2⁵³`, `warmup ≤ steps`,
    /// and the family rules in the [module docs](super).
    ///
    /// ```
    /// use lrsde::schedule::{Family, ScheduleSpec};
    /// assert!(ScheduleSpec::new(Family::Constant, 0.1, 100, 10).is_ok());
    /// let err = ScheduleSpec::new(Family::Constant, 0.1, 100, 200).unwrap_err();
    /// assert!(err.to_string().contains("warmup=200"));
    /// ```
    pub fn new(family: Family, peak: f64, steps: u64, warmup: u64) -> Result<Self, ScheduleError> {
        let spec = Self {
            family: family.normalized(),
            peak,
            steps,
            warmup,
            later: Vec::new(),
        };
        spec.validate()?;
        Ok(spec)
    }

    /// The family and its parameters (of the first phase for a multi-phase spec; see
    /// [`Self::phases`]).
    pub fn family(&self) -> &Family {
        &self.family
    }

    /// The family name, e.g. `"cosine"` (of the first phase for a multi-phase spec).
    pub fn name(&self) -> &'static str {
        self.family.name()
    }

    /// The peak LR: the largest LR of the schedule (the largest phase peak for a multi-phase
    /// spec).
    pub fn peak(&self) -> f64 {
        self.later
            .iter()
            .map(|p| p.spec.peak)
            .fold(self.peak, f64::max)
    }

    /// The number of updates (of all phases together).
    pub fn steps(&self) -> u64 {
        self.later
            .last()
            .map_or(self.steps, |p| p.start + p.spec.steps)
    }

    /// The number of linear-warmup updates (of the first phase for a multi-phase spec).
    pub fn warmup(&self) -> u64 {
        self.warmup
    }

    /// The same schedule with another peak LR (validated; single-family specs only).
    ///
    /// ```
    /// let s: lrsde::schedule::ScheduleSpec = "cosine:peak=1,steps=10".parse().unwrap();
    /// assert_eq!(s.with_peak(0.5).unwrap().peak(), 0.5);
    /// ```
    pub fn with_peak(self, peak: f64) -> Result<Self, ScheduleError> {
        self.single("with_peak")?;
        Self::new(self.family, peak, self.steps, self.warmup)
    }

    /// The same schedule over another number of updates (validated; single-family specs only).
    /// Fractions (`decay`, `at`) stay fractions, so a WSD cooldown stretches with the run;
    /// `warmup` stays in updates.
    ///
    /// ```
    /// let s: lrsde::schedule::ScheduleSpec = "wsd:peak=1,steps=100".parse().unwrap();
    /// assert_eq!(s.with_steps(1000).unwrap().to_string(), "wsd:peak=1,steps=1000,decay=0.2,shape=linear,final=0");
    /// ```
    pub fn with_steps(self, steps: u64) -> Result<Self, ScheduleError> {
        self.single("with_steps")?;
        Self::new(self.family, self.peak, steps, self.warmup)
    }

    /// The same schedule with another warmup length (validated; single-family specs only).
    ///
    /// ```
    /// let s: lrsde::schedule::ScheduleSpec = "constant:peak=1,steps=10".parse().unwrap();
    /// assert_eq!(s.with_warmup(5).unwrap().warmup(), 5);
    /// ```
    pub fn with_warmup(self, warmup: u64) -> Result<Self, ScheduleError> {
        self.single("with_warmup")?;
        Self::new(self.family, self.peak, self.steps, warmup)
    }

    /// The same peak, steps and warmup with another family (validated; single-family specs
    /// only), e.g. to sweep a WSD decay fraction or a cosine floor.
    ///
    /// ```
    /// use lrsde::schedule::{Family, ScheduleSpec};
    /// let s: ScheduleSpec = "cosine:peak=1,steps=10".parse().unwrap();
    /// let t = s.with_family(Family::Cosine { floor: 0.1 }).unwrap();
    /// assert_eq!(t.to_string(), "cosine:peak=1,steps=10,final=0.1");
    /// ```
    pub fn with_family(self, family: Family) -> Result<Self, ScheduleError> {
        self.single("with_family")?;
        Self::new(family, self.peak, self.steps, self.warmup)
    }

    /// The `with_*` edits change one family's keys; on a multi-phase spec it would be unclear
    /// which phase they meant.
    fn single(&self, op: &str) -> Result<(), ScheduleError> {
        if self.later.is_empty() {
            Ok(())
        } else {
            Err(ScheduleError::NotSinglePhase {
                op: op.to_owned(),
                spec: self.to_string(),
            })
        }
    }

    /// The LR of every update, `grid.as_slice()[t] == self.lr(t)`.
    ///
    /// ```
    /// let s: lrsde::schedule::ScheduleSpec = "linear:peak=1,steps=4".parse().unwrap();
    /// assert_eq!(s.grid().as_slice(), &[0.75, 0.5, 0.25, 0.0]);
    /// ```
    pub fn grid(&self) -> LrGrid {
        LrGrid::from_valid_schedule(self)
    }

    /// The LR of the last update, `lr(steps − 1)`.
    ///
    /// ```
    /// let s: lrsde::schedule::ScheduleSpec = "cosine:peak=2,steps=10,final=0.25".parse().unwrap();
    /// assert_eq!(s.final_lr(), 0.5);
    /// ```
    pub fn final_lr(&self) -> f64 {
        self.lr(self.steps() - 1)
    }

    fn invalid(&self, key: &str, value: String, expected: impl Into<String>) -> ScheduleError {
        ScheduleError::InvalidValue {
            key: key.to_owned(),
            value,
            expected: expected.into(),
            spec: self.to_string(),
        }
    }

    fn validate(&self) -> Result<(), ScheduleError> {
        let (peak, steps, warmup) = (self.peak, self.steps, self.warmup);
        if !(peak.is_finite() && peak > 0.0) {
            return Err(self.invalid("peak", fmt_f64(peak), "a finite number > 0"));
        }
        if !(1..=MAX_STEPS).contains(&steps) {
            return Err(self.invalid(
                "steps",
                steps.to_string(),
                format!("between 1 and {MAX_STEPS}"),
            ));
        }
        if warmup > steps {
            return Err(self.invalid("warmup", warmup.to_string(), format!("<= steps ({steps})")));
        }
        let fraction01 = |key: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(self.invalid(key, fmt_f64(x), "in [0, 1]"))
            }
        };
        // Families with a decay phase spanning [warmup, steps] need one update in it, or the
        // last update would not reach the final LR.
        let needs_decay_phase = || {
            if warmup < steps {
                Ok(())
            } else {
                Err(self.invalid(
                    "warmup",
                    warmup.to_string(),
                    format!(
                        "< steps ({steps}) for `{}`, which decays after warmup",
                        self.name()
                    ),
                ))
            }
        };
        match &self.family {
            Family::Constant | Family::InvSqrt => {}
            Family::Cosine { floor } | Family::Linear { floor } => {
                fraction01("final", *floor)?;
                needs_decay_phase()?;
            }
            Family::Exp { floor } => {
                if !(*floor > 0.0 && *floor <= 1.0) {
                    return Err(self.invalid(
                        "final",
                        fmt_f64(*floor),
                        "in (0, 1] for `exp` (exponential decay never reaches 0)",
                    ));
                }
                needs_decay_phase()?;
            }
            Family::Poly { power, floor } => {
                if !(power.is_finite() && *power > 0.0) {
                    return Err(self.invalid("power", fmt_f64(*power), "a finite number > 0"));
                }
                fraction01("final", *floor)?;
                needs_decay_phase()?;
            }
            Family::Wsd { decay, floor, .. } => {
                if !(*decay > 0.0 && *decay <= 1.0) {
                    return Err(self.invalid("decay", fmt_f64(*decay), "in (0, 1]"));
                }
                fraction01("final", *floor)?;
                let len = *decay * steps as f64;
                if len < 1.0 {
                    return Err(self.invalid(
                        "decay",
                        fmt_f64(*decay),
                        format!("at least 1/steps = 1/{steps} so the cooldown covers one update"),
                    ));
                }
                if steps as f64 - len < warmup as f64 {
                    return Err(self.invalid(
                        "decay",
                        fmt_f64(*decay),
                        format!(
                            "at most 1 − warmup/steps = 1 − {warmup}/{steps} so the cooldown does not overlap warmup"
                        ),
                    ));
                }
            }
            Family::Step { at, gamma } => {
                fraction01("gamma", *gamma)?;
                self.check_milestones(at)?;
            }
            Family::TwoStage { at, ratio } => {
                fraction01("ratio", *ratio)?;
                self.check_milestones(std::slice::from_ref(at))?;
            }
        }
        Ok(())
    }

    fn check_milestones(&self, at: &[f64]) -> Result<(), ScheduleError> {
        let shown = || at.iter().map(|&a| fmt_f64(a)).collect::<Vec<_>>().join("/");
        if at.is_empty() {
            return Err(self.invalid("at", shown(), "at least one fraction"));
        }
        if at.iter().any(|a| !(*a > 0.0 && *a < 1.0)) {
            return Err(self.invalid("at", shown(), "fractions in (0, 1)"));
        }
        if at.windows(2).any(|w| w[0] >= w[1]) {
            return Err(self.invalid("at", shown(), "strictly increasing fractions"));
        }
        let lo = self.warmup.max(1);
        if let Some(&a) = at
            .iter()
            .find(|&&a| !(lo..self.steps).contains(&milestone(a, self.steps)))
        {
            return Err(self.invalid(
                "at",
                shown(),
                format!(
                    "fractions whose milestone round(at·steps) lies in [max(warmup, 1), steps) = [{lo}, {}); {} gives update {}",
                    self.steps,
                    fmt_f64(a),
                    milestone(a, self.steps)
                ),
            ));
        }
        Ok(())
    }
}

/// The update index from which a `step` / `twostage` milestone applies: `round(at·steps)`.
///
/// Milestones are rounded because the LR jumps there: `at·steps` can land one ulp below an
/// integer, which without rounding would move the jump one update early.
pub(super) fn milestone(at: f64, steps: u64) -> u64 {
    // `at` is in (0, 1), so the product is in [0, steps] and the cast cannot saturate.
    (at * steps as f64).round() as u64
}

impl TryFrom<String> for ScheduleSpec {
    type Error = ScheduleError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ScheduleSpec> for String {
    fn from(s: ScheduleSpec) -> Self {
        s.to_string()
    }
}
