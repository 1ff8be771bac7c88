//! `block_on` and `blocking`: green code waiting on async code and on
//! code that would block its carrier.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use super::hub::{self, GreenWaker, Parked};
use crate::futures::{FutureError, ThreadPoolBuilder, ThreadPoolExecutor};
use crate::util::Deadline;

/// A task waker that makes a green thread runnable (or wakes its hub's
/// root).
struct GreenWake(GreenWaker);

impl Wake for GreenWake {
    fn wake(self: Arc<Self>) {
        self.0.clone().wake();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.clone().wake();
    }
}

/// A task waker that unparks an OS thread.
struct ThreadWake(std::thread::Thread);

impl Wake for ThreadWake {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a `std` future to completion from blocking code and returns its
/// output.
///
/// In a green thread it parks only the green thread: the other green
/// threads of the carrier run meanwhile, and the future's waker makes the
/// green thread runnable again (from any thread). So green code can wait
/// on every async face: an asyncio task, a threadkit [`Future`]'s `.await`,
/// `Queue::get_async`, a channel from another runtime. In the root of a
/// hub with green threads it runs them while it waits; elsewhere it blocks
/// the OS thread.
///
/// A green thread killed (or timed out by [`with_timeout`](super::with_timeout))
/// while it waits drops the future, which cancels it, and unwinds.
///
/// [`Future`]: crate::futures::Future
///
/// # Examples
///
/// ```
/// use threadkit::green;
/// use threadkit::futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let got = green::run(move || {
///     let f = pool.submit(|| 6 * 7).unwrap();
///     let ticker = green::spawn(|| green::yield_now()); // runs meanwhile
///     let v = green::block_on(async { f.await.unwrap() });
///     ticker.join();
///     v
/// });
/// assert_eq!(got.unwrap(), 42);
/// assert_eq!(green::block_on(async { 5 }), 5); // outside green threads too
/// ```
///
/// # Differences from gevent
///
/// gevent has no `std` futures; this is the bridge its users write with
/// `asyncio` loops in threads. The future is polled on the green thread's
/// stack, so it needs no `Send`.
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    match block_on_until(Deadline::Never, fut) {
        Some(v) => v,
        None => unreachable!("a wait without a deadline cannot time out"),
    }
}

/// Polls `fut` until it is ready, or until `deadline` passes (`None`):
/// parking only the calling green thread (or running the hub from its
/// root), else parking the plain thread. A killed (or timed-out by
/// [`with_timeout`](super::with_timeout)) green thread drops `fut`, which
/// takes back its registration, and unwinds. The one waiting loop of
/// [`block_on`] and of [`net`](super::net)'s socket waits.
pub(super) fn block_on_until<F: std::future::Future>(
    deadline: Deadline,
    fut: F,
) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    match hub::sleeper() {
        Some(sleeper) => {
            let waker = Waker::from(Arc::new(GreenWake(sleeper)));
            let mut cx = Context::from_waker(&waker);
            loop {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return Some(v);
                }
                match hub::park(deadline) {
                    Parked::Killed => super::unwind_killed(),
                    Parked::TimedOut if !matches!(deadline, Deadline::Never) => return None,
                    Parked::TimedOut | Parked::Woken => {}
                }
            }
        }
        None => {
            let waker = Waker::from(Arc::new(ThreadWake(std::thread::current())));
            let mut cx = Context::from_waker(&waker);
            loop {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return Some(v);
                }
                match deadline {
                    Deadline::Never => std::thread::park(),
                    Deadline::Now => return None,
                    Deadline::At(at) => {
                        let now = Instant::now();
                        if now >= at {
                            return None;
                        }
                        std::thread::park_timeout(at - now);
                    }
                }
            }
        }
    }
}

/// Runs `f` on a thread pool shared by the process (made on first use,
/// with Python's default number of workers) and waits for its value,
/// parking only the calling green thread: for code that would block the
/// carrier (std IO, a C call, a `std::sync` lock). gevent's
/// `get_hub().threadpool.apply(f)`.
///
/// # Errors
///
/// [`FutureError::Panicked`] if `f` panicked (with its message);
/// [`FutureError::BrokenExecutor`] if the pool could not be made.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::green;
///
/// let got = green::run(|| {
///     let other = green::spawn(|| 1); // runs while `blocking` waits
///     let v = green::blocking(|| {
///         std::thread::sleep(Duration::from_millis(5)); // would block the carrier
///         41
///     });
///     v.unwrap() + other.get().unwrap()
/// });
/// assert_eq!(got.unwrap(), 42);
/// ```
///
/// # Differences from gevent
///
/// A green thread killed while `f` runs unwinds at once; `f` runs on to
/// its end on the pool (a thread cannot be killed), its value dropped.
#[doc(alias("threadpool", "apply", "spawn_blocking"))]
pub fn blocking<F, T>(f: F) -> Result<T, FutureError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    static POOL: OnceLock<Result<ThreadPoolExecutor, String>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        ThreadPoolBuilder::new()
            .thread_name_prefix("green-blocking")
            .build()
            .map_err(|e| e.to_string())
    });
    match pool {
        Ok(pool) => pool.submit(f)?.into_result(),
        Err(e) => Err(FutureError::BrokenExecutor(e.clone())),
    }
}
