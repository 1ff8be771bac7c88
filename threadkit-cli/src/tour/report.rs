//! What the tour prints: a header per lesson, one line per checked claim, and
//! a closing summary whose exit code says whether every claim held.

use std::process::ExitCode;
use std::time::Duration;

/// The claims checked so far.
#[derive(Default)]
pub(crate) struct Report {
    checks: Vec<Check>,
    lesson: &'static str,
}

struct Check {
    lesson: &'static str,
    claim: String,
    measured: String,
    held: bool,
}

impl Report {
    pub(crate) fn begin(&mut self, name: &'static str, title: &str) {
        self.lesson = name;
        let rule = "─".repeat(60usize.saturating_sub(name.len() + title.len()));
        println!("\n── {name}: {title} {rule}");
    }

    /// Records whether the seed's `claim` held, with what was `measured`.
    pub(crate) fn check(
        &mut self,
        claim: impl Into<String>,
        held: bool,
        measured: impl Into<String>,
    ) {
        let check = Check {
            lesson: self.lesson,
            claim: claim.into(),
            measured: measured.into(),
            held,
        };
        let mark = if held { "✔" } else { "✘" };
        println!("  {mark} {} — measured: {}", check.claim, check.measured);
        self.checks.push(check);
    }

    pub(crate) fn summary(&self, lessons: usize, elapsed: Duration) -> ExitCode {
        let failed: Vec<&Check> = self.checks.iter().filter(|c| !c.held).collect();
        println!(
            "\n{} lessons, {} claims checked, {} held, {} did not ({:.1} s)",
            lessons,
            self.checks.len(),
            self.checks.len() - failed.len(),
            failed.len(),
            elapsed.as_secs_f64()
        );
        for c in &failed {
            println!("  ✘ {}: {} — measured: {}", c.lesson, c.claim, c.measured);
        }
        if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Seconds with two decimals, as the seeds print them.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The best of `tries` runs of a (sequential, parallel) timing, by speedup:
/// another program taking a core for a moment should not fail a lesson whose
/// claim is about what the cores can do.
pub(crate) fn best_of(
    tries: usize,
    mut run: impl FnMut() -> (Duration, Duration),
) -> (Duration, Duration, f64) {
    let mut best = (Duration::ZERO, Duration::ZERO, 0.0);
    for _ in 0..tries.max(1) {
        let (sequential, parallel) = run();
        let speedup = sequential.as_secs_f64() / parallel.as_secs_f64().max(f64::MIN_POSITIVE);
        if speedup > best.2 {
            best = (sequential, parallel, speedup);
        }
    }
    best
}
