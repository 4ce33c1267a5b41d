//! The model reader on arbitrary file contents: errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input");
    std::fs::write(&path, data).expect("writable");
    let _ = nabla::io::load_model::<f32>(&path, None);
});
