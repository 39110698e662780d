//! Searching inside a schedule family: a spec with ranges and choice lists, optimised against a
//! fitted law.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::Serialize;

use super::eval;
use super::ranking::RankOptions;
use super::{RankError, StepLaw};
use crate::fit::{Band, Predictor};
use crate::law::LossLaw;
use crate::schedule::{self, KeyKind, KeyValue, LrGrid, ScheduleError, ScheduleSpec};
use crate::spec::{self, SpecError};

/// One `/`-separated part of a searched value: a number, or a numeric range.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Fixed(f64),
    Range(f64, f64),
}

/// A value: fixed, with ranges among its `/`-separated parts, or a list of alternatives (as
/// written, and typed).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Fixed(KeyValue),
    Ranged(Vec<Part>),
    Choice(Vec<(String, KeyValue)>),
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: &'static str,
    kind: KeyKind,
    raw: String,
    value: Value,
}

/// A schedule spec with free parameters: the search space of [`search`].
///
/// Grammar: a [`ScheduleSpec`] string where a numeric value may be a range `lo..hi` (searched
/// continuously; `peak` on a log scale, `warmup` rounded to whole updates) and any value may be
/// a choice list `a|b|c` (enumerated). Each fraction of `at` may be a range of its own
/// (`at=0.3..0.6/0.8`). `peak` may be left out or written `peak=auto`: it is then searched over
/// a default range (see [`search`]). `steps` is fixed: a longer run is not a schedule choice.
///
/// Parsing validates the spec with every range at its midpoint and first choice, and each end
/// of each range and each choice with the rest at their midpoints, so an error names the key
/// and value at fault.
///
/// ```
/// use lrsde::rank::SearchSpec;
/// let s: SearchSpec = "wsd:peak=3e-4,steps=24000,warmup=500,decay=0.05..0.5,shape=linear|sqrt"
///     .parse().unwrap();
/// assert_eq!(s.free_keys(), vec!["decay".to_string()]);
/// assert_eq!(s.choice_keys(), vec!["shape".to_string()]);
/// assert!("wsd:peak=3e-4,steps=24000,shape=linear|bogus".parse::<SearchSpec>()
///     .unwrap_err().to_string().contains("bogus"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpec {
    text: String,
    family: &'static str,
    entries: Vec<Entry>,
    /// `peak` omitted or `auto`: searched over a default range.
    auto_peak: bool,
}

impl fmt::Display for SearchSpec {
    /// The spec as given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl SearchSpec {
    /// Keys searched continuously, one per range (`at[1]` for the second fraction of `at`), in
    /// spec order; `peak` comes last when it is searched by default.
    pub fn free_keys(&self) -> Vec<String> {
        let mut v = Vec::new();
        for e in &self.entries {
            if let Value::Ranged(parts) = &e.value {
                let multi = parts.len() > 1;
                for (i, p) in parts.iter().enumerate() {
                    if matches!(p, Part::Range(..)) {
                        v.push(if multi {
                            format!("{}[{i}]", e.key)
                        } else {
                            e.key.to_owned()
                        });
                    }
                }
            }
        }
        if self.auto_peak {
            v.push("peak".into());
        }
        v
    }

