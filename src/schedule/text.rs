//! The text form of [`ScheduleSpec`]: parsing (`FromStr`) and the canonical `Display`.

use std::fmt;
use std::str::FromStr;

use super::error::ScheduleError;
use super::spec::{
    DEFAULT_EXP_FINAL, DEFAULT_GAMMA, DEFAULT_POLY_POWER, DEFAULT_WSD_DECAY, Family, ScheduleSpec,
    WsdShape,
};
use crate::spec::{self, Entries, SpecError};

/// Formats a float so that it parses back to the same bits, in plain notation for ordinary
/// magnitudes and in exponent notation for very small or large ones (both shortest round-trip).
pub(crate) fn fmt_f64(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-4..1e15).contains(&a) || !x.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

const COMMON_KEYS: [&str; 3] = ["peak", "steps", "warmup"];

/// Family-specific keys in canonical order.
fn family_keys(family: &str) -> Option<&'static [&'static str]> {
    Some(match family {
        "constant" | "invsqrt" => &[],
        "cosine" | "linear" | "exp" => &["final"],
        "wsd" => &["decay", "shape", "final"],
        "step" => &["at", "gamma"],
        "twostage" => &["at", "ratio"],
        "poly" => &["power", "final"],
        _ => return None,
    })
}

/// The canonical family name for `name` (already lower-cased) and every key it takes.
pub(crate) fn family_and_keys(name: &str) -> Option<(&'static str, Vec<&'static str>)> {
    let family = *super::FAMILIES.iter().find(|f| **f == name)?;
    let keys = COMMON_KEYS.iter().chain(family_keys(family)?).copied();
    Some((family, keys.collect()))
}

/// A typed value of one schedule key: what [`build`] takes, from a parsed spec or from a search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyValue {
    Number(f64),
    Count(u64),
    Fractions(Vec<f64>),
    Shape(WsdShape),
}

/// What a key of `family` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Number,
    Count,
    Fractions,
    Shape,
}

pub(crate) fn key_kind(family: &str, key: &str) -> KeyKind {
    match key {
        "steps" | "warmup" => KeyKind::Count,
        "shape" => KeyKind::Shape,
        "at" if family == "step" => KeyKind::Fractions,
        _ => KeyKind::Number,
    }
}

impl KeyKind {
    /// What a value of this kind must be, for error messages.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Self::Number => "a number",
            Self::Count => "a whole number >= 0 that fits in 64 bits",
            Self::Fractions => "fractions separated by `/`",
            Self::Shape => "one of linear, cosine, sqrt",
        }
    }

    /// Reads one value as written (`None` when it is not of this kind).
    pub(crate) fn parse(self, raw: &str) -> Option<KeyValue> {
        match self {
            Self::Number => spec::parse_number(raw).map(KeyValue::Number),
            Self::Count => spec::parse_whole(raw).map(KeyValue::Count),
            Self::Fractions => raw
                .split('/')
                .map(spec::parse_number)
                .collect::<Option<Vec<f64>>>()
                .map(KeyValue::Fractions),
            Self::Shape => raw.parse().ok().map(KeyValue::Shape),
        }
    }

    /// Reads `key` of `entries` as this kind (`Ok(None)` when absent).
    pub(crate) fn read(
        self,
        entries: &Entries<'_>,
        key: &'static str,
    ) -> Result<Option<KeyValue>, SpecError> {
        entries
            .raw(key)
            .map(|v| {
                self.parse(v)
                    .ok_or_else(|| entries.bad(key, self.expected()))
            })
            .transpose()
    }

    /// The value of this kind that the numbers `xs` of a search point stand for: counts are
    /// rounded to whole updates, fractions take every number, the rest the first.
    pub(crate) fn of_numbers(self, xs: &[f64]) -> KeyValue {
        let x = xs.first().copied().unwrap_or(f64::NAN);
        match self {
            // Negative or NaN saturates to 0, which validation then names.
            Self::Count => KeyValue::Count(x.round() as u64),
            Self::Fractions => KeyValue::Fractions(xs.to_vec()),
            Self::Number | Self::Shape => KeyValue::Number(x),
        }
    }
}

impl fmt::Display for KeyValue {
    /// The value as the grammar writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(x) => f.write_str(&fmt_f64(*x)),
            Self::Count(n) => write!(f, "{n}"),
            Self::Fractions(at) => {
                let at: Vec<String> = at.iter().map(|&a| fmt_f64(a)).collect();
                f.write_str(&at.join("/"))
            }
            Self::Shape(s) => f.write_str(s.as_str()),
        }
    }
}

