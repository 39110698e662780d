//! Fit files: any text loads or fails cleanly; a loaded fit can rebuild its law and predict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lrsde::fit::{FittedLaw, Predictor};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(fit) = FittedLaw::from_json_str(text) {
        let p = fit.param_order.len();
        if let Some(u) = &fit.uncertainty {
            assert_eq!(u.std().len(), p);
        }
        if let Ok(predictor) = Predictor::from_fitted(fit) {
            let _ = predictor.predict_band(&[3e-4; 32], &[1, 16, 32]);
        }
    }
});
