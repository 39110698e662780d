//! Per-update learning rates from sparse `lr` rows.
//!
//! Rows give the LR of the update at their step. Steps between two rows get the linear
//! interpolation of the two; steps after the last row hold its LR; steps before the first row
//! follow a [`WarmupPolicy`].

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

/// Builds `n` per-update LRs (`out[t]` = LR of update `t + 1`) from `(step, lr)` rows.
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
    for w in rows.windows(2) {
        let ((a, la), (b, lb)) = (w[0], w[1]);
        if b <= a {
            continue;
        }
        let span = (b - a) as f64;
        for s in a..b.min(n.saturating_add(1)) {
            set(s, la + (lb - la) * ((s - a) as f64 / span));
        }
    }
    if let Some(&(sl, ll)) = rows.last() {
        for s in sl..=n {
            set(s, ll);
        }
    }
    out
}
