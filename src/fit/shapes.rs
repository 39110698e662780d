//! How many schedule shapes a set of curves covers, and the fit settings that depend on it
//! (shared by the CLI and the Python package so both fit the same way).

use super::FitOptions;
use crate::data::TrainingCurve;

/// Law starts tried when every curve has one schedule shape (see [`FitOptions::for_curves`]).
pub const SINGLE_SHAPE_LAW_STARTS: usize = 16;

/// Number of distinct LR shapes among the curves: LRs normalised by their peak and compared on
/// the common prefix (equal within 1e-3).
///
/// ```
/// use lrsde::data::TrainingCurve;
/// let curve = |name: &str, lrs: Vec<f64>| TrainingCurve {
///     name: name.into(), steps: vec![1], losses: vec![3.0],
///     lrs: lrsde::schedule::LrGrid::new(lrs).unwrap(),
///     batch: None,
/// };
/// let a = curve("a", vec![1.0, 1.0, 1.0]);
/// let b = curve("b", vec![2.0, 2.0, 2.0]); // the same shape at twice the LR
/// let c = curve("c", vec![1.0, 0.5, 0.1]);
/// assert_eq!(lrsde::fit::distinct_shapes(&[a.clone(), b]), 1);
/// assert_eq!(lrsde::fit::distinct_shapes(&[a, c]), 2);
/// ```
pub fn distinct_shapes(curves: &[TrainingCurve]) -> usize {
    let shape = |c: &TrainingCurve| -> Vec<f64> {
        let peak = c
            .lrs
            .iter()
            .copied()
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        c.lrs.iter().map(|v| v / peak).collect()
    };
    let mut shapes: Vec<Vec<f64>> = Vec::new();
    for c in curves {
        let s = shape(c);
        let same = shapes.iter().any(|t| {
            let n = s.len().min(t.len());
            n > 0
                && s[..n]
                    .iter()
                    .zip(&t[..n])
                    .all(|(a, b)| (a - b).abs() < 1e-3)
        });
        if !same {
            shapes.push(s);
        }
    }
    shapes.len()
}

impl FitOptions {
    /// These options adapted to the curves to fit: with a single schedule shape the law is
    /// poorly identified, and the best-ranked start alone can end far off (measured on the 124M
    /// constant runs: cooldown predictions off by nats), so every law start is tried
    /// ([`SINGLE_SHAPE_LAW_STARTS`]); otherwise the options are unchanged.
    ///
    /// ```
    /// use lrsde::data::TrainingCurve;
    /// use lrsde::fit::{FitOptions, SINGLE_SHAPE_LAW_STARTS};
    /// let c = TrainingCurve { name: "a".into(), lrs: lrsde::schedule::LrGrid::new(vec![1.0; 4]).unwrap(), steps: vec![4], losses: vec![3.0], batch: None };
    /// let o = FitOptions::default().for_curves(&[c]);
    /// assert_eq!(o.max_law_starts, SINGLE_SHAPE_LAW_STARTS);
    /// ```
    pub fn for_curves(mut self, curves: &[TrainingCurve]) -> Self {
        if distinct_shapes(curves) < 2 {
            self.max_law_starts = SINGLE_SHAPE_LAW_STARTS;
        }
        self
    }
}
