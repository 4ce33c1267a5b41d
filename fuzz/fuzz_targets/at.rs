//! `explain --at`: any text is read as a worked example's numbers (or refused with the reason)
//! and, when it reads, worked through under a scalar and an indexed derivation and rendered.
//! Errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nabla::explain::derive;
use nabla::explain::worked::{At, render_worked, worked_example};
use nabla::{Activation, LossKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(at) = text.parse::<At>() else {
        return;
    };
    for (activation, loss) in [
        (Activation::Sigmoid, LossKind::BinaryCrossEntropy),
        (Activation::Relu, LossKind::BinaryCrossEntropy),
        (Activation::Softmax, LossKind::CrossEntropy),
        (Activation::Identity, LossKind::Mse),
    ] {
        let derivation = derive(activation, loss);
        if let Ok(worked) = worked_example(&derivation, &at) {
            let _ = render_worked(&derivation, &at, &worked);
        }
    }
});
