//! Maps between a parameter's bounded range and the unconstrained space the optimiser works in.
//!
//! L-BFGS and Nelder–Mead are unconstrained methods; instead of clipping (which stalls them on a
//! bound) each parameter is optimised as an unconstrained `u` with `x = T(u)`:
//!
//! | bounds | transform |
//! |---|---|
//! | `(-∞, ∞)` | identity |
//! | `[l, ∞)` | `x = l + exp(u)` |
//! | `(-∞, h]` | `x = h − exp(u)` |
//! | `[l, h]` | `x = l + (h − l)·σ(u)`, `σ` the logistic function |
//! | `[l, h]`, log scale | `ln x = ln l + (ln h − ln l)·σ(u)` |
//! | `l = h` | fixed at `l` (`u` is ignored) |
//!
//! A parameter marked [`ParamSpec::log_scale`] spans orders of magnitude: a logistic on `x` itself
//! would spend almost all of `u` on the top decade, so its two-sided bounds get the logistic on
//! `ln x` instead. One-sided log-scale bounds need nothing extra: `x = l + exp(u)` is already
//! logarithmic once `x ≫ l`.
//!
//! Every transform maps any finite `u` into `[l, h]`, so the law never sees an out-of-bounds
//! parameter.

use serde::{Deserialize, Serialize};

use super::FitError;
use crate::law::ParamSpec;

/// Largest `u` fed to `exp`: keeps `exp(u)` finite (f64 overflows near 709.8).
const MAX_EXP_ARG: f64 = 700.0;

