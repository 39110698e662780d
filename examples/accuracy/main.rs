//! Prints the accuracy tables of docs/accuracy.md: every law fitted on public training curves
//! and scored on held-out schedules. Needs ../shared/data/public (not part of the crate).
//!
//! ```sh
//! cargo run --release --example accuracy               # all laws
//! cargo run --release --example accuracy -- sde mpl    # some laws
//! LRSDE_ACC_STARTS=3 cargo run --release --example accuracy -- mpl   # 3 law starts per fit
//! LRSDE_ACC_SKIP_GRID=1 cargo run --release --example accuracy      # MPL tables only
//! LRSDE_ACC_SKIP_MPL=1 cargo run --release --example accuracy       # lr-scheduling grid only
//! LRSDE_ACC_GRID_MAX_T=15000 cargo run --release --example accuracy # grid horizons ≤ 15000
//! ```

mod suites;

use lrsde::law::AnyLaw;
use suites::*;

fn main() {
    let Some(root) = public_data() else {
        eprintln!("../shared/data/public not found: this example evaluates on the public data set");
        std::process::exit(2);
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = if args.is_empty() {
        vec![
            "sde",
            "mpl",
            "momentum",
            "power",
            "sim:model=nqm",
            "sim:model=momentum",
            "sim:model=adam",
            "sim:model=lossnoise",
        ]
    } else {
        args.iter().map(String::as_str).collect()
    };
    let laws: Vec<AnyLaw> = names.iter().map(|n| n.parse().expect("law name")).collect();

    let mpl_tables = std::env::var_os("LRSDE_ACC_SKIP_MPL").is_none();
    for (title, fit, test) in [
        (
            "MPL split: fit cosine_24000 + constant_24000 + wsdcon_9",
            &MPL_FIT[..],
            &MPL_TEST[..],
        ),
        (
            "Two-curve split: fit cosine_24000 + constant_24000",
            &TWO_FIT[..],
            &TWO_TEST[..],
        ),
    ]
    .into_iter()
    .filter(|_| mpl_tables)
    {
        println!("\n### {title}\n\n{SUMMARY_HEADER}");
        for law in &laws {
            for size in MPL_SIZES {
                let e = mpl_suite(&root, law, size, fit, test);
                println!("{}", summary_row(&format!("{size}M"), &e));
            }
        }
    }
    if std::env::var_os("LRSDE_ACC_SKIP_GRID").is_some() {
        return;
    }
    println!(
        "\n### lr-scheduling 124M: fit constant + cosine, predict WSD cooldowns\n\n{SUMMARY_HEADER}"
    );
    for law in &laws {
        let max_t = std::env::var("LRSDE_ACC_GRID_MAX_T")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        for cell in lr_scheduling_cells(&root, law, max_t) {
            println!(
                "{}",
                summary_row(&format!("lr {} T {}", cell.peak, cell.horizon), &cell.eval)
            );
        }
    }
}
