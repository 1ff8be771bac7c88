//! The tour: every seed lesson as a short live demo that prints what happens
//! and checks the seed's claim against what it measured.
//!
//! The lesson code itself lives in `threadkit/examples/` (one file per lesson,
//! runnable alone with `cargo run --example NAME`); each module here includes
//! that file and wraps it with measurement and the claim check.

use std::process::ExitCode;
use std::time::Instant;

mod aio;
mod basics;
mod daemon;
mod gil;
mod patterns;
mod pool;
mod process;
mod report;
mod sync;

pub(crate) use report::Report;

/// One lesson of the tour.
pub(crate) struct Lesson {
    /// The name used on the command line.
    pub(crate) name: &'static str,
    /// What the lesson teaches, as the seed titles it.
    pub(crate) title: &'static str,
    /// Runs the demo and records its checks.
    pub(crate) run: fn(&mut Report),
}

/// Every lesson, in the order the seeds teach them.
fn lessons() -> Vec<Lesson> {
    let mut all = Vec::new();
    all.extend(basics::LESSONS);
    all.extend(daemon::LESSONS);
    all.extend(sync::LESSONS);
    all.extend(patterns::LESSONS);
    all.extend(pool::LESSONS);
    all.extend(process::LESSONS);
    all.extend(gil::LESSONS);
    all.extend(aio::LESSONS);
    all
}

pub(crate) fn list() {
    for lesson in lessons() {
        println!("{:<22} {}", lesson.name, lesson.title);
    }
}

pub(crate) fn run(names: &[String]) -> ExitCode {
    let all = lessons();
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| !all.iter().any(|l| l.name == n.as_str()))
        .collect();
    if !unknown.is_empty() {
        eprintln!("unknown lesson(s): {unknown:?}; see `threadkit tour --list`");
        return ExitCode::from(2);
    }
    let chosen: Vec<&Lesson> = all
        .iter()
        .filter(|l| names.is_empty() || names.iter().any(|n| n == l.name))
        .collect();
    let mut report = Report::default();
    let start = Instant::now();
    for lesson in &chosen {
        report.begin(lesson.name, lesson.title);
        (lesson.run)(&mut report);
    }
    report.summary(chosen.len(), start.elapsed())
}

pub(crate) fn child(scenario: &str) -> ExitCode {
    daemon::child(scenario)
}
