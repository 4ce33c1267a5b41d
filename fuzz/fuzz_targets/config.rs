//! Model configs from arbitrary JSON text: parse, then validate.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = serde_json::from_slice::<nabla::model::ModelConfig>(data) {
        let _ = config.validate();
    }
});
