//! [`Map`]: the iterator of every thread pool's `map`, results in input
//! order, submitted a bounded window ahead of the consumer, in chunks.
//!
//! ```
//! use threadkit::futures::{MapOptions, ThreadPoolExecutor};
//!
//! let pool = ThreadPoolExecutor::new(2).unwrap();
//! // 100 items in chunks of 10: ten tasks, results still one per item.
//! let mut results = pool.map_with(|n: i32| 100 / (10 - n % 20), 0..100, MapOptions::default().chunksize(10)).unwrap();
//! assert_eq!(results.next(), Some(Ok(10)));
//! // Item 10 divides by zero: its panic is its result, the others go on.
//! assert!(results.nth(9).unwrap().is_err());
//! assert_eq!(results.next(), Some(Ok(-100)));
//! ```
//!
//! # Chunks
//!
//! A chunk is one work item running `f` over several items in a row, so a
//! map over many tiny items pays for one future, one queue transfer and one
//! wake-up per chunk instead of per item. A panic in `f` is caught at its
//! item (the chunk goes on with the next item), so results and errors stay
//! per item. A chunk of one item is an ordinary task: `f(item)` in its own
//! future, as Python's thread pool runs it.
//!
//! # The window
//!
//! `map` submits chunks until [`window`] chunks are in flight, and tops the
//! window up each time the consumer moves on to the next chunk; the input
//! iterator is advanced only as chunks are submitted. So a map over ten
//! million items holds a bounded number of items, futures and results at
//! any time, and a map over a few items (up to the window) is submitted in
//! full before `map` returns, as in Python.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, align_of, size_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::error::{FutureError, SubmitError};
use super::future::Future;
use super::work::WorkItem;
use crate::util::Deadline;

/// The largest chunk automatic chunking makes: large enough that a map over
/// trivial items pays for few chunks (each costs a future, a queue transfer
/// and often a wake-up of the consumer: 4096 was about 10% faster than 1024
/// on `benches/executor.rs`'s 100k-item map), small enough that the window
/// stays bounded (32 chunks of 4096 items for a small pool).
const MAX_AUTO_CHUNK: usize = 4096;

/// Automatic chunking aims at this many chunks per worker, so that one slow
/// chunk does not leave the other workers idle at the end of a map.
const CHUNKS_PER_WORKER: usize = 4;

/// How many chunks `map` keeps submitted ahead of the consumer for a pool of
/// `workers`: enough to keep every worker busy while the consumer waits for
/// the oldest chunk, and at least 32, so that small maps are submitted in
/// full up front (Python's `map` submits everything before yielding).
pub(crate) fn window(workers: usize) -> usize {
    workers.saturating_mul(4).max(32)
}

/// How `map` cuts its input.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ChunkSize {
    /// `len / (4 * workers)` items per chunk, 1 to [`MAX_AUTO_CHUNK`]; when the
    /// input does not know its length, as if what was submitted so far were
    /// what is left (chunks grow as the input turns out long).
    Auto,
    /// Exactly this many items per chunk (the last one may have fewer).
    Fixed(usize),
}

/// Picks each chunk's size.
struct Sizer {
    size: ChunkSize,
    /// The input's length, or the best guess its `size_hint` gives.
    total: Option<usize>,
    workers: usize,
    submitted: usize,
}

impl Sizer {
    fn next(&mut self) -> usize {
        let n = match self.size {
            ChunkSize::Fixed(n) => n,
            ChunkSize::Auto => {
                let basis = self.total.unwrap_or(self.submitted);
                (basis / self.workers.saturating_mul(CHUNKS_PER_WORKER).max(1))
                    .clamp(1, MAX_AUTO_CHUNK)
            }
        };
        self.submitted += n;
        n
    }
}

/// What a chunk of several items produces: the values of the items that
/// returned, and the errors of those that panicked, by position.
pub(super) struct ChunkOut<T> {
    pub(super) values: Vec<T>,
    pub(super) errors: Vec<(usize, FutureError)>,
}

