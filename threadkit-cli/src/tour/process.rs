//! multiprocessing: CPU-bound work in worker processes of this same program.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::multiprocessing::Process;

use super::report::{SpeedupTry, measure_speedup_beside, secs};
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/process_start_join.rs"]
mod process_start_join;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/process_pool.rs"]
mod process_pool;

pub(crate) const LESSONS: [Lesson; 2] = [
    Lesson {
        name: "process_start_join",
        source: example_source!("process_start_join"),
        title: "multiprocessing.Process: start and join",
        run: start_join,
    },
    Lesson {
        name: "process_pool",
        source: example_source!("process_pool"),
        title: "ProcessPoolExecutor.map over a heavy computation",
        run: pool,
    },
];

/// The speedup two or more cores must give the CPU-bound work.
const SPEEDUP_BAR: f64 = 1.4;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How long one `cpu_task` should run, so that starting a process (a few
/// milliseconds, more on a cold cache) stays small beside it.
const TASK_TIME: Duration = Duration::from_millis(300);

/// Both tasks one after the other, in one worker process: the one-at-a-time
/// side of the comparison, started and joined exactly as the two-process
/// side is, so that only the parallelism differs.
fn cpu_task_twice(n: u64) {
    process_start_join::cpu_task(n);
    process_start_join::cpu_task(n);
}

/// The tutorial's `n`, scaled so that one task takes about [`TASK_TIME`]
/// on this machine.
fn calibrated_n() -> u64 {
    let probe = 50_000_000;
    let start = Instant::now();
    process_start_join::cpu_task(std::hint::black_box(probe));
    let took = start.elapsed().as_secs_f64().max(1e-6);
    let n = probe as f64 * TASK_TIME.as_secs_f64() / took;
    (n as u64).clamp(probe, 5_000_000_000)
}

/// The same work on bare `std` threads, one per core, each taking the next
/// item: the reference a process claim is judged beside (what the cores
/// give this work with no process in the way).
fn on_bare_threads(items: &[u64], work: fn(u64) -> u64) -> Duration {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores().min(items.len()) {
            s.spawn(|| {
                while let Some(&n) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                    std::hint::black_box(work(n));
                }
            });
        }
    });
    start.elapsed()
}

fn start_join(r: &mut Report) {
    let n = calibrated_n();
    let mut codes = [0; 2];
    let mut one_code = 0;
    let m = measure_speedup_beside(3, SPEEDUP_BAR, || {
        let start = Instant::now();
        let one = Process::new(cpu_task_twice, n);
        one.start().expect("start the one-process run");
        one_code = one.join().expect("join the one-process run");
        let sequential = start.elapsed();
        let (exit_codes, parallel) = process_start_join::two_processes(n);
        codes = exit_codes;
        SpeedupTry {
            sequential,
            parallel,
            reference: on_bare_threads(&[n, n], |n| {
                process_start_join::cpu_task(n);
                0
            }),
        }
    });
    r.check(
        "p1 and p2 run cpu_task in two processes and exit cleanly (exit codes 0)",
        codes == [0, 0] && one_code == 0,
        format!("exit codes {codes:?}; the one-process run: {one_code}"),
    );
    let t = m.best;
    let measured = format!(
        "{} in two processes vs {} for both tasks in one process ({:.2}x); \
         two bare OS threads take {} here ({:.2}x; best of {})",
        secs(t.parallel),
        secs(t.sequential),
        t.speedup(),
        secs(t.reference),
        t.reference_speedup(),
        m.tries
    );
    let claim = "two processes run the CPU-bound task in parallel";
    if cores() < 2 {
        r.check(claim, true, format!("{measured}; one core, not applicable"));
    } else {
        r.check_judged(claim, &m.outcome, measured);
    }
}

fn pool(r: &mut Report) {
    let data_list = [600_000, 620_000, 640_000, 660_000];
    let mut results = Vec::new();
    let m = measure_speedup_beside(3, SPEEDUP_BAR, || {
        let (found, parallel, sequential) = process_pool::heavy_map(&data_list);
        results = found;
        SpeedupTry {
            sequential,
            parallel,
            reference: on_bare_threads(&data_list, process_pool::do_some_heavy_computation),
        }
    });
    r.check(
        "executor.map(do_some_heavy_computation, data_list) returns every result, in order",
        results.len() == data_list.len() && results.windows(2).all(|w| w[0] <= w[1]),
        format!("primes below {data_list:?}: {results:?}"),
    );
    let t = m.best;
    let measured = format!(
        "{} on the pool vs {} in one process ({:.2}x, {} cores; bare OS threads: {} ({:.2}x); \
         best of {})",
        secs(t.parallel),
        secs(t.sequential),
        t.speedup(),
        cores(),
        secs(t.reference),
        t.reference_speedup(),
        m.tries
    );
    let claim = "the process pool spreads the CPU-bound work over the cores";
    if cores() < 2 {
        r.check(claim, true, format!("{measured}; one core, not applicable"));
    } else {
        r.check_judged(claim, &m.outcome, measured);
    }
}
