//! The `sim:` law's direct Monte Carlo updates (`adam`, `lossnoise`) against the models'
//! generic steps on the same paths: `lossnoise` bit for bit, `adam` to rounding; a batch of
//! parameter vectors (the Jacobian's) equals each vector alone; results do not depend on the
//! thread count.

use lrsde::law::{BuiltinFamily, LossLaw, ModelFamily, MonteCarlo, SimModelKind, Simulated};
use lrsde::model::{Adam, AdamParams, LossNoise};
use lrsde::nqm::QuadraticParams;
use lrsde::schedule::LrGrid;
use lrsde::solver::Method;

const DIM: usize = 4;

/// Warmup then cosine to 10 % of `peak`.
fn cosine(n: usize, peak: f64) -> LrGrid {
    let warm = n / 20;
    let lrs = (0..n)
        .map(|t| {
            if t < warm {
                return peak * (t + 1) as f64 / warm as f64;
            }
            let x = (t - warm) as f64 / (n - warm) as f64;
            0.1 * peak + 0.45 * peak * (1.0 + (std::f64::consts::PI * x).cos())
        })
        .collect();
    LrGrid::new(lrs).unwrap()
}

fn steps(n: usize, every: usize) -> Vec<u64> {
    (1..=n / every).map(|k| (k * every) as u64).collect()
}

fn shape(q: f64) -> Vec<f64> {
    (0..DIM).map(|i| ((i + 1) as f64).powf(-0.5 * q)).collect()
}

fn law(kind: SimModelKind, mc: MonteCarlo) -> Simulated<BuiltinFamily> {
    Simulated::new(BuiltinFamily { kind, dim: DIM })
        .with_monte_carlo(mc)
        .unwrap()
}

/// The law's per-path model losses (`L0 = 0`, scale 1, `lr_ref = 1`: the model loss itself).
fn law_paths(
    law: &Simulated<BuiltinFamily>,
    theta: &[f64],
    lrs: &LrGrid,
    st: &[u64],
) -> Vec<Vec<f64>> {
    let mut params = vec![0.0, 0.0];
    params.extend(theta);
    law.path_predictions(&params, lrs, st).unwrap().unwrap()
}

#[test]
fn lossnoise_is_the_generic_step_bit_for_bit() {
    let lrs = cosine(3000, 1.0);
    let st = steps(3000, 50);
    // The last vector diverges at peak LR (h·η = 3 > 2): both must mark the same points +∞.
    let thetas = [
        [(0.5f64).ln(), 1.5, (0.1f64).ln(), 0.5],
        [(1.9f64).ln(), 0.8, (0.02f64).ln(), -1.0],
        [(3.0f64).ln(), 1.0, (0.1f64).ln(), 0.0],
    ];
    for method in [Method::Em, Method::Milstein] {
        let mc = MonteCarlo {
            paths: 6,
            seed: 11,
            method,
        };
        let law = law(SimModelKind::LossNoise, mc);
        for theta in &thetas {
            let quad = QuadraticParams {
                dim: DIM,
                hmax: theta[0].exp(),
                power: theta[1],
                noise: theta[2].exp(),
                batch: 1.0,
                x0: 1.0,
            };
            let model = LossNoise::new(quad).unwrap();
            let want = mc.path_losses(&model, &lrs, &st, Some((0, &shape(theta[3]))));
            let got = law_paths(&law, theta, &lrs, &st);
            assert_eq!(got, want, "{method:?} {theta:?}");
        }
        // The diverging vector does diverge (the comparison covers that branch).
        let got = law_paths(&law, &thetas[2], &lrs, &st);
        assert!(got.iter().any(|p| p.contains(&f64::INFINITY)));
    }
}

#[test]
fn adam_matches_the_generic_step_to_rounding() {
    let lrs = cosine(3000, 1.0);
    let st = steps(3000, 50);
    let thetas = [
        [(30.0f64).ln(), 1.0, (9.0f64).ln(), 0.0],
        [(300.0f64).ln(), 2.5, (2.7e4f64).ln(), 1.5],
    ];
    for (beta1, beta2) in [(0.9, 0.999), (0.0, 0.99)] {
        let kind = SimModelKind::Adam {
            beta1,
            beta2,
            eps: 1e-8,
        };
        let mc = MonteCarlo {
            paths: 5,
            seed: 7,
            method: Method::Em,
        };
        let law = law(kind, mc);
        for theta in &thetas {
            let x0 = theta[0].exp();
            let quad = QuadraticParams {
                dim: DIM,
                hmax: 1.0,
                power: theta[1],
                noise: theta[2].exp(),
                batch: 1.0,
                x0,
            };
            let model = Adam::new(AdamParams {
                quad,
                beta1,
                beta2,
                eps: 1e-8,
            })
            .unwrap();
            let start: Vec<f64> = shape(theta[3]).iter().map(|s| s * x0).collect();
            let want = mc.path_losses(&model, &lrs, &st, Some((3 * DIM, &start)));
            let got = law_paths(&law, theta, &lrs, &st);
            let mut worst = 0.0f64;
            for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
                assert!(g.is_finite() && w.is_finite());
                worst = worst.max((g - w).abs() / w.abs());
            }
            // The model reconstructs each gradient from its lagged momentum, so the two differ
            // by rounding only; a wrong normal, LR or bias correction moves losses by percents.
            assert!(
                worst < 1e-9,
                "β = ({beta1}, {beta2}) {theta:?}: rel diff {worst:e}"
            );
        }
    }
}

#[test]
fn a_batch_equals_each_vector_alone_for_any_thread_count() {
    let lrs = cosine(2000, 1.0);
    let st = steps(2000, 100);
    let cases = [
        (
            SimModelKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            vec![
                vec![(30.0f64).ln(), 1.0, (9.0f64).ln(), 0.0],
                vec![(30.0f64).ln() + 1e-4, 1.0, (9.0f64).ln(), 0.0],
                vec![(100.0f64).ln(), 2.0, (50.0f64).ln(), 1.0],
            ],
        ),
        (
            SimModelKind::LossNoise,
            vec![
                vec![(0.5f64).ln(), 1.5, (0.1f64).ln(), 0.5],
                vec![(3.0f64).ln(), 1.0, (0.1f64).ln(), 0.0],
                vec![(0.5f64).ln(), 1.5 + 1e-4, (0.1f64).ln(), 0.5],
            ],
        ),
    ];
    // 6 paths: not a multiple of the paths advanced together.
    let mc = MonteCarlo {
        paths: 6,
        seed: 5,
        method: Method::Em,
    };
    for (kind, thetas) in cases {
        let family = BuiltinFamily { kind, dim: DIM };
        let alone: Vec<Vec<f64>> = thetas
            .iter()
            .map(|t| {
                let mut e = vec![0.0; st.len()];
                family.expected_loss(t, &lrs, &st, &mc, &mut e).unwrap();
                e
            })
            .collect();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let batch = pool
                .install(|| family.expected_losses(&thetas, &lrs, &st, &mc))
                .unwrap();
            assert_eq!(batch, alone, "{kind:?}, {threads} threads");
        }
    }
}