    /// Keys with choice lists, in spec order.
    pub fn choice_keys(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| matches!(e.value, Value::Choice(_)))
            .map(|e| e.key.to_owned())
            .collect()
    }

    /// Whether `peak` is searched over the default range (left out or `peak=auto`).
    pub fn auto_peak(&self) -> bool {
        self.auto_peak
    }

    /// The horizon `steps` (fixed in a search; 0 when the spec leaves it out).
    pub fn steps(&self) -> u64 {
        self.entries
            .iter()
            .find_map(|e| match (e.key, &e.value) {
                ("steps", Value::Fixed(KeyValue::Count(n))) => Some(*n),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// The typed key values for continuous values `x` (in [`Self::free_keys`] order, without
    /// the default peak), choice indices `combo` and the default `peak`.
    fn values(
        &self,
        x: &[f64],
        combo: &[usize],
        peak: Option<f64>,
    ) -> Vec<(&'static str, KeyValue)> {
        let (mut xi, mut ci) = (0, 0);
        let mut out = Vec::with_capacity(self.entries.len() + 1);
        for e in &self.entries {
            let v = match &e.value {
                Value::Fixed(v) => v.clone(),
                Value::Choice(alts) => {
                    ci += 1;
                    alts[combo[ci - 1]].1.clone()
                }
                Value::Ranged(parts) => {
                    let nums: Vec<f64> = parts
                        .iter()
                        .map(|p| match p {
                            Part::Fixed(v) => *v,
                            Part::Range(..) => {
                                xi += 1;
                                x[xi - 1]
                            }
                        })
                        .collect();
                    e.kind.of_numbers(&nums)
                }
            };
            out.push((e.key, v));
        }
        if let Some(p) = peak {
            out.push(("peak", KeyValue::Number(p)));
        }
        out
    }

    /// The candidate schedule for `values`, built directly (no text round trip); an error
    /// quotes [`Self::label`].
    fn build(&self, values: &[(&'static str, KeyValue)]) -> Result<ScheduleSpec, ScheduleError> {
        schedule::build(self.family, values).map_err(|e| e.with_spec(&self.label(values)))
    }

    /// `family:key=value,…` of `values`, for messages and for points that are not valid
    /// schedules (valid ones are reported by their canonical spec).
    fn label(&self, values: &[(&'static str, KeyValue)]) -> String {
        let body: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}:{}", self.family, body.join(","))
    }

    /// [`Self::build`] at continuous values `x`, choices `combo` and default `peak`.
    fn candidate(
        &self,
        x: &[f64],
        combo: &[usize],
        peak: Option<f64>,
    ) -> Result<ScheduleSpec, ScheduleError> {
        self.build(&self.values(x, combo, peak))
    }

    /// Ranges of the free keys in spec order (the default peak excluded).
    fn ranges(&self) -> Vec<(String, f64, f64)> {
        let mut v = Vec::new();
        for e in &self.entries {
            if let Value::Ranged(parts) = &e.value {
                for p in parts {
                    if let Part::Range(lo, hi) = p {
                        v.push((e.key.to_owned(), *lo, *hi));
                    }
                }
            }
        }
        v
    }

    fn choice_lists(&self) -> Vec<&[(String, KeyValue)]> {
        self.entries
            .iter()
            .filter_map(|e| match &e.value {
                Value::Choice(a) => Some(a.as_slice()),
                Value::Fixed(_) | Value::Ranged(_) => None,
            })
            .collect()
    }

    fn midpoints(&self) -> Vec<f64> {
        self.ranges()
            .iter()
            .map(|(k, lo, hi)| {
                if k == "peak" {
                    (lo * hi).sqrt()
                } else {
                    0.5 * (lo + hi)
                }
            })
            .collect()
    }

    /// Checks the midpoint spec, each range end and each choice.
    fn validate(&self) -> Result<(), RankError> {
        // A placeholder peak for validation: no other key's validity depends on it.
        let peak = self.auto_peak.then_some(1.0);
        let mid = self.midpoints();
        let combo0 = vec![0; self.choice_lists().len()];
        self.candidate(&mid, &combo0, peak)
            .map_err(|e| RankError::MalformedSearch {
                spec: self.text.clone(),
                reason: format!("with every range at its midpoint: {e}"),
            })?;
        for (i, (key, lo, hi)) in self.ranges().into_iter().enumerate() {
            for (end, v) in [("lower", lo), ("upper", hi)] {
                let mut x = mid.clone();
                x[i] = v;
                if let Err(e) = self.candidate(&x, &combo0, peak) {
                    let raw = self
                        .entries
                        .iter()
                        .find(|e| e.key == key)
                        .map(|e| e.raw.clone());
                    return Err(RankError::SearchSpec {
                        spec: self.text.clone(),
                        key,
                        value: raw.unwrap_or_default(),
                        reason: format!("the {end} end {v} is invalid: {e}"),
                    });
                }
            }
        }
        let lists = self.choice_lists();
        let keys = self.choice_keys();
        for (c, alts) in lists.iter().enumerate() {
            for a in 0..alts.len() {
                let mut combo = combo0.clone();
                combo[c] = a;
                if let Err(e) = self.candidate(&mid, &combo, peak) {
                    let raw = self
                        .entries
                        .iter()
                        .find(|e| e.key == keys[c])
                        .map(|e| e.raw.clone());
                    return Err(RankError::SearchSpec {
                        spec: self.text.clone(),
                        key: keys[c].clone(),
                        value: raw.unwrap_or_default(),
                        reason: format!("choice `{}` is invalid: {e}", alts[a].0),
                    });
                }
            }
        }
        Ok(())
    }
}

impl FromStr for SearchSpec {
    type Err = RankError;

    fn from_str(s: &str) -> Result<Self, RankError> {
        let text = s.trim().to_string();
        let malformed = |reason: &str| RankError::MalformedSearch {
            spec: text.clone(),
            reason: reason.to_string(),
        };
        if text.contains(';') {
            return Err(malformed(
                "a search covers one family, not phases joined by `;`; to search how a run \
                 continues, search the new phase with `--resume RUN --at K`",
            ));
        }
        let tokens = spec::tokenize(&text).map_err(|e| malformed(&e.to_string()))?;
        if !tokens.has_body {
            return Err(malformed(
                "expected `family:key=value,...` with ranges `lo..hi`",
            ));
        }
        let (family, keys) = schedule::family_and_keys(&tokens.name).ok_or_else(|| {
            let e = ScheduleError::UnknownFamily {
                family: tokens.raw_name.to_owned(),
                spec: text.clone(),
            };
            malformed(&e.to_string())
        })?;
        let checked = tokens.entries(&keys).map_err(|e| match e {
            SpecError::UnknownKey { ref key, .. } => RankError::SearchSpec {
                spec: text.clone(),
                key: key.clone(),
                value: tokens
                    .tokens
                    .iter()
                    .find(|t| t.raw_key == key)
                    .map_or("", |t| t.value)
                    .to_owned(),
                reason: e.to_string(),
            },
            SpecError::DuplicateKey { key, .. } => RankError::SearchSpec {
                spec: text.clone(),
                key: key.to_owned(),
                value: String::new(),
                reason: e.to_string(),
            },
            other => malformed(&other.to_string()),
        })?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut auto_peak = true;
        for key in checked.keys() {
            let raw = checked.raw(key).unwrap_or_default();
            let bad = |reason: String| RankError::SearchSpec {
                spec: text.clone(),
                key: key.to_string(),
                value: raw.to_string(),
                reason,
            };
            if key == "peak" {
                auto_peak = false;
                if raw.eq_ignore_ascii_case("auto") {
                    auto_peak = true;
                    continue;
                }
            }
            let kind = schedule::key_kind(family, key);
            let typed = |v: &str| {
                kind.parse(v)
                    .ok_or_else(|| bad(format!("`{v}` is not {}", kind.expected())))
            };
            let value = if raw.contains('|') {
                let alts: Vec<&str> = raw.split('|').map(str::trim).collect();
                if alts.iter().any(|a| a.is_empty()) {
                    return Err(bad("empty alternative in a choice list".into()));
                }
                if alts.iter().any(|a| a.contains("..")) {
                    return Err(bad(
                        "a choice list cannot contain ranges; use either `a|b` or `lo..hi`".into(),
                    ));
                }
                Value::Choice(
                    alts.into_iter()
                        .map(|a| Ok((a.to_owned(), typed(a)?)))
                        .collect::<Result<_, RankError>>()?,
                )
            } else if raw.contains("..") {
                if kind == KeyKind::Shape {
                    return Err(bad("`shape` takes choices `a|b`, not a range".into()));
                }
                let mut parts = Vec::new();
                for part in raw.split('/').map(str::trim) {
                    let num = |x: &str| spec::parse_number(x).filter(|v| v.is_finite());
                    if let Some((lo, hi)) = part.split_once("..") {
                        let (Some(lo), Some(hi)) = (num(lo), num(hi)) else {
                            return Err(bad(format!(
                                "`{part}` is not a range `lo..hi` of finite numbers"
                            )));
                        };
                        if lo >= hi {
                            return Err(bad(format!(
                                "empty range `{part}`: the lower end must be below the upper end"
                            )));
                        }
                        if key == "peak" && lo <= 0.0 {
                            return Err(bad("a peak range must be positive".into()));
                        }
                        parts.push(Part::Range(lo, hi));
                    } else {
                        let v = num(part)
                            .ok_or_else(|| bad(format!("`{part}` is not a finite number")))?;
                        parts.push(Part::Fixed(v));
                    }
                }
                if parts.len() > 1 && kind != KeyKind::Fractions {
                    return Err(bad(format!(
                        "`/`-separated parts are fractions of `at` (family `step`), not {}",
                        kind.expected()
                    )));
                }
                Value::Ranged(parts)
            } else {
                Value::Fixed(typed(raw)?)
            };
            let searched = !matches!(value, Value::Fixed(_));
            if key == "steps" && searched {
                return Err(bad(
                    "the horizon `steps` cannot be searched (a longer run always has more \
                     updates); rank each length separately"
                        .into(),
                ));
            }
            entries.push(Entry {
                key,
                kind,
                raw: raw.to_string(),
                value,
            });
        }
        let spec = SearchSpec {
            text,
            family,
            entries,
            auto_peak,
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Options of [`search`].
///
/// ```
/// use lrsde::rank::{step_law, SearchOptions};
/// let opts = SearchOptions { peak_prior: step_law(124e6, 2.5e9), ..SearchOptions::default() };
/// assert!(opts.peak_prior.is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// Centre of the default peak range when the spec leaves `peak` out: the range is
    /// `[η/span, η·span]` around the Step Law's `peak_lr` (see [`super::step_law`]). Without a
    /// prior, the default range is `[max/10, max]` of the LRs the fit saw.
    pub peak_prior: Option<StepLaw>,
    /// Half-width factor of the prior's peak range (default 3).
    pub peak_prior_span: f64,
    /// Coarse-grid points of a one-dimensional search (default 24).
    pub grid_points: usize,
    /// Coarse-grid points of a k-dimensional search: `max(2, ⌊budget^(1/k)⌋)` per dimension
    /// (default 256).
    pub grid_budget: usize,
    /// Refinement stops when the bracket is this narrow, as a fraction of each range
    /// (default 1e-5).
    pub tolerance: f64,
    /// Coordinate sweeps of a k-dimensional refinement (default 8).
    pub max_sweeps: usize,
    /// Most combinations of choice lists enumerated (default 64).
    pub max_combinations: usize,
    /// How the best schedule's curve is predicted and checked.
    pub rank: RankOptions,
    /// Continued training: the LRs of the updates before the searched schedule (an observed
    /// run's LRs up to the fork, as [`super::continued_schedule`] takes them). Each candidate
    /// is scored, and the best one's curve predicted, on these LRs followed by its own.
    pub prefix: Option<LrGrid>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            peak_prior: None,
            peak_prior_span: 3.0,
            grid_points: 24,
            grid_budget: 256,
            tolerance: 1e-5,
            max_sweeps: 8,
            max_combinations: 64,
            rank: RankOptions::default(),
            prefix: None,
        }
    }
}

impl SearchOptions {
    fn validate(&self) -> Result<(), RankError> {
        let bad = |option, reason: &str| {
            Err(RankError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };
        if !(self.peak_prior_span.is_finite() && self.peak_prior_span > 1.0) {
            return bad("peak_prior_span", "must be finite and > 1");
        }
        if self.grid_points < 3 {
            return bad("grid_points", "must be >= 3");
        }
        if self.grid_budget < 4 {
            return bad("grid_budget", "must be >= 4");
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0 && self.tolerance < 0.5) {
            return bad("tolerance", "must be in (0, 0.5)");
        }
        if self.max_combinations == 0 {
            return bad("max_combinations", "must be >= 1");
        }
        self.rank.validate()
    }
}

/// One evaluated point of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchPoint {
    /// The schedule spec evaluated.
    pub spec: String,
    /// Values of the continuous keys ([`SearchResult::free_keys`] order).
    pub values: Vec<f64>,
    /// Values of the choice keys ([`SearchResult::choice_keys`] order).
    pub choices: Vec<String>,
    /// Predicted final loss at the fitted parameters; `+∞` (JSON `null`) for an invalid
    /// combination (e.g. a cooldown overlapping warmup) or a non-finite prediction.
    pub final_loss: f64,
}

/// The outcome of [`search`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// The best schedule found.
    pub best: ScheduleSpec,
    /// Its canonical spec string (`best.to_string()`).
    pub spec: String,
    /// Its predicted final loss.
    pub final_loss: f64,
    /// Lower edge of the band at the last update.
    pub loss_lo: f64,
    /// Upper edge of the band at the last update.
    pub loss_hi: f64,
    /// Its predicted curve with band (not serialised).
    #[serde(skip)]
    pub curve: Band,
    /// Names of the continuous keys.
    pub free_keys: Vec<String>,
    /// Names of the choice keys.
    pub choice_keys: Vec<String>,
    /// Every point evaluated, combination by combination, in evaluation order.
    pub points: Vec<SearchPoint>,
    /// Extrapolation and band warnings for the best schedule and the search box.
    pub warnings: Vec<String>,
    /// `spec` with each searched value rounded to the search's resolution
    /// ([`SearchResult::resolution`]), for people to read and copy; it parses to a schedule
    /// that the search cannot tell from `best`. `spec` and `best` keep the exact values.
    pub display_spec: String,
    /// Per continuous key ([`SearchResult::free_keys`] order), the finest difference the search
    /// resolves at the best value: `tolerance` of the range (relative to the value on the log
    /// scale of `peak`; at least 1 for `warmup`, which is whole updates).
    pub resolution: Vec<f64>,
    /// The searched keys whose best value lies at an end of its range (within the
    /// resolution): the optimum may lie beyond it.
    pub edges: Vec<SearchEdge>,
    /// The range `peak` was searched over when the spec left it out (`None` when given).
    pub default_peak: Option<DefaultPeak>,
}

/// A searched key whose best value sits at an end of its range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchEdge {
    /// The key, as in [`SearchResult::free_keys`].
    pub key: String,
    /// The best value found.
    pub value: f64,
    /// The end of the range it sits at.
    pub bound: f64,
    /// Whether that is the upper end.
    pub upper: bool,
}

/// The range `peak` is searched over when a search spec leaves it out (or writes `peak=auto`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DefaultPeak {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// `true`: `[η/span, η·span]` around the Step Law's peak (`SearchOptions::peak_prior`);
    /// `false`: `[max/10, max]` of the LRs the fit saw.
    pub from_step_law: bool,
}

/// One continuous dimension: its range and scale.
#[derive(Debug, Clone, Copy)]
struct Dim {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Dim {
    /// The value step that `tol` of the range amounts to at `x`.
    fn resolution(&self, x: f64, tol: f64) -> f64 {
        if self.log {
            x * ((self.hi / self.lo).powf(tol) - 1.0)
        } else {
            tol * (self.hi - self.lo)
        }
    }

    fn at(&self, z: f64) -> f64 {
        let z = z.clamp(0.0, 1.0);
        let x = if self.log {
            (self.lo.ln() + z * (self.hi.ln() - self.lo.ln())).exp()
        } else {
            self.lo + z * (self.hi - self.lo)
        };
        x.clamp(self.lo, self.hi)
    }
}

struct Problem<'a, L> {
    spec: &'a SearchSpec,
    predictor: &'a Predictor<L>,
    dims: Vec<Dim>,
    prefix: Option<&'a LrGrid>,
}

/// The LRs a candidate is scored on: the continued run's prefix, if any, then its own.
fn with_prefix(prefix: Option<&LrGrid>, spec: &ScheduleSpec) -> LrGrid {
    let grid = spec.grid();
    match prefix {
        None => grid,
        Some(p) => {
            let mut lrs = Vec::with_capacity(p.len() + grid.len());
            lrs.extend_from_slice(p.as_slice());
            lrs.extend_from_slice(grid.as_slice());
            LrGrid::from_validated(lrs)
        }
    }
}

/// `x` rounded to a multiple of the coarsest power of ten not above `res`, inside `[lo, hi]`
/// (at an end of the range, the multiple on the inside) and within `res` of `x`; `None` when
/// there is none.
fn round_to(x: f64, res: f64, lo: f64, hi: f64) -> Option<f64> {
    if !(res.is_finite() && res > 0.0 && x.is_finite()) {
        return None;
    }
    let e = res.log10().floor() as i32;
    let m = (x / 10f64.powi(e)).round();
    [m, m - 1.0, m + 1.0].into_iter().find_map(|m| {
        // Through decimal text, so the result is the f64 nearest the short decimal (no
        // 0.1 + 0.2 tails) and prints back as that decimal.
        let r: f64 = format!("{m}e{e}").parse().ok()?;
        ((lo..=hi).contains(&r) && (r - x).abs() <= res).then_some(r)
    })
}

impl<L: LossLaw> Problem<'_, L> {
    fn eval(&self, z: &[f64], combo: &[usize]) -> SearchPoint {
        let x: Vec<f64> = self.dims.iter().zip(z).map(|(d, &z)| d.at(z)).collect();
        let n_fixed = x.len() - usize::from(self.spec.auto_peak);
        let peak = self.spec.auto_peak.then(|| x[n_fixed]);
        let values = self.spec.values(&x[..n_fixed], combo, peak);
        let built = schedule::build(self.spec.family, &values);
        let spec = match &built {
            Ok(s) => s.to_string(),
            Err(_) => self.spec.label(&values),
        };
        let choices = self
            .spec
            .choice_lists()
            .iter()
            .zip(combo)
            .map(|(alts, &c)| alts[c].0.clone())
            .collect();
        // Invalid combinations (a range end that is fine alone but not with another key's
        // value) and failed predictions are +∞: the optimiser steers away from them.
        let final_loss = built
            .ok()
            .and_then(|s| {
                let lrs = with_prefix(self.prefix, &s);
                let n = lrs.len() as u64;
                self.predictor.predict(&lrs, &[n]).ok()
            })
            .map(|v| v[0])
            .filter(|v| v.is_finite())
            .unwrap_or(f64::INFINITY);
        SearchPoint {
            spec,
            values: x,
            choices,
            final_loss,
        }
    }

    /// Coarse grid, then golden-section refinement coordinate by coordinate.
    fn optimise(&self, combo: &[usize], opts: &SearchOptions) -> (Vec<SearchPoint>, usize) {
        let k = self.dims.len();
        if k == 0 {
            return (vec![self.eval(&[], combo)], 0);
        }
        let g = if k == 1 {
            opts.grid_points
        } else {
            ((opts.grid_budget as f64).powf(1.0 / k as f64).floor() as usize).max(2)
        };
        let total = g.checked_pow(k as u32).unwrap_or(usize::MAX).min(1 << 20);
        let z_of = |mut idx: usize| -> Vec<f64> {
            (0..k)
                .map(|_| {
                    let i = idx % g;
                    idx /= g;
                    i as f64 / (g - 1) as f64
                })
                .collect()
        };
        // The grid guards against multimodality (e.g. a stability edge of the `sde` law);
        // evaluated in parallel, collected in grid order.
        let mut points: Vec<SearchPoint> = (0..total)
            .into_par_iter()
            .map(|idx| self.eval(&z_of(idx), combo))
            .collect();
        let mut best_i = argmin(&points);
        let mut z = z_of(best_i);
        let mut fbest = points[best_i].final_loss;
        let mut h = vec![1.0 / (g - 1) as f64; k];
        for _sweep in 0..opts.max_sweeps.max(1) {
            let before = fbest;
            for i in 0..k {
                let (a, b) = ((z[i] - h[i]).max(0.0), (z[i] + h[i]).min(1.0));
                let mut line = |t: f64| {
                    let mut zz = z.clone();
                    zz[i] = t;
                    let p = self.eval(&zz, combo);
                    let f = p.final_loss;
                    points.push(p);
                    (f, points.len() - 1)
                };
                if let Some((t, f, idx)) = golden(&mut line, a, b, opts.tolerance)
                    && f < fbest
                {
                    z[i] = t;
                    fbest = f;
                    best_i = idx;
                }
            }
            let improved = before - fbest;
            if k == 1 || improved.is_nan() || improved <= 1e-12 * fbest.abs() {
                break;
            }
            h.iter_mut().for_each(|x| *x *= 0.5);
        }
        (points, best_i)
    }
}

fn argmin(points: &[SearchPoint]) -> usize {
    points
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.final_loss.total_cmp(&b.1.final_loss))
        .map_or(0, |(i, _)| i)
}

