//! Per-update learning rates from sparse `lr` rows.
//!
//! Rows give the LR of the update at their step. Steps between two rows get the linear
//! interpolation of the two, or the earlier row's LR ([`LrBetweenRows`]); steps after the last
//! row hold its LR; steps before the first row follow a [`WarmupPolicy`].

/// How to fill the updates before the first row that has an LR.
///
/// Curve files often start after the warmup (the Multi-Power-Law CSVs start at step 2160 or
/// 2176). The default, [`WarmupPolicy::Auto`], assumes a linear warmup from 0 that reaches the
/// first row's LR at the first row's step: `lr(s) = lr₀ · s / s₀` for `s < s₀`. The
/// Multi-Power-Law code uses `linspace(0, peak, W)` for the first `W` updates, i.e.
/// `peak · (s − 1)/(W − 1)`; with `W = s₀` the two differ by less than `lr₀ / s₀` per update, and
/// the summed LR of the warmup differs by `lr₀ / 2` (half an update at the peak LR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmupPolicy {
    /// Linear from 0 up to the first row's LR at the first row's step (the default).
    #[default]
    Auto,
    /// Hold the first row's LR back to update 1 (no warmup).
    Constant,
    /// Linear warmup over `steps` updates, `lr₀ · s / steps` for `s <= steps` (the schedule spec
    /// convention `peak·(t+1)/warmup`), then the first row's LR until the first row.
    Linear {
        /// Warmup length in updates (0 means no warmup).
        steps: u64,
    },
}

impl std::str::FromStr for WarmupPolicy {
    type Err = String;

    /// Parses the CLI's `--warmup` values: `auto`, `constant` (or `none`), `linear:W`.
    ///
    /// ```
    /// use lrsde::data::WarmupPolicy;
    /// assert_eq!("linear:2160".parse(), Ok(WarmupPolicy::Linear { steps: 2160 }));
    /// assert_eq!("none".parse(), Ok(WarmupPolicy::Constant));
    /// assert!("cosine".parse::<WarmupPolicy>().unwrap_err().contains("auto, constant, linear:W"));
    /// ```
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "constant" | "none" => Ok(Self::Constant),
            _ => match text.strip_prefix("linear:") {
                Some(n) => n
                    .parse::<u64>()
                    .map(|steps| Self::Linear { steps })
                    .map_err(|_| format!("`{n}` is not a whole number of steps")),
                None => Err(format!("`{text}` is not one of auto, constant, linear:W")),
            },
        }
    }
}

/// How to fill the updates between two logged LR rows.
///
/// A log that records the LR only at its evaluation points does not say what happened in
/// between. A smooth schedule (cosine, a linear cooldown) is best rebuilt linearly, the
/// default; a schedule that *jumps* (step decay, a two-stage WSD) is best rebuilt by holding
/// each row's LR until the next row, which keeps the jump a jump instead of a ramp as long as
/// the gap between two rows. Logging every update makes the choice irrelevant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrBetweenRows {
    /// Linear interpolation between the two rows (the default).
    #[default]
    Linear,
    /// The earlier row's LR up to the update before the next row (a step function).
    Hold,
    /// Linear, except that a jump between two flat stretches is held: when the rows just
    /// before and just after a pair of rows repeat their LRs (within 1e-6 relative), the
    /// pair is a logged step, and the later row's LR starts at its step. Smooth decays and the
    /// ends of ramps stay linear.
    Auto,
}

impl std::str::FromStr for LrBetweenRows {
    type Err = String;

    /// Parses the CLI's `--lr-between-rows` values, `linear`, `hold` and `auto`.
    ///
    /// ```
    /// use lrsde::data::LrBetweenRows;
    /// assert_eq!("hold".parse(), Ok(LrBetweenRows::Hold));
    /// assert!("step".parse::<LrBetweenRows>().unwrap_err().contains("linear, hold, auto"));
    /// ```
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "linear" => Ok(Self::Linear),
            "hold" => Ok(Self::Hold),
            "auto" => Ok(Self::Auto),
            _ => Err(format!("`{text}` is not one of linear, hold, auto")),
        }
    }
}

