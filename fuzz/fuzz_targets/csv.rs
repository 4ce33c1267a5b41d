//! The CSV reader on arbitrary bytes: errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nabla::data::read_csv(data, std::path::Path::new("fuzz.csv"), &nabla::data::LoadOptions::default());
});
