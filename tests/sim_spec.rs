//! Model specs and ensemble settings: text round trips, error messages, and no panics on any
//! input.

use lrsde::ensemble::{Ensemble, EnsembleError, Parallelism};
use lrsde::model::ModelSpec;
use lrsde::nqm::QuadraticParams;
use lrsde::solver::Method;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_never_panics(s in "\\PC{0,40}") {
        let _ = s.parse::<ModelSpec>();
        let _ = s.parse::<Method>();
        let _ = s.parse::<Parallelism>();
    }

    #[test]
    fn parsing_spec_like_strings_never_panics(
        name in prop::sample::select(vec!["nqm", "momentum", "adam", "lossnoise", "ou", "gbm", "x"]),
        entries in prop::collection::vec(("[a-z0-9]{0,6}", "[-+.eE0-9a-z]{0,8}"), 0..5),
    ) {
        let body: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let s = format!("{name}:{}", body.join(","));
        if let Ok(spec) = s.parse::<ModelSpec>() {
            prop_assert_eq!(spec.to_string().parse::<ModelSpec>().unwrap(), spec);
        }
    }

    #[test]
    fn display_round_trips(
        dim in 1usize..5000,
        hmax in 1e-6f64..1e6,
        power in 0.0f64..4.0,
        noise in 0.0f64..100.0,
        batch in 1e-3f64..1e6,
        x0 in -1e3f64..1e3,
        mu in 0.0f64..0.999,
        beta2 in 0.0f64..0.9999,
        eps in 1e-12f64..1.0,
    ) {
        let quad = QuadraticParams { dim, hmax, power, noise, batch, x0 };
        let specs = [
            format!("nqm:{quad}"),
            format!("nqm:{quad},diffusion=sqrt1px2"),
            format!("momentum:{quad},mu={mu}"),
            format!("adam:{quad},beta1={mu},beta2={beta2},eps={eps}"),
            format!("lossnoise:{quad}"),
            format!("ou:theta={hmax},mu={x0},sigma={noise},x0={x0}"),
            format!("gbm:mu={x0},sigma={noise},x0={batch}"),
        ];
        for s in specs {
            let spec: ModelSpec = s.parse().unwrap();
            prop_assert_eq!(spec.to_string(), s.clone());
            prop_assert_eq!(spec.to_string().parse::<ModelSpec>().unwrap(), spec);
        }
    }
}

#[test]
fn documented_defaults() {
    let cases = [
        ("nqm", "nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1"),
        (
            "momentum",
            "momentum:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1,mu=0.9",
        ),
        (
            "adam",
            "adam:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1,beta1=0.9,beta2=0.999,eps=0.00000001",
        ),
        (
            "lossnoise",
            "lossnoise:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1",
        ),
        ("ou", "ou:theta=1,mu=0,sigma=1,x0=1"),
        ("gbm", "gbm:mu=1.01,sigma=0.87,x0=0.5"),
    ];
    for (short, full) in cases {
        assert_eq!(short.parse::<ModelSpec>().unwrap().to_string(), full);
    }
}

#[test]
fn unknown_model_lists_known_ones() {
    let msg = "adamw:beta2=0.9"
        .parse::<ModelSpec>()
        .unwrap_err()
        .to_string();
    for name in ["nqm", "momentum", "adam", "lossnoise", "ou", "gbm"] {
        assert!(msg.contains(name), "{msg}");
    }
    assert!(msg.contains("adamw"), "{msg}");
}

#[test]
fn absurd_sizes_are_errors_not_aborts() {
    let spec: ModelSpec = "nqm:dim=16777216".parse().unwrap();
    let ens = Ensemble::builder().paths(usize::MAX).build().unwrap();
    let err = ens
        .run_spec(&spec, Method::Em, &lr_grid(&[0.1]))
        .unwrap_err();
    assert!(matches!(err, EnsembleError::TooLarge { .. }), "{err}");
    assert!("nqm:dim=16777217".parse::<ModelSpec>().is_err());
    assert!(
        "nqm:dim=99999999999999999999999"
            .parse::<ModelSpec>()
            .is_err()
    );
}

#[test]
fn methods_and_parallelism_parse() {
    assert_eq!("EM".parse::<Method>().unwrap(), Method::Em);
    assert_eq!(" milstein ".parse::<Method>().unwrap(), Method::Milstein);
    let e = "heun".parse::<Method>().unwrap_err().to_string();
    assert!(e.contains("`heun`") && e.contains("method"), "{e}");
    assert_eq!("1".parse::<Parallelism>().unwrap(), Parallelism::Sequential);
    assert_eq!(
        "global".parse::<Parallelism>().unwrap(),
        Parallelism::Global
    );
    assert!(
        "0".parse::<Parallelism>()
            .unwrap_err()
            .to_string()
            .contains("threads")
    );
}

/// A validated LR grid from a test's LRs.
fn lr_grid(lrs: &[f64]) -> lrsde::schedule::LrGrid {
    lrsde::schedule::LrGrid::new(lrs.to_vec()).unwrap()
}
