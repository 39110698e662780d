//! Standard normals by a 256-layer ziggurat (Marsaglia & Tsang 2000, Doornik's 2005 variant),
//! evaluated either on one stream ([`PathNormals`]) or on `L` independent streams at once
//! ([`Lanes`]), with the same numbers per stream either way.
//!
//! # Definition of a draw
//!
//! One 64-bit word `w` of the stream: bits 0..8 pick the layer `i`, bits 12..64 give
//! `u ∈ [−1, 1)` (52 bits, exact), and `x = u·X[i]`. If `|x| < X[i+1]` (≈ 98.8 % of draws) `x` is
//! the normal. Otherwise the slow path continues *on the same stream*: the wedge test with one
//! more word, the Marsaglia tail for the base layer, or a fresh draw. So a stream's normals are a
//! function of that stream alone, and the lane-parallel version (fast path on all lanes, slow path
//! lane by lane, in lane order) yields exactly the numbers of the one-stream version on each lane.
//!
//! Why not `rand_distr::StandardNormal`: its per-draw branch and scalar generator cost ~3 ns per
//! normal, the whole budget of a workload-W step. Here the generator state update, the
//! word-to-float conversion (exponent bit trick, no integer-to-float instruction) and the
//! acceptance test are plain loops over `[u64; L]` / `[f64; L]` that LLVM vectorises with SSE2 or
//! AVX2; only the two table loads per lane are scalar.

use std::sync::OnceLock;

/// Rightmost layer boundary `r` of the 256-layer normal ziggurat.
const R: f64 = 3.654_152_885_361_009;
/// Area of every layer (and of base strip + tail) for `r` above.
const V: f64 = 0.004_928_673_233_99;

/// Layer boundaries `x[0..=256]` (decreasing; `x[0] = V/f(R)` is the base strip's virtual width,
/// `x[1] = R`, `x[256] = 0`) and `f[i] = exp(−x[i]²/2)`.
pub(crate) struct Tables {
    pub(crate) x: [f64; 257],
    pub(crate) f: [f64; 257],
}

fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

fn build() -> Tables {
    let mut x = [0.0; 257];
    x[0] = V / pdf(R);
    x[1] = R;
    for i in 2..256 {
        x[i] = (-2.0 * (V / x[i - 1] + pdf(x[i - 1])).ln()).sqrt();
    }
    x[256] = 0.0;
    Tables { x, f: x.map(pdf) }
}

/// The ziggurat tables, computed once per process (a few hundred `exp`/`ln`).
pub(crate) fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
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
    let i = (w & 0xff) as usize;
    let x = signed_unit(w) * t.x[i];
    (x, x.abs() < t.x[i + 1])
}

/// The rest of a draw whose first word `w` failed the fast test; further words come from `s`.
#[cold]
#[inline(never)]
fn slow(s: &mut [u64; 4], mut w: u64, t: &Tables) -> f64 {
    loop {
        let i = (w & 0xff) as usize;
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
        if y < pdf(x) {
            return x;
        }
        w = xoshiro_next(s);
    }
}

/// One standard normal from the stream `s`.
#[inline(always)]
fn sample(s: &mut [u64; 4], t: &Tables) -> f64 {
    let w = xoshiro_next(s);
    let (x, ok) = fast(w, t);
    if ok { x } else { slow(s, w, t) }
}

/// A path's random stream: xoshiro256++ seeded exactly like [`path_rng`](super::path_rng)
/// (the same 64-bit words), drawing standard normals by the crate's ziggurat.
///
/// Path `p` of an [`Ensemble`](crate::ensemble::Ensemble) run with seed `seed` draws its normals
/// in order from `PathNormals::new(seed, p)`: `noise_dim` per (sub)step, coordinate by coordinate.
/// Tests and user code can rebuild any path's Brownian increments from it.
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
    s: [u64; 4],
}

impl PathNormals {
    /// The stream of path `path` under `seed`.
    pub fn new(seed: u64, path: u64) -> Self {
        Self {
            s: super::path_state(seed, path),
        }
    }

    /// The next raw 64-bit word.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        xoshiro_next(&mut self.s)
    }

    /// The next standard normal.
    #[inline]
    pub fn standard_normal(&mut self) -> f64 {
        sample(&mut self.s, tables())
    }

    /// Fills `out` with standard normals, in order (the same as repeated
    /// [`standard_normal`](Self::standard_normal)).
    #[inline]
    pub fn fill(&mut self, out: &mut [f64]) {
        let t = tables();
        for o in out {
            *o = sample(&mut self.s, t);
        }
    }

    pub(crate) fn from_state(s: [u64; 4]) -> Self {
        Self { s }
    }

    pub(crate) fn state(&self) -> [u64; 4] {
        self.s
    }
}

