//! Legend labels: schedule specs labelled by the keys that tell them apart, other names
//! shortened in the middle so that legends stay narrow.

/// Longest legend label drawn; longer ones lose their middle (the start and the end of a run
/// name, e.g. a model size and a seed, are usually what tells runs apart).
pub const MAX_LABEL_CHARS: usize = 48;

/// Short legend labels for schedule specs, and what they have in common.
///
/// Labels of the form `[prefix ]family:key=value,…` are reduced to the family and the keys
/// whose values differ between them (numbers compared as numbers, so `3e-4` equals `0.0003`);
/// the keys all of them share come back as one line for a subtitle. Anything else (file names,
/// run names) loses its folders and is shortened to [`MAX_LABEL_CHARS`].
///
/// ```
/// let (labels, common) = lrsde::plot::legend_labels(&[
///     "wsd:peak=3e-4,steps=24000,decay=0.2",
///     "wsd:peak=0.0003,steps=24000,decay=0.35",
///     "cosine:peak=3e-4,steps=24000",
/// ]);
/// assert_eq!(labels, ["wsd:decay=0.2", "wsd:decay=0.35", "cosine"]);
/// assert_eq!(common.as_deref(), Some("peak=3e-4, steps=24000"));
/// ```
pub fn legend_labels<S: AsRef<str>>(labels: &[S]) -> (Vec<String>, Option<String>) {
    let parsed: Vec<Option<Spec>> = labels.iter().map(|l| Spec::parse(l.as_ref())).collect();
    let specs: Vec<&Spec> = parsed.iter().flatten().collect();
    let fallback = || labels.iter().map(|l| name_label(l.as_ref())).collect();
    if specs.is_empty() {
        return (fallback(), None);
    }
    let mut keys: Vec<&str> = Vec::new();
    for s in &specs {
        for (k, _) in &s.entries {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    let common: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| {
            let first = specs[0].get(k);
            first.is_some() && specs.iter().all(|s| same_value(s.get(k), first))
        })
        .collect();
    let out: Vec<String> = labels
        .iter()
        .zip(&parsed)
        .map(|(label, spec)| {
            let Some(s) = spec else {
                return name_label(label.as_ref());
            };
            let differing: Vec<String> = s
                .entries
                .iter()
                .filter(|(k, _)| !common.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={}", short_value(v)))
                .collect();
            let head = format!("{}{}", s.prefix, s.family);
            if differing.is_empty() {
                head
            } else {
                shorten(&format!("{head}:{}", differing.join(",")))
            }
        })
        .collect();
    // Labels that still coincide would make the legend ambiguous: keep the originals.
    let ambiguous = (0..out.len())
        .any(|i| (0..i).any(|j| out[i] == out[j] && labels[i].as_ref() != labels[j].as_ref()));
    if ambiguous {
        return (fallback(), None);
    }
    let shared = (!common.is_empty()).then(|| {
        common
            .iter()
            .map(|k| {
                // Equal values may be spelled differently (`3e-4`, `0.0003`): show the shortest.
                let v = specs
                    .iter()
                    .filter_map(|s| s.get(k))
                    .min_by_key(|v| v.len())
                    .unwrap_or_default();
                format!("{k}={}", short_value(v))
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    (out, shared)
}

/// A label that is not a spec: a path loses its folders, then the result is shortened.
fn name_label(label: &str) -> String {
    let name = if label.contains(':') {
        label
    } else {
        label.rsplit(['/', '\\']).next().unwrap_or(label)
    };
    shorten(name)
}

/// `label` cut to [`MAX_LABEL_CHARS`] characters by replacing its middle with `…`.
///
/// ```
/// let s = lrsde::plot::shorten("a-very-long-weights-and-biases-run-name-seed-1234-final");
/// assert_eq!(s.chars().count(), lrsde::plot::MAX_LABEL_CHARS);
/// assert!(s.starts_with("a-very-long") && s.ends_with("1234-final"));
/// ```
pub fn shorten(label: &str) -> String {
    let n = label.chars().count();
    if n <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let keep = MAX_LABEL_CHARS - 1;
    let head: String = label.chars().take(keep.div_ceil(2)).collect();
    let tail: String = label.chars().skip(n - keep / 2).collect();
    format!("{head}…{tail}")
}

/// A `[prefix ]family:key=value,…` label split into its parts.
struct Spec {
    prefix: String,
    family: String,
    entries: Vec<(String, String)>,
}

impl Spec {
    /// Through the crate's one spec tokenizer ([`crate::spec::tokenize`]); a label it rejects is
    /// not a spec (a file or run name).
    fn parse(label: &str) -> Option<Self> {
        let tokens = crate::spec::tokenize(label).ok()?;
        if tokens.tokens.is_empty() {
            return None;
        }
        let (prefix, family) = match tokens.raw_name.rsplit_once(' ') {
            Some((p, f)) => (format!("{} ", p.trim_end()), f),
            None => (String::new(), tokens.raw_name),
        };
        if family.is_empty()
            || !family
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return None;
        }
        let entries = tokens
            .tokens
            .iter()
            .map(|t| (t.key.clone(), t.value.to_string()))
            .collect();
        Some(Self {
            prefix,
            family: family.to_string(),
            entries,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn same_value(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => a == b,
        },
        _ => false,
    }
}

/// Numbers written with many digits (a searched `decay=0.20172165660540914`) cut to three
/// significant digits; short values are kept as the user wrote them.
fn short_value(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(x) if v.len() > 6 && x.is_finite() && x != 0.0 => {
            let a = x.abs();
            if (1e-3..1e5).contains(&a) {
                let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
                let s = format!("{x:.decimals$}");
                if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                }
            } else {
                let s = format!("{x:.2e}");
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}e{e}")
            }
        }
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searched_and_plain_specs_differ_by_their_distinct_keys() {
        let (labels, common) = legend_labels(&[
            "searched wsd:peak=0.0003,steps=24000,warmup=2160,decay=0.20172165660540914,shape=sqrt,final=0",
            "wsd:peak=3e-4,steps=24000,warmup=2160",
            "cosine:peak=3e-4,steps=24000,warmup=2160",
        ]);
        assert_eq!(
            labels,
            [
                "searched wsd:decay=0.202,shape=sqrt,final=0",
                "wsd",
                "cosine"
            ]
        );
        assert_eq!(
            common.as_deref(),
            Some("peak=3e-4, steps=24000, warmup=2160")
        );
    }

    #[test]
    fn non_specs_are_shortened_not_parsed() {
        let long = "x".repeat(30) + "-run-" + &"y".repeat(30);
        let (labels, common) = legend_labels(&["runs/a.csv", long.as_str()]);
        assert_eq!(labels[0], "a.csv");
        assert_eq!(labels[1].chars().count(), MAX_LABEL_CHARS);
        assert!(labels[1].contains('…'));
        assert_eq!(common, None);
    }

    #[test]
    fn files_among_specs_keep_their_names() {
        let (labels, common) = legend_labels(&[
            "wsd:peak=3e-4,steps=24000,decay=0.3",
            "logs/wsdld_20000_24000.csv",
            "wsd:peak=3e-4,steps=24000,decay=0.1",
        ]);
        assert_eq!(
            labels,
            ["wsd:decay=0.3", "wsdld_20000_24000.csv", "wsd:decay=0.1"]
        );
        assert_eq!(common.as_deref(), Some("peak=3e-4, steps=24000"));
    }

    #[test]
    fn identical_reductions_fall_back_to_the_full_labels() {
        // Same keys and values except spelling of an equal number: nothing distinguishes them
        // after reduction, so both keep their text.
        let (labels, _) = legend_labels(&["wsd:peak=3e-4", "wsd:peak=0.0003"]);
        assert_eq!(labels, ["wsd:peak=3e-4", "wsd:peak=0.0003"]);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(short_value("0.20172165660540914"), "0.202");
        assert_eq!(short_value("0.00031234567"), "3.12e-4");
        assert_eq!(short_value("24000"), "24000");
        assert_eq!(short_value("3e-4"), "3e-4");
        assert_eq!(short_value("12345.678"), "12346");
        assert_eq!(short_value("sqrt"), "sqrt");
    }
}
