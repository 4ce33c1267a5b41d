//! What this CPU is, as speed figures name it: vendor, model and the instruction sets the
//! kernels choose between (read with CPUID once), and which kernel each precision runs, and
//! why.

use std::sync::OnceLock;

use super::Precision;

/// The machine a speed figure was measured on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Cpu {
    /// The CPUID vendor ("GenuineIntel", "AuthenticAMD"), or the architecture elsewhere.
    pub vendor: String,
    /// The CPUID brand string ("Intel(R) Xeon(R) Processor", "AMD EPYC 9R14 …").
    pub model: String,
    /// AVX-512F.
    pub avx512: bool,
    /// AVX512_BF16 (VDPBF16PS).
    pub avx512_bf16: bool,
    /// AMX-BF16 usable: on the CPU and granted by the OS.
    pub amx: bool,
}

impl Cpu {
    /// "GenuineIntel, Intel(R) Xeon(R) Processor, AVX-512, AVX512_BF16, AMX-BF16".
    pub fn summary(&self) -> String {
        let mut parts = vec![self.vendor.clone(), self.model.clone()];
        for (has, name) in [
            (self.avx512, "AVX-512"),
            (self.avx512_bf16, "AVX512_BF16"),
            (self.amx, "AMX-BF16"),
        ] {
            if has {
                parts.push(name.to_string());
            }
        }
        if !self.amx {
            parts.push("no AMX".to_string());
        }
        parts.join(", ")
    }
}

/// This machine's CPU, read once.
pub fn cpu() -> &'static Cpu {
    static CPU: OnceLock<Cpu> = OnceLock::new();
    CPU.get_or_init(|| {
        let (vendor, model) = names();
        Cpu {
            vendor,
            model,
            avx512: super::microkernel::simd() == super::microkernel::Simd::Avx512,
            avx512_bf16: super::has_bf16(),
            amx: super::amx::has_amx(),
        }
    })
}

/// Whether this is an Intel CPU (CPUID vendor `GenuineIntel`), read once, without the feature
/// probes of [`cpu`] (which ask Linux for the AMX tile permission): what the f32 kernel's
/// plan depends on.
pub(super) fn is_intel() -> bool {
    static INTEL: OnceLock<bool> = OnceLock::new();
    *INTEL.get_or_init(|| names().0 == "GenuineIntel")
}

/// The vendor and brand strings from CPUID leaves 0 and 0x8000_0002–4.
fn names() -> (String, String) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        let text = |words: &[u32]| {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            String::from_utf8_lossy(&bytes)
                .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .to_string()
        };
        let leaf = __cpuid(0);
        let vendor = text(&[leaf.ebx, leaf.edx, leaf.ecx]);
        let model = if __cpuid(0x8000_0000).eax >= 0x8000_0004 {
            let words: Vec<u32> = (0x8000_0002..=0x8000_0004u32)
                .flat_map(|l| {
                    let r = __cpuid(l);
                    [r.eax, r.ebx, r.ecx, r.edx]
                })
                .collect();
            text(&words)
        } else {
            "unknown model".to_string()
        };
        (vendor, model)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (
            std::env::consts::ARCH.to_string(),
            "unknown model".to_string(),
        )
    }
}

/// The microkernel a precision runs on this CPU and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KernelChoice {
    /// Its name ("amx-bf16 32×32", "avx512 12×32", …).
    pub name: &'static str,
    /// Why this one: what was detected, and what was not.
    pub reason: &'static str,
}

/// Which kernel `precision`'s products run here, and why.
pub fn kernel_choice(precision: Precision) -> KernelChoice {
    let cpu = cpu();
    let reason = match precision {
        Precision::Bf16 if cpu.amx => "AMX-BF16 tiles, granted by Linux: TDPBF16PS",
        Precision::Bf16 if cpu.avx512_bf16 => "AVX512_BF16 without AMX: VDPBF16PS",
        Precision::Bf16 => "no AVX512_BF16: the f32 kernel on operands rounded to bf16",
        Precision::F32 if cpu.avx512 && is_intel() => {
            "AVX-512F; on Intel, operands whose rows lie a multiple of 2 KB apart are packed \
             rather than read in place (L1 set conflicts)"
        }
        Precision::F32 if cpu.avx512 => {
            "AVX-512F, operands read in place where packing would not pay"
        }
        Precision::F32 => "no AVX-512F: the widest vector kernel this CPU runs",
    };
    KernelChoice {
        name: super::kernel_name(precision),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The detection agrees with the kernel the products run, and with what the OS says of
    /// this CPU where /proc/cpuinfo is readable.
    #[test]
    fn the_cpu_and_the_chosen_kernels_agree() {
        let cpu = cpu();
        assert!(!cpu.vendor.is_empty() && !cpu.model.is_empty());
        let bf16 = kernel_choice(Precision::Bf16);
        assert_eq!(bf16.name.starts_with("amx"), cpu.amx, "{bf16:?}");
        if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
            let flags = info
                .lines()
                .find(|l| l.starts_with("flags"))
                .unwrap_or_default();
            let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
            assert_eq!(cpu.avx512, has("avx512f"), "{}", cpu.summary());
            assert_eq!(cpu.avx512_bf16, has("avx512_bf16"), "{}", cpu.summary());
            if cpu.amx {
                assert!(has("amx_bf16") && has("amx_tile"), "{}", cpu.summary());
            }
            if let Some(name) = info.lines().find(|l| l.starts_with("model name")) {
                let name = name.split(':').nth(1).unwrap_or_default().trim();
                assert_eq!(cpu.model, name, "the brand string");
            }
        }
    }
}
