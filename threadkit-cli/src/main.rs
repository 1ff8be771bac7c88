//! `threadkit`: the seed lessons as a live tour, and the seeds' comparisons as
//! benchmarks.
//!
//! ```text
//! threadkit tour            # every lesson, each checking its seed's claim
//! threadkit tour --list     # the lessons, one a line
//! threadkit tour race_condition deadlock
//! threadkit bench           # sleep/download/cpu: threadkit vs CPython, timed
//! threadkit bench --json    # the same, machine-readable
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod tour;

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
    /// Run the seed lessons as live demos that check their claims.
    Tour {
        /// List the lessons instead of running them.
        #[arg(long)]
        list: bool,
        /// Lessons to run (default: all), by name as `--list` shows them.
        names: Vec<String>,
    },
    /// Time the seeds' workloads (sleep, download, cpu) sequentially, on
    /// threads and under a simulated GIL, beside CPython.
    Bench(bench::BenchArgs),
    /// A child process some lessons start to show what happens when `main`
    /// returns (not for direct use).
    #[command(hide = true)]
    Child {
        /// Which scenario to play.
        scenario: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Tour { list: true, .. } => {
            tour::list();
            ExitCode::SUCCESS
        }
        Command::Tour { names, .. } => tour::run(&names),
        Command::Bench(args) => bench::run(&args),
        Command::Child { scenario } => tour::child(&scenario),
    }
}
