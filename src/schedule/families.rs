//! The LR formulas of every family (see the [module docs](super) for the table).

use std::f64::consts::PI;

use super::LrSchedule;
use super::spec::{Family, ScheduleSpec, WsdShape, milestone};

/// Linear warmup: `peak·(t+1)/warmup`. Dividing first makes the last warmup update exactly
/// `peak` (`peak·W/W` need not round back to `peak`).
fn warmup_lr(peak: f64, s: f64, warmup: f64) -> f64 {
    peak * (s / warmup)
}

/// `floor·peak + (peak − floor·peak)·h`: `h = 0` gives the floor exactly, and the `min` keeps
/// `h = 1` from overshooting `peak` by an ulp.
fn anneal(peak: f64, final_fraction: f64, h: f64) -> f64 {
    let floor = peak * final_fraction;
    (floor + (peak - floor) * h).min(peak)
}

fn cosine_h(p: f64) -> f64 {
    // cos(π) is −1 in f64 already; the guard keeps "ends exactly at the floor" independent of libm.
    if p >= 1.0 {
        0.0
    } else {
        0.5 * (1.0 + (PI * p).cos())
    }
}

impl WsdShape {
    /// The cooldown multiplier `h(p)`, from 1 at `p = 0` down to exactly 0 at `p = 1`.
    fn h(self, p: f64) -> f64 {
        match self {
            Self::Linear => 1.0 - p,
            Self::Cosine => cosine_h(p),
            Self::Sqrt => 1.0 - p.sqrt(),
        }
    }
}

impl LrSchedule for ScheduleSpec {
    /// The LR of update `t + 1`; for `t >= steps` the last update's LR is held.
    fn lr(&self, t: u64) -> f64 {
        if self.later.is_empty() {
            self.phase_lr(t, 0.0)
        } else {
            self.phased_lr(t)
        }
    }

    fn steps(&self) -> u64 {
        ScheduleSpec::steps(self)
    }
}

impl ScheduleSpec {
    /// The LR of update `t + 1` of this spec's own (first) family, with warmup ramping from
    /// `from` (0 for a first phase; the LR before the phase for a later one).
    pub(super) fn phase_lr(&self, t: u64, from: f64) -> f64 {
        let peak = self.peak;
        let n = self.steps as f64;
        // Position after this update, s = t + 1 ∈ [1, steps]: warmup and decay are both
        // functions of s, so warmup ends at exactly peak and decay at exactly its final value.
        let t = t.min(self.steps - 1);
        let s = (t + 1) as f64;
        let w = self.warmup as f64;
        if t < self.warmup {
            return if from == 0.0 {
                warmup_lr(peak, s, w)
            } else if s == w {
                // The ramp ends at exactly peak, as a warmup from 0 does.
                peak
            } else {
                from + (peak - from) * (s / w)
            };
        }
        // Decay progress over (warmup, steps]: p = 1 exactly at the last update.
        let progress = || ((s - w) / (n - w)).min(1.0);
        match &self.family {
            Family::Constant => peak,
            Family::Cosine { floor } => anneal(peak, *floor, cosine_h(progress())),
            Family::Linear { floor } => anneal(peak, *floor, 1.0 - progress()),
            Family::Poly { power, floor } => anneal(peak, *floor, (1.0 - progress()).powf(*power)),
            Family::Exp { floor } => (peak * floor.powf(progress())).min(peak),
            Family::InvSqrt => peak * (w.max(1.0) / s).sqrt(),
            Family::Wsd {
                decay,
                shape,
                floor,
            } => {
                // The cooldown starts at the real position (1 − decay)·steps, not rounded: the
                // LR is continuous there, and a continuous decay fraction keeps searches smooth.
                let start = n - decay * n;
                if s <= start {
                    peak
                } else {
                    // At s = n the numerator is this same expression, so p is exactly 1.
                    let len = n - start;
                    anneal(peak, *floor, shape.h(((s - start) / len).min(1.0)))
                }
            }
            Family::Step { at, gamma } => {
                let passed = at
                    .iter()
                    .filter(|&&a| t >= milestone(a, self.steps))
                    .count();
                peak * gamma.powi(i32::try_from(passed).unwrap_or(i32::MAX))
            }
            Family::TwoStage { at, ratio } => {
                if t >= milestone(*at, self.steps) {
                    peak * ratio
                } else {
                    peak
                }
            }
        }
    }
}