/// Builds and validates one family's spec from typed key values (later duplicates ignored).
/// Errors quote the spec as rendered from the values; callers that parsed text re-quote it.
pub(crate) fn build(
    family: &'static str,
    values: &[(&'static str, KeyValue)],
) -> Result<ScheduleSpec, ScheduleError> {
    let get = |key: &str| values.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
    let missing = |key: &str| ScheduleError::MissingKey {
        family: family.to_owned(),
        key: key.to_owned(),
        spec: String::new(),
    };
    let number = |key: &str, default: Option<f64>| match get(key) {
        Some(KeyValue::Number(x)) => Ok(*x),
        _ => default.ok_or_else(|| missing(key)),
    };
    let count = |key: &str, default: Option<u64>| match get(key) {
        Some(KeyValue::Count(n)) => Ok(*n),
        _ => default.ok_or_else(|| missing(key)),
    };
    let peak = number("peak", None)?;
    let steps = count("steps", None)?;
    let warmup = count("warmup", Some(0))?;
    let floor = |default| number("final", Some(default));
    let family = match family {
        "constant" => Family::Constant,
        "cosine" => Family::Cosine { floor: floor(0.0)? },
        "linear" => Family::Linear { floor: floor(0.0)? },
        "exp" => Family::Exp {
            floor: floor(DEFAULT_EXP_FINAL)?,
        },
        "invsqrt" => Family::InvSqrt,
        "poly" => Family::Poly {
            power: number("power", Some(DEFAULT_POLY_POWER))?,
            floor: floor(0.0)?,
        },
        "wsd" => Family::Wsd {
            decay: number("decay", Some(DEFAULT_WSD_DECAY))?,
            shape: match get("shape") {
                Some(KeyValue::Shape(s)) => *s,
                _ => WsdShape::default(),
            },
            floor: floor(0.0)?,
        },
        "step" => Family::Step {
            at: match get("at") {
                Some(KeyValue::Fractions(at)) => at.clone(),
                _ => return Err(missing("at")),
            },
            gamma: number("gamma", Some(DEFAULT_GAMMA))?,
        },
        "twostage" => Family::TwoStage {
            at: number("at", None)?,
            ratio: number("ratio", Some(DEFAULT_GAMMA))?,
        },
        other => {
            return Err(ScheduleError::UnknownFamily {
                family: other.to_owned(),
                spec: String::new(),
            });
        }
    };
    ScheduleSpec::new(family, peak, steps, warmup)
}

/// A tokenizer error as the schedule error that names the family and quotes the spec.
fn from_spec_error(e: SpecError, family: &str, spec: &str) -> ScheduleError {
    let spec = spec.to_owned();
    match e {
        SpecError::Empty => ScheduleError::EmptySpec,
        SpecError::Malformed { entry, .. } | SpecError::EmptyValue { entry, .. } => {
            ScheduleError::MalformedEntry { entry, spec }
        }
        SpecError::UnknownKey { key, allowed, .. } => ScheduleError::UnknownKey {
            family: family.to_owned(),
            key,
            allowed,
            spec,
        },
        SpecError::DuplicateKey { key, .. } => ScheduleError::DuplicateKey {
            key: key.to_owned(),
            spec,
        },
        SpecError::MissingKey { key } => ScheduleError::MissingKey {
            family: family.to_owned(),
            key: key.to_owned(),
            spec,
        },
        SpecError::BadValue {
            key,
            value,
            expected,
            ..
        } => ScheduleError::Unparsable {
            key: key.to_owned(),
            value,
            expected: expected.to_owned(),
            spec,
        },
    }
}

impl FromStr for ScheduleSpec {
    type Err = ScheduleError;

    /// Parses `family:key=value,key=value`, or phases of that form joined by `; @K` (see the
    /// [module docs](super)). Family names and keys are ASCII case-insensitive, whitespace
    /// around names, keys, values and separators is ignored, and empty entries (e.g. a
    /// trailing comma or semicolon) are skipped.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(';') {
            parse_phases(s)
        } else {
            parse_single(s)
        }
    }
}

