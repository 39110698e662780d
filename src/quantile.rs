//! Type-7 quantiles (linear interpolation between order statistics, the default of R and
//! NumPy), shared by the ensemble summary, the fit's bands and the ranking's significance test.

/// Type-7 (linear interpolation) quantile of sorted values.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let i = h.floor() as usize;
            let f = h - i as f64;
            if i + 1 >= n {
                sorted[n - 1]
            } else {
                sorted[i] + f * (sorted[i + 1] - sorted[i])
            }
        }
    }
}

/// [`quantile_sorted`] of values in any order (reordered in place): the two order statistics
/// it needs by selection, `O(n)` instead of a sort.
pub(crate) fn quantile_select(values: &mut [f64], q: f64) -> f64 {
    let n = values.len();
    if n < 2 {
        return quantile_sorted(values, q);
    }
    let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let i = h.floor() as usize;
    let f = h - i as f64;
    let (_, &mut x, above) = values.select_nth_unstable_by(i.min(n - 1), f64::total_cmp);
    match above.iter().copied().min_by(f64::total_cmp) {
        Some(y) if i + 1 < n => x + f * (y - x),
        _ => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_equals_sorting() {
        let mut x: Vec<f64> = (0..201)
            .map(|k| ((k * 7919) % 211) as f64 * 0.37 - 20.0)
            .collect();
        x.extend([3.0, 3.0, 3.0]);
        for n in [1, 2, 3, 17, x.len()] {
            let mut s = x[..n].to_vec();
            s.sort_by(f64::total_cmp);
            for q in [0.0, 0.05, 0.5, 0.95, 0.999, 1.0] {
                let mut v = x[..n].to_vec();
                assert_eq!(
                    quantile_select(&mut v, q),
                    quantile_sorted(&s, q),
                    "n {n} q {q}"
                );
            }
        }
    }

    #[test]
    fn quantiles() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&s, 0.5), 3.0);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 5.0);
        assert!((quantile_sorted(&s, 0.1) - 1.4).abs() < 1e-12);
    }

    #[test]
    fn quantile_interpolates_five() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&x, 0.5), 3.0);
        assert_eq!(quantile_sorted(&x, 0.05), 1.2);
        assert_eq!(quantile_sorted(&x, 1.0), 5.0);
    }
}
