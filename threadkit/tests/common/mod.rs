//! Scaffolding shared by the integration tests (`mod common;` in each):
//! CPython's `Bunch` of threads, its `sleeping_retry` and `assertTimeout`,
//! a minimal `block_on` for driving the async faces from a thread, and
//! every kind of served wait as one table ([`waits`]).
//!
//! Each test crate uses only some of these helpers.
#![allow(dead_code)]

pub(crate) mod waits;

use std::future::Future;
use std::panic;
use std::pin::pin;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// Hang guard: no condition in these tests should take anywhere near this long.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(20);

/// Runs `f` on a fresh thread (a green test's carrier) and returns what it
/// returns, passing on its panic. If it does not finish in 60 s (10x and
/// more above what any test here needs), fails with a thread dump: what
/// the carrier and its green threads wait for, so that a hang seen once
/// explains itself.
pub(crate) fn guarded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let carrier = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic::resume_unwind(carrier.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!(
            "hang guard: a wait blocked its carrier\n{}",
            threadkit::debug::dump_threads()
        ),
    }
}

/// `n` threads running `f(i)`; joined (and their panics resumed) by [`join`].
pub(crate) fn bunch<F>(n: usize, f: F) -> Vec<JoinHandle<()>>
where
    F: Fn(usize) + Send + Sync + 'static,
{
    let f = Arc::new(f);
    (0..n)
        .map(|i| {
            let f = Arc::clone(&f);
            thread::spawn(move || f(i))
        })
        .collect()
}

/// Joins every thread of a [`bunch`], resuming the first panic.
pub(crate) fn join(handles: Vec<JoinHandle<()>>) {
    for h in handles {
        if let Err(p) = h.join() {
            panic::resume_unwind(p);
        }
    }
}

/// CPython's `wait_threads_blocked(n)`: give `n` threads time to block.
pub(crate) fn let_threads_block(n: usize) {
    thread::sleep(Duration::from_millis(10 * n as u64 + 20));
}

/// The calling thread's kernel id, for [`wait_asleep`].
#[cfg(target_os = "linux")]
pub(crate) fn thread_id() -> i64 {
    // SAFETY: gettid has no preconditions.
    i64::from(unsafe { libc::gettid() })
}

/// The calling thread's kernel id, for [`wait_asleep`] (none off Linux).
#[cfg(not(target_os = "linux"))]
pub(crate) fn thread_id() -> i64 {
    0
}

/// Where a wake-up must reach threads already waiting (a `set()` undone at
/// once by `clear()`), "given time to block" is not enough: a thread late to
/// its wait on a busy machine would miss the wake-up. Waits until each thread
/// in `ids` (see [`thread_id`]) is asleep in the kernel, which past the point
/// where it records its id is only in the wait (on Linux; elsewhere, only
/// [`let_threads_block`]). The short sleep after it lets a waiter that was
/// asleep on the event's own lock, not yet in the wait, get there.
pub(crate) fn wait_asleep(ids: &StdMutex<Vec<i64>>, n: usize) {
    wait_for("waiters started", || ids.lock().unwrap().len() == n);
    #[cfg(target_os = "linux")]
    for id in ids.lock().unwrap().iter() {
        wait_for("waiter asleep", || {
            std::fs::read_to_string(format!("/proc/self/task/{id}/stat"))
                .is_ok_and(|stat| stat[stat.rfind(')').unwrap() + 2..].starts_with('S'))
        });
    }
    let_threads_block(2);
}

/// CPython's `sleeping_retry` loop: poll `cond` until it holds.
pub(crate) fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG_GUARD, "hang guard: {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// CPython's `assertTimeout` lower bound: the wait lasted most of `expected`.
pub(crate) fn assert_waited(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected.mul_f64(0.6),
        "returned after {actual:?}, expected about {expected:?}"
    );
    assert!(actual < HANG_GUARD, "waited {actual:?}");
}

/// A shared counter.
pub(crate) fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// Wakes a parked thread: the waker of [`block_on`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the calling thread, parking between
/// polls: the smallest executor, enough for the runtime-free async faces
/// of `threading`'s primitives (`acquire_async`, `wait_async`).
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Polls a future once with a waker that does nothing, then drops it: a
/// task cancelled right after it started waiting. Returns whether it had
/// finished.
pub(crate) fn poll_once_and_cancel<F: Future>(future: F) -> bool {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    future.as_mut().poll(&mut cx).is_ready()
}
