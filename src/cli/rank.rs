//! `lrsde rank`: rank candidate schedules (and searched ones) by predicted final loss.

use super::args::{MemoryArgs, candidate_with, check_output, check_predict_len};
use super::error::{CliError, CliResult};
use lrsde::ensemble::budget::Bytes;
use lrsde::rank::{Candidate, RankOptions, Ranking, SearchOptions, SearchSpec};
use lrsde::schedule::LrSchedule;
use std::io::Write;
use std::path::PathBuf;

/// Output formats of `lrsde rank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// `rank,schedule,final_loss,loss_lo,loss_hi,gap,significant,diverged`.
    Csv,
    /// An array of objects with the CSV's fields.
    Json,
}

/// Arguments of `lrsde rank`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  lrsde rank --fit fit.json \\\n    --schedule cosine:peak=3e-4,steps=24000,warmup=2160 \\\n    --schedule wsd:peak=3e-4,steps=24000,warmup=2160 \\\n    --schedule constant:peak=3e-4,steps=24000,warmup=2160\n  lrsde rank --fit fit.json --plot rank.png \\\n    --search \"wsd:peak=3e-4,steps=24000,warmup=2160,decay=0.05..0.5\"\n  lrsde rank --fit fit.json --resume run.csv --at 20000 \\\n    --schedule linear:peak=3e-4,steps=4000 \\\n    --search \"wsd:peak=1e-4..3e-4,steps=4000,decay=1\""
)]
pub struct Args {
    /// Fit file written by `lrsde fit`.
    #[arg(long, value_name = "FILE")]
    fit: PathBuf,
    /// Candidate schedule: a spec or a curve file with an `lr` column; repeat for more.
    #[arg(long = "schedule", value_name = "SPEC|FILE")]
    schedules: Vec<String>,
    /// Search a family: a spec whose numeric keys may be ranges `lo..hi` and whose `shape` may
    /// be a choice list `linear|cosine|sqrt`; the best schedule found joins the ranking.
    #[arg(long = "search", value_name = "SPEC")]
    searches: Vec<String>,
    /// Model size N (non-embedding parameters, e.g. 124e6 or 400M) for the Step Law peak-LR
    /// prior of a search without an explicit peak range.
    #[arg(long, value_name = "N", requires = "tokens", value_parser = super::steplaw::parse_count)]
    params: Option<f64>,
    /// Training tokens D for the Step Law prior (e.g. 2.5e9, 20B or 2T).
    #[arg(long, value_name = "D", requires = "params", value_parser = super::steplaw::parse_count)]
    tokens: Option<f64>,
    /// Continued training: an observed run (CSV, JSONL or W&B JSON) whose LRs are used for
    /// updates 1..=K (`--at K`); every `--schedule` and `--search` then runs from update K+1.
    #[arg(long, value_name = "FILE", requires = "at")]
    resume: Option<PathBuf>,
    /// Fork step K of `--resume`.
    #[arg(long, value_name = "K", requires = "resume")]
    at: Option<u64>,
    #[command(flatten)]
    batch: super::args::BatchScheduleArgs,
    #[command(flatten)]
    read: super::args::CurveReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    memory: MemoryArgs,
    /// Write the ranking to a file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also draw the predicted curves and the ranking (PNG or SVG by extension; the ranking
    /// chart gets the suffix `-ranking`).
    #[cfg(feature = "plot")]
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// First step the --plot shows (default: where the schedules' warmup ends).
    #[cfg(feature = "plot")]
    #[arg(long, value_name = "STEP", requires = "plot")]
    from_step: Option<u64>,
}