/// Runs `f` over `items` on a worker. One `catch_unwind` covers the whole
/// run until an item panics; the panic is recorded at that item and the run
/// resumes with the next, so the no-panic path costs nothing per item.
///
/// When a result has the layout of an item (`u64` → `u64`, `String` →
/// `String`), the results are written over the items already consumed, in
/// the chunk's own buffer: a map over 100k trivial items then runs about
/// 1.7 times faster, since half the allocations (and the page faults of
/// fresh memory) go away.
pub(super) fn run_chunk<A, T>(
    f: &impl Fn(A) -> T,
    items: Vec<A>,
    stop: &AtomicBool,
) -> ChunkOut<T> {
    if InPlace::<A, T>::FITS {
        return InPlace::new(items).run(f, stop);
    }
    let mut out = ChunkOut {
        values: Vec::with_capacity(items.len()),
        errors: Vec::new(),
    };
    let mut items = items.into_iter();
    loop {
        let run = crate::util::unwind::run_captured(|| {
            for item in items.by_ref() {
                // The map was dropped or timed out: nobody will look.
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                out.values.push(f(item));
            }
        });
        match run {
            Ok(()) => return out,
            Err(report) => {
                let at = out.values.len() + out.errors.len();
                out.errors.push((at, FutureError::Panicked(report.into())));
            }
        }
    }
}

/// A chunk's buffer, turning from items (`A`) into results (`T`) in place:
/// the items not yet taken are at `taken..len`, the results at
/// `0..written`. A result is written at `written`, which is always below
/// `taken` (an item is taken before its result is written, and a panicking
/// item writes none), so it never lands on an item not yet taken.
struct InPlace<A, T> {
    buf: *mut A,
    cap: usize,
    len: usize,
    taken: usize,
    written: usize,
    types: PhantomData<(A, T)>,
}

impl<A, T> InPlace<A, T> {
    /// Whether a buffer of `A`s can hold the `T`s: same size and alignment,
    /// so the allocation is valid for both (and not zero-sized, whose
    /// buffers are no allocation at all).
    const FITS: bool = size_of::<A>() == size_of::<T>()
        && align_of::<A>() == align_of::<T>()
        && size_of::<A>() != 0;

    fn new(items: Vec<A>) -> Self {
        debug_assert!(Self::FITS);
        let mut items = ManuallyDrop::new(items);
        InPlace {
            buf: items.as_mut_ptr(),
            cap: items.capacity(),
            len: items.len(),
            taken: 0,
            written: 0,
            types: PhantomData,
        }
    }

    /// [`run_chunk`] over the buffer.
    fn run(mut self, f: &impl Fn(A) -> T, stop: &AtomicBool) -> ChunkOut<T> {
        let mut errors = Vec::new();
        loop {
            let run = crate::util::unwind::run_captured(|| {
                while self.taken < self.len {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    // SAFETY: `taken < len`: the slot holds an item not yet
                    // taken; counting it taken first means a panic in `f`
                    // (which now owns it) leaves the slot unowned.
                    let item = unsafe { self.buf.add(self.taken).read() };
                    self.taken += 1;
                    let result = f(item);
                    // SAFETY: `written < taken` (see the type's docs), so
                    // the slot's item was taken: it is free, inside the
                    // allocation, and aligned for `T` (`FITS`).
                    unsafe { self.buf.cast::<T>().add(self.written).write(result) };
                    self.written += 1;
                }
            });
            match run {
                Ok(()) => break,
                Err(report) => {
                    let at = self.written + errors.len();
                    errors.push((at, FutureError::Panicked(report.into())));
                }
            }
        }
        ChunkOut {
            values: self.into_results(),
            errors,
        }
    }

