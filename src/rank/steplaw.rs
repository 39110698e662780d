//! The Step Law of Li et al. ("Predictable Scale, Part I", arXiv 2503.04715): the optimal peak
//! LR and batch size of LLM pre-training as power laws of model size and data size.
//!
//! η_opt = 1.79 · N^−0.713 · D^0.307 and B_opt = 0.58 · D^0.571 (in tokens), with N the number of
//! non-embedding parameters and D the number of training tokens. The coefficients were fitted on
//! 3,700 runs of one schedule family (warmup + cosine-like decay to 1e-5), so the law informs the
//! peak LR and batch size, not the schedule's shape.

use serde::{Deserialize, Serialize};

/// Step Law's recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepLaw {
    /// Optimal peak learning rate.
    pub peak_lr: f64,
    /// Optimal batch size in tokens.
    pub batch_tokens: f64,
}

/// Step Law for a model of `params` non-embedding parameters trained on `tokens` tokens.
///
/// Returns `None` unless both are finite and positive.
///
/// ```
/// let s = lrsde::rank::step_law(1e9, 1e11).unwrap();
/// // 1.79 · (1e9)^-0.713 · (1e11)^0.307 ≈ 1.63e-3
/// assert!((s.peak_lr - 1.79 * 1e9f64.powf(-0.713) * 1e11f64.powf(0.307)).abs() < 1e-15);
/// assert!(s.peak_lr > 1.6e-3 && s.peak_lr < 1.7e-3);
/// assert!(lrsde::rank::step_law(-1.0, 1e9).is_none());
/// ```
pub fn step_law(params: f64, tokens: f64) -> Option<StepLaw> {
    if !(params.is_finite() && tokens.is_finite() && params > 0.0 && tokens > 0.0) {
        return None;
    }
    Some(StepLaw {
        peak_lr: 1.79 * params.powf(-0.713) * tokens.powf(0.307),
        batch_tokens: 0.58 * tokens.powf(0.571),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn matches_published_exponents() {
        // Doubling N scales η by 2^−0.713; doubling D scales η by 2^0.307 and B by 2^0.571.
        let a = step_law(1e8, 1e10).unwrap();
        let b = step_law(2e8, 1e10).unwrap();
        let c = step_law(1e8, 2e10).unwrap();
        assert_relative_eq!(
            b.peak_lr / a.peak_lr,
            2f64.powf(-0.713),
            max_relative = 1e-12
        );
        assert_relative_eq!(
            c.peak_lr / a.peak_lr,
            2f64.powf(0.307),
            max_relative = 1e-12
        );
        assert_relative_eq!(
            c.batch_tokens / a.batch_tokens,
            2f64.powf(0.571),
            max_relative = 1e-12
        );
        assert_eq!(b.batch_tokens, a.batch_tokens);
    }

    #[test]
    fn rejects_non_positive_and_non_finite() {
        for (n, d) in [
            (0.0, 1e9),
            (1e9, 0.0),
            (f64::NAN, 1e9),
            (1e9, f64::INFINITY),
        ] {
            assert!(step_law(n, d).is_none());
        }
    }
}