/// Builds `n` per-update LRs (`out[t]` = LR of update `t + 1`) from `(step, lr)` rows,
/// linear between rows ([`reconstruct_lrs_with`] and [`LrBetweenRows::Linear`]).
///
/// `rows` should have strictly increasing steps >= 1 (as every reader produces); rows out of
/// order or past `n` are ignored rather than causing a panic. With no rows, all LRs are 0.
///
/// ```
/// use lrsde::data::{WarmupPolicy, reconstruct_lrs};
/// let rows = [(4, 0.4), (8, 0.2)];
/// let lrs = reconstruct_lrs(&rows, 10, WarmupPolicy::Auto);
/// assert_eq!(lrs.len(), 10);
/// assert!((lrs[0] - 0.1).abs() < 1e-15); // warmup: 0.4 * 1/4
/// assert!((lrs[5] - 0.3).abs() < 1e-15); // step 6: halfway between steps 4 and 8
/// assert_eq!(lrs[9], 0.2); // held after the last row
/// ```
pub fn reconstruct_lrs(rows: &[(u64, f64)], n: u64, warmup: WarmupPolicy) -> Vec<f64> {
    reconstruct_lrs_with(rows, n, warmup, LrBetweenRows::Linear)
}

/// [`reconstruct_lrs`] with the rule for the updates between two rows.
///
/// ```
/// use lrsde::data::{LrBetweenRows, WarmupPolicy, reconstruct_lrs_with};
/// // A drop from 0.4 to 0.1 logged at steps 4 and 8: held, it happens at update 8.
/// let rows = [(4, 0.4), (8, 0.1)];
/// let held = reconstruct_lrs_with(&rows, 9, WarmupPolicy::Constant, LrBetweenRows::Hold);
/// assert_eq!(held, [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1]);
/// let ramp = reconstruct_lrs_with(&rows, 9, WarmupPolicy::Constant, LrBetweenRows::Linear);
/// assert!((ramp[5] - 0.25).abs() < 1e-15); // update 6: halfway down the ramp
/// ```
pub fn reconstruct_lrs_with(
    rows: &[(u64, f64)],
    n: u64,
    warmup: WarmupPolicy,
    between: LrBetweenRows,
) -> Vec<f64> {
    let n_us = usize::try_from(n).unwrap_or(usize::MAX);
    let mut out = vec![0.0; n_us];
    let Some(&(s0, l0)) = rows.first() else {
        return out;
    };
    let mut set = |s: u64, v: f64| {
        if s >= 1 && s <= n {
            out[(s - 1) as usize] = v;
        }
    };
    for s in 1..s0.min(n.saturating_add(1)) {
        let v = match warmup {
            WarmupPolicy::Auto => l0 * s as f64 / s0 as f64,
            WarmupPolicy::Constant => l0,
            WarmupPolicy::Linear { steps } if s < steps => l0 * s as f64 / steps as f64,
            WarmupPolicy::Linear { .. } => l0,
        };
        set(s, v);
    }
    for (i, w) in rows.windows(2).enumerate() {
        let ((a, la), (b, lb)) = (w[0], w[1]);
        if b <= a {
            continue;
        }
        let hold = match between {
            LrBetweenRows::Linear => false,
            LrBetweenRows::Hold => true,
            LrBetweenRows::Auto => is_logged_step(rows, i),
        };
        let span = (b - a) as f64;
        for s in a..b.min(n.saturating_add(1)) {
            let v = if hold {
                la
            } else {
                la + (lb - la) * ((s - a) as f64 / span)
            };
            set(s, v);
        }
    }
    if let Some(&(sl, ll)) = rows.last() {
        for s in sl..=n {
            set(s, ll);
        }
    }
    out
}

/// A jump of the logged LR between two flat stretches whose rows are more than one update
/// apart: [`LrBetweenRows::Linear`] ramps it over the gap, [`LrBetweenRows::Auto`] holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoggedJump {
    /// Step of the last row at the earlier LR.
    pub from_step: u64,
    /// Step of the first row at the later LR.
    pub to_step: u64,
    /// The earlier LR.
    pub from_lr: f64,
    /// The later LR.
    pub to_lr: f64,
}

impl LoggedJump {
    /// What reading `jumps` linearly does, in words (the first jump, and how many more), for a
    /// warning; `None` without a jump.
    ///
    /// ```
    /// use lrsde::data::LoggedJump;
    /// let j = LoggedJump { from_step: 7936, to_step: 8000, from_lr: 3e-4, to_lr: 9e-5 };
    /// assert_eq!(
    ///     LoggedJump::describe(&[j, j]).unwrap(),
    ///     "the logged LR jumps from 3.000e-4 to 9.000e-5 between the rows at steps 7936 and \
    ///      8000 (and 1 more such jump), read as a 64-update ramp"
    /// );
    /// assert!(LoggedJump::describe(&[]).is_none());
    /// ```
    pub fn describe(jumps: &[Self]) -> Option<String> {
        let j = jumps.first()?;
        let more = match jumps.len() {
            1 => String::new(),
            2 => " (and 1 more such jump)".to_string(),
            n => format!(" (and {} more such jumps)", n - 1),
        };
        Some(format!(
            "the logged LR jumps from {:.3e} to {:.3e} between the rows at steps {} and {}{more}, \
             read as a {}-update ramp",
            j.from_lr,
            j.to_lr,
            j.from_step,
            j.to_step,
            j.to_step - j.from_step
        ))
    }
}

