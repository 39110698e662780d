//! The JSON curve reader returns a valid curve or an error for any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lrsde::data::{Format, ReadOptions, read_curve_bytes};

fuzz_target!(|data: &[u8]| {
    // A small step limit keeps an accidental huge step from allocating gigabytes.
    let opts = ReadOptions::default().with_max_steps(1 << 20);
    if let Ok(c) = read_curve_bytes(data, "fuzz", Format::Json, &opts) {
        assert_eq!(c.steps.len(), c.losses.len());
        assert!(c.steps.windows(2).all(|w| w[0] < w[1]));
        assert!(c.steps.iter().all(|&s| s >= 1 && s as usize <= c.lrs.len()));
        assert!(c.lrs.iter().all(|x| x.is_finite() && *x >= 0.0));
        assert!(c.losses.iter().all(|x| x.is_finite() && *x >= 0.0));
    }
});
