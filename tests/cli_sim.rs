//! `lrsde fit --law sim:…` end to end: fit, then `predict` and `rank` from the fit file alone.
#![cfg(feature = "cli")]

use std::process::{Command, Output};

fn lrsde(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lrsde"))
        .args(args)
        .output()
        .expect("run lrsde")
}

/// A short synthetic curve: power law in the LR area plus an LR-proportional noise floor.
fn write_curve(path: &std::path::Path, decay: bool) {
    let n = 400;
    let peak = 1e-3;
    let mut text = String::from("step,lr,loss\n");
    let mut area = 0.0;
    for t in 1..=n {
        let lr = if decay {
            peak * (1.0 - 0.9 * t as f64 / n as f64)
        } else {
            peak
        };
        area += lr / peak;
        let loss = 2.0 + 3.0 * (1.0 + area).powf(-0.5) + 0.2 * lr / peak;
        if t % 10 == 0 {
            text.push_str(&format!("{t},{lr},{loss}\n"));
        } else {
            text.push_str(&format!("{t},{lr},\n"));
        }
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn fit_predict_rank_with_simulated_laws() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    write_curve(&a, false);
    write_curve(&b, true);
    for law in [
        "sim:model=momentum,dim=8",
        "sim:model=adam,dim=2,paths=4",
        "sim:model=lossnoise,dim=2,paths=4",
    ] {
        let fit = dir.path().join("fit.json");
        let o = lrsde(&[
            "fit",
            "--law",
            law,
            "--curve",
            a.to_str().unwrap(),
            "--curve",
            b.to_str().unwrap(),
            "--max-iters",
            "30",
            "--allow-unconverged",
            "-o",
            fit.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{law}: {err}");
        let json = std::fs::read_to_string(&fit).unwrap();
        assert!(json.contains("\"law\": \"sim\""), "{json}");
        let model = law.split(['=', ',']).nth(1).unwrap();
        assert!(json.contains(&format!("\"model\": \"{model}\"")), "{json}");

        let pred = dir.path().join("pred.csv");
        let o = lrsde(&[
            "predict",
            "--fit",
            fit.to_str().unwrap(),
            "--schedule",
            "wsd:peak=1e-3,steps=300,warmup=10",
            "-o",
            pred.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{law}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = std::fs::read_to_string(&pred).unwrap();
        assert_eq!(text.lines().count(), 301);
        for l in text.lines().skip(1) {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            assert!(
                v[2].is_finite() && v[3] <= v[2] && v[2] <= v[4],
                "{law}: {l}"
            );
        }

        let o = lrsde(&[
            "rank",
            "--fit",
            fit.to_str().unwrap(),
            "--format",
            "csv",
            "--schedule",
            "constant:peak=1e-3,steps=300",
            "--schedule",
            "cosine:peak=1e-3,steps=300",
        ]);
        assert!(
            o.status.success(),
            "{law}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.starts_with("rank,schedule,final_loss,"), "{out}");
        assert_eq!(out.lines().count(), 3, "{out}");
    }
}
