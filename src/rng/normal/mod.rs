//! Standard normals by a 4096-layer ziggurat (Marsaglia & Tsang 2000, Doornik's 2005 variant),
//! evaluated either on one path ([`PathNormals`]) or on `L` paths at once ([`Lanes`]), with the
//! same numbers per path either way.
//!
//! # Definition of a draw
//!
//! A path owns two xoshiro256++ streams, *main* and *aux*. Every normal takes exactly one word
//! `w` of the main stream: bits 0..12 pick the layer `i`, bits 12..64 give `u ∈ [−1, 1)` (52
//! bits, exact; together they use the word exactly), and `x = u·X[i]`. If `|x| < X[i+1]`
//! (≈ 99.9 % of draws) `x` is the normal. Otherwise
//! the slow path continues *on the aux stream*: the wedge test with one more word, the Marsaglia
//! tail for the base layer, or a fresh candidate, every further word from aux. The ziggurat is
//! exact whichever independent uniforms the slow path consumes.
//!
//! Why two streams: with one, a rejection shifts every later word of the path, so a vectorised
//! generator must stop at each rejection before it can produce the next normal. With the slow
//! path on its own stream, normal `n` of a path is always word `n` of its main stream: the
//! generator runs ahead over a whole step of coordinates with the xoshiro state in registers and
//! repairs the ≈ 0.1 % rejected draws afterwards, in order, from each path's aux stream. The
//! numbers are still a function of `(seed, path)` alone.
//!
//! Why 4096 layers rather than the usual 128 or 256: the slow path (wedge test, tail, retry) is a
//! chain of unpredictable branches worth ~100 cycles, and with 256 layers 1.2 % of draws took
//! it, 15–20 % of a workload-W run. With 4096 layers 0.1 % do. The hot table of pairs
//! `(x[i], x[i+1])` grows to 64 KiB; its loads are independent of each other, so L2 latency
//! hides behind the rest of the pass (measured in `docs/performance.md`).
//!
//! Why not `rand_distr::StandardNormal`: its per-draw branch and scalar generator cost ~2–3 ns
//! per normal, the whole budget of a workload-W step. It is the same algorithm with 256 layers
//! and one stream.

use std::sync::OnceLock;

use crate::simd::Level;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Bits of a word that pick the layer.
const LAYER_BITS: u32 = 12;
/// Layers of the ziggurat.
pub(crate) const LAYERS: usize = 1 << LAYER_BITS;
/// Mask of the layer bits.
pub(crate) const LAYER_MASK: u64 = LAYERS as u64 - 1;
/// Rightmost layer boundary `r` of the 4096-layer normal ziggurat: the root that makes the
/// recursion below close with a top layer of area `V` (solved at 40 digits).
pub(crate) const R: f64 = 4.385_945_034_871_305;
/// Area of every layer (and of base strip + tail), `r φ(r) + ∫_r^∞ φ` for `r` above.
const V: f64 = 3.061_541_032_784_645e-4;

/// Layer boundaries `x[0..=LAYERS]` (decreasing; `x[0] = V/f(R)` is the base strip's virtual
/// width, `x[1] = R`, `x[LAYERS] = 0`) and `f[i] = exp(−x[i]²/2)`.
pub(crate) struct Tables {
    pub(crate) x: [f64; LAYERS + 1],
    pub(crate) f: [f64; LAYERS + 1],
    /// `(x[i], x[i+1])` side by side: the fast path loads layer `i` as one 16-byte value.
    pub(crate) pairs: [[f64; 2]; LAYERS],
}

fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

fn build() -> Box<Tables> {
    let mut x = [0.0; LAYERS + 1];
    x[0] = V / pdf(R);
    x[1] = R;
    for i in 2..LAYERS {
        x[i] = (-2.0 * (V / x[i - 1] + pdf(x[i - 1])).ln()).sqrt();
    }
    x[LAYERS] = 0.0;
    Box::new(Tables {
        x,
        f: x.map(pdf),
        pairs: std::array::from_fn(|i| [x[i], x[i + 1]]),
    })
}

/// The ziggurat tables, computed once per process (a few thousand `exp`/`ln`).
pub(crate) fn tables() -> &'static Tables {
    static T: OnceLock<Box<Tables>> = OnceLock::new();
    T.get_or_init(build)
}

