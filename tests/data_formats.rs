//! Readers on the bundled fixtures and on small inline files: values checked against the raw
//! files, LR reconstruction against hand-computed values, W&B branch splicing.

use std::path::{Path, PathBuf};

use lrsde::data::{
    Format, LrBetweenRows, ReadOptions, TrainingCurve, WarmupPolicy, read_curve, read_curve_str,
    read_lr_column, read_wandb_branch, reconstruct_lrs,
};
use lrsde::schedule::LrGrid;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

const STABLE: &str = "lr-scheduling/stable-124m_slimpajama_llama_norm_nlayers12_nhead12_lr0.001_sched_wsd_warmup300_decay_linear_0.0_iter50000_bs50x2_ws2_seed0_data_seed1337.json";
const ANN: &str = "lr-scheduling/ann124-0.2_slimpajama_llama_norm_nlayers12_nhead12_lr0.001_sched_wsd_warmup300_decay_linear_0.2_iter25000_bs50x2_ws2_seed0_data_seed1337.json";

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * a.abs().max(b.abs()).max(1e-300)
}

fn loss_at(c: &TrainingCurve, step: u64) -> f64 {
    let j = c.steps.binary_search(&step).expect("step observed");
    c.losses[j]
}

fn check_invariants(c: &TrainingCurve) {
    assert_eq!(c.steps.len(), c.losses.len());
    assert!(c.steps.windows(2).all(|w| w[0] < w[1]));
    assert!(c.steps[0] >= 1);
    assert!(*c.steps.last().unwrap() as usize <= c.lrs.len());
    assert!(c.lrs.iter().all(|x| x.is_finite() && *x >= 0.0));
}

