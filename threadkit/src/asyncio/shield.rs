//! [`shield`]: Python's `asyncio.shield(aw)`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

use super::error::TaskError;

/// Runs `future` as a task of its own that cancelling the caller does not
/// cancel: Python's `asyncio.shield(aw)`.
///
/// Awaiting the returned [`Shield`] gives the future's output. If the
/// awaiting code is cancelled (its task cancelled, a
/// [`wait_for`](super::wait_for) or [`timeout`](super::timeout) around it
/// expires, or the `Shield` is dropped), the shielded future keeps running
/// to its end; only the wait for it stops.
///
/// # Cancel safety
///
/// Cancel safe by design: that is its purpose.
///
/// # Differences from Python's `asyncio.shield`
///
/// - Python shields an awaitable; Rust futures are values, so `shield`
///   takes the future and spawns it (it must be `Send + 'static`, like a
///   [`create_task`](super::create_task)'s). Shielding a
///   [`Task`](super::Task) works too: the output is then the task's own
///   `Result`.
/// - The shielded future's panic comes back as [`TaskError::Panicked`].
///
/// # Panics
///
/// When called outside a running loop, as [`create_task`](super::create_task).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threadkit::asyncio::{self, Event};
///
/// asyncio::run(async {
///     let saved = Arc::new(Event::new());
///     let done = Arc::clone(&saved);
///     let save = asyncio::shield(async move {
///         asyncio::sleep(Duration::from_millis(20)).await;
///         done.set();
///         "saved"
///     });
///     // The timeout ends the wait, not the save.
///     assert!(asyncio::wait_for(save, Duration::from_millis(1)).await.is_err());
///     saved.wait().await;
///     assert!(saved.is_set());
/// })
/// .unwrap();
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Shield {
        handle: tokio::spawn(future),
    }
}

/// The future [`shield`] returns; awaiting it gives the shielded future's
/// output. Dropping it leaves that future running.
#[must_use = "the future runs anyway; awaiting the Shield gives its output"]
pub struct Shield<T> {
    handle: JoinHandle<T>,
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("finished", &self.handle.is_finished())
            .finish()
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The JoinHandle is polled directly, not through a `Task`: no
        // timeout learns of it, so none cancels it.
        Pin::new(&mut self.get_mut().handle)
            .poll(cx)
            .map(|outcome| outcome.map_err(TaskError::from_join))
    }
}
