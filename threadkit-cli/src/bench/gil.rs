//! A simulated GIL: one global threadkit [`Lock`] that a task must hold to run
//! "bytecode", handed over every switch interval (CPython's
//! `sys.getswitchinterval()`, 5 ms) and released around blocking I/O, as
//! CPython does with `Py_BEGIN_ALLOW_THREADS`.
//!
//! Task code is written once against [`Interpreter`]: [`NoGil`] makes both
//! hooks free, [`GilHeld`] makes them do what CPython's eval loop does.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::threading::{Lock, LockGuard};

/// CPython's default switch interval.
pub(crate) const SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// What task code needs from the "interpreter" it runs in.
pub(crate) trait Interpreter {
    /// Runs the blocking call `f` with the GIL released.
    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R;
    /// The eval loop's periodic check: under a GIL, hand it to a waiting
    /// thread once this one has held it for the switch interval.
    fn tick(&mut self);
}

/// No GIL: threadkit as it is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoGil;

impl Interpreter for NoGil {
    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        f()
    }
    fn tick(&mut self) {}
}

/// The global lock and the bookkeeping for forced switching.
#[derive(Debug)]
pub(crate) struct Gil {
    lock: Lock,
    /// Threads blocked in `acquire`.
    waiting: AtomicUsize,
    /// Acquisitions that had to wait: each is a hand-over between threads.
    handoffs: AtomicU64,
    interval: Duration,
}

impl Gil {
    pub(crate) fn new(interval: Duration) -> Gil {
        Gil {
            lock: Lock::new(()),
            waiting: AtomicUsize::new(0),
            handoffs: AtomicU64::new(0),
            interval,
        }
    }

    /// Takes the GIL for the calling thread (the start of a Python thread).
    pub(crate) fn enter(&self) -> GilHeld<'_> {
        GilHeld {
            gil: self,
            guard: Some(self.acquire()),
            since: Instant::now(),
        }
    }

    /// How many times the GIL passed from one waiting thread to another.
    pub(crate) fn handoffs(&self) -> u64 {
        self.handoffs.load(Ordering::SeqCst)
    }

    fn acquire(&self) -> LockGuard<'_, ()> {
        if let Some(guard) = self.lock.try_acquire() {
            return guard;
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = self.lock.acquire();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        self.handoffs.fetch_add(1, Ordering::SeqCst);
        guard
    }
}

/// A thread's hold on the GIL while it runs a task.
#[derive(Debug)]
pub(crate) struct GilHeld<'a> {
    gil: &'a Gil,
    guard: Option<LockGuard<'a, ()>>,
    since: Instant,
}

impl GilHeld<'_> {
    fn reacquire(&mut self) {
        self.guard = Some(self.gil.acquire());
        self.since = Instant::now();
    }
}

