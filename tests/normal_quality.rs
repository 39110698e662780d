//! Statistical quality of the crate's ziggurat normals (`PathNormals`, the generator behind every
//! ensemble): moments, tail frequencies against the exact Φ, and a Kolmogorov–Smirnov test, on
//! 10⁶ draws from fixed seeds (deterministic, so the thresholds are not flaky).

use lrsde::rng::PathNormals;
use statrs::distribution::{ContinuousCDF, Normal};

const N: usize = 1_000_000;

/// 10⁶ normals spread over 100 path streams (as an ensemble uses them).
fn draws(seed: u64) -> Vec<f64> {
    let mut out = Vec::with_capacity(N);
    for p in 0..100 {
        let mut s = PathNormals::new(seed, p);
        out.extend((0..N / 100).map(|_| s.standard_normal()));
    }
    out
}

#[test]
fn moments_and_tails() {
    let z = draws(12345);
    let n = N as f64;
    let mean = z.iter().sum::<f64>() / n;
    let m = |k: i32| z.iter().map(|v| (v - mean).powi(k)).sum::<f64>() / n;
    let (var, m3, m4) = (m(2), m(3), m(4));
    let (skew, kurt) = (m3 / var.powf(1.5), m4 / (var * var));
    // Standard errors at n = 1e6: mean 1e-3, variance 1.4e-3, skew 2.4e-3, kurtosis 4.9e-3.
    assert!(mean.abs() < 5e-3, "mean {mean}");
    assert!((var - 1.0).abs() < 7e-3, "variance {var}");
    assert!(skew.abs() < 1.2e-2, "skewness {skew}");
    assert!((kurt - 3.0).abs() < 2.5e-2, "kurtosis {kurt}");

    let phi = Normal::standard();
    for k in [1.0, 2.0, 3.0, 3.654, 4.0, 4.386, 4.5] {
        // Two-sided tail beyond kσ; 4.386 is the ziggurat's r, where the exact tail method
        // starts (3.654 was r of the earlier 256-layer tables).
        let p = 2.0 * phi.sf(k);
        let count = z.iter().filter(|v| v.abs() > k).count() as f64;
        let expect = p * n;
        let sd = (n * p * (1.0 - p)).sqrt();
        assert!(
            (count - expect).abs() < 5.0 * sd + 1.0,
            "|z| > {k}: {count} draws, expected {expect:.1} ± {sd:.1}"
        );
        // And each side separately (symmetry of the tails).
        let upper = z.iter().filter(|v| **v > k).count() as f64;
        let sd1 = (n * p / 2.0).sqrt();
        assert!(
            (upper - expect / 2.0).abs() < 5.0 * sd1 + 1.0,
            "z > {k}: {upper}"
        );
    }
    assert!(z.iter().all(|v| v.is_finite()));
}

#[test]
fn kolmogorov_smirnov_against_phi() {
    let mut z = draws(777);
    z.sort_by(f64::total_cmp);
    let phi = Normal::standard();
    let n = z.len() as f64;
    let d = z
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let f = phi.cdf(v);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    // Critical value at α = 0.001: 1.95 / √n.
    let crit = 1.95 / n.sqrt();
    assert!(d < crit, "KS statistic {d:.3e} >= {crit:.3e}");
}

#[test]
fn tail_region_has_the_right_shape() {
    // Beyond r the draws come from the exact tail algorithm: conditional on |z| > 3, the share
    // beyond 3.5 must be Φ̄(3.5)/Φ̄(3), on 3·10⁷ draws' worth of tail (~81,000 samples).
    let phi = Normal::standard();
    let mut s = PathNormals::new(5, 0);
    let (mut beyond3, mut beyond35) = (0u64, 0u64);
    for _ in 0..30_000_000 {
        let v = s.standard_normal().abs();
        if v > 3.0 {
            beyond3 += 1;
            if v > 3.5 {
                beyond35 += 1;
            }
        }
    }
    let q = phi.sf(3.5) / phi.sf(3.0);
    let b = beyond3 as f64;
    let sd = (b * q * (1.0 - q)).sqrt();
    assert!(
        (beyond35 as f64 - b * q).abs() < 5.0 * sd,
        "{beyond35} of {beyond3} beyond 3.5, expected {:.0}",
        b * q
    );
}

#[test]
fn streams_are_functions_of_seed_and_path() {
    // Rebuilding a path's stream reproduces it bit for bit, and neighbouring paths and seeds
    // do not share normals.
    let a: Vec<u64> = {
        let mut s = PathNormals::new(3, 17);
        (0..10_000).map(|_| s.standard_normal().to_bits()).collect()
    };
    let mut again = PathNormals::new(3, 17);
    assert!(a.iter().all(|&b| again.standard_normal().to_bits() == b));
    for (seed, path) in [(3, 18), (4, 17), (17, 3)] {
        let mut other = PathNormals::new(seed, path);
        let same = a
            .iter()
            .filter(|&&b| other.standard_normal().to_bits() == b)
            .count();
        assert!(same < 5, "({seed}, {path}) shares {same} of 10^4 draws");
    }
}
