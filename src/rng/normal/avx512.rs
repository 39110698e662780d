//! The generator pass of [`Lanes::fill_rows`](super::Lanes::fill_rows) in AVX-512 (x86-64-v4:
//! AVX-512 F/BW/CD/DQ/VL, chosen at run time). Draw for draw what the portable loops and the
//! AVX2 pass compute (the same integer operations, one IEEE subtraction and one multiplication
//! per candidate, no FMA).
//!
//! What AVX-512 changes against the AVX2 pass: 32 vector registers hold the xoshiro state of 32
//! lanes (16 registers) with room to spare, so words and candidates come out of one pass over the
//! rows; rotations are one instruction (`vprolq`) instead of three; eight pairs `(x[i], x[i+1])`
//! become the widths and the limits with two two-table permutes; the acceptance test writes a
//! mask register directly.

use core::arch::x86_64::{__m128d, __m512d, __m512i, _CMP_LT_OQ};

use pulp::x86::V4;

use super::{LAYER_MASK, Pass, Tables};

/// Lanes per register.
const W: usize = 8;
/// Lanes whose state stays in registers for the whole pass.
const G: usize = 4 * W;

#[inline(always)]
fn load(v: &[u64]) -> __m512i {
    let a: [u64; W] = v.try_into().unwrap_or_default();
    pulp::cast(a)
}

/// The pass over `L` lanes, `L` a multiple of 32 (the caller checks).
impl<const L: usize> pulp::NullaryFnOnce for Pass<'_, V4, L> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let (simd, t, main, rejected) = (self.simd, self.t, self.main, self.rejected);
        let f = simd.avx512f;
        for c in (0..L).step_by(G) {
            let mut s = [[f._mm512_setzero_si512(); 4]; 4];
            for (k, sk) in s.iter_mut().enumerate() {
                for (g, v) in sk.iter_mut().enumerate() {
                    *v = load(&main[k][c + g * W..c + (g + 1) * W]);
                }
            }
            let [mut s0, mut s1, mut s2, mut s3] = s;
            for (n, (zr, wr)) in self.z.iter_mut().zip(self.words.iter_mut()).enumerate() {
                let mut bad = 0u32;
                for g in 0..4 {
                    let w = f._mm512_add_epi64(
                        f._mm512_rol_epi64::<23>(f._mm512_add_epi64(s0[g], s3[g])),
                        s0[g],
                    );
                    let t1 = f._mm512_slli_epi64::<17>(s1[g]);
                    s2[g] = f._mm512_xor_si512(s2[g], s0[g]);
                    s3[g] = f._mm512_xor_si512(s3[g], s1[g]);
                    s1[g] = f._mm512_xor_si512(s1[g], s2[g]);
                    s0[g] = f._mm512_xor_si512(s0[g], s3[g]);
                    s2[g] = f._mm512_xor_si512(s2[g], t1);
                    s3[g] = f._mm512_rol_epi64::<45>(s3[g]);
                    let lanes = c + g * W..c + (g + 1) * W;
                    let out: [u64; W] = pulp::cast(w);
                    wr[lanes.clone()].copy_from_slice(&out);
                    bad |= candidates(simd, t, &mut zr[lanes], &out, w) << (g * W);
                }
                if bad != 0 {
                    // Rows of 32 lanes: record them as AVX2-sized groups of lanes, so the
                    // repair's 16 lane bits per entry suffice.
                    for h in 0..2 {
                        let part = (bad >> (16 * h)) & 0xffff;
                        if part != 0 {
                            rejected.push((n as u32, ((c + 16 * h) as u32) << 16 | part));
                        }
                    }
                }
            }
            for (k, sk) in [s0, s1, s2, s3].into_iter().enumerate() {
                for (g, v) in sk.into_iter().enumerate() {
                    let out: [u64; W] = pulp::cast(v);
                    main[k][c + g * W..c + (g + 1) * W].copy_from_slice(&out);
                }
            }
        }
    }
}

/// Eight lanes of one row from their words `w` (also as the register `wv`): `z ← u·x[i]`, and
/// the bits of the lanes whose candidate is rejected (`!(|x| < x[i+1])`, NaN-safe).
#[inline(always)]
fn candidates(simd: V4, t: &Tables, z: &mut [f64], w: &[u64; W], wv: __m512i) -> u32 {
    let (f, dq) = (simd.avx512f, simd.avx512dq);
    let pair = |j: usize| -> __m128d { pulp::cast(t.pairs[(w[j] & LAYER_MASK) as usize]) };
    // Four pairs per register: [x0 l0 x1 l1 x2 l2 x3 l3] and [x4 l4 … x7 l7].
    let quad = |j: usize| -> __m512d {
        let v = f._mm512_castpd128_pd512(pair(j));
        let v = dq._mm512_insertf64x2::<1>(v, pair(j + 1));
        let v = dq._mm512_insertf64x2::<2>(v, pair(j + 2));
        dq._mm512_insertf64x2::<3>(v, pair(j + 3))
    };
    let (lo, hi) = (quad(0), quad(4));
    let even = f._mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    let odd = f._mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    let width = f._mm512_permutex2var_pd(lo, even, hi);
    let limit = f._mm512_permutex2var_pd(lo, odd, hi);
    // u = [2, 4) from the top 52 bits, minus 3.
    let bits = f._mm512_or_si512(
        f._mm512_srli_epi64::<12>(wv),
        f._mm512_set1_epi64(0x4000_0000_0000_0000),
    );
    let u = f._mm512_sub_pd(f._mm512_castsi512_pd(bits), f._mm512_set1_pd(3.0));
    let x = f._mm512_mul_pd(u, width);
    let ok = f._mm512_cmp_pd_mask::<_CMP_LT_OQ>(f._mm512_abs_pd(x), limit);
    let out: [f64; W] = pulp::cast(x);
    z.copy_from_slice(&out);
    u32::from(!ok)
}
