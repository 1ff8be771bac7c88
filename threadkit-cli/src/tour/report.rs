//! What the tour prints: a header per lesson, one line per checked claim, and
//! a closing summary whose exit code says whether every claim held.
//!
//! A claim about parallel speedup has a third outcome besides held and not
//! held: when it misses its bar while other programs keep the cores busy, the
//! measurement says nothing about threadkit, so the claim is reported as
//! inconclusive and does not fail the run (see [`measure_under_load`]). So
//! is a speedup that bare `std` threads running the same work in the same
//! try could not reach either (see [`measure_speedup_beside`]).

use std::process::ExitCode;
use std::time::Duration;

use super::load::{self, Usage};
use super::style::Style;

/// How a claim came out.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The measurement agrees with the claim.
    Held,
    /// The measurement contradicts the claim.
    NotHeld,
    /// A speedup claim missed its bar only while the machine was busy; the
    /// text says how busy.
    Inconclusive(String),
}

/// The claims checked so far.
#[derive(Default)]
pub(crate) struct Report {
    checks: Vec<Check>,
    lesson: &'static str,
    style: Style,
}

struct Check {
    lesson: &'static str,
    claim: String,
    measured: String,
    outcome: Outcome,
    /// Not held only because something happened too late (see
    /// [`Report::check_timed`]).
    late: bool,
}

/// What the claims recorded since a [`Report::mark`] say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misses {
    /// Every claim held (or was judged inconclusive already).
    None,
    /// Only claims that came too late were not held: worth another try on
    /// a busy machine.
    OnlyLate,
    /// A claim that does not depend on timing was not held.
    Real,
}

impl Report {
    /// A report printing in `style`.
    pub(crate) fn new(style: Style) -> Report {
        Report {
            style,
            ..Report::default()
        }
    }

    /// How this report prints (for lessons that print more, like sources).
    pub(crate) fn style(&self) -> Style {
        self.style
    }

    /// Starts the lesson `name`: prints its header.
    pub(crate) fn begin(&mut self, name: &'static str, title: &str) {
        self.lesson = name;
        let rule = "─".repeat(60usize.saturating_sub(name.len() + title.len()));
        let header = format!("── lesson {name}: {title} {rule}");
        println!("\n{}", self.style.bold(&header));
    }

    /// Records whether the lesson's `claim` held, with what was `measured`.
    pub(crate) fn check(
        &mut self,
        claim: impl Into<String>,
        held: bool,
        measured: impl Into<String>,
    ) {
        let outcome = if held {
            Outcome::Held
        } else {
            Outcome::NotHeld
        };
        self.record(claim.into(), outcome, measured.into(), false);
    }

    /// Records a claim with a timing side: `correct` is what must hold
    /// whatever the machine does (results, counts), `on_time` what must
    /// happen soon enough (sleeps overlapping, the shorter sleep finishing
    /// first). A claim that is correct but late on a busy machine gets its
    /// lesson run again, and is inconclusive if it stays late (see
    /// `tour::run`); late on an idle machine, it did not hold.
    pub(crate) fn check_timed(
        &mut self,
        claim: impl Into<String>,
        correct: bool,
        on_time: bool,
        measured: impl Into<String>,
    ) {
        let outcome = if correct && on_time {
            Outcome::Held
        } else {
            Outcome::NotHeld
        };
        self.record(claim.into(), outcome, measured.into(), correct && !on_time);
    }

    /// Where the claims of one try of a lesson start.
    pub(crate) fn mark(&self) -> usize {
        self.checks.len()
    }

    /// What the claims recorded since `mark` say.
    pub(crate) fn misses_since(&self, mark: usize) -> Misses {
        let missed = self.checks[mark..]
            .iter()
            .filter(|c| c.outcome == Outcome::NotHeld);
        let mut misses = Misses::None;
        for c in missed {
            if !c.late {
                return Misses::Real;
            }
            misses = Misses::OnlyLate;
        }
        misses
    }