/// Runs `lrsde rank`.
pub fn run(args: &Args) -> CliResult<()> {
    if args.schedules.is_empty() && args.searches.is_empty() {
        return Err(CliError::user("give at least one --schedule or --search"));
    }
    check_output(args.output.as_deref())?;
    #[cfg(feature = "plot")]
    super::args::check_plot(args.plot.as_deref())?;
    let predictor = super::predict::load_fit(&args.fit)?;
    let mut candidates: Vec<Candidate> = args
        .schedules
        .iter()
        .map(|s| candidate_with(s, "--schedule", &args.read))
        .collect::<CliResult<_>>()?;
    let resumed = match (&args.resume, args.at) {
        (Some(path), Some(at)) => Some(super::args::read_resume(path, at, &args.read)?),
        _ => None,
    };
    let predictor = args
        .batch
        .apply(predictor, resumed.as_ref().map(|(run, at)| (run, *at)))?;
    if let (Some((observed, at)), Some(path)) = (&resumed, &args.resume) {
        eprintln!(
            "note: every candidate continues {} after update {at}",
            path.display()
        );
        for c in &mut candidates {
            c.schedule = lrsde::rank::continued_schedule(observed, *at, c.schedule.clone())
                .map_err(lrsde::Error::from)?;
        }
    }
    let prefix_len = resumed.as_ref().map_or(0, |r| r.1);
    let mut grid_bytes = 0.0;
    for (c, text) in candidates.iter().zip(&args.schedules) {
        check_predict_len(c.schedule.steps(), "--schedule", text)?;
        grid_bytes += 8.0 * c.schedule.steps() as f64;
    }
    let templates: Vec<SearchSpec> = args
        .searches
        .iter()
        .map(|text| {
            text.parse()
                .map_err(|e| CliError::user(format!("--search: {e}")))
        })
        .collect::<Result<_, _>>()?;
    for (template, text) in templates.iter().zip(&args.searches) {
        let steps = template.steps().saturating_add(prefix_len);
        check_predict_len(steps, "--search", text)?;
        grid_bytes += 8.0 * steps as f64;
    }
    #[cfg(feature = "plot")]
    {
        let longest = candidates
            .iter()
            .map(|c| c.schedule.steps())
            .chain(
                templates
                    .iter()
                    .map(|t| t.steps().saturating_add(prefix_len)),
            )
            .max()
            .unwrap_or(0);
        super::args::check_from_step(args.from_step, longest)?;
    }
    if grid_bytes > args.memory.max_memory as f64 {
        return Err(CliError::user(format!(
            "--schedule/--search: the LR grids of the candidates need ~{}; the limit is \
             --max-memory {}. Rank fewer or shorter schedules or raise --max-memory",
            Bytes(grid_bytes),
            Bytes(args.memory.max_memory as f64)
        )));
    }
    let prior = match (args.params, args.tokens) {
        (Some(n), Some(d)) => Some(lrsde::rank::step_law(n, d).ok_or_else(|| {
            CliError::user(format!(
                "--params {n} / --tokens {d}: must be positive and finite"
            ))
        })?),
        _ => None,
    };
    let mut warnings = super::warnings::Collected::default();
    for (template, text) in templates.into_iter().zip(&args.searches) {
        if prior.is_some() && !template.auto_peak() {
            eprintln!(
                "note: search {text}: the spec gives `peak`, so the Step Law prior of \
                 --params/--tokens is not used"
            );
        }
        let prefix = resumed
            .as_ref()
            .map(|(observed, at)| lrsde::rank::fork_prefix(observed, *at))
            .transpose()
            .map_err(lrsde::Error::from)?;
        let options = SearchOptions {
            peak_prior: prior,
            prefix,
            ..SearchOptions::default()
        };
        let pb = super::progress::spinner(&format!("searching {text}"));
        let found =
            lrsde::rank::search(&predictor, &template, &options).map_err(lrsde::Error::from)?;
        pb.finish_and_clear();
        print_search(text, &found);
        for w in &found.warnings {
            warnings.add(w, &found.spec.to_string());
        }
        // People read the rounded values; machine formats keep the exact optimum.
        let label = match args.format {
            Format::Table => found.display_spec.clone(),
            Format::Csv | Format::Json => found.spec.clone(),
        };
        let schedule = match &resumed {
            Some((observed, at)) => {
                lrsde::rank::continued_schedule(observed, *at, found.best.clone())
                    .map_err(lrsde::Error::from)?
            }
            None => found.best.clone().into(),
        };
        candidates.push(Candidate::new(label, schedule));
    }
    let pb = super::progress::spinner("ranking");
    let ranking = lrsde::rank::rank(&predictor, &candidates, &RankOptions::default())
        .map_err(lrsde::Error::from)?;
    pb.finish_and_clear();
    for e in &ranking.entries {
        for w in &e.warnings {
            warnings.add(w, &e.label);
        }
    }
    warnings.print(ranking.entries.len());
    // The pictures are drawn before the ranking is written, so a plot that fails leaves
    // nothing.
    #[cfg(feature = "plot")]
    let rendered = match &args.plot {
        Some(path) => super::charts::ranking_plots(
            predictor.fitted(),
            &ranking,
            &candidates,
            args.from_step,
            path,
        )?,
        None => Vec::new(),
    };
    super::output::emit(args.output.as_deref(), |w| {
        write_ranking(w, &ranking, args.format)
    })?;
    #[cfg(feature = "plot")]
    super::charts::write_all(&rendered)?;
    Ok(())
}

