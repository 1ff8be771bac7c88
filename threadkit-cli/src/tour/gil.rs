//! The GIL lesson, measured: CPU-bound work on threads, threadkit beside
//! CPython (when `python3` is on PATH) in the same run.

use std::process::Command;

use std::time::{Duration, Instant};

use super::report::{SpeedupTry, measure_speedup_beside, secs};
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

/// The loop twice on two bare `std` threads: the reference the threadkit
/// threads are judged beside.
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
    let m = measure_speedup_beside(5, SPEEDUP_BAR, || {
        let (sequential, parallel) = gil_example::sequential_vs_threads(2, n);
        SpeedupTry {
            sequential,
            parallel,
            reference: bare_threads(n),
        }
    });
    let best = m.best;
    let (sequential, threaded, speedup) = (best.sequential, best.parallel, best.speedup());
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
        &m.outcome,
        format!(
            "{speedup:.2}x speedup ({} vs {}; two bare OS threads: {:.2}x)",
            secs(threaded),
            secs(sequential),
            best.reference_speedup()
        ),
    );
}