    /// Forgets the claims since `mark` (printed already) before the lesson
    /// runs again because the machine was busy (`why`).
    pub(crate) fn retry_since(&mut self, mark: usize, why: &str) {
        self.checks.truncate(mark);
        println!(
            "  {} {}",
            self.style.yellow("↻"),
            self.style.yellow(&format!(
                "a claim came too late while the machine was busy ({why}): running the lesson again"
            ))
        );
    }

    /// Marks the late claims since `mark` inconclusive: they stayed late
    /// while the machine stayed busy (`why`).
    pub(crate) fn inconclusive_since(&mut self, mark: usize, why: &str) {
        let style = self.style;
        for c in &mut self.checks[mark..] {
            if c.outcome == Outcome::NotHeld && c.late {
                c.outcome = Outcome::Inconclusive(why.to_owned());
            }
        }
        for c in &self.checks[mark..] {
            if matches!(c.outcome, Outcome::Inconclusive(_)) {
                println!("  {}", Report::line_in(style, c, false));
            }
        }
    }

    /// Records a claim judged by [`measure_under_load`] or
    /// [`measure_speedup_beside`].
    pub(crate) fn check_judged(
        &mut self,
        claim: impl Into<String>,
        outcome: &Outcome,
        measured: impl Into<String>,
    ) {
        self.record(claim.into(), outcome.clone(), measured.into(), false);
    }

    fn record(&mut self, claim: String, outcome: Outcome, measured: String, late: bool) {
        let check = Check {
            lesson: self.lesson,
            claim,
            measured,
            outcome,
            late,
        };
        if late && check.outcome == Outcome::NotHeld {
            // Not the verdict yet: see `settle_since`.
            println!(
                "  {} {} — too late, judged when the lesson ends (measured: {})",
                self.style.yellow("⧗"),
                check.claim,
                check.measured
            );
        } else {
            println!("  {}", self.line(&check, false));
        }
        self.checks.push(check);
    }

    /// Prints the verdict of the late claims since `mark` (not held): the
    /// lesson is over and they stand.
    pub(crate) fn settle_since(&mut self, mark: usize) {
        for c in &self.checks[mark..] {
            if c.late && c.outcome == Outcome::NotHeld {
                println!("  {}", self.line(c, false));
            }
        }
    }

    /// One claim's line: its mark, the claim, what was measured.
    fn line(&self, c: &Check, with_lesson: bool) -> String {
        Report::line_in(self.style, c, with_lesson)
    }

    fn line_in(style: Style, c: &Check, with_lesson: bool) -> String {
        let lesson = if with_lesson {
            format!("{}: ", c.lesson)
        } else {
            String::new()
        };
        match &c.outcome {
            Outcome::Held => format!(
                "{} {lesson}{} — measured: {}",
                style.green("✔"),
                c.claim,
                c.measured
            ),
            Outcome::NotHeld => format!(
                "{} {lesson}{} — measured: {}",
                style.red("✘"),
                c.claim,
                c.measured
            ),
            Outcome::Inconclusive(why) => format!(
                "{} {lesson}{} — measured: {} — {}",
                style.yellow("?"),
                c.claim,
                c.measured,
                style.yellow(&format!("inconclusive: machine busy ({why})")),
            ),
        }
    }

