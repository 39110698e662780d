//! The one `name:key=value,key=value` tokenizer and its rule set, shared by schedule specs,
//! model specs, law options (`--law sim:model=…`) and search specs.
//!
//! Rules, the same for all four grammars:
//!
//! * the name (before the first `:`) and the keys are ASCII case-insensitive: they are
//!   lower-cased here, so `Cosine:PEAK=1` means `cosine:peak=1`;
//! * whitespace around the name, keys, values and separators is ignored, and empty entries
//!   (a trailing comma, `a=1,,b=2`) are skipped;
//! * an entry without `=` or with an empty key is malformed, an empty value is an error;
//! * a key outside the grammar's list is an error that lists the accepted keys, and a key given
//!   twice is an error naming it;
//! * values are read by typed helpers ([`Entries::number`], [`Entries::whole`],
//!   [`Entries::choice`], …) whose errors name the key and the value as written.
//!
//! Each domain turns a [`SpecError`] into its own error type, adding which spec it was.
//!
//! ```
//! use lrsde::spec::{tokenize, SpecError};
//! let t = tokenize("Cosine: PEAK=3e-4, steps=2.4e4,")?;
//! assert_eq!(t.name, "cosine");
//! let e = t.entries(&["peak", "steps", "warmup"])?;
//! assert_eq!(e.number("peak")?, Some(3e-4));
//! assert_eq!(e.whole("steps")?, Some(24_000));
//! assert_eq!(e.whole("warmup")?, None);
//! let dup = tokenize("cosine:peak=1,Peak=2")?.entries(&["peak"]).unwrap_err();
//! assert!(matches!(dup, SpecError::DuplicateKey { key: "peak", .. }));
//! # Ok::<(), SpecError>(())
//! ```

use thiserror::Error;

/// What is wrong with a `name:key=value,…` spec, before any domain adds which spec it was.
///
/// Columns are 1-based character positions in the whole spec text.
///
/// ```
/// use lrsde::spec::tokenize;
/// let err = tokenize("nqm:dim=3,foo=1").unwrap().entries(&["dim"]).unwrap_err();
/// assert_eq!(err.to_string(), "column 11: unknown key `foo`; accepted keys: dim");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The spec is empty or only whitespace.
    #[error("empty spec; expected `name:key=value,...`")]
    Empty,
    /// An entry between commas has no `=` or an empty key.
    #[error("column {column}: entry `{entry}` is not of the form `key=value`")]
    Malformed {
        /// The entry as written (trimmed).
        entry: String,
        /// Where it starts.
        column: usize,
    },
    /// An entry `key=` with nothing after the `=`.
    #[error("column {column}: key `{key}` has an empty value")]
    EmptyValue {
        /// The key, lower-cased.
        key: String,
        /// The entry as written (trimmed).
        entry: String,
        /// Where the entry starts.
        column: usize,
    },
    /// A key the grammar does not take.
    #[error("column {column}: unknown key `{key}`; accepted keys: {allowed}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The accepted keys, comma-separated.
        allowed: String,
        /// Where the entry starts.
        column: usize,
    },
    /// A key given more than once.
    #[error("column {column}: key `{key}` given more than once")]
    DuplicateKey {
        /// The key.
        key: &'static str,
        /// Where the second occurrence starts.
        column: usize,
    },
    /// A required key is absent.
    #[error("missing required key `{key}`")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A value does not parse as what its key needs.
    #[error("column {column}: `{key}={value}`: `{value}` is not {expected}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value as written.
        value: String,
        /// What the key needs, e.g. "a number".
        expected: &'static str,
        /// Where the entry starts.
        column: usize,
    },
}

/// One `key=value` entry of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Token<'a> {
    /// The key, lower-cased.
    pub key: String,
    /// The key as written.
    pub raw_key: &'a str,
    /// The value as written (trimmed).
    pub value: &'a str,
    /// 1-based character column where the entry starts.
    pub column: usize,
}

/// A spec split into its name and `key=value` tokens (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens<'a> {
    /// The whole spec as given.
    pub text: &'a str,
    /// The name before `:`, lower-cased (the whole trimmed text when there is no `:`).
    pub name: String,
    /// The name as written (trimmed).
    pub raw_name: &'a str,
    /// Whether the spec has a `:` (a body, possibly empty).
    pub has_body: bool,
    /// The entries in order.
    pub tokens: Vec<Token<'a>>,
}

