//! Subnormal numbers flushed to zero while training (the x86 MXCSR's FTZ and DAZ bits).
//!
//! A subnormal f32 is one below 2⁻¹²⁶ ≈ 1.2·10⁻³⁸ in magnitude. x86 processors make an
//! arithmetic operation that reads one, or whose result would be one, many times slower. With
//! an L2 penalty, the weights of an input that is always 0 (the border pixels of MNIST) are
//! shrunk by every step and nothing else: they fall geometrically towards 0, their squared
//! gradients in Adam underflow, and on MNIST with scikit-learn's default `alpha` every step
//! became 10–18 % slower after the first epoch. With FTZ ("flush to zero": a subnormal result
//! becomes 0) and DAZ ("denormals are zero": a subnormal operand is read as 0) no value ever
//! passes through that range, and an operation's result changes only where it would have been
//! below 1.2·10⁻³⁸ in magnitude. TensorFlow runs every op this way; PyTorch offers it as
//! `torch.set_flush_denormal(True)`.
//!
//! The setting is per thread. [`FlushSubnormals`] sets it on the caller for its lifetime and
//! restores what was there after; the team's helpers take the mode of the thread whose job they
//! run ([`mode`] and [`set_mode`]), so a split computes what the caller alone would. On other
//! processors the mode is left as it is.

/// The MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = 1 << 15 | 1 << 6;

/// This thread's floating-point mode (the MXCSR on x86-64, 0 elsewhere).
#[inline]
pub(crate) fn mode() -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        let mut csr = 0u32;
        // SAFETY: stmxcsr stores the 32-bit control register at the address given.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags))
        };
        csr
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// Sets this thread's floating-point mode to one that [`mode`] returned.
#[inline]
pub(crate) fn set_mode(mode: u32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the value was read from the MXCSR (or is it with FTZ and DAZ added), so it sets
    // no reserved bit.
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &mode, options(nostack, readonly, preserves_flags))
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = mode;
}

/// Runs `f` in floating-point `mode` and restores this thread's own after (for a split's
/// pieces run by threads other than the team's helpers).
pub(crate) fn in_mode<R>(mode: u32, f: impl FnOnce() -> R) -> R {
    let own = self::mode();
    if own == mode {
        return f();
    }
    set_mode(mode);
    let result = f();
    set_mode(own);
    result
}

/// Subnormal results and operands are 0 on this thread (and on the helpers running its
/// splits) until this is dropped.
pub(crate) struct FlushSubnormals {
    saved: u32,
}

impl FlushSubnormals {
    /// Sets FTZ and DAZ on this thread, keeping the mode to restore.
    pub(crate) fn new() -> Self {
        let saved = mode();
        #[cfg(target_arch = "x86_64")]
        set_mode(saved | FTZ_DAZ);
        FlushSubnormals { saved }
    }
}

impl Drop for FlushSubnormals {
    fn drop(&mut self) {
        set_mode(self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    fn subnormal_results_are_zero_inside_and_kept_outside() {
        let tiny = black_box(f32::MIN_POSITIVE);
        let half = black_box(0.5f32);
        let before = tiny * half;
        assert!(
            before > 0.0 && before < f32::MIN_POSITIVE,
            "a subnormal without the guard"
        );
        {
            let _flush = FlushSubnormals::new();
            let inside = black_box(tiny) * black_box(half);
            if cfg!(target_arch = "x86_64") {
                assert_eq!(inside, 0.0);
                // A subnormal operand is read as 0 too.
                assert_eq!(black_box(before) * black_box(2.0f32), 0.0);
            }
        }
        assert_eq!(
            black_box(tiny) * black_box(half),
            before,
            "the mode is restored"
        );
    }

    #[test]
    fn the_team_runs_a_split_in_the_callers_mode() {
        let results: Vec<std::sync::atomic::AtomicU32> = (0..8)
            .map(|_| std::sync::atomic::AtomicU32::new(1))
            .collect();
        let _flush = FlushSubnormals::new();
        crate::kernels::team::split_over(2, 8, &|piece| {
            let value = black_box(f32::MIN_POSITIVE) * black_box(0.5f32);
            results[piece].store(value.to_bits(), std::sync::atomic::Ordering::Relaxed);
        });
        if cfg!(target_arch = "x86_64") {
            for result in &results {
                assert_eq!(result.load(std::sync::atomic::Ordering::Relaxed), 0);
            }
        }
    }
}