    /// Drops the items not taken (a stopped run) and hands over the buffer
    /// as the results.
    fn into_results(self) -> Vec<T> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `taken..len` are items nobody took; dropped once here,
        // and `this` is never dropped, so they are not dropped again.
        unsafe {
            std::ptr::slice_from_raw_parts_mut(this.buf.add(this.taken), this.len - this.taken)
                .drop_in_place();
        }
        // SAFETY: the buffer came from a `Vec<A>` of capacity `cap`, which
        // is the same allocation for `T` (`FITS`), and `0..written` hold
        // results.
        unsafe { Vec::from_raw_parts(this.buf.cast::<T>(), this.written, this.cap) }
    }
}

impl<A, T> Drop for InPlace<A, T> {
    /// Only reached if a run unwinds out of [`InPlace::run`] itself (never
    /// by `f`, whose panics are caught): frees what the buffer holds.
    fn drop(&mut self) {
        let this = InPlace {
            types: PhantomData,
            ..*self
        };
        drop(this.into_results());
    }
}

/// A submitted chunk, not yet consumed.
enum Pending<T> {
    /// One item, run as an ordinary task.
    One(Future<T>),
    /// Several items, and how many.
    Many(Future<ChunkOut<T>>, usize),
}

impl<T> Pending<T> {
    fn items(&self) -> usize {
        match self {
            Pending::One(_) => 1,
            Pending::Many(_, n) => *n,
        }
    }

    /// Spins, then yields, for a few microseconds while the chunk is not
    /// done: a chunk is usually about to finish when the consumer reaches
    /// it, and blocking would cost a kernel wake-up per chunk (tens of
    /// microseconds on a busy machine, more than a chunk of trivial items).
    fn wait_briefly(&self) {
        let backoff = crossbeam_utils::Backoff::new();
        while !backoff.is_completed() {
            let done = match self {
                Pending::One(f) => f.done(),
                Pending::Many(f, _) => f.done(),
            };
            if done {
                return;
            }
            backoff.snooze();
        }
    }

    fn cancel(self) {
        match self {
            Pending::One(f) => f.cancel(),
            Pending::Many(f, _) => f.cancel(),
        };
    }
}

/// The results of the chunk being yielded.
struct Ready<T> {
    values: std::vec::IntoIter<T>,
    /// Position of the next result in the chunk.
    at: usize,
    /// Where the next error goes (`usize::MAX`: no more errors), so that
    /// yielding a value costs one comparison more than the vector's own
    /// iterator.
    next_error_at: usize,
    /// The errors by position, in reverse order (the next one last).
    errors: Vec<(usize, FutureError)>,
}

impl<T> Ready<T> {
    fn empty() -> Self {
        Ready::chunk(ChunkOut {
            values: Vec::new(),
            errors: Vec::new(),
        })
    }

    fn chunk(out: ChunkOut<T>) -> Self {
        let mut errors = out.errors;
        errors.reverse();
        Ready {
            values: out.values.into_iter(),
            at: 0,
            next_error_at: errors.last().map_or(usize::MAX, |(at, _)| *at),
            errors,
        }
    }

    /// A chunk that failed as a whole (its pool broke, or its task was
    /// cancelled): the error, once for each of its items.
    fn failed(error: FutureError, items: usize) -> Self {
        Ready::chunk(ChunkOut {
            values: Vec::new(),
            errors: (0..items).map(|at| (at, error.clone())).collect(),
        })
    }

    fn len(&self) -> usize {
        self.values.len() + self.errors.len()
    }

    #[inline]
    fn next(&mut self) -> Option<Result<T, FutureError>> {
        if self.at != self.next_error_at {
            let value = self.values.next()?;
            self.at += 1;
            return Some(Ok(value));
        }
        self.next_error()
    }

    #[cold]
    fn next_error(&mut self) -> Option<Result<T, FutureError>> {
        let (_, error) = self.errors.pop()?;
        self.next_error_at = self.errors.last().map_or(usize::MAX, |(at, _)| *at);
        self.at += 1;
        Some(Err(error))
    }
}

