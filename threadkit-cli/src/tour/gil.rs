//! The GIL lesson, measured: CPU-bound work on threads, threadkit beside
//! CPython (when `python3` is on PATH) in the same run.

use std::process::Command;

use std::time::{Duration, Instant};

use super::report::{Outcome, measure_under_load, secs};
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/gil.rs"]
mod gil_example;

pub(crate) const LESSONS: [Lesson; 1] = [Lesson {
    name: "gil",
    source: example_source!("gil"),
    title: "CPU-bound threads: no GIL, real parallelism",
    run: lesson,
}];

/// The seeds' GIL example, timed sequentially and on 2 threads; prints the speedup.
const CPYTHON_GIL_DEMO: &str = r#"
import threading, time
def cpu_intensive_task():
    total = 0
    for i in range(10**7):
        total += i
t0 = time.perf_counter(); cpu_intensive_task(); cpu_intensive_task(); seq = time.perf_counter() - t0
ts = [threading.Thread(target=cpu_intensive_task) for _ in range(2)]
t0 = time.perf_counter()
for t in ts: t.start()
for t in ts: t.join()
par = time.perf_counter() - t0
print(f"{seq} {par}")
"#;

fn cpython_speedup() -> Option<(f64, f64)> {
    let out = Command::new("python3")
        .args(["-c", CPYTHON_GIL_DEMO])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    Some((it.next()??, it.next()??))
}

/// The speedup 2 threads must give the CPU-bound loop.
const SPEEDUP_BAR: f64 = 1.5;

/// One try: the loop twice one after the other, on 2 threadkit threads, and
/// on 2 bare `std` threads (what this machine's cores give two loops at
/// that moment, with nothing of threadkit in the way).
#[derive(Clone, Copy)]
struct Try {
    sequential: Duration,
    threaded: Duration,
    bare: Duration,
}

impl Try {
    fn speedup(&self) -> f64 {
        self.sequential.as_secs_f64() / self.threaded.as_secs_f64().max(1e-9)
    }

    fn bare_speedup(&self) -> f64 {
        self.sequential.as_secs_f64() / self.bare.as_secs_f64().max(1e-9)
    }

    /// The cores themselves did not run two loops at once: virtual cores
    /// sharing a physical one with other machines do that, unseen by the
    /// load figures. threadkit's threads then say nothing either way, as
    /// long as they kept up with the bare ones.
    fn cores_shared(&self) -> bool {
        self.bare_speedup() < SPEEDUP_BAR && self.speedup() >= 0.85 * self.bare_speedup()
    }
}

fn bare_threads(n: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| std::hint::black_box(gil_example::cpu_intensive_task(n)));
        s.spawn(|| std::hint::black_box(gil_example::cpu_intensive_task(n)));
    });
    start.elapsed()
}

fn lesson(r: &mut Report) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // About a quarter of a second per task in a release build.
    let n = 400_000_000;
    let m = measure_under_load(
        5,
        || {
            let (sequential, threaded) = gil_example::sequential_vs_threads(2, n);
            Try {
                sequential,
                threaded,
                bare: bare_threads(n),
            }
        },
        |t| t.speedup() >= SPEEDUP_BAR || t.cores_shared(),
        Try::speedup,
    );
    let best = m.best;
    let outcome = match m.outcome {
        Outcome::Held if best.speedup() < SPEEDUP_BAR => Outcome::Inconclusive(format!(
            "two bare OS threads ran the same loop only {:.2}x faster in the same try: \
             the cores were shared",
            best.bare_speedup()
        )),
        other => other,
    };
    let (sequential, threaded, speedup) = (best.sequential, best.threaded, best.speedup());
    println!(
        "  threadkit (best of {}): 2 tasks sequentially {}, on 2 threads {}",
        m.tries,
        secs(sequential),
        secs(threaded)
    );
    match cpython_speedup() {
        Some((seq, par)) => println!(
            "  CPython (same run): 2 tasks sequentially {:.2} s, on 2 threads {:.2} s: {:.2}x",
            seq,
            par,
            seq / par
        ),
        None => println!("  CPython: not run: python3 not found"),
    }
    if cores < 2 {
        r.check(
            "2 CPU-bound threads run in parallel (needs 2 cores)",
            true,
            format!("only {cores} core: {speedup:.2}x, not applicable"),
        );
        return;
    }
    r.check_judged(
        "without a GIL, 2 CPU-bound threads on 2 cores beat sequential (CPython: ~1.0x)",
        &outcome,
        format!(
            "{speedup:.2}x speedup ({} vs {}; two bare OS threads: {:.2}x)",
            secs(threaded),
            secs(sequential),
            best.bare_speedup()
        ),
    );
}
