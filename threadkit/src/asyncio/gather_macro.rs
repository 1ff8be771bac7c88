//! [`gather!`](crate::gather): Python's `gather(a(), b())` for futures of
//! different types, with a tuple of results.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::TaskError;
use super::task::Task;

/// One future of a [`gather!`](crate::gather): its task while it runs, then
/// its outcome until the tuple is built.
#[doc(hidden)]
#[derive(Debug)]
pub enum Slot<T> {
    Running(Task<T>),
    Done(Result<T, TaskError>),
    Taken,
}

impl<T> Slot<T> {
    /// Polls the task if it still runs; `true` once the outcome is in.
    fn poll_done(&mut self, cx: &mut Context<'_>) -> bool {
        if let Slot::Running(task) = self {
            match Pin::new(task).poll(cx) {
                Poll::Ready(outcome) => *self = Slot::Done(outcome),
                Poll::Pending => return false,
            }
        }
        true
    }

    fn failed(&self) -> bool {
        matches!(self, Slot::Done(Err(_)))
    }

    fn take(&mut self) -> Result<T, TaskError> {
        match std::mem::replace(self, Slot::Taken) {
            Slot::Done(outcome) => outcome,
            // Not reached: outcomes are taken once, after every slot is done.
            Slot::Running(_) | Slot::Taken => Err(TaskError::Consumed),
        }
    }
}

/// Tuples of futures that [`gather!`](crate::gather) runs as tasks.
#[doc(hidden)]
pub trait Gather {
    /// The tuple of outputs.
    type Output;
    /// The tuple of outcomes.
    type Outcomes;
    /// Runs every future as a task; the outputs, or the first failure.
    fn gather(self) -> impl Future<Output = Result<Self::Output, TaskError>> + Send;
    /// Runs every future as a task; every outcome.
    fn gather_return_exceptions(self) -> impl Future<Output = Self::Outcomes> + Send;
}

macro_rules! impl_gather {
    ($($F:ident $f:ident),+) => {
        impl<$($F),+> Gather for ($($F,)+)
        where
            $($F: Future + Send + 'static, $F::Output: Send + 'static,)+
        {
            type Output = ($($F::Output,)+);
            type Outcomes = ($(Result<$F::Output, TaskError>,)+);

            #[track_caller]
            fn gather(self) -> impl Future<Output = Result<Self::Output, TaskError>> + Send {
                let ($($f,)+) = self;
                $(let mut $f = Slot::Running(Task::spawn($f));)+
                std::future::poll_fn(move |cx| {
                    let mut all = true;
                    $(
                        all &= $f.poll_done(cx);
                        if $f.failed() {
                            // As Python's gather: the first failure is
                            // returned at once; the others keep running,
                            // detached, when their tasks are dropped.
                            return Poll::Ready(Err($f.take().err().unwrap_or(TaskError::Consumed)));
                        }
                    )+
                    if !all {
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(($(match $f.take() {
                        Ok(value) => value,
                        Err(e) => return Poll::Ready(Err(e)),
                    },)+)))
                })
            }

            #[track_caller]
            fn gather_return_exceptions(self) -> impl Future<Output = Self::Outcomes> + Send {
                let ($($f,)+) = self;
                $(let mut $f = Slot::Running(Task::spawn($f));)+
                std::future::poll_fn(move |cx| {
                    let mut all = true;
                    $(all &= $f.poll_done(cx);)+
                    if !all {
                        return Poll::Pending;
                    }
                    Poll::Ready(($($f.take(),)+))
                })
            }
        }
    };
}

impl_gather!(A a);
impl_gather!(A a, B b);
impl_gather!(A a, B b, C c);
impl_gather!(A a, B b, C c, D d);
impl_gather!(A a, B b, C c, D d, E e);
impl_gather!(A a, B b, C c, D d, E e, F f);
impl_gather!(A a, B b, C c, D d, E e, F f, G g);
impl_gather!(A a, B b, C c, D d, E e, F f, G g, H h);
impl_gather!(A a, B b, C c, D d, E e, F f, G g, H h, I i);
impl_gather!(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j);
impl_gather!(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k);
impl_gather!(A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l);

/// Runs futures of different types concurrently and returns a tuple of
/// their outputs: Python's `await asyncio.gather(user(), posts())`, where
/// [`gather`](crate::asyncio::gather) needs futures of one type.
///
/// `gather!(a, b, ...)` is a future of `Result<(A, B, ...), TaskError>`:
/// the outputs in argument order, or the first failure (a panic), returned
/// as soon as it happens while the other futures keep running, as in Python.
/// `gather!(return_exceptions = true; a, b, ...)` waits for all of them and
/// gives a tuple of `Result`s, Python's `gather(..., return_exceptions=True)`.
/// Up to 12 futures; each must be `Send + 'static`.
///
/// # Panics
///
/// When awaited outside a running [`asyncio::run`](crate::asyncio::run):
/// `no running event loop`.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, TaskError};
///
/// async fn user() -> String {
///     "ada".to_owned()
/// }
/// async fn posts() -> Vec<u32> {
///     vec![1, 2, 3]
/// }
///
/// asyncio::run(async {
///     // u, p = await asyncio.gather(user(), posts())
///     let (u, p) = threadkit::gather!(user(), posts()).await.unwrap();
///     assert_eq!((u.as_str(), p.len()), ("ada", 3));
///
///     // await asyncio.gather(user(), boom(), return_exceptions=True)
///     let (u, boom) = threadkit::gather!(return_exceptions = true; user(), async {
///         panic!("no posts")
///     })
///     .await;
///     assert_eq!(u.unwrap(), "ada");
///     let boom: Result<(), TaskError> = boom;
///     assert_eq!(boom, Err(TaskError::Panicked("no posts".into())));
/// })
/// .unwrap();
/// ```
///
/// # Differences from Python's `gather`
///
/// - Each future runs as its own task (as Python wraps each coroutine in
///   one), so on a multi-thread loop they run in parallel.
/// - Cancelling (dropping) the `gather!` future before it finishes leaves
///   the tasks running, detached; Python cancels the children.
#[macro_export]
#[cfg_attr(docsrs, doc(cfg(feature = "asyncio")))]
macro_rules! gather {
    (return_exceptions = true; $($future:expr),+ $(,)?) => {
        $crate::asyncio::__private::Gather::gather_return_exceptions(($($future,)+))
    };
    ($($future:expr),+ $(,)?) => {
        $crate::asyncio::__private::Gather::gather(($($future,)+))
    };
}
