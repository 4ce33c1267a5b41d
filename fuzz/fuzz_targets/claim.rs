//! `explain --check`: any text is parsed (or refused with a column) and, when it parses,
//! diagnosed against a derivation. Errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nabla::explain::claim::{Quantity, diagnose, parse_claim};
use nabla::explain::derive;
use nabla::{Activation, LossKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_claim(text) {
        Ok(expr) => {
            let _ = expr.text();
            let _ = expr.latex();
            if text.len() < 64 {
                let derivation = derive(Activation::Sigmoid, LossKind::BinaryCrossEntropy);
                let _ = diagnose(&derivation, &expr, Quantity::W);
            }
        }
        Err(error) => {
            assert!(error.column <= text.chars().count());
            let _ = error.pointing_into(text);
        }
    }
});