impl Interpreter for GilHeld<'_> {
    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.guard = None;
        let result = f();
        self.reacquire();
        result
    }

    fn tick(&mut self) {
        if self.since.elapsed() < self.gil.interval || self.gil.waiting.load(Ordering::SeqCst) == 0
        {
            return;
        }
        // Like CPython's FORCE_SWITCHING: after dropping the GIL, wait until
        // another thread has taken it instead of grabbing it straight back
        // (bounded, in case the waiter is slow to wake).
        let before = self.gil.handoffs();
        self.guard = None;
        let deadline = Instant::now() + self.gil.interval;
        while self.gil.handoffs() == before
            && self.gil.waiting.load(Ordering::SeqCst) > 0
            && Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        self.reacquire();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use threadkit::threading::Barrier;

    use super::*;
    use crate::bench::workloads::{CHUNK, cpu_expected, cpu_sum};

    /// Hang guard for the meeting points and the start line: they pass at
    /// once when they pass.
    const HANG_GUARD: Duration = Duration::from_secs(30);

    /// Iterations that take about `target` of CPU time on this machine, in
    /// this build. CPU time, not wall time: on a busy machine the wall time
    /// of a loop stretches while its CPU time does not, and a loop calibrated
    /// on a stretched wall time would be too short to be handed over.
    fn calibrate(target: Duration) -> u64 {
        let mut iters = 1_000_000u64;
        loop {
            let start = crate::bench::clock::thread_cpu();
            cpu_sum(iters, &mut NoGil);
            let took = crate::bench::clock::thread_cpu().saturating_sub(start);
            if took >= target / 4 {
                return (iters as f64 * target.as_secs_f64() / took.as_secs_f64()) as u64;
            }
            iters *= 4;
        }
    }

    /// Wraps an interpreter and records when the task was running its loop:
    /// the spans between two eval-loop checks.
    struct Recording<I> {
        inner: I,
        last: Instant,
        spans: Vec<(Instant, Instant)>,
    }

    impl<I: Interpreter> Interpreter for Recording<I> {
        fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
            self.inner.allow_threads(f)
        }
        fn tick(&mut self) {
            self.spans.push((self.last, Instant::now()));
            self.inner.tick();
            self.last = Instant::now();
        }
    }

    fn record<I: Interpreter>(inner: I, iters: u64) -> Vec<(Instant, Instant)> {
        let mut rec = Recording {
            inner,
            last: Instant::now(),
            spans: Vec::new(),
        };
        cpu_sum(iters, &mut rec);
        rec.spans
    }

    /// Runs two CPU tasks on two threads under `gil`; returns the wall time
    /// and how long both were inside their loops at once.
    fn two_tasks(iters: u64, gil: &Arc<Gil>) -> (Duration, Duration) {
        let start = Instant::now();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let gil = Arc::clone(gil);
                std::thread::spawn(move || {
                    let held = gil.enter();
                    // The first task starts its loop only once the second
                    // waits for the GIL, so that both contend for it however
                    // late a busy machine starts the second thread.
                    let deadline = Instant::now() + HANG_GUARD;
                    while gil.waiting.load(Ordering::SeqCst) == 0 && gil.handoffs() == 0 {
                        assert!(Instant::now() < deadline, "hang guard");
                        std::thread::yield_now();
                    }
                    record(held, iters)
                })
            })
            .collect();
        let spans: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wall = start.elapsed();
        let mut overlap = Duration::ZERO;
        for a in &spans[0] {
            for b in &spans[1] {
                let (from, to) = (a.0.max(b.0), a.1.min(b.1));
                overlap += to.saturating_duration_since(from);
            }
        }
        (wall, overlap)
    }

    #[test]
    fn the_gil_serializes_cpu_work_and_hands_over() {
        let iters = calibrate(Duration::from_millis(150));
        // One task's CPU time, not its wall time: other builds share this
        // machine, and a task waiting for a core would make `one` look long.
        let one = (0..3)
            .map(|_| {
                let start = crate::bench::clock::thread_cpu();
                cpu_sum(iters, &mut NoGil);
                crate::bench::clock::thread_cpu().saturating_sub(start)
            })
            .min()
            .unwrap();
        let gil = Arc::new(Gil::new(SWITCH_INTERVAL));
        let (with_gil, overlap) = two_tasks(iters, &gil);
        assert!(
            with_gil.as_secs_f64() > 1.5 * one.as_secs_f64(),
            "two tasks under the GIL took {with_gil:?}, one alone {one:?}"
        );
        // Never both in their loops at once, and the lock changed hands while
        // both ran, not once at the end.
        assert!(overlap < Duration::from_millis(1), "overlap {overlap:?}");
        assert!(gil.handoffs() >= 3, "{} hand-overs", gil.handoffs());
    }

    /// Wraps an interpreter and, halfway through the loop, waits for the
    /// other task to be halfway through its own loop too: a meeting point
    /// only tasks inside their loops at the same time can pass.
    struct Meeting<I> {
        inner: I,
        ticks: u64,
        halfway: u64,
        meet: Arc<Barrier>,
        met: Option<bool>,
    }

    impl<I: Interpreter> Interpreter for Meeting<I> {
        fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
            self.inner.allow_threads(f)
        }
        fn tick(&mut self) {
            self.ticks += 1;
            if self.ticks == self.halfway {
                self.met = Some(self.meet.wait_timeout(HANG_GUARD).is_ok());
            }
            self.inner.tick();
        }
    }

    #[test]
    fn without_the_gil_cpu_tasks_overlap() {
        // Both loops are running at one moment, whatever the machine's load
        // (time-sliced if the cores are busy): each passes a meeting point in
        // the middle of its loop that needs the other there as well.
        let iters = 200 * CHUNK;
        let meet = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let meet = Arc::clone(&meet);
                std::thread::spawn(move || {
                    let mut interp = Meeting {
                        inner: NoGil,
                        ticks: 0,
                        halfway: 100,
                        meet,
                        met: None,
                    };
                    let sum = cpu_sum(iters, &mut interp);
                    (sum, interp.met)
                })
            })
            .collect();
        for h in handles {
            let (sum, met) = h.join().unwrap();
            assert_eq!(sum, cpu_expected(iters));
            assert_eq!(met, Some(true), "the other loop never ran at the same time");
        }
    }

    #[test]
    fn blocking_io_releases_the_gil() {
        // Four threads meet while inside `allow_threads`: only possible if
        // none of them holds the lock there (holding it, the first would wait
        // alone until the hang guard).
        let gil = Arc::new(Gil::new(SWITCH_INTERVAL));
        let meet = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (gil, meet) = (Arc::clone(&gil), Arc::clone(&meet));
                std::thread::spawn(move || {
                    let mut held = gil.enter();
                    held.allow_threads(|| meet.wait_timeout(HANG_GUARD).is_ok())
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap(), "a thread kept the GIL while blocked");
        }
    }
}
