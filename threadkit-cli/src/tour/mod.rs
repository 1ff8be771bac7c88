//! The tour: every lesson of the Python threading tutorials as a short live
//! demo that prints what happens and checks the tutorial's claim against what
//! it measured.
//!
//! The lesson code itself lives in `threadkit/examples/` (one file per lesson,
//! runnable alone with `cargo run --example NAME`); each module here includes
//! that file and wraps it with measurement and the claim check. The CLI
//! reaches the examples through its `lessons` symlink, so that its packaged
//! `.crate` carries them (cargo packages a symlink's target). With
//! `--show-source`, each lesson first shows the tutorial's Python
//! ([`python`]) and the example's Rust.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use clap::builder::PossibleValue;

/// The Rust source of the lesson example `$name`, compiled in.
macro_rules! example_source {
    ($name:literal) => {
        include_str!(concat!("../../lessons/", $name, ".rs"))
    };
}

mod aio;
mod basics;
pub(crate) mod cluster;
mod daemon;
mod gil;
mod green;
mod load;
mod patterns;
mod pool;
mod porting;
mod process;
mod python;
mod report;
mod style;
mod sync;

use report::Misses;
pub(crate) use report::Report;
use style::Style;

/// One lesson of the tour.
pub(crate) struct Lesson {
    /// The name used on the command line.
    pub(crate) name: &'static str,
    /// What the lesson teaches, as the tutorial titles it.
    pub(crate) title: &'static str,
    /// The Rust it runs: its example file in `threadkit/examples/`.
    pub(crate) source: &'static str,
    /// Runs the demo and records its checks.
    pub(crate) run: fn(&mut Report),
}

/// A lesson's name on the command line: clap checks it against the lessons
/// and suggests the closest one for a typo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LessonName(&'static str);

impl ValueEnum for LessonName {
    fn value_variants<'a>() -> &'a [Self] {
        static NAMES: OnceLock<Vec<LessonName>> = OnceLock::new();
        NAMES.get_or_init(|| lessons().iter().map(|l| LessonName(l.name)).collect())
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0))
    }
}

/// Every lesson, in the order the tutorials teach them.
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
    all.extend(green::LESSONS);
    all.extend(porting::LESSONS);
    all.extend(cluster::LESSONS);
    all
}

/// Prints the lessons, one a line: name and title.
pub(crate) fn list() {
    for lesson in lessons() {
        println!("{:<22} {}", lesson.name, lesson.title);
    }
}

/// Runs the lessons `names` (all when empty), in the tutorials' order;
/// `show_source` first shows each one's Python and Rust.
pub(crate) fn run(names: &[LessonName], show_source: bool) -> ExitCode {
    let all = lessons();
    let chosen: Vec<&Lesson> = all
        .iter()
        .filter(|l| names.is_empty() || names.iter().any(|n| n.0 == l.name))
        .collect();
    let mut report = Report::new(Style::detect());
    let start = Instant::now();
    for lesson in &chosen {
        report.begin(lesson.name, lesson.title);
        if show_source {
            print_source(lesson, report.style());
        }
        run_lesson(lesson, &mut report);
    }
    report.summary(chosen.len(), start.elapsed())
}

/// Pauses before running a lesson again whose timed claims came too late
/// on a busy machine.
const LESSON_RETRIES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

/// Runs one lesson. When only claims about timing missed (something came
/// too late) and other programs kept the machine busy meanwhile, the lesson
/// runs again after a pause; if they still miss on a busy machine they are
/// reported inconclusive. A miss on an idle machine, or of a claim that does
/// not depend on timing, stands.
fn run_lesson(lesson: &Lesson, report: &mut Report) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut pauses = LESSON_RETRIES.iter();
    loop {
        let mark = report.mark();
        let before = load::snapshot();
        (lesson.run)(report);
        if report.misses_since(mark) != Misses::OnlyLate {
            report.settle_since(mark);
            return;
        }
        let Some(usage) = before.and_then(|b| b.usage()).filter(load::Usage::busy) else {
            report.settle_since(mark);
            return;
        };
        let why = usage.describe(cores);
        match pauses.next() {
            Some(pause) => {
                report.retry_since(mark, &why);
                std::thread::sleep(*pause);
            }
            None => {
                report.inconclusive_since(mark, &why);
                return;
            }
        }
    }
}

/// The example's code without its header comment (the header holds the
/// tutorial's Python and how to run the example, shown separately).
fn rust_body(source: &str) -> &str {
    let mut rest = source;
    while let Some(line_end) = rest.find('\n') {
        let line = &rest[..line_end];
        if line.starts_with("//!") || line.trim().is_empty() {
            rest = &rest[line_end + 1..];
        } else {
            break;
        }
    }
    rest.trim_end()
}

fn print_source(lesson: &Lesson, style: Style) {
    let python = python::snippet(lesson.name);
    let rust = rust_body(lesson.source);
    let path = if lesson.name == "download_images" {
        "threadkit/examples/download_images/main.rs".to_owned()
    } else if lesson.name == "outgrow_one_machine" {
        "threadkit-cluster/examples/outgrow_one_machine.rs".to_owned()
    } else {
        format!("threadkit/examples/{}.rs", lesson.name)
    };
    println!("  {}", style.bold("Python (the tutorial):"));
    for line in python.trim_end().lines() {
        println!("    {}", style.dim(line));
    }
    println!("  {}", style.bold(&format!("Rust ({path}):")));
    for line in rust.lines() {
        println!("    {}", style.dim(line));
    }
    println!();
}

/// Plays a child-process scenario of the daemon or green lesson.
pub(crate) fn child(scenario: &str) -> ExitCode {
    match scenario.strip_prefix("green-") {
        Some(way) => green::child(way),
        None => daemon::child(scenario),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_has_its_python_and_its_rust() {
        for lesson in lessons() {
            assert!(
                !python::snippet(lesson.name).trim().is_empty(),
                "{}: no Python",
                lesson.name
            );
            assert!(
                rust_body(lesson.source).contains("fn "),
                "{}: no Rust",
                lesson.name
            );
        }
    }

    #[test]
    fn the_rust_shown_starts_after_the_header() {
        let body = rust_body(
            "//! Lesson: x\n//!\n//! ```python\n//! pass\n//! ```\n\nuse a;\nfn main() {}\n",
        );
        assert_eq!(body, "use a;\nfn main() {}");
    }
}
