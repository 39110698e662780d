//! The text form of [`ScheduleSpec`]: parsing (`FromStr`) and the canonical `Display`.

use std::fmt;
use std::str::FromStr;

use super::error::ScheduleError;
use super::spec::{
    DEFAULT_EXP_FINAL, DEFAULT_GAMMA, DEFAULT_POLY_POWER, DEFAULT_WSD_DECAY, Family, ScheduleSpec,
    WsdShape,
};

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

/// The `key=value` entries of one spec, checked against the family's keys.
struct Entries<'a> {
    family: &'static str,
    spec: &'a str,
    items: Vec<(&'static str, &'a str)>,
}

impl<'a> Entries<'a> {
    fn raw(&self, key: &str) -> Option<&'a str> {
        self.items.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn not_a(&self, key: &str, value: &str, expected: &str) -> ScheduleError {
        ScheduleError::Unparsable {
            key: key.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
            spec: self.spec.to_owned(),
        }
    }

    fn required(&self, key: &str) -> Result<&'a str, ScheduleError> {
        self.raw(key).ok_or_else(|| ScheduleError::MissingKey {
            family: self.family.to_owned(),
            key: key.to_owned(),
            spec: self.spec.to_owned(),
        })
    }

    fn number(&self, key: &str, value: &str) -> Result<f64, ScheduleError> {
        value
            .parse::<f64>()
            .map_err(|_| self.not_a(key, value, "a number"))
    }

    fn f64_or(&self, key: &str, default: f64) -> Result<f64, ScheduleError> {
        self.raw(key).map_or(Ok(default), |v| self.number(key, v))
    }

    /// Whole numbers; `2.4e4` is accepted as well as `24000` because people write step counts
    /// both ways.
    fn count(&self, key: &str, value: &str) -> Result<u64, ScheduleError> {
        if let Ok(n) = value.parse::<u64>() {
            return Ok(n);
        }
        match value.parse::<f64>() {
            // 2⁶⁴ itself would saturate; range checks beyond that are the validator's job.
            Ok(x) if x.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&x) => {
                Ok(x as u64)
            }
            _ => Err(self.not_a(key, value, "a whole number >= 0 that fits in 64 bits")),
        }
    }

    fn fractions(&self, key: &str, value: &str) -> Result<Vec<f64>, ScheduleError> {
        value
            .split('/')
            .map(|part| {
                part.trim()
                    .parse::<f64>()
                    .map_err(|_| self.not_a(key, value, "fractions separated by `/`"))
            })
            .collect()
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
    let text = s.trim();
    if text.is_empty() {
        return Err(ScheduleError::EmptySpec);
    }
    let (name, rest) = text.split_once(':').unwrap_or((text, ""));
    let lower = name.trim().to_ascii_lowercase();
    let (family, keys) = super::FAMILIES
        .iter()
        .find(|f| **f == lower)
        .and_then(|f| family_keys(f).map(|k| (*f, k)))
        .ok_or_else(|| ScheduleError::UnknownFamily {
            family: name.trim().to_owned(),
            spec: s.to_owned(),
        })?;
    let mut entries = Entries {
        family,
        spec: s,
        items: Vec::new(),
    };
    for entry in rest.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let malformed = || ScheduleError::MalformedEntry {
            entry: entry.to_owned(),
            spec: s.to_owned(),
        };
        let (k, v) = entry.split_once('=').ok_or_else(malformed)?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || v.is_empty() {
            return Err(malformed());
        }
        let k_lower = k.to_ascii_lowercase();
        let key = COMMON_KEYS
            .iter()
            .chain(keys)
            .find(|known| **known == k_lower)
            .ok_or_else(|| ScheduleError::UnknownKey {
                family: family.to_owned(),
                key: k.to_owned(),
                allowed: COMMON_KEYS
                    .iter()
                    .chain(keys)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
                spec: s.to_owned(),
            })?;
        if entries.raw(key).is_some() {
            return Err(ScheduleError::DuplicateKey {
                key: (*key).to_owned(),
                spec: s.to_owned(),
            });
        }
        entries.items.push((key, v));
    }

    let peak = entries.number("peak", entries.required("peak")?)?;
    let steps = entries.count("steps", entries.required("steps")?)?;
    let warmup = match entries.raw("warmup") {
        Some(v) => entries.count("warmup", v)?,
        None => 0,
    };
    let floor = |default| entries.f64_or("final", default);
    let family = match family {
        "constant" => Family::Constant,
        "cosine" => Family::Cosine { floor: floor(0.0)? },
        "linear" => Family::Linear { floor: floor(0.0)? },
        "exp" => Family::Exp {
            floor: floor(DEFAULT_EXP_FINAL)?,
        },
        "invsqrt" => Family::InvSqrt,
        "poly" => Family::Poly {
            power: entries.f64_or("power", DEFAULT_POLY_POWER)?,
            floor: floor(0.0)?,
        },
        "wsd" => Family::Wsd {
            decay: entries.f64_or("decay", DEFAULT_WSD_DECAY)?,
            shape: match entries.raw("shape") {
                None => WsdShape::default(),
                Some(v) => v
                    .parse()
                    .map_err(|_| entries.not_a("shape", v, "one of linear, cosine, sqrt"))?,
            },
            floor: floor(0.0)?,
        },
        "step" => Family::Step {
            at: entries.fractions("at", entries.required("at")?)?,
            gamma: entries.f64_or("gamma", DEFAULT_GAMMA)?,
        },
        "twostage" => Family::TwoStage {
            at: entries.number("at", entries.required("at")?)?,
            ratio: entries.f64_or("ratio", DEFAULT_GAMMA)?,
        },
        _ => unreachable!("family names come from FAMILIES"),
    };
    ScheduleSpec::new(family, peak, steps, warmup).map_err(|e| match e {
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
