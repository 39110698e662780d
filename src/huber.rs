//! The Huber loss on residuals, the one definition that the fit's objective (`fit`) and the
//! laws' ranking of their starting guesses (`law`, which sits below `fit`) both score with.

/// Huber loss of a residual `r` with threshold `delta`: `r²/2` for `|r| ≤ δ`, else
/// `δ·(|r| − δ/2)` (continuous with a continuous first derivative at `|r| = δ`).
///
/// ```
/// use lrsde::fit::huber;
/// assert_eq!(huber(0.5e-3, 1e-3), 0.5 * 0.5e-3 * 0.5e-3);
/// assert!((huber(-2e-3, 1e-3) - 1.5e-6).abs() < 1e-18);
/// ```
pub fn huber(r: f64, delta: f64) -> f64 {
    let a = r.abs();
    if a <= delta {
        0.5 * r * r
    } else {
        delta * (a - 0.5 * delta)
    }
}

/// Derivative of [`huber`] in `r`: `r` clipped to `[−δ, δ]`.
pub(crate) fn huber_slope(r: f64, delta: f64) -> f64 {
    r.clamp(-delta, delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_is_the_derivative_and_the_pieces_join() {
        let delta = 1e-3;
        // Central differences of the loss against the slope, inside, at and past the kink.
        for r in [-5e-3, -1e-3, -2e-4, 0.0, 3e-4, 1e-3, 4e-2] {
            let h = 1e-9;
            let fd = (huber(r + h, delta) - huber(r - h, delta)) / (2.0 * h);
            assert!((fd - huber_slope(r, delta)).abs() < 1e-9, "r = {r}");
        }
        // Both pieces give δ²/2 at |r| = δ.
        assert_eq!(huber(delta, delta), 0.5 * delta * delta);
        assert!((delta * (delta - 0.5 * delta) - 0.5 * delta * delta).abs() < 1e-22);
    }
}
