//! The GIL lesson, measured: CPU-bound work on threads, threadkit beside
//! CPython (when `python3` is on PATH) in the same run.

use std::process::Command;

use super::report::{measure_speedup, secs};
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

fn lesson(r: &mut Report) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // About a quarter of a second per task in a release build.
    let m = measure_speedup(5, 1.5, || {
        gil_example::sequential_vs_threads(2, 400_000_000)
    });
    let (sequential, threaded, speedup) = (m.sequential, m.parallel, m.speedup);
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
            "{speedup:.2}x speedup ({} vs {})",
            secs(threaded),
            secs(sequential)
        ),
    );
}
