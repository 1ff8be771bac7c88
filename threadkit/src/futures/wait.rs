//! [`wait`] and [`as_completed`]: Python's module-level functions that watch
//! many futures at once, from any executors; [`wait_async`] is `wait` for
//! async code.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::error::TimeoutError;
use super::future::Future;
use super::waiter::{Events, Waiter};
use crate::loom::sync::Arc;
use crate::util::wait::Deadline;

/// When [`wait`] returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future finishes or is cancelled.
    #[doc(alias = "FIRST_COMPLETED")]
    FirstCompleted,
    /// As soon as any future finishes with an error (a panic, a broken
    /// executor); if none does, when all are done. Cancelling is not an error.
    #[doc(alias = "FIRST_EXCEPTION")]
    FirstException,
    /// When every future is done.
    #[doc(alias = "ALL_COMPLETED")]
    #[default]
    AllCompleted,
}

/// What [`wait`] returns: the futures split into done and not done, each in
/// input order (Python's `DoneAndNotDoneFutures` named tuple, with lists
/// instead of sets).
#[doc(alias = "DoneAndNotDoneFutures")]
#[derive(Clone, PartialEq, Eq)]
pub struct DoneAndNotDone<F> {
    /// Futures that finished or were cancelled.
    pub done: Vec<F>,
    /// Futures still pending or running when `wait` returned.
    pub not_done: Vec<F>,
}

impl<F> fmt::Debug for DoneAndNotDone<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoneAndNotDone")
            .field("done", &self.done.len())
            .field("not_done", &self.not_done.len())
            .finish()
    }
}

fn install<T, F: AsRef<Future<T>>>(futures: &[F], waiter: &Arc<Waiter>) {
    for (index, f) in futures.iter().enumerate() {
        if let Some(completion) = f.as_ref().inner().install(waiter, index) {
            waiter.record(index, completion);
        }
    }
}

/// Waits until the futures are done as `return_when` asks, or `timeout`
/// passes (`None`: no limit): Python's `concurrent.futures.wait`.
///
/// Takes futures by reference (`&futures`, `futures.iter()`) or by value and
/// returns them split into [`DoneAndNotDone`]. Futures may come from
/// different executors; a future listed twice appears twice.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::futures::{ReturnWhen, ThreadPoolExecutor, wait};
/// use threadkit::threading::Event;
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// let go = Arc::new(Event::new());
/// let fast = pool.submit(|| 1).unwrap();
/// let slow = {
///     let go = Arc::clone(&go);
///     pool.submit(move || { go.wait(); 2 }).unwrap()
/// };
/// let r = wait([&fast, &slow], None, ReturnWhen::FirstCompleted);
/// assert!(std::ptr::eq(r.done[0], &fast) && std::ptr::eq(r.not_done[0], &slow));
/// go.set();
/// let r = wait([&fast, &slow], None, ReturnWhen::AllCompleted);
/// assert_eq!((r.done.len(), r.not_done.len()), (2, 0));
/// ```
pub fn wait<T, F, I>(
    futures: I,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> DoneAndNotDone<F>
where
    I: IntoIterator<Item = F>,
    F: AsRef<Future<T>>,
{
    let futures: Vec<F> = futures.into_iter().collect();
    let waiter = Arc::new(Waiter::default());
    install(&futures, &waiter);
    waiter.wait_for(
        Deadline::from_timeout(timeout),
        ready_when(return_when, futures.len()),
        |_| (),
    );
    for f in &futures {
        f.as_ref().inner().uninstall(&waiter);
    }
    split(futures, &waiter)
}

/// [`wait`] for async code, with no timeout of its own: the same waiter on
/// the same futures, woken by whichever thread completes them (Python's
/// `await asyncio.wait(fs, return_when=...)` over `asyncio.wrap_future`s).
/// Needs no runtime. To bound it, pass the futures by reference and wrap
/// the call in `asyncio::wait_for` or any timer: dropping
/// it uninstalls its waiter.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{ReturnWhen, ThreadPoolExecutor, wait_async};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::sync::Arc;
/// #     use std::task::{Context, Poll, Wake};
/// #     struct Unpark(std::thread::Thread);
/// #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// #     let waker = Arc::new(Unpark(std::thread::current())).into();
/// #     let mut cx = Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
/// #         std::thread::park();
/// #     }
/// # }
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// let futures: Vec<_> = (0..3).map(|n| pool.submit(move || n).unwrap()).collect();
/// let r = block_on(wait_async(&futures, ReturnWhen::AllCompleted));
/// assert_eq!((r.done.len(), r.not_done.len()), (3, 0));
/// ```
pub async fn wait_async<T, F, I>(futures: I, return_when: ReturnWhen) -> DoneAndNotDone<F>
where
    I: IntoIterator<Item = F>,
    F: AsRef<Future<T>>,
{
    let futures: Vec<F> = futures.into_iter().collect();
    let waiter = Arc::new(Waiter::default());
    install(&futures, &waiter);
    {
        let _installed = Installed {
            futures: &futures,
            waiter: &waiter,
            _value: PhantomData,
        };
        waiter.until(ready_when(return_when, futures.len())).await;
    }
    split(futures, &waiter)
}

/// When a [`wait`] over `n` futures may return.
fn ready_when(return_when: ReturnWhen, n: usize) -> impl FnMut(&mut Events) -> bool {
    move |ev| match return_when {
        ReturnWhen::FirstCompleted => ev.total > 0 || n == 0,
        ReturnWhen::FirstException => ev.any_error || ev.total == n,
        ReturnWhen::AllCompleted => ev.total == n,
    }
}

/// Uninstalls a waiter from its futures when dropped: when `wait_async`
/// returns, or when it is cancelled.
struct Installed<'a, T, F: AsRef<Future<T>>> {
    futures: &'a [F],
    waiter: &'a Arc<Waiter>,
    _value: PhantomData<fn() -> T>,
}

