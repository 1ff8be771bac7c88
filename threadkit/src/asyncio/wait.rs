//! [`wait`]: Python's `asyncio.wait(aws, timeout, return_when)`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::error::TaskError;
use super::task::Task;
pub use crate::futures::ReturnWhen;

/// What [`wait`] gives back: Python's `(done, pending)` pair.
///
/// The finished tasks' outcomes are taken for you (a done task has nothing
/// more to give); the pending tasks come back as handles, still running.
/// Both keep each task's index in the input, so the caller can tell them
/// apart as Python does by the task objects.
pub struct Waited<T> {
    /// `(index, outcome)` of each task that finished, in the order they
    /// were seen done.
    pub done: Vec<(usize, Result<T, TaskError>)>,
    /// `(index, task)` of each task not done, in input order: not
    /// cancelled, as in Python.
    pub pending: Vec<(usize, Task<T>)>,
}

impl<T> fmt::Debug for Waited<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let done: Vec<usize> = self.done.iter().map(|(i, _)| *i).collect();
        let pending: Vec<usize> = self.pending.iter().map(|(i, _)| *i).collect();
        f.debug_struct("Waited")
            .field("done", &done)
            .field("pending", &pending)
            .finish()
    }
}

/// Waits for tasks until `return_when` holds or `timeout` passes: Python's
/// `asyncio.wait(aws, timeout=None, return_when=ALL_COMPLETED)`.
///
/// - [`ReturnWhen::FirstCompleted`]: as soon as one task is done.
/// - [`ReturnWhen::FirstException`]: as soon as one task panics; if none
///   does, when all are done. A cancelled task is not an exception, as in
///   Python.
/// - [`ReturnWhen::AllCompleted`]: when all are done.
///
/// A timeout does not cancel anything: the tasks not done come back in
/// [`Waited::pending`].
///
/// # Cancel safety
///
/// Dropping the `wait` future drops the task handles it holds: the tasks
/// are detached and keep running (take them back by awaiting to the end).
///
/// # Differences from Python's `asyncio.wait`
///
/// - Python takes a set of tasks and gives two sets; threadkit takes the
///   tasks by value and gives the outcomes of the done ones and the handles
///   of the others, each with its index in the input.
/// - An empty input gives an empty [`Waited`] at once, where Python raises
///   `ValueError`.
/// - As for any task awaited, a [`wait_for`](super::wait_for) or
///   [`timeout`](super::timeout) around the `wait` cancels the tasks still
///   pending when it expires.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::asyncio::{self, ReturnWhen};
///
/// asyncio::run(async {
///     let fast = asyncio::create_task(async { 1 });
///     let slow = asyncio::create_task(async {
///         asyncio::sleep(Duration::from_secs(60)).await;
///         2
///     });
///     let w = asyncio::wait(vec![fast, slow], None, ReturnWhen::FirstCompleted).await;
///     assert_eq!(w.done, vec![(0, Ok(1))]);
///     assert_eq!(w.pending.len(), 1);
///     let (index, slow) = &w.pending[0];
///     assert_eq!(*index, 1);
///     slow.cancel();
/// })
/// .unwrap();
/// ```
#[doc(alias("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"))]
pub fn wait<T>(
    tasks: impl IntoIterator<Item = Task<T>>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> Wait<T> {
    let pending: Vec<(usize, Task<T>)> = tasks.into_iter().enumerate().collect();
    Wait {
        sleep: timeout.map(|t| Box::pin(tokio::time::sleep(t))),
        waited: Some(Waited {
            done: Vec::new(),
            pending,
        }),
        return_when,
    }
}

/// The future [`wait`] returns.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    waited: Option<Waited<T>>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    return_when: ReturnWhen,
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("waited", &self.waited)
            .field("return_when", &self.return_when)
            .finish()
    }
}

// Never pinned structurally: the outcomes are moved freely, the tasks are
// `Unpin` handles and the timer is boxed.
impl<T> Unpin for Wait<T> {}

impl<T> Future for Wait<T> {
    type Output = Waited<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Waited<T>> {
        let this = self.get_mut();
        let Some(waited) = this.waited.as_mut() else {
            // Polled again after it completed: nothing is left to give.
            return Poll::Ready(Waited {
                done: Vec::new(),
                pending: Vec::new(),
            });
        };
        let mut i = 0;
        while i < waited.pending.len() {
            match Pin::new(&mut waited.pending[i].1).poll(cx) {
                Poll::Ready(outcome) => {
                    let (index, _) = waited.pending.remove(i);
                    waited.done.push((index, outcome));
                }
                Poll::Pending => i += 1,
            }
        }
        let satisfied = waited.pending.is_empty()
            || match this.return_when {
                ReturnWhen::FirstCompleted => !waited.done.is_empty(),
                ReturnWhen::FirstException => waited
                    .done
                    .iter()
                    .any(|(_, o)| matches!(o, Err(TaskError::Panicked(..)))),
                ReturnWhen::AllCompleted => false,
            };
        let timed_out = this
            .sleep
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready());
        if satisfied || timed_out {
            Poll::Ready(this.waited.take().expect("checked above"))
        } else {
            Poll::Pending
        }
    }
}
