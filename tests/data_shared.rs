//! Reads every public curve file under `../shared/data/public` (not part of a clone; run with
//! `cargo test --test data_shared -- --ignored` where that folder exists).

use std::path::{Path, PathBuf};

use lrsde::data::{ReadOptions, read_curve, read_lr_column};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/public")
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn all_multipowerlaw_csvs_read() {
    let mut v = Vec::new();
    files(
        &shared().join("MultiPowerLaw/loss_curve_repo"),
        "csv",
        &mut v,
    );
    assert_eq!(v.len(), 27);
    for p in v {
        let c = read_curve(&p, &ReadOptions::default()).unwrap();
        assert!(c.steps.len() >= 95, "{}", p.display());
        assert_eq!(read_lr_column(&p).unwrap().len(), c.lrs.len());
    }
}

#[test]
#[ignore = "needs ../shared/data/public (not in a clone of the repository)"]
fn lr_scheduling_runs_read_or_name_their_parent() {
    let mut v = Vec::new();
    files(&shared().join("lr-scheduling/data"), "json", &mut v);
    assert_eq!(v.len(), 205);
    let (mut ok, mut missing_parent) = (0, 0);
    for p in &v {
        match read_curve(p, &ReadOptions::default()) {
            Ok(c) => {
                assert!(c.steps.iter().all(|&s| s as usize <= c.lrs.len()));
                ok += 1;
            }
            Err(lrsde::data::DataError::MissingParent { .. }) => missing_parent += 1,
            Err(e) => panic!("{e}"),
        }
    }
    // 19 branches name a parent run whose file is not in the data set (as checked when
    // writing this test); every other run reads.
    assert_eq!((ok, missing_parent), (186, 19));
}