/// How one parameter is mapped to the unconstrained space.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    /// Unbounded: `x = u`.
    Identity,
    /// Bounded below: `x = lower + exp(u)`.
    Lower {
        /// Lower bound.
        lower: f64,
    },
    /// Bounded above: `x = upper − exp(u)`.
    Upper {
        /// Upper bound.
        upper: f64,
    },
    /// Bounded on both sides: `x = lower + (upper − lower)·σ(u)`.
    Logistic {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// Bounded on both sides, positive, on a log scale:
    /// `x = exp(ln lower + (ln upper − ln lower)·σ(u))`.
    LogLogistic {
        /// Lower bound (`> 0`).
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// Both bounds equal: the parameter is fixed.
    Fixed {
        /// The fixed value.
        value: f64,
    },
}

/// The logistic function, computed without overflow for any sign of `u`.
fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

impl Transform {
    /// The transform for bounds `[lower, upper]` (infinite bounds allowed).
    ///
    /// ```
    /// use lrsde::fit::Transform;
    /// let t = Transform::from_bounds("alpha", 0.0, 2.0)?;
    /// assert!((t.to_constrained(t.to_unconstrained(0.5)) - 0.5).abs() < 1e-12);
    /// # Ok::<(), lrsde::fit::FitError>(())
    /// ```
    ///
    /// # Errors
    /// [`FitError::InvalidBounds`] when a bound is NaN, `lower > upper`, or both bounds are the
    /// same infinity.
    pub fn from_bounds(name: &str, lower: f64, upper: f64) -> Result<Self, FitError> {
        let bad = || FitError::InvalidBounds {
            param: name.to_string(),
            lower,
            upper,
        };
        if lower.is_nan() || upper.is_nan() || lower > upper || lower == f64::INFINITY {
            return Err(bad());
        }
        if upper == f64::NEG_INFINITY {
            return Err(bad());
        }
        Ok(match (lower.is_finite(), upper.is_finite()) {
            (false, false) => Transform::Identity,
            (true, false) => Transform::Lower { lower },
            (false, true) => Transform::Upper { upper },
            (true, true) if lower == upper => Transform::Fixed { value: lower },
            (true, true) => Transform::Logistic { lower, upper },
        })
    }

    /// The transform of a law's [`ParamSpec`]: as [`Transform::from_bounds`], except that a
    /// log-scale parameter with two finite bounds gets [`Transform::LogLogistic`].
    ///
    /// ```
    /// use lrsde::fit::Transform;
    /// use lrsde::law::ParamSpec;
    /// let t = Transform::from_spec(&ParamSpec::log("A", 1e-8, 1e8))?;
    /// // u = 0 is the geometric centre of the range.
    /// assert!((t.to_constrained(0.0) - 1.0).abs() < 1e-12);
    /// # Ok::<(), lrsde::fit::FitError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Transform::from_bounds`]; [`FitError::InvalidLogBounds`] for a log-scale parameter
    /// whose lower bound is not positive.
    pub fn from_spec(spec: &ParamSpec) -> Result<Self, FitError> {
        let linear = Self::from_bounds(spec.name, spec.lower, spec.upper)?;
        if !spec.log_scale {
            return Ok(linear);
        }
        // from_bounds has already refused NaN bounds, so `<=` also covers them.
        if spec.lower <= 0.0 {
            return Err(FitError::InvalidLogBounds {
                param: spec.name.to_string(),
                lower: spec.lower,
            });
        }
        Ok(match linear {
            Transform::Logistic { lower, upper } => Transform::LogLogistic { lower, upper },
            other => other,
        })
    }

    /// Constrained value of `u`; always inside the bounds.
    pub fn to_constrained(self, u: f64) -> f64 {
        match self {
            Transform::Identity => u,
            Transform::Lower { lower } => lower + u.min(MAX_EXP_ARG).exp(),
            Transform::Upper { upper } => upper - u.min(MAX_EXP_ARG).exp(),
            Transform::Logistic { lower, upper } => {
                (lower + (upper - lower) * sigmoid(u)).clamp(lower, upper)
            }
            Transform::LogLogistic { lower, upper } => {
                let (ll, lh) = (lower.ln(), upper.ln());
                (ll + (lh - ll) * sigmoid(u)).exp().clamp(lower, upper)
            }
            Transform::Fixed { value } => value,
        }
    }

    /// Unconstrained value of `x`. Values on or beyond a bound map to a large finite `u`
    /// (relative margin 1e-15 of the range, or an absolute 1e-300 for one-sided bounds), so
    /// the result is always finite.
    pub fn to_unconstrained(self, x: f64) -> f64 {
        self.to_unconstrained_with_margin(x, 1e-15)
    }

    /// Unconstrained value of a *starting point*: a start on a bound is moved inside by
    /// `1e-3` of the range (logistic) or to `1e-3·max(1, |bound|)` from it (one-sided), because
    /// the transforms are flat at the bounds and an optimiser started there would not move.
    pub fn start_to_unconstrained(self, x: f64) -> f64 {
        self.to_unconstrained_with_margin(x, 1e-3)
    }

    fn to_unconstrained_with_margin(self, x: f64, margin: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::Lower { lower } => {
                let floor = (margin * lower.abs().max(1.0)).max(1e-300);
                (x - lower).max(floor).ln()
            }
            Transform::Upper { upper } => {
                let floor = (margin * upper.abs().max(1.0)).max(1e-300);
                (upper - x).max(floor).ln()
            }
            Transform::Logistic { lower, upper } => {
                let w = upper - lower;
                let lo = (x - lower).max(margin * w);
                let hi = (upper - x).max(margin * w);
                // ln(lo/hi) rather than logit(p): keeps precision near either bound.
                (lo / hi).ln()
            }
            Transform::LogLogistic { lower, upper } => {
                let (ll, lh) = (lower.ln(), upper.ln());
                let w = lh - ll;
                // ln of a non-positive x is −∞ or NaN; `max` maps both onto the lower margin.
                let y = if x > 0.0 { x.ln() } else { f64::NEG_INFINITY };
                let lo = (y - ll).max(margin * w);
                let hi = (lh - y).max(margin * w);
                (lo / hi).ln()
            }
            Transform::Fixed { .. } => 0.0,
        }
    }

    /// Derivative `dx/du` at `u` (for the delta method and flatness checks).
    pub fn derivative(self, u: f64) -> f64 {
        match self {
            Transform::Identity => 1.0,
            Transform::Lower { .. } => u.min(MAX_EXP_ARG).exp(),
            Transform::Upper { .. } => -u.min(MAX_EXP_ARG).exp(),
            Transform::Logistic { lower, upper } => {
                let s = sigmoid(u);
                (upper - lower) * s * (1.0 - s)
            }
            Transform::LogLogistic { lower, upper } => {
                let s = sigmoid(u);
                // dx/du = x · d(ln x)/du.
                self.to_constrained(u) * (upper.ln() - lower.ln()) * s * (1.0 - s)
            }
            Transform::Fixed { .. } => 0.0,
        }
    }

    /// Whether `x` lies within relative distance `tol` of one of the finite bounds.
    pub fn at_bound(self, x: f64, tol: f64) -> bool {
        let near = |b: f64| (x - b).abs() <= tol * b.abs().max(1.0);
        match self {
            Transform::Identity => false,
            Transform::Lower { lower } => near(lower),
            Transform::Upper { upper } => near(upper),
            Transform::Logistic { lower, upper } => {
                let w = upper - lower;
                (x - lower).abs() <= tol * w || (upper - x).abs() <= tol * w
            }
            Transform::LogLogistic { lower, upper } => {
                // Distance measured on the scale the parameter is searched on.
                let (ll, lh) = (lower.ln(), upper.ln());
                let y = if x > 0.0 { x.ln() } else { f64::NEG_INFINITY };
                let w = lh - ll;
                (y - ll).abs() <= tol * w || (lh - y).abs() <= tol * w
            }
            Transform::Fixed { .. } => false,
        }
    }

    /// The bounds as JSON-safe values (`None` for an infinite bound).
    pub fn bounds(self) -> (Option<f64>, Option<f64>) {
        match self {
            Transform::Identity => (None, None),
            Transform::Lower { lower } => (Some(lower), None),
            Transform::Upper { upper } => (None, Some(upper)),
            Transform::Logistic { lower, upper } | Transform::LogLogistic { lower, upper } => {
                (Some(lower), Some(upper))
            }
            Transform::Fixed { value } => (Some(value), Some(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_bounds() {
        let inf = f64::INFINITY;
        assert_eq!(
            Transform::from_bounds("a", -inf, inf).unwrap(),
            Transform::Identity
        );
        assert_eq!(
            Transform::from_bounds("a", 0.0, inf).unwrap(),
            Transform::Lower { lower: 0.0 }
        );
        assert_eq!(
            Transform::from_bounds("a", -inf, 1.0).unwrap(),
            Transform::Upper { upper: 1.0 }
        );
        assert_eq!(
            Transform::from_bounds("a", 1.0, 1.0).unwrap(),
            Transform::Fixed { value: 1.0 }
        );
        assert!(Transform::from_bounds("a", 2.0, 1.0).is_err());
        assert!(Transform::from_bounds("a", f64::NAN, 1.0).is_err());
        assert!(Transform::from_bounds("a", inf, inf).is_err());
    }

    #[test]
    fn bounds_map_to_finite_u() {
        let t = Transform::from_bounds("a", 0.0, 1.0).unwrap();
        assert!(t.to_unconstrained(0.0).is_finite());
        assert!(t.to_unconstrained(1.0).is_finite());
        assert_eq!(t.to_constrained(1e6), 1.0);
        assert_eq!(t.to_constrained(-1e6), 0.0);
        let s = t.start_to_unconstrained(0.0);
        assert!(t.derivative(s) > 1e-4, "a start on a bound is moved inside");
    }

    #[test]
    fn log_scale_specs() {
        let t = Transform::from_spec(&ParamSpec::log("A", 1e-6, 1e6)).unwrap();
        assert_eq!(
            t,
            Transform::LogLogistic {
                lower: 1e-6,
                upper: 1e6
            }
        );
        for x in [1e-6, 3e-4, 1.0, 2.5e3, 1e6] {
            let back = t.to_constrained(t.to_unconstrained(x));
            assert!((back / x - 1.0).abs() < 1e-9, "{x} -> {back}");
        }
        // Equal steps in u are equal factors in x near the centre.
        let r1 = t.to_constrained(0.1) / t.to_constrained(0.0);
        let r2 = t.to_constrained(0.0) / t.to_constrained(-0.1);
        assert!((r1 / r2 - 1.0).abs() < 1e-3);
        // The derivative matches a central difference.
        let u = 0.7;
        let fd = (t.to_constrained(u + 1e-6) - t.to_constrained(u - 1e-6)) / 2e-6;
        assert!((t.derivative(u) / fd - 1.0).abs() < 1e-6);
        assert!(t.at_bound(1e-6, 1e-6) && !t.at_bound(1e-5, 1e-6));
        // One-sided log scale keeps x = l + e^u; a non-positive lower bound is refused.
        assert_eq!(
            Transform::from_spec(&ParamSpec::log("B", 1.0, f64::INFINITY)).unwrap(),
            Transform::Lower { lower: 1.0 }
        );
        assert!(matches!(
            Transform::from_spec(&ParamSpec::log("C", 0.0, 1.0)),
            Err(FitError::InvalidLogBounds { .. })
        ));
        // Linear specs are unchanged.
        assert_eq!(
            Transform::from_spec(&ParamSpec::linear("D", 0.0, 2.0)).unwrap(),
            Transform::Logistic {
                lower: 0.0,
                upper: 2.0
            }
        );
    }
}
