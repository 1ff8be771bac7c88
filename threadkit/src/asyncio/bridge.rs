//! Bridges between threads and tasks: await a [`queue::Queue`](crate::queue::Queue),
//! a [`threading::Event`](crate::threading::Event) or a pool's
//! [`Future`](crate::futures::Future) from async code while threads use them.
//!
//! The thread-side types know nothing about tasks, so the bridges poll: they
//! try the operation, and if it cannot proceed, sleep on the loop's timer for
//! a moment that grows from 1 ms to 10 ms and try again. No thread is
//! blocked and cancellation is clean; the cost is up to 10 ms of latency.
//! For traffic between tasks, use the asyncio types themselves.

use std::time::Duration;

use crate::futures::{Future as PoolFuture, FutureError};
use crate::queue::{Queue as ThreadQueue, ShutDown, TryGetError, TryPutError};
use crate::threading::Event as ThreadEvent;

/// Backoff between polls: 1 ms doubling up to 10 ms.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(Duration::from_millis(1))
    }

    async fn snooze(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_millis(10));
    }
}

/// Takes the next item of a thread-side [`queue::Queue`](crate::queue::Queue)
/// from async code, waiting while it is empty, without blocking the loop.
///
/// # Errors
///
/// [`ShutDown`] once the queue is shut down and empty.
///
/// # Cancel safety
///
/// Cancel safe: an item is only taken in the poll that returns it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, bridge};
/// use threadkit::queue::Queue;
///
/// let q = Arc::new(Queue::new(0));
/// let producer = {
///     let q = Arc::clone(&q);
///     std::thread::spawn(move || (0..5).for_each(|n| q.put(n).unwrap()))
/// };
/// let sum = asyncio::run(async {
///     let mut sum = 0;
///     for _ in 0..5 {
///         sum += bridge::queue_get(&q).await.unwrap();
///     }
///     sum
/// });
/// producer.join().unwrap();
/// assert_eq!(sum.unwrap(), 10);
/// ```
pub async fn queue_get<T>(queue: &ThreadQueue<T>) -> Result<T, ShutDown> {
    let mut backoff = Backoff::new();
    loop {
        match queue.try_get() {
            Ok(item) => return Ok(item),
            Err(TryGetError::ShutDown) => return Err(ShutDown(())),
            Err(TryGetError::Empty) => backoff.snooze().await,
        }
    }
}

/// Puts `item` into a thread-side [`queue::Queue`](crate::queue::Queue) from
/// async code, waiting while it is full, without blocking the loop.
///
/// # Errors
///
/// [`ShutDown`] with the item if the queue is, or gets, shut down.
///
/// # Cancel safety
///
/// Cancel safe in that the item is only put in the poll that returns; if
/// cancelled, the item is dropped with the future.
pub async fn queue_put<T>(queue: &ThreadQueue<T>, mut item: T) -> Result<(), ShutDown<T>> {
    let mut backoff = Backoff::new();
    loop {
        match queue.try_put(item) {
            Ok(()) => return Ok(()),
            Err(TryPutError::ShutDown(back)) => return Err(ShutDown(back)),
            Err(TryPutError::Full(back)) => item = back,
        }
        backoff.snooze().await;
    }
}

/// Waits from async code until a thread-side
/// [`threading::Event`](crate::threading::Event) is set; like its `wait`, it
/// returns even if the flag was cleared again before this task looked.
///
/// # Cancel safety
///
/// Cancel safe.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, bridge};
/// use threadkit::threading::Event;
///
/// let event = Arc::new(Event::new());
/// let setter = {
///     let event = Arc::clone(&event);
///     std::thread::spawn(move || event.set())
/// };
/// asyncio::run(bridge::event_wait(&event)).unwrap();
/// setter.join().unwrap();
/// ```
pub async fn event_wait(event: &ThreadEvent) {
    let sets = event.sets();
    let mut backoff = Backoff::new();
    while !event.is_set() && event.sets() == sets {
        backoff.snooze().await;
    }
}

/// Awaits a pool's [`Future`](crate::futures::Future): Python's
/// `await asyncio.wrap_future(fut)`. A threadkit future already is a
/// [`std::future::Future`] woken by the completing worker, so this is
/// `future.await`, spelled the Python way; it works for a thread pool's
/// futures and a process pool's alike.
///
/// # Errors
///
/// The pool's [`FutureError`].
///
/// # Cancel safety
///
/// Cancel safe: dropping it drops the future (which does not cancel the pool's task).
pub async fn wrap_future<T>(future: PoolFuture<T>) -> Result<T, FutureError> {
    future.await
}