/// One xoshiro256++ step (Blackman & Vigna): the same sequence as
/// [`rand::rngs::Xoshiro256PlusPlus`] from the same state.
#[inline(always)]
fn xoshiro_next(s: &mut [u64; 4]) -> u64 {
    let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    out
}

/// `u ∈ [−1, 1)` from the top 52 bits of `w`: `2 + m·2⁻⁵¹ ∈ [2, 4)`, minus 3. Exact, and a
/// bit operation plus a subtraction, which vectorise (SSE2 has no 64-bit int → float convert).
#[inline(always)]
fn signed_unit(w: u64) -> f64 {
    f64::from_bits(0x4000_0000_0000_0000 | (w >> 12)) - 3.0
}

/// Uniform on `[0, 1)` with 53 bits.
#[inline(always)]
fn unit(w: u64) -> f64 {
    (w >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on `(0, 1)` (never 0: its logarithm is taken).
#[inline(always)]
fn open_unit(w: u64) -> f64 {
    ((w >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// The fast path of a draw: the candidate `x` and whether it is accepted.
#[inline(always)]
fn fast(w: u64, t: &Tables) -> (f64, bool) {
    let [width, limit] = t.pairs[(w & LAYER_MASK) as usize];
    let x = signed_unit(w) * width;
    (x, x.abs() < limit)
}

/// The rest of a draw whose main-stream word `w` failed the fast test; every further word comes
/// from the aux stream `s`.
#[cold]
#[inline(never)]
fn slow(s: &mut [u64; 4], mut w: u64, t: &Tables) -> f64 {
    loop {
        let i = (w & LAYER_MASK) as usize;
        let u = signed_unit(w);
        let x = u * t.x[i];
        if x.abs() < t.x[i + 1] {
            return x;
        }
        if i == 0 {
            // Base layer beyond r: Marsaglia's exact tail method.
            loop {
                let a = open_unit(xoshiro_next(s)).ln() / R;
                let b = open_unit(xoshiro_next(s)).ln();
                if -2.0 * b >= a * a {
                    return if u < 0.0 { a - R } else { R - a };
                }
            }
        }
        // Wedge: a uniform height in the layer's band [f[i], f[i+1]], accepted under the density.
        let y = t.f[i + 1] + (t.f[i] - t.f[i + 1]) * unit(xoshiro_next(s));
        if under_density(x.abs(), y, i, t) {
            return x;
        }
        w = xoshiro_next(s);
    }
}

/// `y < φ(a)` for a point `(a, y)` of layer `i`'s wedge (`x[i+1] ≤ a < x[i]`, `φ(x) = e^{−x²/2}`),
/// mostly without the exponential: where the layer lies where `φ` is convex (`a ≥ 1`) the chord
/// between the layer's corners lies above `φ` and the tangent at `x[i+1]` below it; where `φ` is
/// concave (`a ≤ 1`) the other way round. A point outside the band between the two lines is
/// decided by that; only the thin band (or a layer straddling 1) needs `exp`.
#[inline]
fn under_density(a: f64, y: f64, i: usize, t: &Tables) -> bool {
    let (x0, x1, f0, f1) = (t.x[i + 1], t.x[i], t.f[i + 1], t.f[i]);
    let chord = f0 + (f1 - f0) * ((a - x0) / (x1 - x0));
    let tangent = f0 * (1.0 - x0 * (a - x0));
    if x0 >= 1.0 {
        if y >= chord {
            return false;
        }
        if y < tangent {
            return true;
        }
    } else if x1 <= 1.0 {
        if y < chord {
            return true;
        }
        if y >= tangent {
            return false;
        }
    }
    y < pdf(a)
}

/// One standard normal: the main stream's next word, repaired from `aux` if rejected.
#[inline(always)]
fn sample(main: &mut [u64; 4], aux: &mut [u64; 4], t: &Tables) -> f64 {
    let w = xoshiro_next(main);
    let (x, ok) = fast(w, t);
    if ok { x } else { slow(aux, w, t) }
}

/// A path's random streams: two xoshiro256++ generators seeded from `(seed, path)`, drawing
/// standard normals by the crate's 4096-layer ziggurat: one main-stream word per normal, the
/// aux stream only for the ≈ 0.1 % of draws that need the slow path (wedge, tail, resampling).
///
/// Path `p` of an [`Ensemble`](crate::ensemble::Ensemble) run with seed `seed` draws its normals
/// in order from `PathNormals::new(seed, p)`: `noise_dim` per (sub)step, coordinate by coordinate.
/// Tests and user code can rebuild any path's Brownian increments from it. The main stream's
/// words are those of [`path_rng`](super::path_rng).
///
/// ```
/// use lrsde::rng::PathNormals;
/// let mut a = PathNormals::new(7, 3);
/// let z: Vec<f64> = (0..4).map(|_| a.standard_normal()).collect();
/// let mut b = PathNormals::new(7, 3);
/// assert_eq!(b.standard_normal(), z[0]);
/// assert!(z.iter().all(|v| v.is_finite()));
/// // Same words as `path_rng`.
/// use rand::Rng;
/// assert_eq!(PathNormals::new(1, 2).next_u64(), lrsde::rng::path_rng(1, 2).next_u64());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathNormals {
    main: [u64; 4],
    aux: [u64; 4],
}

impl PathNormals {
    /// The streams of path `path` under `seed`.
    pub fn new(seed: u64, path: u64) -> Self {
        let (main, aux) = super::path_states(seed, path);
        Self { main, aux }
    }

    /// The main stream's next raw 64-bit word (the word a normal would use).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        xoshiro_next(&mut self.main)
    }

    /// The next standard normal.
    #[inline]
    pub fn standard_normal(&mut self) -> f64 {
        sample(&mut self.main, &mut self.aux, tables())
    }

    /// Fills `out` with standard normals, in order (the same as repeated
    /// [`standard_normal`](Self::standard_normal)).
    #[inline]
    pub fn fill(&mut self, out: &mut [f64]) {
        let t = tables();
        for o in out {
            *o = sample(&mut self.main, &mut self.aux, t);
        }
    }
}

/// Lanes per generator pass: 16 paths' main states are 16 AVX2 registers (4 × 4 words), so the
/// state stays in registers while a pass draws a whole step of coordinates.
pub(crate) const CHUNK: usize = 16;
// The portable pass records a chunk's rejected lanes in 16 bits.
const _: () = assert!(CHUNK <= 16);

/// One call of a hand-written generator pass (`avx2.rs`, `avx512.rs`; `S` is the instruction-set
/// token): fills `words` and `z` like [`Lanes::fill_rows_portable`], leaving the rejected
/// candidates in `rejected` as `(row, first lane << 16 | lane bits)`, sorted by row within each
/// group of lanes.
#[cfg(target_arch = "x86_64")]
struct Pass<'a, S, const L: usize> {
    simd: S,
    t: &'a Tables,
    main: &'a mut [[u64; L]; 4],
    z: &'a mut [[f64; L]],
    words: &'a mut [[u64; L]],
    rejected: &'a mut Vec<(u32, u32)>,
}

/// The generators of `L` paths: main streams in structure-of-arrays form (word `k` of every lane
/// sits in `main[k]`, so one step of all lanes is four loops over `[u64; L]` that vectorise), aux
/// streams per lane (only the rare slow path touches them).
#[derive(Debug, Clone)]
pub(crate) struct Lanes<const L: usize> {
    main: [[u64; L]; 4],
    aux: [[u64; 4]; L],
    /// Rejected candidates of the current pass: `(row, chunk start << 16 | lane bits)`.
    rejected: Vec<(u32, u32)>,
}

impl<const L: usize> Lanes<L> {
    /// Lanes holding paths `first..first + L` of `seed`.
    #[allow(
        clippy::needless_range_loop,
        reason = "transposes AoS states into SoA lanes"
    )]
    pub(crate) fn new(seed: u64, first: u64) -> Self {
        let mut main = [[0u64; L]; 4];
        let mut aux = [[0u64; 4]; L];
        for l in 0..L {
            let (m, a) = super::path_states(seed, first + l as u64);
            for k in 0..4 {
                main[k][l] = m[k];
            }
            aux[l] = a;
        }
        Self {
            main,
            aux,
            rejected: Vec::new(),
        }
    }

    /// Lane `l`'s streams.
    #[inline]
    pub(crate) fn get(&self, l: usize) -> PathNormals {
        let m = &self.main;
        PathNormals {
            main: [m[0][l], m[1][l], m[2][l], m[3][l]],
            aux: self.aux[l],
        }
    }

    /// Replaces lane `l`'s streams.
    #[inline]
    pub(crate) fn set(&mut self, l: usize, p: &PathNormals) {
        for (k, v) in p.main.into_iter().enumerate() {
            self.main[k][l] = v;
        }
        self.aux[l] = p.aux;
    }

    /// `z[n][l]` ← normal `n` of lane `l`, for every row `n` in order: what `z.len()` calls of
    /// [`PathNormals::standard_normal`] would return on each lane. `words` (as long as `z`) is
    /// scratch for the main-stream words.
    ///
    /// A generator pass (the one for the kernel's instruction set, [`crate::simd::level`]: plain
    /// loops, `avx2.rs` or `avx512.rs`; every pass gives the same draws) computes every row's candidates and only flags the
    /// rejected ones; [`repair`](Self::repair) then redraws those lane by lane from the aux
    /// streams, in row order.
    #[inline(always)]
    pub(crate) fn fill_rows(&mut self, t: &Tables, z: &mut [[f64; L]], words: &mut [[u64; L]]) {
        self.fill_rows_with(crate::simd::level(), t, z, words);
    }

    /// [`fill_rows`](Self::fill_rows) with the pass for `level`, or the next one down where the
    /// CPU lacks it or `L` does not suit it.
    #[inline(always)]
    fn fill_rows_with(
        &mut self,
        level: Level,
        t: &Tables,
        z: &mut [[f64; L]],
        words: &mut [[u64; L]],
    ) {
        debug_assert!(self.rejected.is_empty());
        #[cfg(target_arch = "x86_64")]
        let (main, rejected) = (&mut self.main, &mut self.rejected);
        // A hand-written pass if the CPU has its instruction set and `L` suits it.
        #[cfg(target_arch = "x86_64")]
        macro_rules! hand_written {
            ($token:ty, $lanes:expr) => {
                match <$token>::try_new() {
                    Some(simd) if L.is_multiple_of($lanes) => {
                        let (main, rejected) = (&mut *main, &mut *rejected);
                        let (z, words) = (&mut *z, &mut *words);
                        simd.vectorize(Pass {
                            simd,
                            t,
                            main,
                            z,
                            words,
                            rejected,
                        });
                        true
                    }
                    _ => false,
                }
            };
        }
        let done = match level {
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => hand_written!(pulp::x86::V4, 32) || hand_written!(pulp::x86::V3, 8),
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => hand_written!(pulp::x86::V3, 8),
            _ => false,
        };
        if !done {
            self.fill_rows_portable(t, z, words);
        }
        if !self.rejected.is_empty() {
            self.repair(t, z, words);
        }
    }

    /// The generator pass of [`fill_rows`](Self::fill_rows) in plain loops, for every CPU:
    /// leaves rejected candidates in `self.rejected` for [`repair`](Self::repair).
    ///
    /// Lanes go [`CHUNK`] at a time; a chunk's state is loaded once, stepped through every row
    /// (plain loops LLVM vectorises; the two layer loads per lane stay scalar) and stored once.
    #[inline(always)]
    #[allow(
        clippy::neg_cmp_op_on_partial_ord,
        reason = "`!(a < b)` is the rejection test; it must also hold for NaN"
    )]
    fn fill_rows_portable(&mut self, t: &Tables, z: &mut [[f64; L]], words: &mut [[u64; L]]) {
        debug_assert_eq!(L % CHUNK, 0);
        for c in (0..L).step_by(CHUNK) {
            let mut s0: [u64; CHUNK] = self.main[0][c..c + CHUNK].try_into().unwrap_or_default();
            let mut s1: [u64; CHUNK] = self.main[1][c..c + CHUNK].try_into().unwrap_or_default();
            let mut s2: [u64; CHUNK] = self.main[2][c..c + CHUNK].try_into().unwrap_or_default();
            let mut s3: [u64; CHUNK] = self.main[3][c..c + CHUNK].try_into().unwrap_or_default();
            for (n, (zr, wr)) in z.iter_mut().zip(words.iter_mut()).enumerate() {
                let mut w = [0u64; CHUNK];
                for j in 0..CHUNK {
                    w[j] = s0[j]
                        .wrapping_add(s3[j])
                        .rotate_left(23)
                        .wrapping_add(s0[j]);
                    let t1 = s1[j] << 17;
                    s2[j] ^= s0[j];
                    s3[j] ^= s1[j];
                    s1[j] ^= s2[j];
                    s0[j] ^= s3[j];
                    s2[j] ^= t1;
                    s3[j] = s3[j].rotate_left(45);
                }
                // The loads in a loop of their own: gathered scalar, while the loop below
                // vectorises (mixed into one loop, LLVM would scalarise both).
                wr[c..c + CHUNK].copy_from_slice(&w);
                let mut width = [0.0; CHUNK];
                let mut limit = [0.0; CHUNK];
                for j in 0..CHUNK {
                    [width[j], limit[j]] = t.pairs[(wr[c + j] & LAYER_MASK) as usize];
                }
                let mut x = [0.0; CHUNK];
                let mut any = false;
                for j in 0..CHUNK {
                    x[j] = signed_unit(w[j]) * width[j];
                    any |= !(x[j].abs() < limit[j]);
                }
                zr[c..c + CHUNK].copy_from_slice(&x);
                if any {
                    // Which lanes: rare (≈ 17 % of rows of 16), so a scalar pass is cheaper
                    // than building the bit mask in the vector loop.
                    let bad =
                        (0..CHUNK).fold(0u32, |m, j| m | u32::from(!(x[j].abs() < limit[j])) << j);
                    self.rejected.push((n as u32, (c as u32) << 16 | bad));
                }
            }
            self.main[0][c..c + CHUNK].copy_from_slice(&s0);
            self.main[1][c..c + CHUNK].copy_from_slice(&s1);
            self.main[2][c..c + CHUNK].copy_from_slice(&s2);
            self.main[3][c..c + CHUNK].copy_from_slice(&s3);
        }
    }

    /// Replaces every rejected candidate by the slow path on its lane's aux stream, in row
    /// order per lane (so each lane's aux words are used in its own draw order).
    #[cold]
    #[inline(never)]
    fn repair(&mut self, t: &Tables, z: &mut [[f64; L]], words: &[[u64; L]]) {
        // Entries come sorted by row within each group of lanes (the portable pass fills chunk
        // after chunk, the AVX2 pass row after row), and groups are disjoint, so within a lane
        // the order is the row order.
        for &(n, lanes) in &self.rejected {
            let (n, c, mut bad) = (n as usize, (lanes >> 16) as usize, lanes & 0xffff);
            while bad != 0 {
                let l = c + bad.trailing_zeros() as usize;
                bad &= bad - 1;
                z[n][l] = slow(&mut self.aux[l], words[n][l], t);
            }
        }
        self.rejected.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn tables_are_a_ziggurat() {
        let t = tables();
        assert!(t.x.windows(2).all(|w| w[0] > w[1]), "boundaries decrease");
        assert!(t.x[LAYERS - 1] > 0.0 && t.x[LAYERS] == 0.0);
        // Every layer 1 <= i < LAYERS - 1 has area V: x[i]·(f[i+1] − f[i]); the top layer
        // x[LAYERS−1]·(1 − f[LAYERS−1]) too, up to the rounding the recursion accumulated.
        for i in 1..LAYERS - 1 {
            let a = t.x[i] * (t.f[i + 1] - t.f[i]);
            assert!((a / V - 1.0).abs() < 1e-9, "layer {i}: area {a}");
        }
        let top = t.x[LAYERS - 1] * (1.0 - t.f[LAYERS - 1]);
        assert!((top / V - 1.0).abs() < 1e-6, "top layer area {top}");
        // The base layer: the strip r·φ(r) plus the exact tail ∫_r^∞ φ = √(π/2)·erfc(r/√2).
        let tail = (std::f64::consts::PI / 2.0).sqrt()
            * statrs::function::erf::erfc(R / std::f64::consts::SQRT_2);
        let base = R * pdf(R) + tail;
        assert!((base / V - 1.0).abs() < 1e-9, "base layer area {base}");
        assert!(
            (t.x[0] * t.f[1] / V - 1.0).abs() < 1e-15,
            "base strip width"
        );
        assert_eq!(t.pairs[LAYERS - 1], [t.x[LAYERS - 1], 0.0]);
    }

    #[test]
    fn words_match_rand_xoshiro() {
        let mut a = PathNormals::new(3, 9);
        let mut b = super::super::path_rng(3, 9);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn lanes_match_single_streams() {
        // Every pass this CPU can run against the one-path generator, draw for draw.
        let mut levels = vec![Level::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if pulp::x86::V3::is_available() {
                levels.push(Level::Avx2);
            }
            if pulp::x86::V4::is_available() {
                levels.push(Level::Avx512);
            }
        }
        for level in levels {
            lanes_match_single_streams_with(level);
        }
    }

    fn lanes_match_single_streams_with(level: Level) {
        const L: usize = 32;
        let mut lanes = Lanes::<L>::new(5, 0);
        let mut single: Vec<PathNormals> = (0..L as u64).map(|p| PathNormals::new(5, p)).collect();
        let t = tables();
        // Odd row counts and more than 64 rows. With 0.1 % of draws rejected, each lane takes
        // the slow path about 40 times (twice within one call a few dozen times in all) and the
        // lanes together reach the tail a handful of times; tail frequencies are tested in
        // tests/normal_quality.rs.
        for rows in [1usize, 7, 32, 70, 3] {
            let mut z = vec![[0.0; L]; rows];
            let mut w = vec![[0u64; L]; rows];
            for _ in 0..300 {
                lanes.fill_rows_with(level, t, &mut z, &mut w);
                for row in &z {
                    for (o, s) in row.iter().zip(&mut single) {
                        assert_eq!(o.to_bits(), s.standard_normal().to_bits(), "{level:?}");
                    }
                }
            }
        }
        for (l, s) in single.iter().enumerate() {
            assert_eq!(&lanes.get(l), s);
        }
    }

    #[test]
    fn base_layer_tail_is_the_truncated_normal() {
        // Words of the base layer straight into the slow path: |x| beyond r must come from
        // Marsaglia's tail method, distributed as φ restricted to (r, ∞). KS at α = 0.001.
        use statrs::distribution::{ContinuousCDF, Normal};
        let t = tables();
        let phi = Normal::standard();
        let mut words = PathNormals::new(11, 0);
        let mut aux = PathNormals::new(11, 1).main;
        let mut tail = Vec::new();
        while tail.len() < 20_000 {
            let w = words.next_u64() & !LAYER_MASK;
            let x = slow(&mut aux, w, t);
            assert!(x.is_finite());
            if x.abs() >= R {
                tail.push(x.abs());
            }
        }
        tail.sort_by(f64::total_cmp);
        let n = tail.len() as f64;
        let sf_r = phi.sf(R);
        let d = tail
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let f = 1.0 - phi.sf(v) / sf_r;
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        assert!(
            d < 1.95 / n.sqrt(),
            "KS statistic {d:.3e} on {n} tail draws"
        );
    }

    #[test]
    fn squeeze_agrees_with_the_density() {
        // Every layer, a grid of points across its wedge: the squeezed test decides exactly as
        // `y < φ(a)` away from the curve itself (rounding at the boundary is measure zero).
        let t = tables();
        for i in 1..LAYERS {
            let (x0, x1, f0, f1) = (t.x[i + 1], t.x[i], t.f[i + 1], t.f[i]);
            for p in 1..50 {
                let a = x0 + (x1 - x0) * f64::from(p) / 50.0;
                for q in 0..50 {
                    let y = f1 + (f0 - f1) * (f64::from(q) + 0.5) / 50.0;
                    if (y - pdf(a)).abs() > 1e-12 {
                        assert_eq!(
                            under_density(a, y, i, t),
                            y < pdf(a),
                            "layer {i}, a {a}, y {y}"
                        );
                    }
                }
            }
        }
    }
}