/// Splits `name:key=value,…` into tokens, applying the structural rules (empty spec, entries
/// without `=`, empty keys or values). Key lists and duplicates are checked by
/// [`Tokens::entries`].
///
/// ```
/// let t = lrsde::spec::tokenize(" gbm : mu = 0.5 , sigma=0.1 ")?;
/// assert_eq!((t.name.as_str(), t.tokens.len()), ("gbm", 2));
/// assert_eq!((t.tokens[1].key.as_str(), t.tokens[1].value, t.tokens[1].column), ("sigma", "0.1", 19));
/// assert!(lrsde::spec::tokenize("gbm:mu").is_err());
/// # Ok::<(), lrsde::spec::SpecError>(())
/// ```
///
/// # Errors
/// [`SpecError::Empty`], [`SpecError::Malformed`], [`SpecError::EmptyValue`].
pub fn tokenize(text: &str) -> Result<Tokens<'_>, SpecError> {
    if text.trim().is_empty() {
        return Err(SpecError::Empty);
    }
    let column = |byte: usize| text[..byte].chars().count() + 1;
    let (raw_name, body) = match text.split_once(':') {
        Some((n, b)) => (n, Some((b, n.len() + 1))),
        None => (text, None),
    };
    let raw_name = raw_name.trim();
    let mut tokens = Vec::new();
    if let Some((body, mut at)) = body {
        for piece in body.split(',') {
            let start = at + (piece.len() - piece.trim_start().len());
            at += piece.len() + 1;
            let entry = piece.trim();
            if entry.is_empty() {
                continue;
            }
            let malformed = || SpecError::Malformed {
                entry: entry.to_owned(),
                column: column(start),
            };
            let (k, v) = entry.split_once('=').ok_or_else(malformed)?;
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return Err(malformed());
            }
            let key = k.to_ascii_lowercase();
            if v.is_empty() {
                return Err(SpecError::EmptyValue {
                    key,
                    entry: entry.to_owned(),
                    column: column(start),
                });
            }
            tokens.push(Token {
                key,
                raw_key: k,
                value: v,
                column: column(start),
            });
        }
    }
    Ok(Tokens {
        text,
        name: raw_name.to_ascii_lowercase(),
        raw_name,
        has_body: body.is_some(),
        tokens,
    })
}

impl<'a> Tokens<'a> {
    /// Checks every key against `allowed` (in order: an unknown key, then a repeated one) and
    /// returns the entries for typed reading.
    ///
    /// # Errors
    /// [`SpecError::UnknownKey`] (listing `allowed`), [`SpecError::DuplicateKey`].
    pub fn entries(&self, allowed: &[&'static str]) -> Result<Entries<'a>, SpecError> {
        let mut pairs: Vec<(&'static str, &'a str, usize)> = Vec::with_capacity(self.tokens.len());
        for t in &self.tokens {
            let Some(&key) = allowed.iter().find(|k| **k == t.key) else {
                return Err(SpecError::UnknownKey {
                    key: t.raw_key.to_owned(),
                    allowed: allowed.join(", "),
                    column: t.column,
                });
            };
            if pairs.iter().any(|(k, ..)| *k == key) {
                return Err(SpecError::DuplicateKey {
                    key,
                    column: t.column,
                });
            }
            pairs.push((key, t.value, t.column));
        }
        Ok(Entries { pairs })
    }
}

/// The checked entries of one spec, read by typed helpers (absent keys give `Ok(None)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Entries<'a> {
    pairs: Vec<(&'static str, &'a str, usize)>,
}

impl<'a> Entries<'a> {
    /// The keys given, in spec order.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.pairs.iter().map(|(k, ..)| *k)
    }

