//! multiprocessing: CPU-bound work in worker processes of this same program.

use std::time::{Duration, Instant};

use threadkit::multiprocessing::Process;

use super::report::{Outcome, measure_speedup, measure_under_load, secs};
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

/// One try of the lesson: both tasks in one worker process, each in its own
/// process, and each on its own thread here (what the machine's cores give
/// this loop, with no process in the way).
#[derive(Clone, Copy)]
struct Timings {
    one_process: Duration,
    two_processes: Duration,
    two_threads: Duration,
}

impl Timings {
    fn speedup(&self) -> f64 {
        self.one_process.as_secs_f64() / self.two_processes.as_secs_f64().max(1e-9)
    }

    /// How much of the threads' parallelism the processes reach (1.0: all).
    fn of_threads(&self) -> f64 {
        self.two_threads.as_secs_f64() / self.two_processes.as_secs_f64().max(1e-9)
    }

    /// The processes ran in parallel: the speedup clears the bar, or, when
    /// this machine's two cores cannot run the loop twice as fast even on
    /// threads (virtual cores sharing a physical one do that), the
    /// processes are as fast as the threads.
    fn parallel(&self) -> bool {
        self.speedup() >= SPEEDUP_BAR
            || (self.threads_speedup() < SPEEDUP_BAR && self.of_threads() >= 0.85)
    }

    /// What two threads of this process gave the loop: both tasks in one
    /// worker process against two threads here.
    fn threads_speedup(&self) -> f64 {
        self.one_process.as_secs_f64() / self.two_threads.as_secs_f64().max(1e-9)
    }
}

fn start_join(r: &mut Report) {
    let n = calibrated_n();
    let mut codes = [0; 2];
    let mut one_code = 0;
    let m = measure_under_load(
        3,
        || {
            let start = Instant::now();
            let one = Process::new(cpu_task_twice, n);
            one.start().expect("start the one-process run");
            one_code = one.join().expect("join the one-process run");
            let one_process = start.elapsed();
            let (exit_codes, two_processes) = process_start_join::two_processes(n);
            codes = exit_codes;
            let start = Instant::now();
            std::thread::scope(|s| {
                s.spawn(|| process_start_join::cpu_task(n));
                s.spawn(|| process_start_join::cpu_task(n));
            });
            Timings {
                one_process,
                two_processes,
                two_threads: start.elapsed(),
            }
        },
        Timings::parallel,
        |t| t.speedup().min(SPEEDUP_BAR) + t.of_threads(),
    );
    r.check(
        "p1 and p2 run cpu_task in two processes and exit cleanly (exit codes 0)",
        codes == [0, 0] && one_code == 0,
        format!("exit codes {codes:?}; the one-process run: {one_code}"),
    );
    let t = m.best;
    let measured = format!(
        "{} in two processes vs {} for both tasks in one process ({:.2}x); \
         two threads take {} here ({:.0}% of their speed; best of {})",
        secs(t.two_processes),
        secs(t.one_process),
        t.speedup(),
        secs(t.two_threads),
        t.of_threads() * 100.0,
        m.tries
    );
    let claim = "two processes run the CPU-bound task in parallel";
    if cores() < 2 {
        r.check(claim, true, format!("{measured}; one core, not applicable"));
    } else {
        // Held only by keeping up with threads that were not parallel
        // either: the cores, not the processes, set the pace.
        let outcome = match m.outcome {
            Outcome::Held if t.speedup() < SPEEDUP_BAR => Outcome::Inconclusive(format!(
                "two threads ran the same loop only {:.2}x faster in the same try: \
                 the cores were shared",
                t.threads_speedup()
            )),
            other => other,
        };
        r.check_judged(claim, &outcome, measured);
    }
}

fn pool(r: &mut Report) {
    let data_list = [600_000, 620_000, 640_000, 660_000];
    let mut results = Vec::new();
    let m = measure_speedup(3, SPEEDUP_BAR, || {
        let (found, pool_time, sequential) = process_pool::heavy_map(&data_list);
        results = found;
        (sequential, pool_time)
    });
    r.check(
        "executor.map(do_some_heavy_computation, data_list) returns every result, in order",
        results.len() == data_list.len() && results.windows(2).all(|w| w[0] <= w[1]),
        format!("primes below {data_list:?}: {results:?}"),
    );
    let measured = format!(
        "{} on the pool vs {} in one process ({:.2}x, {} cores, best of {})",
        secs(m.parallel),
        secs(m.sequential),
        m.speedup,
        cores(),
        m.tries
    );
    let claim = "the process pool spreads the CPU-bound work over the cores";
    if cores() < 2 {
        r.check(claim, true, format!("{measured}; one core, not applicable"));
    } else {
        r.check_judged(claim, &m.outcome, measured);
    }
}