/// `phase; @K phase; …`: every phase an ordinary spec, `@K` the updates before it (default:
/// where the previous phase ends).
fn parse_phases(s: &str) -> Result<ScheduleSpec, ScheduleError> {
    let mut spec: Option<ScheduleSpec> = None;
    let pieces = s.split(';').map(str::trim).filter(|p| !p.is_empty());
    for (i, piece) in pieces.enumerate() {
        let phase = i + 1;
        let malformed = |reason: &str| ScheduleError::MalformedPhase {
            phase,
            text: piece.to_owned(),
            reason: reason.to_owned(),
            spec: s.to_owned(),
        };
        let (start, body) = match piece.strip_prefix('@') {
            Some(rest) => {
                let rest = rest.trim_start();
                let n = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                if n == 0 {
                    return Err(malformed(
                        "`@` must be followed by the number of updates before the phase, e.g. `@20000 linear:…`",
                    ));
                }
                let k = rest[..n]
                    .parse::<u64>()
                    .map_err(|_| malformed("the boundary after `@` does not fit in 64 bits"))?;
                (Some(k), rest[n..].trim())
            }
            None => (None, piece),
        };
        if body.is_empty() {
            return Err(malformed("no schedule after the boundary"));
        }
        if spec.is_none() && start.is_some() {
            return Err(malformed(
                "the first phase starts at update 0; write `@K` only before later phases",
            ));
        }
        let one = parse_single(body).map_err(|e| ScheduleError::InPhase {
            phase,
            spec: s.to_owned(),
            source: Box::new(e),
        })?;
        spec = Some(match spec {
            None => one,
            Some(prev) => {
                let k = start.unwrap_or_else(|| prev.steps());
                prev.then_at(k, one).map_err(|e| e.with_spec(s))?
            }
        });
    }
    spec.ok_or(ScheduleError::EmptySpec)
}

/// One family: `family:key=value,key=value`.
fn parse_single(s: &str) -> Result<ScheduleSpec, ScheduleError> {
    let tokens = spec::tokenize(s).map_err(|e| from_spec_error(e, "", s))?;
    let (family, keys) =
        family_and_keys(&tokens.name).ok_or_else(|| ScheduleError::UnknownFamily {
            family: tokens.raw_name.to_owned(),
            spec: s.to_owned(),
        })?;
    let entries = tokens
        .entries(&keys)
        .map_err(|e| from_spec_error(e, family, s))?;
    let mut values = Vec::new();
    for key in entries.keys() {
        if let Some(v) = key_kind(family, key)
            .read(&entries, key)
            .map_err(|e| from_spec_error(e, family, s))?
        {
            values.push((key, v));
        }
    }
    build(family, &values).map_err(|e| match e {
        // Quote the value as the user wrote it rather than as it was re-formatted.
        ScheduleError::InvalidValue {
            key,
            value,
            expected,
            ..
        } => ScheduleError::InvalidValue {
            value: entries.raw(&key).map_or(value, str::to_owned),
            key,
            expected,
            spec: s.to_owned(),
        },
        other => other.with_spec(s),
    })
}

impl fmt::Display for ScheduleSpec {
    /// The canonical spec: `family:peak=…,steps=…[,warmup=…]` followed by every family key in
    /// documented order (defaults written out, so the meaning never depends on defaults); later
    /// phases follow as `; @K spec`, the boundary always written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_phase(f)?;
        for p in &self.later {
            write!(f, "; @{} ", p.start)?;
            p.spec.fmt_phase(f)?;
        }
        Ok(())
    }
}

impl ScheduleSpec {
    /// The first phase's family, in canonical form.
    fn fmt_phase(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:peak={},steps={}",
            self.name(),
            fmt_f64(self.peak),
            self.steps
        )?;
        if self.warmup > 0 {
            write!(f, ",warmup={}", self.warmup)?;
        }
        match &self.family {
            Family::Constant | Family::InvSqrt => Ok(()),
            Family::Cosine { floor } | Family::Linear { floor } | Family::Exp { floor } => {
                write!(f, ",final={}", fmt_f64(*floor))
            }
            Family::Wsd {
                decay,
                shape,
                floor,
            } => write!(
                f,
                ",decay={},shape={},final={}",
                fmt_f64(*decay),
                shape.as_str(),
                fmt_f64(*floor)
            ),
            Family::Step { at, gamma } => {
                let at: Vec<String> = at.iter().map(|&a| fmt_f64(a)).collect();
                write!(f, ",at={},gamma={}", at.join("/"), fmt_f64(*gamma))
            }
            Family::TwoStage { at, ratio } => {
                write!(f, ",at={},ratio={}", fmt_f64(*at), fmt_f64(*ratio))
            }
            Family::Poly { power, floor } => {
                write!(f, ",power={},final={}", fmt_f64(*power), fmt_f64(*floor))
            }
        }
    }
}

impl FromStr for WsdShape {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linear" => Ok(Self::Linear),
            "cosine" => Ok(Self::Cosine),
            "sqrt" => Ok(Self::Sqrt),
            _ => Err(ScheduleError::Unparsable {
                key: "shape".to_owned(),
                value: s.to_owned(),
                expected: "one of linear, cosine, sqrt".to_owned(),
                spec: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for WsdShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