/// Submits the next chunk; `None` once the input is exhausted.
type Feed<'a, T> = Box<dyn FnMut() -> Option<Result<Pending<T>, FutureError>> + Send + 'a>;

/// The iterator returned by an executor's `map`: `f`'s results in input
/// order, as `Ok(value)` or the item's error.
///
/// `'a` is how long it may borrow the input iterator (and, for
/// [`Executor::map`](super::Executor::map) and [`Scope::map`](super::Scope::map),
/// the executor it submits to). See
/// [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map) for chunking,
/// the submission window, timeouts and cancellation.
pub struct Map<'a, T> {
    current: Ready<T>,
    /// Submitted chunks in input order.
    pending: VecDeque<Pending<T>>,
    /// The rest of the input; `None` once exhausted, failed or stopped. A
    /// std mutex only to make `Map` `Sync`: it is reached through
    /// `&mut self` alone (`get_mut`), so it is never locked.
    feed: Option<std::sync::Mutex<Feed<'a, T>>>,
    /// Chunks kept in flight.
    window: usize,
    deadline: Deadline,
    /// Tells running chunks to stop early once nobody will look.
    stop: Arc<AtomicBool>,
    /// Why the input could not be submitted further (the pool shut down or
    /// broke meanwhile): yielded once, after the chunks submitted before.
    failed: Option<FutureError>,
}

/// What a `map` call needs to know of its executor.
pub(crate) struct MapConfig {
    pub(crate) workers: usize,
    pub(crate) chunksize: ChunkSize,
    pub(crate) deadline: Deadline,
}

