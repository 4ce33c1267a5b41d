//! The npy reader on a well-formed preamble around an arbitrary header text (any Unicode, any
//! dict) and body: errors are fine, panics are findings.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split).min(rest.len());
    let (header, body) = rest.split_at(at);
    let header = String::from_utf8_lossy(header);
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(body);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input.npy");
    std::fs::write(&path, bytes).expect("writable");
    let _ = nabla::data::read_npy(&path);
    let _ = nabla::data::read_npy_as::<f64>(&path);
});