/// The outcome of one `--search` on stderr: how `peak` was searched when the spec left it out,
/// the best schedule rounded to the search's resolution, and the ranges it ran into.
fn print_search(text: &str, found: &lrsde::rank::SearchResult) {
    if let Some(p) = found.default_peak {
        let why = if p.from_step_law {
            "the Step Law peak of --params/--tokens, divided and multiplied by 3"
        } else {
            "a tenth of the largest LR the fit saw up to that LR; give `peak=lo..hi`, or \
             --params N --tokens D for the Step Law prior"
        };
        eprintln!(
            "note: search {text}: no `peak` given, so peak is searched over [{:.3e}, {:.3e}] ({why})",
            p.lo, p.hi
        );
    }
    eprintln!(
        "search {text}: best {} (predicted final loss {:.4} [{:.4}, {:.4}], {} points evaluated)",
        found.display_spec,
        found.final_loss,
        found.loss_lo,
        found.loss_hi,
        found.points.len()
    );
    for e in &found.edges {
        eprintln!(
            "warning: search {text}: the best `{}` sits at the {} end ({}) of its searched range; \
             the optimum may lie beyond it, so widen the range if the family allows",
            e.key,
            if e.upper { "upper" } else { "lower" },
            e.bound
        );
    }
}

/// Writes the ranking in `format`.
pub fn write_ranking(w: &mut dyn Write, ranking: &Ranking, format: Format) -> std::io::Result<()> {
    match format {
        Format::Csv => ranking.write_csv(w),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &ranking.entries)
                .map_err(std::io::Error::other)?;
            writeln!(w)
        }
        Format::Table => {
            let width = ranking
                .entries
                .iter()
                .map(|e| e.label.len())
                .max()
                .unwrap_or(8)
                .max(8);
            writeln!(
                w,
                "{:>4}  {:<width$}  {:>10}  {:>21}  {:>9}  {:>6}",
                "rank", "schedule", "final loss", "band", "gap", "p_best"
            )?;
            for e in &ranking.entries {
                let note = match e.diverged {
                    Some(step) => format!("diverged at step {step}"),
                    None if e.rank == 1 => "best".to_string(),
                    None if e.significant => "worse (significant)".to_string(),
                    None => "tie with the best (within the predictive interval)".to_string(),
                };
                if e.diverged.is_some() {
                    writeln!(
                        w,
                        "{:>4}  {:<width$}  {:>10}  {:>21}  {:>9}  {:>6}  {note}",
                        e.rank, e.label, "-", "-", "-", "-"
                    )?;
                } else {
                    writeln!(
                        w,
                        "{:>4}  {:<width$}  {:>10.4}  {:>21}  {:>+9.4}  {:>6.3}  {note}",
                        e.rank,
                        e.label,
                        e.final_loss,
                        format!("[{:.4}, {:.4}]", e.loss_lo, e.loss_hi),
                        e.gap,
                        e.p_best
                    )?;
                }
            }
            Ok(())
        }
    }
}
