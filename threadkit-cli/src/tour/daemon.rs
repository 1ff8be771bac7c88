//! Join vs no join vs daemon: what happens when `main` returns. Each scenario
//! runs in a child process (this binary's hidden `child` command), because the
//! point is what the process does after its `main` has returned.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use super::report::secs;
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/daemon.rs"]
mod example;

pub(crate) const LESSONS: [Lesson; 1] = [Lesson {
    name: "daemon",
    source: example_source!("daemon"),
    title: "join vs no join vs daemon threads",
    run: lesson,
}];

const TICK: Duration = Duration::from_millis(200);

/// The child side: play the scenario, then return from `main`.
pub(crate) fn child(scenario: &str) -> ExitCode {
    if example::scenario(scenario, TICK) {
        ExitCode::SUCCESS
    } else {
        eprintln!("unknown scenario {scenario:?}");
        ExitCode::from(2)
    }
}

/// Runs one scenario in a child process: its stdout lines and wall time.
fn play(scenario: &str) -> Result<(Vec<String>, Duration), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let out = Command::new(exe)
        .args(["child", scenario])
        .output()
        .map_err(|e| e.to_string())?;
    let took = start.elapsed();
    if !out.status.success() {
        return Err(format!("child exited with {}", out.status));
    }
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    println!("  $ threadkit child {scenario}   ({})", secs(took));
    println!("    {}", lines.join(" | "));
    Ok((lines, took))
}

fn position(lines: &[String], line: &str) -> Option<usize> {
    lines.iter().position(|l| l == line)
}

fn lesson(r: &mut Report) {
    for scenario in ["join", "no_join", "daemon"] {
        let (lines, took) = match play(scenario) {
            Ok(seen) => seen,
            Err(e) => {
                r.check(format!("{scenario}: the child process runs"), false, e);
                continue;
            }
        };
        let ends = position(&lines, "main Ends");
        let last = position(&lines, "4");
        // (claim, what must hold, what must hold in time)
        let (claim, correct, on_time) = match scenario {
            "join" => (
                "non-daemon + join(): main waits, so the counter ends before \"main Ends\"",
                matches!((last, ends), (Some(l), Some(e)) if l < e),
                true,
            ),
            "no_join" => (
                "non-daemon, no join(): \"main Ends\" first, yet the process waits for the counter",
                matches!((last, ends), (Some(l), Some(e)) if e < l),
                true,
            ),
            _ => (
                "daemon, no join(): the process exits with main; the counter is cut short",
                ends.is_some() && last.is_none(),
                took < TICK * 5,
            ),
        };
        r.check_timed(
            format!("{scenario}: {claim}"),
            correct,
            on_time,
            format!(
                "{} lines, exit after {} (counter needs {})",
                lines.len(),
                secs(took),
                secs(TICK * 5)
            ),
        );
    }
}
