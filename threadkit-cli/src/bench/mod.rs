//! `threadkit bench`: the seeds' threads-versus-sequential comparison as a
//! real benchmark. Named workloads (`sleep`, `download`, `cpu`) run under
//! every threadkit [`Mode`](modes::Mode) and, when `python3` is on PATH, under
//! CPython in the same run; the result is a table per workload (or JSON) and
//! optionally an SVG chart.
//!
//! ```text
//! threadkit bench                                  # everything, default sizes
//! threadkit bench --workloads cpu --tasks 4 --cpu-iters 50000000
//! threadkit bench --json > results.json
//! threadkit bench --plot speedup.svg --csv results.csv --markdown results.md
//! ```

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

mod aio_client;
mod clock;
#[cfg(feature = "cluster")]
mod cluster;
mod cpython;
mod gil;
mod modes;
mod report;
mod server;
mod workloads;

use cpython::Python;
use modes::{Mode, ModeConfig};
use report::{Meta, Report, Row};
use server::Server;
use workloads::{Sizes, Workload};

/// The most tasks a run may have: the thread modes start one thread each.
const MAX_TASKS: usize = 4096;
/// The largest file the download workload serves.
const MAX_FILE_KB: usize = 16 * 1024;
/// The longest sleep or latency.
const MAX_MS: u64 = 60_000;
/// How long one CPython run (every mode of one workload) may take.
const CPYTHON_LIMIT: Duration = Duration::from_secs(600);
/// The CPython modes: sequential, threads, ThreadPoolExecutor,
/// ProcessPoolExecutor, asyncio.
const CPYTHON_MODES: usize = 5;
/// The most measured runs (`--runs`) or warm-up runs (`--warmup`).
const MAX_RUNS: u32 = 1000;

/// `threadkit bench` options.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Workloads to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values_t = [Workload::Sleep, Workload::Download, Workload::Cpu]
    )]
    workloads: Vec<Workload>,
    /// Tasks per workload.
    #[arg(long, default_value_t = 8)]
    tasks: usize,
    /// Measured runs of every row; the tables show their mean ± standard
    /// deviation and their min and max, the JSON every sample.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RUNS)))]
    runs: u32,
    /// Runs of every row before the measured ones, not counted (they warm
    /// caches, thread stacks and the CPU's clock).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RUNS)))]
    warmup: u32,
    /// `sleep`: how long each task sleeps, in ms.
    #[arg(long, default_value_t = 100)]
    sleep_ms: u64,
    /// `download`: the server's delay before each response, in ms.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// `download`: size of each file, in KiB.
    #[arg(long, default_value_t = 256)]
    file_kb: usize,
    /// `cpu`: loop iterations per threadkit task (about 70 ms of work here).
    #[arg(long, default_value_t = 200_000_000)]
    cpu_iters: u64,
    /// `cpu`: loop iterations per CPython task (the tutorials' 10**7; CPython's
    /// loop is ~100x slower, and speedups compare each implementation with
    /// its own sequential run).
    #[arg(long, default_value_t = 10_000_000)]
    cpython_cpu_iters: u64,
    /// Workers of the pool modes (ThreadPoolExecutor's `max_workers`);
    /// default as Python's: min(32, cores + 4).
    #[arg(long)]
    threads: Option<usize>,
    /// threadkit modes to run, comma-separated (default: all); see `--list-modes`.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "MODE")]
    modes: Vec<modes::ModeName>,
    /// List the threadkit modes and exit.
    #[arg(long)]
    list_modes: bool,
    /// Skip the CPython rows.
    #[arg(long)]
    no_cpython: bool,
    /// Add the `ClusterExecutor` row: `cpu` through 2 local cluster workers on
    /// a private redis-server (needs the CLI's `cluster` feature).
    #[arg(long)]
    cluster: bool,
    /// The Python interpreter for the CPython rows.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Print the results as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write a bar chart of the speedups to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Also write the results to this CSV file, one line per row.
    #[arg(long, value_name = "FILE.csv")]
    csv: Option<PathBuf>,
    /// Also write the tables to this Markdown file.
    #[arg(long, value_name = "FILE.md")]
    markdown: Option<PathBuf>,
}

/// Renders a report as one output format.
type Render = fn(&Report) -> String;

/// A file to write the results to, opened before the run.
struct Output {
    /// What the file holds, for messages: "plot", "CSV", "Markdown".
    what: &'static str,
    path: PathBuf,
    file: File,
    render: Render,
}

