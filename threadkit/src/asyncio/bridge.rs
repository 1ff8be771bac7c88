//! Bridges between threads and tasks: await a [`queue::Queue`](crate::queue::Queue),
//! a [`threading::Event`](crate::threading::Event) or a pool's
//! [`Future`](crate::futures::Future) from async code while threads use them.
//!
//! No thread is blocked: a task that cannot proceed registers its waker with
//! the queue or event, in the same wake-up protocol as the threads that
//! sleep there, and the thread that puts, gets or sets wakes it. Cancelling
//! the `await` (dropping the future) takes the registration back, and hands
//! on a wake-up it had already received. For traffic between tasks, use the
//! asyncio types themselves.

use crate::futures::{Future as PoolFuture, FutureError};
use crate::queue::{Queue as ThreadQueue, ShutDown};
use crate::threading::Event as ThreadEvent;

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
    queue.get_async().await
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
pub async fn queue_put<T>(queue: &ThreadQueue<T>, item: T) -> Result<(), ShutDown<T>> {
    queue.put_async(item).await
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
    event.wait_async().await;
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