    /// The value of `key` as written.
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, ..)| *k == key)
            .map(|(_, v, _)| *v)
    }

    /// The value of `key`, or [`SpecError::MissingKey`].
    ///
    /// # Errors
    /// [`SpecError::MissingKey`] when `key` is absent.
    pub fn required(&self, key: &'static str) -> Result<&'a str, SpecError> {
        self.raw(key).ok_or(SpecError::MissingKey { key })
    }

    /// The error for `key`'s value, which is not `expected`.
    pub fn bad(&self, key: &'static str, expected: &'static str) -> SpecError {
        let (value, column) = self
            .pairs
            .iter()
            .find(|(k, ..)| *k == key)
            .map_or(("", 0), |(_, v, c)| (*v, *c));
        SpecError::BadValue {
            key,
            value: value.to_owned(),
            expected,
            column,
        }
    }

    fn read<T>(
        &self,
        key: &'static str,
        expected: &'static str,
        f: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, SpecError> {
        self.raw(key)
            .map(|v| f(v).ok_or_else(|| self.bad(key, expected)))
            .transpose()
    }

    /// Any `f64` (`inf` and `nan` included: range checks are the domain's).
    ///
    /// # Errors
    /// [`SpecError::BadValue`] naming `key` and the value.
    pub fn number(&self, key: &'static str) -> Result<Option<f64>, SpecError> {
        self.read(key, "a number", parse_number)
    }

    /// A finite `f64`.
    ///
    /// # Errors
    /// [`SpecError::BadValue`] naming `key` and the value.
    pub fn finite(&self, key: &'static str) -> Result<Option<f64>, SpecError> {
        self.read(key, "a finite number", |v| {
            parse_number(v).filter(|x| x.is_finite())
        })
    }

    /// A whole number `>= 0` that fits in 64 bits, written `24000` or `2.4e4`.
    ///
    /// # Errors
    /// [`SpecError::BadValue`] naming `key` and the value.
    pub fn whole(&self, key: &'static str) -> Result<Option<u64>, SpecError> {
        self.read(key, WHOLE, parse_whole)
    }

    /// A whole number `>= 0` that fits in `usize` (see [`Self::whole`]).
    ///
    /// # Errors
    /// [`SpecError::BadValue`] naming `key` and the value.
    pub fn usize(&self, key: &'static str) -> Result<Option<usize>, SpecError> {
        self.read(key, WHOLE, |v| {
            parse_whole(v).and_then(|n| usize::try_from(n).ok())
        })
    }

    /// One of `options` (ASCII case-insensitive), returned as the option's own spelling.
    ///
    /// # Errors
    /// [`SpecError::BadValue`] naming `key`, the value and (through `expected`) the options.
    pub fn choice(
        &self,
        key: &'static str,
        options: &[&'static str],
        expected: &'static str,
    ) -> Result<Option<&'static str>, SpecError> {
        self.read(key, expected, |v| {
            options.iter().copied().find(|o| o.eq_ignore_ascii_case(v))
        })
    }

    /// `/`-separated numbers, e.g. `0.3/0.6`.
    ///
    /// # Errors
    /// [`SpecError::BadValue`] naming `key` and the value.
    pub fn fractions(&self, key: &'static str) -> Result<Option<Vec<f64>>, SpecError> {
        self.read(key, "fractions separated by `/`", |v| {
            v.split('/').map(parse_number).collect()
        })
    }
}

const WHOLE: &str = "a whole number >= 0 that fits in 64 bits";

/// A number as the grammars read it (surrounding whitespace ignored).
pub(crate) fn parse_number(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok()
}

/// A whole number: `24000` or `2.4e4` (people write step counts both ways).
pub(crate) fn parse_whole(v: &str) -> Option<u64> {
    let v = v.trim();
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    // 2⁶⁴ itself would saturate; range checks beyond that are the domain's.
    v.parse::<f64>()
        .ok()
        .filter(|x| x.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(x))
        .map(|x| x as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_point_at_the_entry() {
        let t = tokenize("wsd: peak=1,  steps=10,,warmup=2").unwrap();
        let cols: Vec<usize> = t.tokens.iter().map(|t| t.column).collect();
        assert_eq!(cols, vec![6, 15, 25]);
        // Multi-byte characters count once.
        let e = tokenize("é:a=1,b").unwrap_err();
        assert_eq!(
            e,
            SpecError::Malformed {
                entry: "b".into(),
                column: 7
            }
        );
    }

    #[test]
    fn structural_rules() {
        assert_eq!(tokenize("  "), Err(SpecError::Empty));
        assert!(matches!(tokenize("a:=1"), Err(SpecError::Malformed { .. })));
        assert!(matches!(
            tokenize("a:k= "),
            Err(SpecError::EmptyValue { ref key, .. }) if key == "k"
        ));
        let t = tokenize("NQM").unwrap();
        assert_eq!(
            (t.name.as_str(), t.has_body, t.tokens.len()),
            ("nqm", false, 0)
        );
    }

    #[test]
    fn helpers_name_key_and_value() {
        let t = tokenize("x:a=1.5,b=2.4e4,c=-1,d=Cosine,e=0.3/0.6,f=inf").unwrap();
        let e = t.entries(&["a", "b", "c", "d", "e", "f"]).unwrap();
        assert_eq!(e.whole("b").unwrap(), Some(24_000));
        assert_eq!(e.usize("b").unwrap(), Some(24_000));
        let err = e.whole("a").unwrap_err().to_string();
        assert!(err.contains("`a=1.5`"), "{err}");
        assert!(e.whole("c").is_err());
        assert_eq!(e.number("f").unwrap(), Some(f64::INFINITY));
        assert!(e.finite("f").unwrap_err().to_string().contains("`f=inf`"));
        assert_eq!(
            e.choice("d", &["linear", "cosine"], "linear or cosine")
                .unwrap(),
            Some("cosine")
        );
        assert_eq!(e.fractions("e").unwrap(), Some(vec![0.3, 0.6]));
        assert_eq!(e.number("zz").unwrap(), None);
        assert_eq!(e.required("zz"), Err(SpecError::MissingKey { key: "zz" }));
    }
}
