//! Portable, per-path random streams.
//!
//! A path's generator depends only on `(seed, path index)`, never on which thread runs it, so an
//! ensemble gives bit-identical output for any thread count. The generator is the named, portable
//! [`Xoshiro256PlusPlus`]; its 256-bit state is filled by SplitMix64 from a key mixed from the seed
//! and the path index (the seeding recommended by the xoshiro authors).

mod normal;

use rand::SeedableRng;
pub use rand::rngs::Xoshiro256PlusPlus;

pub use normal::PathNormals;
pub(crate) use normal::{Lanes, Tables, tables};

/// One step of SplitMix64: advances `state` and returns a well-mixed 64-bit word.
///
/// ```
/// let mut s = 0u64;
/// let a = lrsde::rng::splitmix64(&mut s);
/// let b = lrsde::rng::splitmix64(&mut s);
/// assert_ne!(a, b);
/// ```
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of path `path` under `seed`.
///
/// Streams of different paths (or seeds) are seeded from distinct SplitMix64 keys; Xoshiro256++
/// streams seeded this way are statistically independent for all practical ensemble sizes.
///
/// ```
/// use rand::Rng;
/// let mut a = lrsde::rng::path_rng(7, 0);
/// let mut b = lrsde::rng::path_rng(7, 0);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let mut c = lrsde::rng::path_rng(7, 1);
/// assert_ne!(lrsde::rng::path_rng(7, 0).next_u64(), c.next_u64());
/// ```
pub fn path_rng(seed: u64, path: u64) -> Xoshiro256PlusPlus {
    let mut bytes = [0u8; 32];
    for (chunk, w) in bytes.chunks_exact_mut(8).zip(path_state(seed, path)) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(bytes)
}

/// The 256-bit xoshiro state of path `path` under `seed` (as four little-endian words).
fn path_state(seed: u64, path: u64) -> [u64; 4] {
    path_states(seed, path).0
}

/// The main and aux xoshiro states of path `path` under `seed`: eight consecutive SplitMix64
/// outputs from a key mixed from both.
pub(crate) fn path_states(seed: u64, path: u64) -> ([u64; 4], [u64; 4]) {
    // Mix seed and path through one SplitMix round each so (seed, path) and (path, seed) differ.
    let mut key = seed;
    let k1 = splitmix64(&mut key);
    let mut state = k1 ^ path.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let main = [(); 4].map(|_| splitmix64(&mut state));
    let aux = [(); 4].map(|_| splitmix64(&mut state));
    (main, aux)
}