impl<T, F: AsRef<Future<T>>> Drop for Installed<'_, T, F> {
    fn drop(&mut self) {
        for f in self.futures {
            f.as_ref().inner().uninstall(self.waiter);
        }
    }
}

/// Splits the futures of a finished wait by the events its waiter got.
fn split<T, F: AsRef<Future<T>>>(futures: Vec<F>, waiter: &Waiter) -> DoneAndNotDone<F> {
    let mut is_done = vec![false; futures.len()];
    waiter.wait_for(
        Deadline::Now,
        |_| true,
        |ev| {
            for &(index, _) in &ev.queue {
                is_done[index] = true;
            }
        },
    );
    let mut result = DoneAndNotDone {
        done: Vec::new(),
        not_done: Vec::new(),
    };
    for (f, done) in futures.into_iter().zip(is_done) {
        if done {
            result.done.push(f);
        } else {
            result.not_done.push(f);
        }
    }
    result
}

/// Yields futures as they complete: Python's `concurrent.futures.as_completed`.
///
/// Futures already done come first, then the others in the order they
/// finish or are cancelled. A future listed twice is yielded once. If
/// `timeout` (counted from this call) passes first, the iterator yields one
/// `Err(`[`TimeoutError`]`)` and ends (its only error, so the items are
/// `Result<F, TimeoutError>`, and `?` turns it into a
/// [`FutureError`](super::FutureError)); [`AsCompleted::into_pending`] gives
/// back the futures not yet yielded.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{ThreadPoolExecutor, as_completed};
///
/// let pool = ThreadPoolExecutor::new(4).unwrap();
/// let futures: Vec<_> = (1..=4u64).map(|n| pool.submit(move || n * n).unwrap()).collect();
/// let mut total = 0;
/// for f in as_completed(futures, None) {
///     total += f.unwrap().into_result().unwrap();
/// }
/// assert_eq!(total, 30);
/// ```
pub fn as_completed<T, F, I>(futures: I, timeout: Option<Duration>) -> AsCompleted<T, F>
where
    I: IntoIterator<Item = F>,
    F: AsRef<Future<T>>,
{
    let deadline = Deadline::from_timeout(timeout);
    let mut seen = HashSet::new();
    let futures: Vec<F> = futures
        .into_iter()
        .filter(|f| seen.insert(std::sync::Arc::as_ptr(f.as_ref().inner()).cast::<()>() as usize))
        .collect();
    let waiter = Arc::new(Waiter::default());
    install(&futures, &waiter);
    AsCompleted {
        pending: futures.len(),
        slots: futures.into_iter().map(Some).collect(),
        waiter,
        deadline,
        timed_out: false,
        _value: PhantomData,
    }
}

/// The iterator returned by [`as_completed`].
pub struct AsCompleted<T, F: AsRef<Future<T>>> {
    slots: Vec<Option<F>>,
    pending: usize,
    waiter: Arc<Waiter>,
    deadline: Deadline,
    timed_out: bool,
    _value: PhantomData<fn() -> T>,
}

impl<T, F: AsRef<Future<T>>> AsCompleted<T, F> {
    /// The futures not yielded yet, in input order.
    pub fn into_pending(mut self) -> Vec<F> {
        self.uninstall();
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect()
    }

    fn uninstall(&mut self) {
        for f in self.slots.iter().flatten() {
            f.as_ref().inner().uninstall(&self.waiter);
        }
    }
}

impl<T, F: AsRef<Future<T>>> Iterator for AsCompleted<T, F> {
    type Item = Result<F, TimeoutError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pending == 0 || self.timed_out {
            return None;
        }
        let (_, event) = self.waiter.wait_for(
            self.deadline,
            |ev| !ev.queue.is_empty(),
            |ev| ev.queue.pop_front(),
        );
        match event.and_then(|(index, _)| self.slots[index].take()) {
            Some(f) => {
                self.pending -= 1;
                Some(Ok(f))
            }
            None => {
                self.timed_out = true;
                Some(Err(TimeoutError))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.timed_out {
            (0, Some(0))
        } else {
            (self.pending.min(1), Some(self.pending + 1))
        }
    }
}

impl<T, F: AsRef<Future<T>>> Drop for AsCompleted<T, F> {
    fn drop(&mut self) {
        self.uninstall();
    }
}

impl<T, F: AsRef<Future<T>>> fmt::Debug for AsCompleted<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pending", &self.pending)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}
