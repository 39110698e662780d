//! Concatenation (continued training) and the [`Schedule`] enum that CLI and config code use.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::error::ScheduleError;
use super::spec::ScheduleSpec;
use super::tabulated::Tabulated;
use super::{LrGrid, LrSchedule};

/// `first` for updates `t < switch_at`, then `second` from update `switch_at` on, with the
/// second schedule's own update index restarting at 0: `lr(t) = second.lr(t − switch_at)`.
///
/// This models continued training: resume a run at update `k` under a new schedule (a new
/// cooldown, a re-warmup, a longer horizon). `steps() = switch_at + second.steps()`.
/// It serialises as `{"first", "switch_at", "second"}`; read it back through [`Schedule`], whose
/// `Deserialize` validates the switch.
///
/// ```
/// use lrsde::schedule::{Concat, LrSchedule, ScheduleSpec};
/// let first: ScheduleSpec = "constant:peak=1,steps=100".parse().unwrap();
/// let cooldown: ScheduleSpec = "linear:peak=1,steps=10".parse().unwrap();
/// let run = Concat::new(first, 60, cooldown).unwrap();
/// assert_eq!(run.steps(), 70);
/// assert_eq!(run.lr(59), 1.0);
/// assert_eq!(run.lr(60), 0.9); // the cooldown's update 0
/// assert_eq!(run.lr(69), 0.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concat<A = Schedule, B = Schedule> {
    first: A,
    switch_at: u64,
    second: B,
}

impl<A: LrSchedule, B: LrSchedule> Concat<A, B> {
    /// Validates `switch_at <= first.steps()` (the first schedule must cover every update before
    /// the switch) and that the total length fits in `u64`.
    ///
    /// ```
    /// use lrsde::schedule::{Concat, Tabulated};
    /// let a = Tabulated::new(vec![1.0; 5]).unwrap();
    /// let b = Tabulated::new(vec![0.5; 5]).unwrap();
    /// assert!(Concat::new(a.clone(), 5, b.clone()).is_ok());
    /// assert!(Concat::new(a, 6, b).unwrap_err().to_string().contains("covers only 5"));
    /// ```
    pub fn new(first: A, switch_at: u64, second: B) -> Result<Self, ScheduleError> {
        if switch_at > first.steps() {
            return Err(ScheduleError::SwitchAfterEnd {
                switch_at,
                first_steps: first.steps(),
            });
        }
        if switch_at.checked_add(second.steps()).is_none() {
            return Err(ScheduleError::TooLong {
                switch_at,
                second_steps: second.steps(),
            });
        }
        Ok(Self {
            first,
            switch_at,
            second,
        })
    }

    /// The schedule used before the switch.
    pub fn first(&self) -> &A {
        &self.first
    }

    /// The first update index that uses the second schedule.
    pub fn switch_at(&self) -> u64 {
        self.switch_at
    }

    /// The schedule used from the switch on (its update 0 is update `switch_at` overall).
    pub fn second(&self) -> &B {
        &self.second
    }

    /// The LR of every update.
    ///
    /// # Errors
    /// [`ScheduleError::BadLr`] if either part gives a negative or non-finite LR (only a
    /// user-written schedule can).
    pub fn grid(&self) -> Result<LrGrid, ScheduleError> {
        LrGrid::from_schedule(self)
    }
}

impl<A: LrSchedule, B: LrSchedule> LrSchedule for Concat<A, B> {
    fn lr(&self, t: u64) -> f64 {
        if t < self.switch_at {
            self.first.lr(t)
        } else {
            self.second.lr(t - self.switch_at)
        }
    }

    fn steps(&self) -> u64 {
        // Checked in `new`.
        self.switch_at + self.second.steps()
    }
}

/// Any schedule the crate can describe: a spec, a table, or a concatenation of schedules.
///
/// Serde form (JSON shown; TOML alike): a spec string `"cosine:peak=1e-3,steps=1000"`, a table
/// `{"lrs": [...]}` or a bare array `[...]`, or a concatenation
/// `{"first": <schedule>, "switch_at": 600, "second": <schedule>}`. Errors keep the spec
/// parser's message. `FromStr` parses spec strings only (files are read by the data layer,
/// which builds a [`Tabulated`]).
///
/// ```
/// use lrsde::schedule::{LrSchedule, Schedule};
/// let s: Schedule = serde_json::from_str(
///     r#"{"first": "constant:peak=1,steps=100", "switch_at": 50, "second": {"lrs": [0.5, 0.25]}}"#,
/// ).unwrap();
/// assert_eq!(s.steps(), 52);
/// assert_eq!(s.lr(51), 0.25);
/// let back: Schedule = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
/// assert_eq!(back, s);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Schedule {
    /// A family of the spec grammar.
    Spec(ScheduleSpec),
    /// Per-update LRs.
    Tabulated(Tabulated),
    /// One schedule, then another from a switch update on.
    Concat(Box<Concat<Schedule, Schedule>>),
}

