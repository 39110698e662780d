//! Schedule specs: any text parses or fails cleanly; a parsed spec prints back to itself and
//! gives finite, non-negative LRs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lrsde::schedule::{LrSchedule, ScheduleSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = text.parse::<ScheduleSpec>() {
        let again: ScheduleSpec = spec.to_string().parse().expect("Display parses back");
        assert_eq!(again, spec);
        let n = spec.steps();
        for t in [0, 1, n / 2, n.saturating_sub(1), n, n.saturating_add(5)] {
            let lr = spec.lr(t);
            assert!(lr.is_finite() && lr >= 0.0, "{spec}: lr({t}) = {lr}");
        }
    }
});
