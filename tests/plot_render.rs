//! Rendering smoke tests: both formats produce valid files, bad extensions are refused, and a
//! failed render leaves nothing behind.
#![cfg(feature = "plot")]

use lrsde::plot::{CurveChart, ObservedPoints, PlotError, PredictedCurve, RankBar, RankChart};

fn demo_chart() -> CurveChart {
    let steps: Vec<u64> = (1..=3000).collect();
    let curve = |decay: f64| -> Vec<f64> {
        steps
            .iter()
            .map(|&s| 2.5 + 8.0 / (1.0 + s as f64 / 40.0) - decay * (s as f64 / 3000.0).powi(4))
            .collect()
    };
    let a = curve(0.1);
    let lo: Vec<f64> = a.iter().map(|v| v - 0.02).collect();
    let hi: Vec<f64> = a.iter().map(|v| v + 0.02).collect();
    CurveChart::new("Predicted loss")
        .with_curve(PredictedCurve::new("wsd", steps.clone(), a).with_band(lo, hi))
        .with_curve(PredictedCurve::new("cosine", steps.clone(), curve(0.05)))
        .with_observed(ObservedPoints {
            label: "observed".into(),
            steps: (1..30).map(|k| k * 100).collect(),
            losses: (1..30)
                .map(|k| 2.5 + 8.0 / (1.0 + k as f64 * 100.0 / 40.0))
                .collect(),
        })
        .with_lr_trace(
            "wsd",
            (0..3000)
                .map(|t| {
                    if t < 2400 {
                        3e-4
                    } else {
                        3e-4 * (3000 - t) as f64 / 600.0
                    }
                })
                .collect(),
        )
        .with_lr_trace(
            "cosine",
            (0..3000)
                .map(|t| 1.5e-4 * (1.0 + (std::f64::consts::PI * t as f64 / 3000.0).cos()))
                .collect(),
        )
}

#[test]
fn png_and_svg_render() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("c.png");
    demo_chart().render(&png).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let svg = dir.path().join("c.svg");
    demo_chart().render(&svg).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg") && text.contains("wsd") && text.contains("learning rate"));
    if let Ok(dir) = std::env::var("LRSDE_PLOT_DIR") {
        demo_chart()
            .render(&std::path::Path::new(&dir).join("curves.png"))
            .unwrap();
    }
}

#[test]
fn ranking_renders_with_diverged_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let bars = vec![
        RankBar {
            label: "wsd:peak=3e-4,steps=24000".into(),
            loss: 2.70,
            lo: 2.69,
            hi: 2.71,
            diverged: false,
        },
        RankBar {
            label: "cosine:peak=3e-4,steps=24000".into(),
            loss: 2.72,
            lo: 2.70,
            hi: 2.73,
            diverged: false,
        },
        RankBar {
            label: "constant:peak=3e-2,steps=24000".into(),
            loss: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
            diverged: true,
        },
    ];
    let path = dir.path().join("r.png");
    RankChart::new("Predicted final loss", bars.clone())
        .render(&path)
        .unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);
    if let Ok(dir) = std::env::var("LRSDE_PLOT_DIR") {
        RankChart::new("Predicted final loss", bars)
            .render(&std::path::Path::new(&dir).join("rank.png"))
            .unwrap();
    }
}