/// Golden-section minimisation of `f` on `[a, b]`, ends included; returns the best
/// `(t, f(t), point index)` seen. `f` returns the value and the index of the recorded point.
fn golden(
    f: &mut impl FnMut(f64) -> (f64, usize),
    mut a: f64,
    mut b: f64,
    tol: f64,
) -> Option<(f64, f64, usize)> {
    const INV_PHI: f64 = 0.618_033_988_749_894_9;
    // NaN-safe: also refuses an empty or NaN bracket.
    if b.partial_cmp(&a) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let mut best: Option<(f64, f64, usize)> = None;
    let keep = |t: f64, (v, i): (f64, usize), best: &mut Option<(f64, f64, usize)>| {
        if best.is_none_or(|b| v < b.1) {
            *best = Some((t, v, i));
        }
        v
    };
    // The ends: an optimum on the boundary of the box (e.g. `final = 0`) is then exact.
    keep(a, f(a), &mut best);
    keep(b, f(b), &mut best);
    let mut c = b - INV_PHI * (b - a);
    let mut d = a + INV_PHI * (b - a);
    let mut fc = keep(c, f(c), &mut best);
    let mut fd = keep(d, f(d), &mut best);
    while b - a > tol {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - INV_PHI * (b - a);
            fc = keep(c, f(c), &mut best);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + INV_PHI * (b - a);
            fd = keep(d, f(d), &mut best);
        }
    }
    best
}