impl<'a, T> Map<'a, T> {
    /// A map over futures submitted already, in order (the process pool's
    /// chunks): no feeding, no chunking.
    #[cfg_attr(
        not(all(feature = "process", target_os = "linux", not(loom))),
        allow(dead_code)
    )]
    pub(crate) fn new(futures: VecDeque<Future<T>>, deadline: Deadline) -> Map<'static, T> {
        Map {
            current: Ready::empty(),
            pending: futures.into_iter().map(Pending::One).collect(),
            feed: None,
            window: 0,
            deadline,
            stop: Arc::new(AtomicBool::new(false)),
            failed: None,
        }
    }

    /// Starts a map of `f` over `items`, each chunk handed to `submit`
    /// (`'w` is how long the tasks may borrow). Submits the first window.
    ///
    /// # Errors
    ///
    /// What `submit` returns for the first chunks; those submitted before
    /// are cancelled.
    pub(crate) fn start<'w, A, F, It, S>(
        submit: S,
        f: F,
        items: It,
        config: MapConfig,
    ) -> Result<Map<'a, T>, FutureError>
    where
        'w: 'a,
        S: Fn(WorkItem<'w>) -> Result<(), SubmitError> + Send + 'a,
        F: Fn(A) -> T + Send + Sync + 'w,
        It: Iterator<Item = A> + Send + 'a,
        A: Send + 'w,
        T: Send + 'w,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let total = match items.size_hint() {
            (_, Some(upper)) => Some(upper),
            (0, None) => None,
            (lower, None) => Some(lower),
        };
        let mut sizer = Sizer {
            size: config.chunksize,
            total,
            workers: config.workers,
            submitted: 0,
        };
        let f = Arc::new(f);
        let mut items = items;
        let chunk_stop = Arc::clone(&stop);
        let feed = move || {
            let size = sizer.next();
            if size == 1 {
                let item = items.next()?;
                let f = Arc::clone(&f);
                let (work, future) = WorkItem::new(move || f(item));
                return Some(
                    submit(work)
                        .map(|()| Pending::One(future))
                        .map_err(FutureError::from),
                );
            }
            let chunk: Vec<A> = items.by_ref().take(size).collect();
            if chunk.is_empty() {
                return None;
            }
            let n = chunk.len();
            let (f, stop) = (Arc::clone(&f), Arc::clone(&chunk_stop));
            let (work, future) = WorkItem::new(move || run_chunk(&*f, chunk, &stop));
            Some(
                submit(work)
                    .map(|()| Pending::Many(future, n))
                    .map_err(FutureError::from),
            )
        };
        let mut map = Map {
            current: Ready::empty(),
            pending: VecDeque::new(),
            feed: Some(std::sync::Mutex::new(Box::new(feed))),
            window: window(config.workers),
            deadline: config.deadline,
            stop,
            failed: None,
        };
        map.refill();
        match map.failed.take() {
            Some(error) => Err(error),
            None => Ok(map),
        }
    }

    /// A map that yields `error` once and ends (a scoped pool that broke).
    pub(crate) fn failed(error: FutureError) -> Self {
        Map {
            current: Ready::empty(),
            pending: VecDeque::new(),
            feed: None,
            window: 0,
            deadline: Deadline::Never,
            stop: Arc::new(AtomicBool::new(false)),
            failed: Some(error),
        }
    }

    /// Submits chunks until the window is full or the input ends.
    fn refill(&mut self) {
        let Some(feed) = &mut self.feed else { return };
        let feed = feed.get_mut().unwrap_or_else(|e| e.into_inner());
        while self.pending.len() < self.window {
            match feed() {
                Some(Ok(chunk)) => self.pending.push_back(chunk),
                Some(Err(error)) => {
                    self.failed = Some(error);
                    self.feed = None;
                    return;
                }
                None => {
                    self.feed = None;
                    return;
                }
            }
        }
    }

    /// Cancels every chunk not started, stops those running and drops the
    /// rest of the input.
    fn cancel_rest(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.feed = None;
        self.failed = None;
        for chunk in self.pending.drain(..) {
            chunk.cancel();
        }
    }

    /// Moves on to the next chunk: waits for it and yields its first result.
    fn next_chunk(&mut self) -> Option<Result<T, FutureError>> {
        loop {
            if let Some(result) = self.current.next() {
                return Some(result);
            }
            let Some(chunk) = self.pending.pop_front() else {
                return self.failed.take().map(Err);
            };
            // Keep the workers busy while this thread waits.
            self.refill();
            chunk.wait_briefly();
            let timed_out = match chunk {
                Pending::One(future) => match future.into_result_until(self.deadline) {
                    Ok(outcome) => return Some(outcome),
                    Err(unfinished) => Pending::One(unfinished),
                },
                Pending::Many(future, n) => match future.into_result_until(self.deadline) {
                    Ok(Ok(out)) => {
                        self.current = Ready::chunk(out);
                        continue;
                    }
                    Ok(Err(error)) => {
                        self.current = Ready::failed(error, n);
                        continue;
                    }
                    Err(unfinished) => Pending::Many(unfinished, n),
                },
            };
            // Python's `_result_or_cancel`: the chunk waited for is
            // cancelled too, if it has not started.
            timed_out.cancel();
            self.cancel_rest();
            return Some(Err(FutureError::Timeout));
        }
    }
}

impl<T> Iterator for Map<'_, T> {
    type Item = Result<T, FutureError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self.current.next() {
            Some(result) => Some(result),
            None => self.next_chunk(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let known = self.current.len()
            + self.pending.iter().map(Pending::items).sum::<usize>()
            + usize::from(self.failed.is_some());
        // A timeout ends the iteration early.
        let lower = if self.deadline == Deadline::Never {
            known
        } else {
            0
        };
        let upper = if self.feed.is_some() {
            None
        } else {
            Some(known)
        };
        (lower, upper)
    }
}

impl<T> Drop for Map<'_, T> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<T> fmt::Debug for Map<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("chunks_in_flight", &self.pending.len())
            .field("input_left", &self.feed.is_some())
            .finish_non_exhaustive()
    }
}