    /// Prints the closing summary; the exit code fails only when a claim did
    /// not hold (an inconclusive one does not).
    pub(crate) fn summary(&self, lessons: usize, elapsed: Duration) -> ExitCode {
        let count = |f: fn(&Outcome) -> bool| self.checks.iter().filter(|c| f(&c.outcome)).count();
        let held = count(|o| *o == Outcome::Held);
        let failed = count(|o| *o == Outcome::NotHeld);
        let inconclusive = count(|o| matches!(o, Outcome::Inconclusive(_)));
        let mut line = format!(
            "\n{} lessons, {} claims checked, {} held, {} did not",
            lessons,
            self.checks.len(),
            held,
            failed
        );
        if inconclusive > 0 {
            line.push_str(&format!(
                ", {inconclusive} inconclusive (the machine was busy)"
            ));
        }
        println!("{line} ({:.1} s)", elapsed.as_secs_f64());
        for c in self.checks.iter().filter(|c| c.outcome != Outcome::Held) {
            println!("  {}", self.line(c, true));
        }
        if inconclusive > 0 {
            println!(
                "  (an inconclusive claim needed cores or timely wake-ups that other programs \
                 were taking; rerun on a quieter machine to check it)"
            );
        }
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Seconds with two decimals, as the tutorials print them.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// A claim that needs free cores, measured by [`measure_under_load`].
#[derive(Debug, Clone)]
pub(crate) struct Measured<T> {
    /// The try that came closest to the claim.
    pub(crate) best: T,
    /// How many tries were measured.
    pub(crate) tries: usize,
    /// Held, not held, or inconclusive.
    pub(crate) outcome: Outcome,
}

/// How many extra tries a claim gets while the machine is busy, and the
/// pause before each, to let a passing burst of work end.
const BUSY_RETRIES: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// One try of a speedup claim, with its reference: the work one at a time,
/// the work done the way the lesson claims is parallel, and the same work
/// on bare `std` threads in the same try (what this machine's cores give
/// it at that moment, with nothing of threadkit in the way).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpeedupTry {
    /// The work one at a time.
    pub(crate) sequential: Duration,
    /// The work done the lesson's parallel way.
    pub(crate) parallel: Duration,
    /// The same work on bare `std` threads.
    pub(crate) reference: Duration,
}

impl SpeedupTry {
    /// `sequential / parallel`.
    pub(crate) fn speedup(&self) -> f64 {
        speedup(self.sequential, self.parallel)
    }

    /// `sequential / reference`: what the cores gave bare threads.
    pub(crate) fn reference_speedup(&self) -> f64 {
        speedup(self.sequential, self.reference)
    }

    /// How much of the bare threads' speed the lesson's way reaches (1.0:
    /// all of it).
    pub(crate) fn of_reference(&self) -> f64 {
        speedup(self.reference, self.parallel)
    }

    /// The cores themselves did not run the work in parallel (virtual cores
    /// sharing a physical one with other machines do that, unseen by the
    /// load figures), and the lesson's way kept up with the bare threads:
    /// the try says nothing either way.
    fn cores_shared(&self, bar: f64) -> bool {
        self.reference_speedup() < bar && self.of_reference() >= 0.85
    }
}

/// Measures a speedup claim of at least `bar`, up to `tries` times, beside
/// its bare-thread reference from the same try, and judges it as
/// [`measure_under_load`] does, with one more rule: a try that missed the
/// bar while the bare threads missed it too, and kept up with them, says
/// nothing, as a miss on a busy machine does. It gets the busy retries;
/// when no try holds, the claim is inconclusive ("the cores were shared"),
/// not failed. A slowdown of threadkit's own still fails.
pub(crate) fn measure_speedup_beside(
    tries: usize,
    bar: f64,
    run: impl FnMut() -> SpeedupTry,
) -> Measured<SpeedupTry> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    judge(
        tries,
        cores,
        &BUSY_RETRIES,
        |t| t.speedup() >= bar,
        |t| t.speedup().min(bar) + t.of_reference(),
        |t| {
            t.cores_shared(bar).then(|| {
                format!(
                    "bare OS threads ran the same work only {:.2}x faster in the same try: \
                     the cores were shared",
                    t.reference_speedup()
                )
            })
        },
        beside_load(run),
    )
}

fn speedup(sequential: Duration, parallel: Duration) -> f64 {
    sequential.as_secs_f64() / parallel.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// Runs a measurement whose claim needs the cores to itself (a speedup,
/// threads racing each other) up to `tries` times, and judges it.
///
/// A try that `held` ends the measurement: the claim held. A try that did
/// not is judged by what else ran meanwhile ([`load`]): if other programs
/// left the cores idle, the miss contradicts the claim; if they kept them
/// busy, it says nothing, and the claim gets up to [`BUSY_RETRIES`] more
/// tries after a pause. The claim fails only when no try held and some try
/// missed while the cores were free; when every miss was on a busy machine,
/// it is inconclusive. The try with the highest `score` is reported.
pub(crate) fn measure_under_load<T>(
    tries: usize,
    run: impl FnMut() -> T,
    held: impl Fn(&T) -> bool,
    score: impl Fn(&T) -> f64,
) -> Measured<T> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    judge(
        tries,
        cores,
        &BUSY_RETRIES,
        held,
        score,
        |_| None,
        beside_load(run),
    )
}