/// Finds the schedule of a family that `law` (fitted as `fitted`) predicts to end at the lowest
/// loss.
///
/// **Space.** The ranges and choice lists of `template` ([`SearchSpec`]). Choice lists are
/// enumerated (every combination, at most `max_combinations`). If `peak` is left out (or
/// `auto`), it is searched on a log scale over `[η/span, η·span]` around the Step Law peak
/// when `options.peak_prior` is set (N and D known), else over `[max/10, max]` of the LRs the
/// fit saw; a peak range that reaches beyond the largest LR the fit saw is searched as given,
/// with a warning (the law extrapolates there).
///
/// **Optimiser.** Per combination: a coarse grid over the box (`grid_points` in 1-D, about
/// `grid_budget` points in k-D, ends included), robust to several local minima; then
/// golden-section refinement around the best grid point within one grid spacing, coordinate
/// by coordinate (repeated with halved brackets while it improves, in k-D), down to
/// `tolerance` of each range. Only the central prediction of the final loss is evaluated while
/// searching; the best schedule then gets its full curve and band. Invalid combinations score
/// `+∞`. Deterministic for any thread count. With `options.prefix` (continued training) every
/// candidate is scored on the prefix's LRs followed by its own.
///
/// **Report.** Besides the exact best ([`SearchResult::best`], [`SearchResult::spec`]), the
/// result says which range `peak` was searched over when the spec left it out
/// ([`SearchResult::default_peak`]), which keys ended at an end of their range
/// ([`SearchResult::edges`]) and gives the best spec rounded to the search's resolution
/// ([`SearchResult::display_spec`]) for people to read.
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit, FitOptions, Predictor};
/// use lrsde::law::{AnyLaw, LossLaw};
/// use lrsde::rank::{search, SearchOptions};
///
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
/// // The power law only sees the LR area: the shortest cooldown wins.
/// let spec = "wsd:peak=1e-3,steps=2000,decay=0.1..0.5".parse()?;
/// let found = search(&predictor, &spec, &SearchOptions::default())?;
/// assert_eq!(found.spec, "wsd:peak=0.001,steps=2000,decay=0.1,shape=linear,final=0");
/// // 0.1 is the lower end of the range: the optimum may lie beyond it.
/// assert_eq!((found.edges[0].key.as_str(), found.edges[0].upper), ("decay", false));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RankError::InvalidOption`], [`RankError::Fit`] when the best schedule's curve cannot be
/// predicted,
/// [`RankError::MalformedSearch`] for too many combinations or no default peak range (the fit
/// saw no positive LR), [`RankError::NothingValid`] when no point predicts a finite loss.
pub fn search<L: LossLaw>(
    predictor: &Predictor<L>,
    template: &SearchSpec,
    options: &SearchOptions,
) -> Result<SearchResult, RankError> {
    options.validate()?;
    let fitted = predictor.fitted();
    let seen = fitted.lr_range_seen[1];
    let mut warnings = Vec::new();
    let mut dims: Vec<Dim> = template
        .ranges()
        .iter()
        .map(|(k, lo, hi)| Dim {
            lo: *lo,
            hi: *hi,
            log: k == "peak",
        })
        .collect();
    let mut default_peak = None;
    if template.auto_peak {
        let (lo, hi, from_step_law) = match options.peak_prior {
            Some(p) if p.peak_lr.is_finite() && p.peak_lr > 0.0 => (
                p.peak_lr / options.peak_prior_span,
                p.peak_lr * options.peak_prior_span,
                true,
            ),
            _ if seen > 0.0 => (seen / 10.0, seen, false),
            _ => {
                return Err(RankError::MalformedSearch {
                    spec: template.to_string(),
                    reason: "no peak given and the fit saw no positive LR to centre a peak \
                             search on; give `peak=lo..hi` or a Step Law prior"
                        .into(),
                });
            }
        };
        dims.push(Dim { lo, hi, log: true });
        default_peak = Some(DefaultPeak {
            lo,
            hi,
            from_step_law,
        });
    }
    let peak_hi = template
        .ranges()
        .iter()
        .filter(|(k, ..)| k == "peak")
        .map(|r| r.2)
        .chain(
            template
                .auto_peak
                .then(|| dims.last().map_or(0.0, |d| d.hi)),
        )
        .fold(0.0, f64::max);
    if seen > 0.0 && peak_hi > seen * (1.0 + crate::schedule::SAME_LR_RTOL) {
        warnings.push(format!(
            "the peak search reaches {peak_hi}, beyond the largest LR the fit saw ({seen}): \
             the law extrapolates there"
        ));
    }
    let lists = template.choice_lists();
    let n_combos = lists
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
        .unwrap_or(usize::MAX);
    if n_combos > options.max_combinations {
        return Err(RankError::MalformedSearch {
            spec: template.to_string(),
            reason: format!(
                "{n_combos} combinations of choices; at most {} (max_combinations)",
                options.max_combinations
            ),
        });
    }
    let combos: Vec<Vec<usize>> = (0..n_combos)
        .map(|mut idx| {
            lists
                .iter()
                .map(|l| {
                    let i = idx % l.len();
                    idx /= l.len();
                    i
                })
                .collect()
        })
        .collect();
    let problem = Problem {
        spec: template,
        predictor,
        dims,
        prefix: options.prefix.as_ref(),
    };
    let runs: Vec<(Vec<SearchPoint>, usize)> = combos
        .par_iter()
        .map(|c| problem.optimise(c, options))
        .collect();
    let mut points = Vec::new();
    let mut best: Option<(f64, usize)> = None;
    for (pts, b) in runs {
        let f = pts[b].final_loss;
        if best.is_none_or(|(bf, _)| f < bf) {
            best = Some((f, points.len() + b));
        }
        points.extend(pts);
    }
    let Some((fbest, ibest)) = best.filter(|(f, _)| f.is_finite()) else {
        return Err(RankError::NothingValid {
            spec: template.to_string(),
            evaluated: points.len(),
        });
    };
    let best_x = &points[ibest].values;
    let best_combo: Vec<usize> = template
        .choice_lists()
        .iter()
        .zip(&points[ibest].choices)
        .map(|(alts, c)| alts.iter().position(|a| a.0 == *c).unwrap_or(0))
        .collect();
    let n_fixed = best_x.len() - usize::from(template.auto_peak);
    let best_spec = template
        .candidate(
            &best_x[..n_fixed],
            &best_combo,
            template.auto_peak.then(|| best_x[n_fixed]),
        )
        .map_err(|source| RankError::Schedule {
            context: format!("search `{template}`"),
            source: source.into(),
        })?;
    let lrs = with_prefix(options.prefix.as_ref(), &best_spec);
    let ev = eval::evaluate(
        predictor,
        &lrs,
        options.rank.curve_points,
        options.rank.rule(),
    )
    .map_err(|source| RankError::Fit {
        context: format!("search `{template}`"),
        source: source.into(),
    })?;
    warnings.extend(ev.warnings.iter().cloned());
    if let Some(step) = ev.diverged {
        warnings.push(format!(
            "the best schedule's predicted curve diverges at step {step} although its final \
             loss is finite"
        ));
    }
    let free_keys = template.free_keys();
    let mut resolution = Vec::with_capacity(best_x.len());
    let mut edges = Vec::new();
    let mut rounded = Vec::with_capacity(best_x.len());
    for ((dim, &x), key) in problem.dims.iter().zip(best_x).zip(&free_keys) {
        let whole = key == "warmup";
        let res = dim.resolution(x, options.tolerance);
        let res = if whole { res.max(1.0) } else { res };
        for (bound, upper) in [(dim.lo, false), (dim.hi, true)] {
            if (x - bound).abs() <= res {
                edges.push(SearchEdge {
                    key: key.clone(),
                    value: x,
                    bound,
                    upper,
                });
            }
        }
        rounded.push(if whole {
            x
        } else {
            round_to(x, res, dim.lo, dim.hi).unwrap_or(x)
        });
        resolution.push(res);
    }
    let display_spec = template
        .candidate(
            &rounded[..n_fixed],
            &best_combo,
            template.auto_peak.then(|| rounded[n_fixed]),
        )
        .map_or_else(|_| best_spec.to_string(), |s| s.to_string());
    let last = ev.band.loss.len() - 1;
    Ok(SearchResult {
        display_spec,
        resolution,
        edges,
        default_peak,
        spec: best_spec.to_string(),
        best: best_spec,
        final_loss: fbest,
        loss_lo: ev.band.lo[last],
        loss_hi: ev.band.hi[last],
        curve: ev.band,
        free_keys,
        choice_keys: template.choice_keys(),
        points,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::round_to;

    #[test]
    fn rounding_keeps_the_digits_the_resolution_resolves_and_stays_in_range() {
        // decay searched over 0.05..0.5 at tolerance 1e-5: resolution 4.5e-6, 6 decimals.
        assert_eq!(
            round_to(0.23992877642515564, 4.5e-6, 0.05, 0.5),
            Some(0.239929)
        );
        // At the upper end, the nearest multiple (0.0069909) would leave the range.
        let hi = 0.006990885785442933;
        assert_eq!(round_to(hi, 1.5e-7, 7.768e-4, hi), Some(0.0069908));
        assert_eq!(round_to(0.05, 4.5e-6, 0.05, 0.5), Some(0.05));
        assert_eq!(round_to(1234.56, 20.0, 0.0, 2000.0), Some(1230.0));
        assert_eq!(round_to(0.3, 0.0, 0.0, 1.0), None);
    }
}
