//! The IDX reader on gzip-compressed arbitrary contents (the fuzzer rarely writes a valid gzip
//! stream itself): declared sizes against inflated bytes. Errors are fine, panics are findings.
#![no_main]
use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("in memory");
    let compressed = encoder.finish().expect("in memory");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input.gz");
    std::fs::write(&path, compressed).expect("writable");
    let _ = nabla::data::read_idx(&path);
});