#[test]
fn bad_extension_and_empty_data_are_errors_without_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jpg");
    assert!(matches!(
        demo_chart().render(&path),
        Err(PlotError::UnsupportedFormat { .. })
    ));
    let empty =
        CurveChart::new("e").with_curve(PredictedCurve::new("nan", vec![1], vec![f64::NAN]));
    assert!(matches!(
        empty.render(&dir.path().join("e.png")),
        Err(PlotError::Empty(_))
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn fitted_curves_get_a_residual_panel_and_one_legend_entry_each() {
    let dir = tempfile::tempdir().unwrap();
    let steps: Vec<u64> = (1..=3000).collect();
    let pred: Vec<f64> = steps
        .iter()
        .map(|&s| 2.5 + 8.0 / (1.0 + s as f64 / 40.0))
        .collect();
    let obs_steps: Vec<u64> = (1..30).map(|k| k * 100).collect();
    let observed = ObservedPoints {
        label: "held-out run".into(),
        steps: obs_steps.clone(),
        losses: obs_steps
            .iter()
            .map(|&s| 2.51 + 8.0 / (1.0 + s as f64 / 40.0))
            .collect(),
    };
    // A lopsided band: the residual axis must still be centred on zero.
    let lo = pred.iter().map(|v| v - 0.015).collect();
    let hi = pred.iter().map(|v| v + 0.025).collect();
    let chart = CurveChart::new("Held-out check").with_fitted(
        PredictedCurve::new("held-out run", steps.clone(), pred).with_band(lo, hi),
        observed,
    );
    let svg = dir.path().join("fit.svg");
    chart.clone().render(&svg).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("obs − pred"), "no residual panel");
    // The residual axis is labelled at zero and symmetric about it.
    let labels: Vec<&str> = text
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next())
        .map(str::trim)
        .collect();
    let start = labels.iter().position(|l| *l == "obs − pred").unwrap();
    let res: Vec<&str> = labels[start + 1..]
        .iter()
        .copied()
        .take_while(|l| l.starts_with(['+', '-']) || *l == "0")
        .collect();
    assert!(res.contains(&"0"), "no zero label: {res:?}");
    for l in &res {
        let flipped = l.replace('+', "#").replace('-', "+").replace('#', "-");
        assert!(res.contains(&flipped.as_str()), "not symmetric: {res:?}");
    }
    // The pair shares one legend entry.
    assert_eq!(text.matches("held-out run").count(), 1);
    // Without a pair there is no residual panel.
    let plain = dir.path().join("plain.svg");
    demo_chart().render(&plain).unwrap();
    assert!(
        !std::fs::read_to_string(&plain)
            .unwrap()
            .contains("obs − pred")
    );
    if let Ok(dir) = std::env::var("LRSDE_PLOT_DIR") {
        chart
            .render(&std::path::Path::new(&dir).join("fitted.png"))
            .unwrap();
    }
}

#[test]
fn spec_legends_show_only_the_keys_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    let specs = [
        "wsd:peak=3e-4,steps=3000,warmup=300,decay=0.2",
        "wsd:peak=3e-4,steps=3000,warmup=300,decay=0.4",
    ];
    let (labels, common) = lrsde::plot::legend_labels(&specs);
    assert_eq!(labels, ["wsd:decay=0.2", "wsd:decay=0.4"]);
    let steps: Vec<u64> = (1..=3000).collect();
    let mut chart = CurveChart::new("t").with_subtitle(common.unwrap());
    for (i, l) in labels.iter().enumerate() {
        let loss = steps
            .iter()
            .map(|&s| 3.0 - 1e-4 * s as f64 * (1.0 + i as f64))
            .collect();
        chart = chart.with_curve(PredictedCurve::new(l.clone(), steps.clone(), loss));
    }
    let svg = dir.path().join("l.svg");
    chart.render(&svg).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("wsd:decay=0.2") && text.contains("wsd:decay=0.4"));
    assert!(text.contains("peak=3e-4, steps=3000, warmup=300"));
    assert!(!text.contains("wsd:peak=3e-4,steps=3000"));
}

#[test]
fn a_single_point_is_a_marker_on_distinct_whole_step_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("one.svg");
    CurveChart::new("One row")
        .with_curve(
            PredictedCurve::new("one", vec![5], vec![18.0]).with_band(vec![15.0], vec![21.0]),
        )
        .render(&svg)
        .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    // The legend's key has a circle of radius 0; the point's marker is a real one.
    assert!(
        text.split("<circle")
            .skip(1)
            .any(|c| !c.contains(r#"r="0""#)),
        "the lone point is not drawn"
    );
    let labels: Vec<&str> = text
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next())
        .map(str::trim)
        .collect();
    for step in ["0", "1", "2", "3", "4", "5"] {
        assert_eq!(
            labels.iter().filter(|l| **l == step).count(),
            1,
            "step ticks {labels:?}"
        );
    }
}