/// `run`, with what other programs did meanwhile.
fn beside_load<T>(mut run: impl FnMut() -> T) -> impl FnMut() -> (T, Option<Usage>) {
    move || {
        let before = load::snapshot();
        let out = run();
        (out, before.and_then(|b| b.usage()))
    }
}

/// [`measure_under_load`] with the measurement (a try's result and what
/// else ran meanwhile) and the pauses given. A miss for which `excuse`
/// gives a reason says nothing, as a miss on a busy machine does.
fn judge<T>(
    tries: usize,
    cores: usize,
    pauses: &[Duration],
    held: impl Fn(&T) -> bool,
    score: impl Fn(&T) -> f64,
    excuse: impl Fn(&T) -> Option<String>,
    mut try_once: impl FnMut() -> (T, Option<Usage>),
) -> Measured<T> {
    let mut missed_while_idle = false;
    let mut busiest: Option<Usage> = None;
    let mut excused: Option<String> = None;
    let mut pauses = pauses.iter();
    let mut best: Option<T> = None;
    let mut count = 0;
    loop {
        let (out, usage) = try_once();
        count += 1;
        let this_held = held(&out);
        let this_excuse = if this_held { None } else { excuse(&out) };
        if best.as_ref().is_none_or(|b| score(&out) > score(b)) {
            best = Some(out);
        }
        let done = |best: Option<T>, outcome| Measured {
            best: best.expect("at least one try"),
            tries: count,
            outcome,
        };
        if this_held {
            return done(best, Outcome::Held);
        }
        match usage {
            Some(u) if u.busy() => {
                if busiest.is_none_or(|b| u.others > b.others) {
                    busiest = Some(u);
                }
            }
            _ if this_excuse.is_some() => excused = this_excuse,
            // Idle cores, or no way to tell (no /proc): a real miss.
            _ => missed_while_idle = true,
        }
        if count < tries.max(1) {
            continue;
        }
        if missed_while_idle {
            return done(best, Outcome::NotHeld);
        }
        match pauses.next() {
            Some(pause) => std::thread::sleep(*pause),
            None => {
                let why = match (busiest, excused) {
                    (Some(u), Some(excuse)) => format!("{}; {excuse}", u.describe(cores)),
                    (Some(u), None) => u.describe(cores),
                    (None, excuse) => excuse.unwrap_or_default(),
                };
                return done(best, Outcome::Inconclusive(why));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn usage(others: f64) -> Option<Usage> {
        Some(Usage {
            others,
            ours: 1.0,
            load: Some(3.0),
        })
    }

    /// Runs the judgement of a 1.4x speedup claim over scripted tries:
    /// (speedup, cores others used).
    fn judge(tries: usize, script: &[(f64, f64)]) -> Measured<f64> {
        let mut script = script.iter();
        super::judge(
            tries,
            2,
            &[Duration::ZERO; 2],
            |&x| x >= 1.4,
            |&x| x,
            |_| None,
            || {
                let (x, others) = script.next().expect("no more tries scripted");
                (speedup(S.mul_f64(*x), S), usage(*others))
            },
        )
    }

    #[test]
    fn late_claims_are_told_apart_from_real_misses() {
        let mut r = Report::new(Style::default());
        let mark = r.mark();
        r.check("a plain claim", true, "ok");
        r.check_timed("a timed claim", true, true, "on time");
        assert_eq!(r.misses_since(mark), Misses::None);
        r.check_timed("a late claim", true, false, "late");
        assert_eq!(r.misses_since(mark), Misses::OnlyLate);
        let again = r.mark();
        r.check_timed("a wrong result", false, true, "wrong");
        assert_eq!(r.misses_since(again), Misses::Real);
        assert_eq!(r.misses_since(mark), Misses::Real);
    }

    #[test]
    fn a_retry_forgets_the_try_and_inconclusive_keeps_real_misses() {
        let mut r = Report::new(Style::default());
        r.check("before the lesson", true, "ok");
        let mark = r.mark();
        r.check_timed("late", true, false, "late");
        r.retry_since(mark, "load 9");
        assert_eq!(r.mark(), mark);
        r.check_timed("late again", true, false, "late");
        r.check("fine", true, "ok");
        r.inconclusive_since(mark, "load 9");
        let outcomes: Vec<&Outcome> = r.checks.iter().map(|c| &c.outcome).collect();
        assert_eq!(
            outcomes,
            [
                &Outcome::Held,
                &Outcome::Inconclusive("load 9".into()),
                &Outcome::Held
            ]
        );
        assert_eq!(r.misses_since(0), Misses::None);
    }

    #[test]
    fn a_try_that_reaches_the_bar_holds_at_once() {
        let m = judge(3, &[(1.9, 0.0)]);
        assert_eq!((m.outcome, m.tries), (Outcome::Held, 1));
    }

    #[test]
    fn a_miss_on_a_busy_machine_is_retried_then_inconclusive() {
        let m = judge(2, &[(1.05, 1.6), (1.1, 1.2), (1.0, 1.9), (1.07, 1.0)]);
        assert_eq!(m.tries, 4, "2 tries and 2 busy retries");
        let Outcome::Inconclusive(why) = &m.outcome else {
            panic!("{:?}", m.outcome)
        };
        assert!(why.contains("load 3.00"), "{why}");
        assert!(why.contains("other programs used 1.9 of 2 cores"), "{why}");
        assert!((m.best - 1.1).abs() < 1e-9, "the best try is reported");
    }

    #[test]
    fn a_retry_that_holds_after_a_busy_miss_holds() {
        let m = judge(1, &[(1.0, 1.5), (1.8, 0.1)]);
        assert_eq!((m.outcome, m.tries), (Outcome::Held, 2));
    }

    #[test]
    fn a_miss_while_the_cores_were_idle_fails() {
        let m = judge(3, &[(1.02, 0.05), (1.3, 1.5), (1.1, 0.0)]);
        assert_eq!((m.outcome, m.tries), (Outcome::NotHeld, 3));
    }

    fn try_of(sequential: f64, parallel: f64, reference: f64) -> SpeedupTry {
        SpeedupTry {
            sequential: Duration::from_secs_f64(sequential),
            parallel: Duration::from_secs_f64(parallel),
            reference: Duration::from_secs_f64(reference),
        }
    }

    #[test]
    fn a_miss_beside_bare_threads_that_missed_too_says_nothing() {
        // Bare threads 1.11x, the lesson's way as fast: the cores were shared.
        assert!(try_of(1.0, 0.9, 0.9).cores_shared(1.5));
        // Bare threads 1.11x, the lesson's way far slower: its own slowdown.
        assert!(!try_of(1.0, 1.3, 0.9).cores_shared(1.5));
        // Bare threads 2x, the lesson's way 1.11x: a real miss.
        assert!(!try_of(1.0, 0.9, 0.5).cores_shared(1.5));
    }

    #[test]
    fn an_excused_miss_on_idle_cores_is_retried_then_inconclusive() {
        let mut script = [1.1, 1.2, 1.0].into_iter();
        let m = super::judge(
            1,
            2,
            &[Duration::ZERO; 2],
            |&x| x >= 1.4,
            |&x| x,
            |&x| (x > 1.05).then(|| format!("shared at {x}")),
            || (script.next().expect("scripted"), usage(0.0)),
        );
        // The third try had no excuse: a real miss.
        assert_eq!((m.outcome, m.tries), (Outcome::NotHeld, 3));
        let mut script = [1.1, 1.2, 1.3].into_iter();
        let m = super::judge(
            1,
            2,
            &[Duration::ZERO; 2],
            |&x| x >= 1.4,
            |&x| x,
            |&x| Some(format!("shared at {x}")),
            || (script.next().expect("scripted"), usage(0.0)),
        );
        assert_eq!(m.tries, 3);
        assert_eq!(m.outcome, Outcome::Inconclusive("shared at 1.3".into()));
    }

    #[test]
    fn an_idle_miss_during_the_busy_retries_fails() {
        let m = judge(1, &[(1.0, 1.5), (1.0, 0.0)]);
        assert_eq!((m.outcome, m.tries), (Outcome::NotHeld, 2));
    }
}
