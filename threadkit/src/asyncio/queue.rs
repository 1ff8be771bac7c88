//! [`Queue`]: Python's `asyncio.Queue`, a first-in first-out queue for tasks.

use std::collections::VecDeque;
use std::fmt;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::queue::{ShutDown, TaskDoneError, TryGetError, TryPutError};

struct State<T> {
    items: VecDeque<T>,
    unfinished: usize,
    shutdown: bool,
}

/// A first-in first-out queue for tasks: Python's `asyncio.Queue(maxsize)`.
///
/// One short mutex around the items (never held across an `.await`) and
/// three wake-up lists, the asyncio twin of CPython's `queue.Queue`. The
/// errors are the [`queue`](crate::queue) module's.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Queue};
///
/// let total = asyncio::run(async {
///     let q = Arc::new(Queue::new(2));
///     let worker = {
///         let q = Arc::clone(&q);
///         asyncio::create_task(async move {
///             let mut total = 0;
///             while let Ok(n) = q.get().await {
///                 total += n;
///                 q.task_done().unwrap();
///             }
///             total
///         })
///     };
///     for n in 1..=10 {
///         q.put(n).await.unwrap();
///     }
///     q.join().await;
///     q.shutdown(false);
///     worker.await.unwrap()
/// });
/// assert_eq!(total.unwrap(), 55);
/// ```
///
/// # Cancel safety
///
/// [`get`](Queue::get), [`put`](Queue::put) and [`join`](Queue::join) are
/// cancel safe: an item is only taken or added in the poll that returns it,
/// and a wake-up received by a cancelled waiter passes to the next one.
///
/// # Differences from Python's `asyncio.Queue`
///
/// `put_nowait`/`get_nowait` are [`try_put`](Queue::try_put) and
/// [`try_get`](Queue::try_get), whose errors hand the item back. The queue
/// is `Sync`: threads may use its non-`async` methods too.
pub struct Queue<T> {
    state: Mutex<State<T>>,
    maxsize: usize,
    not_empty: Notify,
    not_full: Notify,
    all_done: Notify,
}

impl<T> Queue<T> {
    /// An empty queue holding at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                unfinished: 0,
                shutdown: false,
            }),
            maxsize,
            not_empty: Notify::new(),
            not_full: Notify::new(),
            all_done: Notify::new(),
        }
    }

    /// Puts `item` if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`TryPutError::Full`] or [`TryPutError::ShutDown`], with the item.
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut st = self.state.lock();
        if st.shutdown {
            return Err(TryPutError::ShutDown(item));
        }
        if self.maxsize > 0 && st.items.len() >= self.maxsize {
            return Err(TryPutError::Full(item));
        }
        st.items.push_back(item);
        st.unfinished += 1;
        drop(st);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Puts `item`, waiting while the queue is full (Python's `await q.put(item)`).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] with the item if the queue is, or gets, shut down.
    pub async fn put(&self, mut item: T) -> Result<(), ShutDown<T>> {
        loop {
            let notified = self.not_full.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            match self.try_put(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::ShutDown(back)) => return Err(ShutDown(back)),
                Err(TryPutError::Full(back)) => item = back,
            }
            notified.await;
        }
    }

    /// Takes the next item if there is one now (Python's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`], or [`TryGetError::ShutDown`] once shut down
    /// and empty.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, TryGetError> {
        let mut st = self.state.lock();
        match st.items.pop_front() {
            Some(item) => {
                drop(st);
                self.not_full.notify_one();
                Ok(item)
            }
            None if st.shutdown => Err(TryGetError::ShutDown),
            None => Err(TryGetError::Empty),
        }
    }

    /// Takes the next item, waiting while the queue is empty (Python's
    /// `await q.get()`).
    ///
    /// # Errors
    ///
    /// [`ShutDown`] once the queue is shut down and empty.
    pub async fn get(&self) -> Result<T, ShutDown> {
        loop {
            let notified = self.not_empty.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            match self.try_get() {
                Ok(item) => return Ok(item),
                Err(TryGetError::ShutDown) => return Err(ShutDown(())),
                Err(TryGetError::Empty) => notified.await,
            }
        }
    }

    /// Marks one item taken by a `get` as processed (Python's `task_done()`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            return Err(TaskDoneError);
        }
        st.unfinished -= 1;
        if st.unfinished == 0 {
            self.all_done.notify_waiters();
        }
        Ok(())
    }

    /// Waits until every item put was marked done (Python's `await q.join()`).
    pub async fn join(&self) {
        loop {
            let notified = self.all_done.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.state.lock().unfinished == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Shuts the queue down (Python 3.13's `shutdown(immediate)`): puts fail,
    /// gets drain what is left and then fail, and every waiting task wakes.
    /// With `immediate`, the items left are dropped and marked done.
    pub fn shutdown(&self, immediate: bool) {
        let dropped = {
            let mut st = self.state.lock();
            st.shutdown = true;
            if immediate {
                let items = std::mem::take(&mut st.items);
                st.unfinished = st.unfinished.saturating_sub(items.len());
                items
            } else {
                VecDeque::new()
            }
        };
        drop(dropped);
        self.not_empty.notify_waiters();
        self.not_full.notify_waiters();
        if self.state.lock().unfinished == 0 {
            self.all_done.notify_waiters();
        }
    }

    /// Whether [`shutdown`](Queue::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.state.lock().shutdown
    }

    /// The number of items now (Python's `qsize()`).
    pub fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Whether the queue is empty now (Python's `empty()`).
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue is bounded and full now (Python's `full()`).
    pub fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// The bound; `0` means unbounded (Python's `maxsize`).
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &st.items.len())
            .field("unfinished", &st.unfinished)
            .field("shutdown", &st.shutdown)
            .finish()
    }
}