/// A checked configuration.
struct Plan {
    sizes: Sizes,
    runs: u32,
    warmup: u32,
    workloads: Vec<Workload>,
    modes: Vec<Box<dyn Mode>>,
    max_workers: usize,
    outputs: Vec<Output>,
}

fn plan(args: &BenchArgs) -> Result<Plan, String> {
    if args.tasks == 0 || args.tasks > MAX_TASKS {
        return Err(format!(
            "--tasks must be between 1 and {MAX_TASKS} (got {})",
            args.tasks
        ));
    }
    if args.file_kb > MAX_FILE_KB {
        return Err(format!(
            "--file-kb must be at most {MAX_FILE_KB} (got {})",
            args.file_kb
        ));
    }
    for (flag, ms) in [
        ("--sleep-ms", args.sleep_ms),
        ("--latency-ms", args.latency_ms),
    ] {
        if ms > MAX_MS {
            return Err(format!("{flag} must be at most {MAX_MS} (got {ms})"));
        }
    }
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".to_owned());
    }
    if args.workloads.is_empty() {
        return Err("--workloads needs at least one of sleep, download, cpu".to_owned());
    }
    let mut workloads = Vec::new();
    for w in &args.workloads {
        if !workloads.contains(w) {
            workloads.push(*w);
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max_workers = args.threads.unwrap_or(32.min(cores + 4));
    let mut modes = modes::all(&ModeConfig { max_workers });
    if !args.modes.is_empty() {
        modes.retain(|m| args.modes.iter().any(|n| n.name() == m.name()));
    }
    if args.cluster {
        if !cfg!(feature = "cluster") {
            return Err(
                "--cluster needs threadkit built with the `cluster` feature \
                 (cargo install threadkit-cli --features cluster)"
                    .to_owned(),
            );
        }
        modes.extend(modes::extra());
    }
    // Open the output files now, so a bad path fails before the long run.
    let wanted: [(&'static str, &Option<PathBuf>, Render); 3] = [
        ("plot", &args.plot, Report::svg),
        ("CSV", &args.csv, Report::csv),
        ("Markdown", &args.markdown, Report::markdown),
    ];
    let mut outputs = Vec::new();
    for (what, path, render) in wanted {
        if let Some(path) = path {
            let file = File::create(path)
                .map_err(|e| format!("cannot write the {what} to {}: {e}", path.display()))?;
            outputs.push(Output {
                what,
                path: path.clone(),
                file,
                render,
            });
        }
    }
    Ok(Plan {
        runs: args.runs,
        warmup: args.warmup,
        sizes: Sizes {
            tasks: args.tasks,
            sleep: Duration::from_millis(args.sleep_ms),
            latency: Duration::from_millis(args.latency_ms),
            file_bytes: args.file_kb * 1024,
            cpu_iters: args.cpu_iters,
            py_cpu_iters: args.cpython_cpu_iters,
        },
        workloads,
        modes,
        max_workers,
        outputs,
    })
}

/// Runs `threadkit bench`.
pub(crate) fn run(args: &BenchArgs) -> ExitCode {
    if args.list_modes {
        for mode in modes::all(&ModeConfig { max_workers: 1 }) {
            println!("{}", mode.name());
        }
        return ExitCode::SUCCESS;
    }
    let plan = match plan(args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("threadkit bench: {e}");
            return ExitCode::from(2);
        }
    };
    let python = if args.no_cpython {
        Err("skipped with --no-cpython".to_owned())
    } else {
        Python::find(&args.python)
    };
    if let Err(why) = &python {
        if !args.no_cpython && !args.json {
            eprintln!("threadkit bench: no CPython rows (not run: {why}); going on without them");
        }
    }
    let report = measure(&plan, python.as_ref().ok(), args.json);
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            eprintln!("threadkit bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        println!("{:#}", report.json());
    } else {
        print!("{}", report.table());
    }
    for mut out in plan.outputs {
        if let Err(e) = out.file.write_all((out.render)(&report).as_bytes()) {
            eprintln!(
                "threadkit bench: cannot write the {} to {}: {e}",
                out.what,
                out.path.display()
            );
            return ExitCode::FAILURE;
        }
        if !args.json {
            println!("\n{} written to {}", out.what, out.path.display());
        }
    }
    if report.has_errors() {
        eprintln!("threadkit bench: some tasks failed (see the ERR rows)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// The progress bar: `threadkit_rows` is the threadkit rows of all the
/// workloads together.
fn progress_bar(
    plan: &Plan,
    threadkit_rows: usize,
    with_python: bool,
    hidden: bool,
) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let python_rows = if with_python { CPYTHON_MODES } else { 0 };
    let rows = threadkit_rows + plan.workloads.len() * python_rows;
    let passes = (plan.warmup + plan.runs) as usize;
    let total = rows * plan.sizes.tasks * passes;
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} tasks, about {eta} left  {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn measure(plan: &Plan, python: Option<&Python>, json: bool) -> Result<Report, String> {
    let sizes = &plan.sizes;
    let load = report::load_average();
    let server = if plan.workloads.contains(&Workload::Download) {
        Some(
            Server::start(sizes.tasks, sizes.file_bytes, sizes.latency)
                .map_err(|e| format!("cannot start the loopback HTTP server: {e}"))?,
        )
    } else {
        None
    };
    let mut notes = Vec::new();
    // Each mode that runs some workload readies itself, untimed; one that
    // cannot is left out with a note.
    let mut modes: Vec<&dyn Mode> = Vec::new();
    for mode in &plan.modes {
        if !plan.workloads.iter().any(|&w| mode.supports(w)) {
            continue;
        }
        match mode.prepare() {
            Ok(()) => modes.push(mode.as_ref()),
            Err(why) => notes.push(format!("threadkit {}: not run: {why}", mode.name())),
        }
    }
    let rows_per_pass: usize = plan
        .workloads
        .iter()
        .map(|&w| modes.iter().filter(|m| m.supports(w)).count())
        .sum();
    let bar = progress_bar(plan, rows_per_pass, python.is_some(), json);
    let mut rows = Vec::new();
    let passes = plan.warmup + plan.runs;
    for &workload in &plan.workloads {
        // Run by run, every row in turn: a slow spell of the machine then
        // spreads over the rows instead of landing on one.
        for pass in 0..passes {
            let warming = pass < plan.warmup;
            let which = if warming {
                format!("warm-up {}/{}", pass + 1, plan.warmup)
            } else {
                format!("run {}/{}", pass - plan.warmup + 1, plan.runs)
            };
            for mode in modes.iter().filter(|m| m.supports(workload)) {
                bar.set_message(format!("{workload}: threadkit {} ({which})", mode.name()));
                let tasks = workloads::tasks(workload, sizes, server.as_ref(), &bar)?;
                let server_cpu = server.as_ref().map(Server::cpu_time).unwrap_or_default();
                let cpu = clock::process_cpu();
                let start = Instant::now();
                let results = mode.run(tasks);
                let wall = start.elapsed();
                // The server runs in this process; keep its CPU out of the client's.
                let server_cpu = server
                    .as_ref()
                    .map(Server::cpu_time)
                    .unwrap_or_default()
                    .saturating_sub(server_cpu);
                let cpu = clock::process_cpu()
                    .saturating_sub(cpu)
                    .saturating_sub(server_cpu);
                if warming {
                    continue;
                }
                let errors: Vec<String> = results.iter().filter_map(|r| r.clone().err()).collect();
                report::add_sample(
                    &mut rows,
                    Row::new(workload, "threadkit", mode.name(), sizes.tasks).with_run(
                        wall,
                        cpu,
                        results.len() - errors.len(),
                        results.iter().flatten().map(|o| o.bytes).sum(),
                        errors,
                    ),
                );
            }
            if let Some(python) = python {
                bar.set_message(format!(
                    "{workload}: CPython ({CPYTHON_MODES} modes, {which})"
                ));
                match python.run(
                    workload,
                    sizes,
                    plan.max_workers,
                    server.as_ref(),
                    CPYTHON_LIMIT,
                ) {
                    Ok(_) if warming => {}
                    Ok(py_rows) => {
                        for r in py_rows {
                            report::add_sample(
                                &mut rows,
                                Row::new(workload, "CPython", &r.mode, sizes.tasks)
                                    .with_run(r.wall, r.cpu, r.ok, r.bytes, r.errors),
                            );
                        }
                    }
                    Err(e) => {
                        if !notes.contains(&e) {
                            notes.push(e);
                        }
                    }
                }
                bar.inc((CPYTHON_MODES * sizes.tasks) as u64);
            }
        }
    }
    bar.finish_and_clear();
    Ok(Report {
        meta: Meta {
            sizes: sizes.clone(),
            workloads: plan.workloads.clone(),
            max_workers: plan.max_workers,
            runs: plan.runs,
            warmup: plan.warmup,
            python: python
                .map(|p| p.version.clone())
                .ok_or_else(|| "not run".to_owned()),
            load,
        },
        rows,
        notes,
    })
}