#[test]
fn mpl_cosine_csv_values_and_warmup() {
    let c = read_curve(
        &fixture("MultiPowerLaw/csv_400/cosine_24000.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    check_invariants(&c);
    assert_eq!(c.name, "cosine_24000");
    assert_eq!(c.steps.len(), 171);
    assert_eq!((c.steps[0], c.losses[0]), (2160, 3.5563));
    assert_eq!((c.steps[1], c.losses[1]), (2288, 3.5272));
    assert_eq!(
        (*c.steps.last().unwrap(), *c.losses.last().unwrap()),
        (23920, 2.7396)
    );
    assert_eq!(c.lrs.len(), 23920);
    // Rows: step 2160 -> 3e-4, 2288 -> 0.0002999771173709568, 23920 -> 3.000893868085248e-05.
    assert_eq!(c.lrs[2159], 0.0003);
    assert_eq!(c.lrs[2287], 0.0002999771173709568);
    assert_eq!(c.lrs[23919], 3.000893868085248e-05);
    // Halfway between the first two rows (step 2224).
    assert!(close(c.lrs[2223], (0.0003 + 0.0002999771173709568) / 2.0));
    // Warmup: 3e-4 * s / 2160 for s < 2160.
    assert!(close(c.lrs[0], 0.0003 / 2160.0));
    assert!(close(c.lrs[1079], 0.0003 * 1080.0 / 2160.0));
    // Against the MPL convention linspace(0, peak, 2160): peak*(s-1)/2159, off by < peak/2160.
    for s in 1..2160u64 {
        let mpl = 0.0003 * (s - 1) as f64 / 2159.0;
        assert!((c.lrs[s as usize - 1] - mpl).abs() <= 0.0003 / 2160.0 + 1e-18);
    }
}

#[test]
fn mpl_fit_and_test_files_all_read() {
    for (f, first, rows) in [
        ("constant_24000", 2176, 171),
        ("wsdcon_9", 2176, 109),
        ("wsd_20000_24000", 2176, 171),
        ("wsdld_20000_24000", 2176, 171),
    ] {
        let c = read_curve(
            &fixture(&format!("MultiPowerLaw/csv_400/{f}.csv")),
            &ReadOptions::default(),
        )
        .unwrap();
        check_invariants(&c);
        assert_eq!(c.steps[0], first, "{f}");
        assert_eq!(c.steps.len(), rows, "{f}");
    }
}

#[test]
fn warmup_policies_override_the_default() {
    let path = fixture("MultiPowerLaw/csv_400/constant_24000.csv");
    let c = read_curve(
        &path,
        &ReadOptions::default().with_warmup(WarmupPolicy::Constant),
    )
    .unwrap();
    assert!(c.lrs.iter().all(|&x| x == 0.0003));
    let c = read_curve(
        &path,
        &ReadOptions::default().with_warmup(WarmupPolicy::Linear { steps: 2160 }),
    )
    .unwrap();
    assert!(close(c.lrs[0], 0.0003 / 2160.0));
    assert_eq!(c.lrs[2159], 0.0003);
    assert_eq!(c.lrs[2170], 0.0003);
}

#[test]
fn a_logged_lr_drop_is_held_with_hold_and_auto() {
    // wsdcon_9 logs every 128 updates; its LR drops from 3e-4 to 9e-5 at update 8000, between
    // the rows at 7936 and 8000 (the MPL authors' schedule steps it there).
    let path = fixture("MultiPowerLaw/csv_400/wsdcon_9.csv");
    let read =
        |between| read_curve(&path, &ReadOptions::default().with_lr_between_rows(between)).unwrap();
    let (linear, hold, auto) = (
        read(LrBetweenRows::Linear),
        read(LrBetweenRows::Hold),
        read(LrBetweenRows::Auto),
    );
    // Linear: a 64-update ramp; halfway (update 7968) the mean of the two LRs.
    assert!(close(linear.lrs[7967], (3e-4 + 9e-5) / 2.0));
    for c in [&hold, &auto] {
        assert_eq!(c.lrs[7998], 3e-4, "update 7999 still at the peak");
        assert!(close(c.lrs[7999], 9e-5), "update 8000 at the new LR");
        assert_eq!((&c.steps, &c.losses), (&linear.steps, &linear.losses));
    }
    // Every other interval of this file is flat, so auto differs from linear only at the drop
    // and hold equals auto.
    let differ: Vec<usize> = (0..linear.lrs.len())
        .filter(|&i| linear.lrs[i] != auto.lrs[i])
        .collect();
    assert_eq!(differ, (7936..7999).collect::<Vec<_>>());
    assert_eq!(hold.lrs, auto.lrs);
    // A smooth decay: auto keeps it linear, hold makes it a staircase.
    let cos = fixture("MultiPowerLaw/csv_400/cosine_24000.csv");
    let read = |between| {
        read_curve(&cos, &ReadOptions::default().with_lr_between_rows(between))
            .unwrap()
            .lrs
    };
    assert_eq!(read(LrBetweenRows::Auto), read(LrBetweenRows::Linear));
    assert_ne!(read(LrBetweenRows::Hold), read(LrBetweenRows::Linear));
}

#[test]
fn explicit_schedule_replaces_file_lrs() {
    let grid = LrGrid::new(vec![0.5; 30000]).unwrap();
    let c = read_curve(
        &fixture("MultiPowerLaw/csv_400/wsdcon_9.csv"),
        &ReadOptions::default().with_schedule(grid),
    )
    .unwrap();
    assert_eq!(c.lrs.len(), 30000);
    assert!(c.lrs.iter().all(|&x| x == 0.5));
    // No lr column needed with a schedule.
    let c = read_curve_str(
        "step,loss\n2,3.0\n",
        "t",
        Format::Csv,
        &ReadOptions::default().with_schedule(LrGrid::new(vec![0.1, 0.2]).unwrap()),
    )
    .unwrap();
    assert_eq!(c.lrs, vec![0.1, 0.2]);
}

#[test]
fn reconstruct_hand_computed() {
    // Rows at 3 (0.3), 5 (0.1), 9 (0.5); n = 11.
    let rows = [(3, 0.3), (5, 0.1), (9, 0.5)];
    let got = reconstruct_lrs(&rows, 11, WarmupPolicy::Auto);
    let want = [0.1, 0.2, 0.3, 0.2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{got:?}");
    }
    let got = reconstruct_lrs(&rows, 4, WarmupPolicy::Constant);
    assert_eq!(got.len(), 4);
    assert_eq!(&got[..3], &[0.3, 0.3, 0.3]);
    let got = reconstruct_lrs(&[(5, 1.0)], 6, WarmupPolicy::Linear { steps: 2 });
    assert_eq!(got, vec![0.5, 1.0, 1.0, 1.0, 1.0, 1.0]);
    assert!(
        reconstruct_lrs(&[], 3, WarmupPolicy::Auto)
            .iter()
            .all(|&x| x == 0.0)
    );
}

#[test]
fn csv_bom_crlf_quotes_extra_columns_sparse_eval() {
    let text = "\u{feff}\"Step\",lr,\"train_loss\",\"val_loss\",note\r\n\
                1,0.1,5.0,,\"a, quoted\"\r\n\
                2,,4.5,,\r\n\
                3,0.3,4.0,3.9,x\r\n\
                \r\n\
                4,0.4,3.5,,\r\n";
    let c = read_curve_str(text, "t.csv", Format::Csv, &ReadOptions::default()).unwrap();
    // val_loss is preferred over train_loss; sparse: only step 3 has one.
    assert_eq!(c.steps, vec![3]);
    assert_eq!(c.losses, vec![3.9]);
    assert_eq!(c.lrs.len(), 4);
    assert!(close(c.lrs[1], 0.2)); // interpolated across the empty lr cell
    let c = read_curve_str(
        text,
        "t.csv",
        Format::Csv,
        &ReadOptions::default().with_loss_column("train_loss"),
    )
    .unwrap();
    assert_eq!(c.steps, vec![1, 2, 3, 4]);
    assert_eq!(c.losses, vec![5.0, 4.5, 4.0, 3.5]);
}

#[test]
fn default_loss_column_order() {
    let opts = ReadOptions::default();
    let c = read_curve_str(
        "step,lr,train_loss,loss,eval_loss\n1,0.1,3,2,1\n",
        "t",
        Format::Csv,
        &opts,
    )
    .unwrap();
    assert_eq!(c.losses, vec![1.0]);
    let c = read_curve_str(
        "step,lr,train_loss,loss\n1,0.1,3,2\n",
        "t",
        Format::Csv,
        &opts,
    )
    .unwrap();
    assert_eq!(c.losses, vec![2.0]);
}

#[test]
fn jsonl_and_json_rows() {
    let jsonl = "{\"step\": 2, \"lr\": 0.2, \"loss\": 3.0}\n\n{\"step\": 4, \"lr\": \"0.1\", \"loss\": null}\r\n{\"step\": 6.0, \"lr\": 0.1, \"loss\": 2.0, \"extra\": [1]}\n";
    let c = read_curve_str(jsonl, "t.jsonl", Format::Jsonl, &ReadOptions::default()).unwrap();
    assert_eq!(c.steps, vec![2, 6]);
    assert_eq!(c.losses, vec![3.0, 2.0]);
    assert_eq!(c.lrs.len(), 6);
    assert!(close(c.lrs[0], 0.1));
    assert!(close(c.lrs[2], 0.15));
    let json = "[{\"step\": 1, \"lr\": 0.1, \"val_loss\": 3.0}, {\"step\": 2, \"lr\": 0.1, \"val_loss\": 2.5}]";
    let c = read_curve_str(json, "t.json", Format::Json, &ReadOptions::default()).unwrap();
    assert_eq!(c.losses, vec![3.0, 2.5]);
    assert_eq!(Format::sniff(jsonl.as_bytes()), Format::Jsonl);
    assert_eq!(Format::sniff(json.as_bytes()), Format::Json);
}

#[test]
fn wandb_stable_run() {
    let c = read_curve(&fixture(STABLE), &ReadOptions::default()).unwrap();
    check_invariants(&c);
    // history.val: iter 0 (loss before training) skipped, 200..49800 kept.
    assert_eq!(c.steps.len(), 249);
    assert_eq!((c.steps[0], c.losses[0]), (200, 5.437021732330322));
    assert_eq!(loss_at(&c, 20000), 3.172651529312134);
    assert_eq!(*c.steps.last().unwrap(), 49800);
    assert_eq!(*c.losses.last().unwrap(), 3.1032519340515137);
    // lrs cover config.iterations; train_lr at iter i is the LR of update i + 1.
    assert_eq!(c.lrs.len(), 50000);
    assert_eq!(c.lrs[50], 0.000175); // iter 50 -> step 51
    assert!(close(c.lrs[0], 0.000175 / 51.0));
    assert_eq!(c.lrs[300], 0.001); // iter 300 -> step 301
    // The value logged at iter 50000 (0, never used) is dropped: the LR holds to the end.
    assert_eq!(c.lrs[49999], 0.001);
    // The grid alone.
    let g = read_lr_column(&fixture(STABLE)).unwrap();
    assert_eq!(g.as_slice(), c.lrs.as_slice());
    // train_loss from the train history.
    let t = read_curve(
        &fixture(STABLE),
        &ReadOptions::default().with_loss_column("train_loss"),
    )
    .unwrap();
    assert_eq!(t.steps.len(), 1000);
    assert_eq!(t.steps[0], 50);
}

#[test]
fn wandb_branch_spliced_onto_parent() {
    let explicit =
        read_wandb_branch(&fixture(ANN), &fixture(STABLE), &ReadOptions::default()).unwrap();
    let auto = read_curve(&fixture(ANN), &ReadOptions::default()).unwrap();
    assert_eq!(explicit, auto);
    let c = auto;
    check_invariants(&c);
    assert_eq!(c.lrs.len(), 25000);
    // Prefix from the parent (val 200..20000 = 100 points), then the branch (20200..24800).
    assert_eq!(c.steps.len(), 100 + 24);
    assert_eq!(c.steps[0], 200);
    assert_eq!(c.losses[0], 5.437021732330322); // parent's iter 200
    assert_eq!(loss_at(&c, 20000), 3.172651529312134);
    assert_eq!(loss_at(&c, 20200), 3.16823673248291); // branch's first after the fork
    assert_eq!(
        (*c.steps.last().unwrap(), *c.losses.last().unwrap()),
        (24800, 3.0028281211853027)
    );
    // LRs: parent constant 1e-3 up to its row at step 19951 (iter 19950), branch rows from
    // step 20051 (iter 20050: 0.00099); in between interpolated.
    assert_eq!(c.lrs[19950], 0.001);
    assert!(close(c.lrs[20000], (0.001 + 0.00099) / 2.0));
    assert_eq!(c.lrs[20050], 0.00099);
    assert_eq!(c.lrs[20100], 0.00098);
    assert_eq!(c.lrs[24950], 1.000000000000001e-05); // iter 24950 -> step 24951, held
    assert_eq!(c.lrs[24999], 1.000000000000001e-05);
    // Parent's own curve matches the prefix up to the parent's last LR row before the fork.
    let p = read_curve(&fixture(STABLE), &ReadOptions::default()).unwrap();
    assert!(c.lrs[..19951] == p.lrs[..19951]);
    // fork_step override.
    let f = read_wandb_branch(
        &fixture(ANN),
        &fixture(STABLE),
        &ReadOptions::default().with_fork_step(10000),
    )
    .unwrap();
    assert_eq!(f.steps.iter().filter(|&&s| s <= 10000).count(), 50);
    assert_eq!(loss_at(&f, 20000), 3.172651529312134);
}

#[test]
fn wandb_row_form_sorting_and_duplicates() {
    // Out-of-order segments with an identical repeat, as resumed W&B runs store them.
    let doc = r#"{"config": {"iterations": 6},
        "history": {
          "train": [{"iter": 4, "train_lr": 0.5, "train_loss": 2.0},
                    {"iter": 6, "train_lr": 0.0, "train_loss": 1.0},
                    {"iter": 2, "train_lr": 1.0, "train_loss": 3.0},
                    {"iter": 4, "train_lr": 0.5, "train_loss": 2.0}],
          "val": {"iter": [4, 0, 2, 4], "val_loss": [2.0, 9.0, null, 2.1]}}}"#;
    let c = read_curve_str(doc, "w.json", Format::Json, &ReadOptions::default()).unwrap();
    assert_eq!(c.steps, vec![4]);
    assert_eq!(c.losses, vec![2.1]); // a re-measured loss: the one logged last wins
    // Rows: step 3 -> 1.0, step 5 -> 0.5 (step 7 is past iterations = 6).
    assert_eq!(c.lrs.len(), 6);
    let want = [1.0 / 3.0, 2.0 / 3.0, 1.0, 0.75, 0.5, 0.5];
    for (g, w) in c.lrs.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{:?}", c.lrs);
    }
}