impl Schedule {
    /// `self` for updates `t < switch_at`, then `second` (see [`Concat`]).
    ///
    /// ```
    /// use lrsde::schedule::{LrSchedule, Schedule};
    /// let a: Schedule = "constant:peak=1,steps=10".parse().unwrap();
    /// let b: Schedule = "constant:peak=0.5,steps=10".parse().unwrap();
    /// let ab = a.then_at(4, b).unwrap();
    /// assert_eq!((ab.steps(), ab.lr(3), ab.lr(4)), (14, 1.0, 0.5));
    /// ```
    pub fn then_at(
        self,
        switch_at: u64,
        second: impl Into<Schedule>,
    ) -> Result<Self, ScheduleError> {
        Ok(Self::Concat(Box::new(Concat::new(
            self,
            switch_at,
            second.into(),
        )?)))
    }

    /// The LR of every update.
    pub fn grid(&self) -> LrGrid {
        LrGrid::from_valid_schedule(self)
    }

    /// A short human-readable description for tables and plot legends: the spec string of a
    /// spec, `tabulated(N updates)`, or `A, then from update K: B`. Not parseable in general.
    ///
    /// ```
    /// let s: lrsde::schedule::Schedule = "constant:peak=1,steps=10".parse().unwrap();
    /// assert_eq!(s.label(), "constant:peak=1,steps=10");
    /// ```
    pub fn label(&self) -> String {
        match self {
            Self::Spec(s) => s.to_string(),
            Self::Tabulated(t) => format!("tabulated({} updates)", t.steps()),
            Self::Concat(c) => format!(
                "{}, then from update {}: {}",
                c.first().label(),
                c.switch_at(),
                c.second().label()
            ),
        }
    }
}

impl LrSchedule for Schedule {
    fn lr(&self, t: u64) -> f64 {
        match self {
            Self::Spec(s) => s.lr(t),
            Self::Tabulated(s) => s.lr(t),
            Self::Concat(s) => s.lr(t),
        }
    }

    fn steps(&self) -> u64 {
        match self {
            Self::Spec(s) => s.steps(),
            Self::Tabulated(s) => s.steps(),
            Self::Concat(s) => s.steps(),
        }
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self::Spec)
    }
}

impl From<ScheduleSpec> for Schedule {
    fn from(s: ScheduleSpec) -> Self {
        Self::Spec(s)
    }
}

impl From<Tabulated> for Schedule {
    fn from(s: Tabulated) -> Self {
        Self::Tabulated(s)
    }
}

impl From<Concat<Schedule, Schedule>> for Schedule {
    fn from(s: Concat<Schedule, Schedule>) -> Self {
        Self::Concat(Box::new(s))
    }
}

// Hand-written rather than `#[serde(untagged)]`, whose "did not match any variant" error would
// hide the spec parser's message naming the bad key.
impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScheduleVisitor)
    }
}

struct ScheduleVisitor;

impl<'de> Visitor<'de> for ScheduleVisitor {
    type Value = Schedule;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a schedule spec string, a list of per-update LRs, {\"lrs\": [...]}, or {\"first\", \"switch_at\", \"second\"}",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Schedule, E> {
        v.parse().map(Schedule::Spec).map_err(E::custom)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Schedule, S::Error> {
        let mut lrs = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        while let Some(lr) = seq.next_element::<f64>()? {
            lrs.push(lr);
        }
        Tabulated::new(lrs)
            .map(Schedule::Tabulated)
            .map_err(de::Error::custom)
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Schedule, M::Error> {
        let mut lrs: Option<Vec<f64>> = None;
        let mut first: Option<Schedule> = None;
        let mut switch_at: Option<u64> = None;
        let mut second: Option<Schedule> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "lrs" if lrs.is_none() => lrs = Some(map.next_value()?),
                "first" if first.is_none() => first = Some(map.next_value()?),
                "switch_at" if switch_at.is_none() => switch_at = Some(map.next_value()?),
                "second" if second.is_none() => second = Some(map.next_value()?),
                "lrs" | "first" | "switch_at" | "second" => {
                    return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                }
                _ => {
                    return Err(de::Error::unknown_field(
                        &key,
                        &["lrs", "first", "switch_at", "second"],
                    ));
                }
            }
        }
        match (lrs, first, switch_at, second) {
            (Some(lrs), None, None, None) => Tabulated::new(lrs)
                .map(Schedule::Tabulated)
                .map_err(de::Error::custom),
            (None, Some(first), Some(switch_at), Some(second)) => {
                first.then_at(switch_at, second).map_err(de::Error::custom)
            }
            (None, None, None, None) => Err(de::Error::custom(
                "empty schedule object; expected `lrs` or `first`, `switch_at`, `second`",
            )),
            (Some(_), ..) => Err(de::Error::custom(
                "a schedule object has either `lrs` or `first`/`switch_at`/`second`, not both",
            )),
            (None, first, switch_at, _) => Err(de::Error::missing_field(if first.is_none() {
                "first"
            } else if switch_at.is_none() {
                "switch_at"
            } else {
                "second"
            })),
        }
    }
}
