//! `threadkit`: the lessons of Python's threading tutorials as a live tour,
//! and their comparisons as benchmarks.
//!
//! ```text
//! threadkit tour            # every lesson, each checking its tutorial's claim
//! threadkit tour --list     # the lessons, one a line
//! threadkit tour race_condition deadlock
//! threadkit tour --show-source gil   # the lesson's Python beside its Rust
//! threadkit bench           # sleep/download/cpu: threadkit vs CPython, timed
//! threadkit bench --json    # the same, machine-readable
//! threadkit which queue.Queue.get_nowait   # a Python name's threadkit equivalent
//! ```

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

mod bench;
mod output;
mod tour;
mod which;

#[derive(Parser, Debug)]
#[command(
    name = "threadkit",
    version,
    about = "Python's concurrency lessons, in Rust, measured"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the lessons of Python's threading tutorials as live demos, each
    /// checking its tutorial's claim.
    Tour {
        /// List the lessons instead of running them.
        #[arg(long)]
        list: bool,
        /// Show each lesson's Python and its Rust before running it.
        #[arg(long)]
        show_source: bool,
        /// Lessons to run (default: all), by name as `--list` shows them.
        #[arg(value_enum, value_name = "LESSON", hide_possible_values = true)]
        names: Vec<tour::LessonName>,
    },
    /// Time the tutorials' workloads (sleep, download, cpu) sequentially, on
    /// threads, on pools and under a simulated GIL, beside CPython.
    Bench(bench::BenchArgs),
    /// Print the threadkit equivalent of Python names (e.g.
    /// `queue.Queue.get_nowait`), with a docs link and what differs, from
    /// the README's Python → threadkit table.
    Which {
        /// List every Python name the table knows instead.
        #[arg(long)]
        list: bool,
        /// Python names, dotted (`threading.Lock.acquire`, `asyncio.gather`).
        #[arg(value_name = "NAME", required_unless_present = "list")]
        names: Vec<String>,
    },
    /// A child process some lessons start to show what happens when `main`
    /// returns (not for direct use).
    #[command(hide = true)]
    Child {
        /// Which scenario to play.
        scenario: String,
    },
}

/// Parses the command line; a bad one exits with clap's message (usage,
/// suggestions, the valid values), after a line naming an unknown lesson or
/// mode in plain words.
fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if e.kind() == ErrorKind::InvalidValue {
                if let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
                    e.get(ContextKind::InvalidArg),
                    e.get(ContextKind::InvalidValue),
                ) {
                    let what = if arg.starts_with("--modes") {
                        Some("mode")
                    } else if arg.contains("LESSON") {
                        Some("lesson")
                    } else {
                        None
                    };
                    if let Some(what) = what {
                        eprintln!("threadkit: unknown {what} {value:?}");
                    }
                }
            }
            e.exit()
        }
    }
}

fn main() -> ExitCode {
    // Started again as a cluster worker (the cluster lesson and bench row
    // start this binary so), it serves tasks here and exits.
    #[cfg(feature = "cluster")]
    threadkit_cluster::worker_main_if_requested();
    output::quiet_on_broken_pipe();
    match parse().command {
        Command::Tour { list: true, .. } => {
            tour::list();
            ExitCode::SUCCESS
        }
        Command::Tour {
            names, show_source, ..
        } => tour::run(&names, show_source),
        Command::Bench(args) => bench::run(&args),
        Command::Which { names, list } => which::run(&names, list),
        Command::Child { scenario } => tour::child(&scenario),
    }
}
