//! Finds `../shared` (or `$NABLA_SHARED`) at build time, so that the tests that need its data
//! sets or reference cases are reported as ignored, with the reason, when it is absent (instead
//! of passing without checking anything).

use std::path::PathBuf;

fn main() {
    for cfg in ["shared_mnist", "shared_fashion", "shared_reference"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    println!("cargo::rerun-if-env-changed=NABLA_SHARED");
    let shared = std::env::var_os("NABLA_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"))
                .join("../shared")
        });
    for (part, cfg) in [
        ("data/mnist", "shared_mnist"),
        ("data/fashion-mnist", "shared_fashion"),
        ("reference", "shared_reference"),
    ] {
        let path = shared.join(part);
        println!("cargo::rerun-if-changed={}", path.display());
        if path.is_dir() {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
