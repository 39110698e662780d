//! Which instruction sets the simulation kernel uses: the best the CPU has, detected at run time,
//! unless the environment variable `LRSDE_SIMD` caps it.
//!
//! `LRSDE_SIMD` (read once per process): `portable` (x86-64 baseline: the plain-loop generator
//! and the SSE2 copy of the row kernel), `avx2` (what a CPU without AVX-512 runs) or `avx512`
//! (the default where the CPU has it). Every level computes the same bits, so the variable only
//! changes speed: it is there to compare the levels on one machine, and to avoid AVX-512 on CPUs
//! that lower their clock for it. An unknown value is ignored. Other architectures use `pulp`'s
//! own detection and the portable generator.

use std::sync::OnceLock;

/// Instruction-set levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// x86-64 baseline (SSE2), or any other architecture.
    Portable,
    /// x86-64-v3: AVX2 and FMA.
    Avx2,
    /// x86-64-v4: AVX-512 F/BW/CD/DQ/VL.
    Avx512,
}

/// The highest level `LRSDE_SIMD` allows.
fn cap() -> Level {
    static CAP: OnceLock<Level> = OnceLock::new();
    *CAP.get_or_init(|| match std::env::var("LRSDE_SIMD").as_deref() {
        Ok("portable") => Level::Portable,
        Ok("avx2") => Level::Avx2,
        _ => Level::Avx512,
    })
}

/// The highest level both the CPU and `LRSDE_SIMD` allow (a cached check).
#[inline]
pub(crate) fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        let cap = cap();
        if cap >= Level::Avx512 && pulp::x86::V4::is_available() {
            return Level::Avx512;
        }
        if cap >= Level::Avx2 && pulp::x86::V3::is_available() {
            return Level::Avx2;
        }
    }
    // Elsewhere only the portable generator exists, whatever the cap.
    #[cfg(not(target_arch = "x86_64"))]
    let _ = cap();
    Level::Portable
}

/// `pulp`'s dispatcher at [`level`]: runs a [`pulp::WithSimd`] operation compiled for it.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn arch() -> pulp::Arch {
    match level() {
        Level::Avx512 => pulp::x86::V4::try_new().map_or(pulp::Arch::Scalar, pulp::Arch::V4),
        Level::Avx2 => pulp::x86::V3::try_new().map_or(pulp::Arch::Scalar, pulp::Arch::V3),
        Level::Portable => pulp::Arch::Scalar,
    }
}

/// `pulp`'s own dispatcher (architectures other than x86-64).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn arch() -> pulp::Arch {
    pulp::Arch::new()
}