/// The jumps between two flat stretches in `(step, lr)` rows (the ones
/// [`LrBetweenRows::Auto`] holds) whose rows are more than one update apart.
///
/// ```
/// use lrsde::data::{LoggedJump, logged_jumps};
/// let rows = [(64, 3e-4), (128, 3e-4), (192, 3e-5), (256, 3e-5)];
/// let want = LoggedJump { from_step: 128, to_step: 192, from_lr: 3e-4, to_lr: 3e-5 };
/// assert_eq!(logged_jumps(&rows), [want]);
/// // A row at every update leaves nothing to ramp.
/// assert!(logged_jumps(&[(1, 3e-4), (2, 3e-4), (3, 3e-5), (4, 3e-5)]).is_empty());
/// ```
pub fn logged_jumps(rows: &[(u64, f64)]) -> Vec<LoggedJump> {
    (0..rows.len().saturating_sub(1))
        .filter(|&i| rows[i + 1].0 > rows[i].0 + 1 && is_logged_step(rows, i))
        .map(|i| LoggedJump {
            from_step: rows[i].0,
            to_step: rows[i + 1].0,
            from_lr: rows[i].1,
            to_lr: rows[i + 1].1,
        })
        .collect()
}

/// Whether rows `i` and `i + 1` are a jump between two flat stretches: the row before `i` has
/// row `i`'s LR, the row after `i + 1` has row `i + 1`'s, and the two LRs differ.
fn is_logged_step(rows: &[(u64, f64)], i: usize) -> bool {
    let same = |x: f64, y: f64| (x - y).abs() <= 1e-6 * x.abs().max(y.abs());
    let (Some(before), Some(after)) = (i.checked_sub(1).map(|j| rows[j]), rows.get(i + 2)) else {
        return false;
    };
    let (la, lb) = (rows[i].1, rows[i + 1].1);
    !same(la, lb) && same(before.1, la) && same(after.1, lb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lrs(rows: &[(u64, f64)], n: u64, between: LrBetweenRows) -> Vec<f64> {
        reconstruct_lrs_with(rows, n, WarmupPolicy::Constant, between)
    }

    #[test]
    fn auto_holds_a_jump_between_flat_stretches() {
        // Flat at 1.0 until the row at 20, 0.1 from the row at 30 on: a step decay logged
        // every 10 updates. The drop belongs at update 30, not spread over 20..30.
        let rows = [(10, 1.0), (20, 1.0), (30, 0.1), (40, 0.1)];
        let got = lrs(&rows, 40, LrBetweenRows::Auto);
        assert_eq!(got, lrs(&rows, 40, LrBetweenRows::Hold));
        assert_eq!(got[28], 1.0); // update 29
        assert_eq!(got[29], 0.1); // update 30
    }

    #[test]
    fn auto_keeps_ramps_and_the_ends_of_ramps_linear() {
        // A linear decay from the row at 20 to the row at 40, then flat: every interval has a
        // changing neighbour or no neighbour, so none is a logged step.
        let rows = [(10, 1.0), (20, 1.0), (30, 0.5), (40, 0.1), (50, 0.1)];
        assert_eq!(
            lrs(&rows, 50, LrBetweenRows::Auto),
            lrs(&rows, 50, LrBetweenRows::Linear)
        );
        // A jump at the first or last pair of rows has no flat stretch on one side to show it.
        let edge = [(10, 1.0), (20, 0.1), (30, 0.1)];
        assert_eq!(
            lrs(&edge, 30, LrBetweenRows::Auto),
            lrs(&edge, 30, LrBetweenRows::Linear)
        );
    }

    #[test]
    fn flat_allows_rounding_in_the_log() {
        let rows = [(10, 3e-4), (20, 3.0000001e-4), (30, 3e-5), (40, 3e-5)];
        assert!(is_logged_step(&rows, 1));
        assert!(!is_logged_step(
            &[(10, 3e-4), (20, 3.1e-4), (30, 3e-5), (40, 3e-5)],
            1
        ));
    }
}
