//! The generator pass of [`Lanes::fill_rows`](super::Lanes::fill_rows) written out in AVX2, for
//! x86-64 CPUs that have it (chosen at run time). It computes exactly what the portable loops
//! compute, draw for draw (integer operations, one IEEE subtraction and one multiplication per
//! candidate, no FMA), so results do not depend on which copy ran.
//!
//! Why by hand: compiling the portable loops for AVX2, LLVM kept all 16 lanes × 4 xoshiro state
//! words live (every vector register, spilling on each row) and spent 5–6 instructions per lane
//! on the layer lookup. Here the pass is split in two:
//!
//! * a *word pass*, 8 lanes at a time: their state is 8 registers, stepped through every row of
//!   the call, storing each row's words;
//! * a *candidate pass*, 4 lanes at a time: each lane's `(x[i], x[i+1])` pair is one 16-byte load
//!   (the layer index read as a scalar), two pairs go into one register with one insert, and two
//!   unpacks turn the four pairs into the widths and the limits. The rest is lane-parallel.

use core::arch::x86_64::{__m128d, __m256d, __m256i, _CMP_LT_OQ};

use pulp::x86::V3;

use super::{LAYER_MASK, Pass, Tables};

/// Lanes per register.
const W: usize = 4;

/// The pass over `L` lanes, `L` a multiple of 8 (the caller checks).
impl<const L: usize> pulp::NullaryFnOnce for Pass<'_, V3, L> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let (simd, t, main, rejected) = (self.simd, self.t, self.main, self.rejected);
        for c in (0..L).step_by(2 * W) {
            word_pass(simd, main, self.words, c);
        }
        for (n, (zr, wr)) in self.z.iter_mut().zip(self.words.iter()).enumerate() {
            for c in (0..L).step_by(W) {
                let bad = candidates(simd, t, &mut zr[c..c + W], &wr[c..c + W]);
                if bad != 0 {
                    rejected.push((n as u32, (c as u32) << 16 | bad));
                }
            }
        }
    }
}

#[inline(always)]
fn load(v: &[u64]) -> __m256i {
    let a: [u64; W] = v.try_into().unwrap_or_default();
    pulp::cast(a)
}

#[inline(always)]
fn rotl<const K: i32, const R: i32>(simd: V3, x: __m256i) -> __m256i {
    let a = simd.avx2;
    a._mm256_or_si256(a._mm256_slli_epi64::<K>(x), a._mm256_srli_epi64::<R>(x))
}

/// Lanes `c..c + 8`: their main states through every row, each row's words stored.
#[inline(always)]
fn word_pass<const L: usize>(simd: V3, main: &mut [[u64; L]; 4], words: &mut [[u64; L]], c: usize) {
    let a = simd.avx2;
    let mut s = [[simd.avx._mm256_setzero_si256(); 2]; 4];
    for (k, sk) in s.iter_mut().enumerate() {
        for (h, v) in sk.iter_mut().enumerate() {
            *v = load(&main[k][c + h * W..c + (h + 1) * W]);
        }
    }
    let [mut s0, mut s1, mut s2, mut s3] = s;
    for row in words.iter_mut() {
        for h in 0..2 {
            let w = a._mm256_add_epi64(
                rotl::<23, 41>(simd, a._mm256_add_epi64(s0[h], s3[h])),
                s0[h],
            );
            let t = a._mm256_slli_epi64::<17>(s1[h]);
            s2[h] = a._mm256_xor_si256(s2[h], s0[h]);
            s3[h] = a._mm256_xor_si256(s3[h], s1[h]);
            s1[h] = a._mm256_xor_si256(s1[h], s2[h]);
            s0[h] = a._mm256_xor_si256(s0[h], s3[h]);
            s2[h] = a._mm256_xor_si256(s2[h], t);
            s3[h] = rotl::<45, 19>(simd, s3[h]);
            let out: [u64; W] = pulp::cast(w);
            row[c + h * W..c + (h + 1) * W].copy_from_slice(&out);
        }
    }
    for (k, sk) in [s0, s1, s2, s3].into_iter().enumerate() {
        for (h, v) in sk.into_iter().enumerate() {
            let out: [u64; W] = pulp::cast(v);
            main[k][c + h * W..c + (h + 1) * W].copy_from_slice(&out);
        }
    }
}

/// Four lanes of one row: `z ← u·x[i]` from the words, and the bits of the lanes whose
/// candidate is rejected (`!(|x| < x[i+1])`, NaN-safe like the portable test).
#[inline(always)]
fn candidates(simd: V3, t: &Tables, z: &mut [f64], w: &[u64]) -> u32 {
    let (a, v) = (simd.avx2, simd.avx);
    let pair = |j: usize| -> __m128d { pulp::cast(t.pairs[(w[j] & LAYER_MASK) as usize]) };
    // [x0 l0 | x2 l2] and [x1 l1 | x3 l3] → widths [x0 x1 x2 x3], limits [l0 l1 l2 l3].
    let lo = v._mm256_insertf128_pd::<1>(v._mm256_castpd128_pd256(pair(0)), pair(2));
    let hi = v._mm256_insertf128_pd::<1>(v._mm256_castpd128_pd256(pair(1)), pair(3));
    let width = v._mm256_unpacklo_pd(lo, hi);
    let limit = v._mm256_unpackhi_pd(lo, hi);
    // u = [2, 4) from the top 52 bits, minus 3.
    let bits = a._mm256_or_si256(
        a._mm256_srli_epi64::<12>(load(w)),
        v._mm256_set1_epi64x(0x4000_0000_0000_0000),
    );
    let u = v._mm256_sub_pd(v._mm256_castsi256_pd(bits), v._mm256_set1_pd(3.0));
    let x = v._mm256_mul_pd(u, width);
    let abs = v._mm256_and_pd(x, v._mm256_castsi256_pd(v._mm256_set1_epi64x(i64::MAX)));
    let ok = v._mm256_movemask_pd(v._mm256_cmp_pd::<_CMP_LT_OQ>(abs, limit));
    let out: [f64; W] = pulp::cast::<__m256d, _>(x);
    z.copy_from_slice(&out);
    (!ok as u32) & 0xf
}
