//! Model specs: any text parses or fails cleanly; a parsed spec prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lrsde::model::ModelSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = text.parse::<ModelSpec>() {
        let again: ModelSpec = spec.to_string().parse().expect("Display parses back");
        assert_eq!(again, spec);
    }
});