/// `L` independent xoshiro256++ streams in structure-of-arrays form: word `k` of every lane sits
/// in `s[k]`, so one step of all lanes is four loops over `[u64; L]` that vectorise.
#[derive(Debug, Clone)]
pub(crate) struct Lanes<const L: usize> {
    s: [[u64; L]; 4],
}

impl<const L: usize> Lanes<L> {
    /// Lanes holding the given per-lane states.
    #[allow(
        clippy::needless_range_loop,
        reason = "transposes AoS states into SoA lanes"
    )]
    pub(crate) fn from_states(states: impl Fn(usize) -> [u64; 4]) -> Self {
        let mut s = [[0u64; L]; 4];
        for l in 0..L {
            let st = states(l);
            for k in 0..4 {
                s[k][l] = st[k];
            }
        }
        Self { s }
    }

    /// Lane `l`'s state.
    #[inline]
    pub(crate) fn get(&self, l: usize) -> [u64; 4] {
        [self.s[0][l], self.s[1][l], self.s[2][l], self.s[3][l]]
    }

    /// Replaces lane `l`'s state.
    #[inline]
    pub(crate) fn set(&mut self, l: usize, st: [u64; 4]) {
        for (k, v) in st.into_iter().enumerate() {
            self.s[k][l] = v;
        }
    }

    /// One word from every lane.
    #[inline(always)]
    fn next_words(&mut self) -> [u64; L] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0u64; L];
        for l in 0..L {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        out
    }

    /// One standard normal from every lane into `out`: `out[l]` is what
    /// [`PathNormals::standard_normal`] would return on lane `l`'s stream.
    ///
    /// Three passes over the lanes, each a plain loop: the generator step (vectorised), the two
    /// table loads (scalar: SSE2 has no gather), and the candidate plus acceptance test
    /// (vectorised, with an OR-reduction instead of a per-lane branch or bit mask, whose
    /// variable shifts kept LLVM from vectorising). Only a block with a rejected lane
    /// (≈ 1.2 % of lanes) visits the scalar slow path.
    #[inline(always)]
    #[allow(
        clippy::neg_cmp_op_on_partial_ord,
        reason = "`!(a < b)` is the rejection test; it must also hold for NaN"
    )]
    pub(crate) fn normals(&mut self, t: &Tables, out: &mut [f64; L]) {
        let w = self.next_words();
        let mut width = [0.0; L];
        let mut limit = [0.0; L];
        for l in 0..L {
            let i = (w[l] & 0xff) as usize;
            width[l] = t.x[i];
            limit[l] = t.x[i + 1];
        }
        let mut any = false;
        for l in 0..L {
            let x = signed_unit(w[l]) * width[l];
            out[l] = x;
            any |= !(x.abs() < limit[l]);
        }
        if any {
            self.fix(t, &w, &limit, out);
        }
    }

    /// Runs the slow path on every lane whose fast-path candidate was rejected.
    #[cold]
    #[inline(never)]
    #[allow(
        clippy::neg_cmp_op_on_partial_ord,
        reason = "the same test as in `normals`"
    )]
    fn fix(&mut self, t: &Tables, w: &[u64; L], limit: &[f64; L], out: &mut [f64; L]) {
        for l in 0..L {
            if !(out[l].abs() < limit[l]) {
                let mut st = self.get(l);
                out[l] = slow(&mut st, w[l], t);
                self.set(l, st);
            }
        }
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
        assert!(t.x[255] > 0.0 && t.x[256] == 0.0);
        // Every layer i >= 1 has area V: x[i]·(f[i+1] − f[i]) (top layer: x[255]·(1 − f[255])).
        for i in 1..255 {
            let a = t.x[i] * (t.f[i + 1] - t.f[i]);
            assert!((a / V - 1.0).abs() < 1e-6, "layer {i}: area {a}");
        }
        let top = t.x[255] * (1.0 - t.f[255]);
        assert!((top / V - 1.0).abs() < 1e-3, "top layer area {top}");
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
        const L: usize = 32;
        let mut lanes = Lanes::<L>::from_states(|l| super::super::path_state(5, l as u64));
        let mut single: Vec<PathNormals> = (0..L as u64).map(|p| PathNormals::new(5, p)).collect();
        let t = tables();
        let mut out = [0.0; L];
        // Enough draws that every lane takes the slow path (wedge and tail) many times.
        for _ in 0..5000 {
            lanes.normals(t, &mut out);
            for (o, s) in out.iter().zip(&mut single) {
                assert_eq!(o.to_bits(), s.standard_normal().to_bits());
            }
        }
        for (l, s) in single.iter().enumerate() {
            assert_eq!(lanes.get(l), s.state());
        }
    }
}
