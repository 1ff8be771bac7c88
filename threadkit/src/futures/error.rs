//! The errors of the `futures` module, and the report of a task's panic.

use std::backtrace::Backtrace;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A task's panic, as [`FutureError::Panicked`] carries it: the message,
/// where it was raised (`file:line:column`) and, when `RUST_BACKTRACE` asked
/// for one, the backtrace — Python's exception with its traceback.
///
/// The backtrace is captured when the task panics but resolved to symbols
/// only when it is formatted. Reports are cheap to clone (one shared
/// allocation) and keep [`FutureError`] one pointer wide.
///
/// Two reports are equal when their messages are: location and backtrace
/// describe where a panic happened, not what it was, so a test can write
/// `Err(FutureError::Panicked("bad input".into()))`.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{FutureError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let line = line!() + 1;
/// let f = pool.submit(|| -> u8 { panic!("bad input {}", 3) }).unwrap();
/// let Err(FutureError::Panicked(report)) = f.result() else { unreachable!() };
/// assert_eq!(report.message(), "bad input 3");
/// assert!(report.location().unwrap().contains(&format!(":{line}:")));
/// assert_eq!(report.to_string(), format!("bad input 3 (at {})", report.location().unwrap()));
/// ```
///
/// # Differences from Python
///
/// Python keeps the exception object and its traceback; a Rust panic's
/// payload is reduced to its message, and the location comes from
/// threadkit's panic hook. A process pool task's report has
/// its message and location; its backtrace stays in the worker (so does a
/// [`ClusterExecutor`](https://docs.rs/threadkit-cluster) task's).
#[derive(Clone)]
pub struct PanicReport(Arc<ReportInner>);

struct ReportInner {
    message: String,
    location: Option<String>,
    backtrace: Option<Backtrace>,
}

impl PanicReport {
    /// A report with only a message, for executors that have no more (a
    /// worker process, a remote machine) and for tests.
    pub fn new(message: impl Into<String>) -> PanicReport {
        PanicReport::with_details(message.into(), None, None)
    }

    /// A report with a message and, when known, where the panic was raised
    /// (`file:line:column`): for executors that carry a panic over from
    /// another process or machine (whose backtrace stays there).
    ///
    /// ```
    /// use threadkit::futures::PanicReport;
    ///
    /// let r = PanicReport::with_location("bad input", Some("src/job.rs:7:5".into()));
    /// assert_eq!(r.to_string(), "bad input (at src/job.rs:7:5)");
    /// ```
    pub fn with_location(message: impl Into<String>, location: Option<String>) -> PanicReport {
        PanicReport::with_details(message.into(), location, None)
    }

    /// Runs `f` as threadkit's pools run a task: a panic is caught and
    /// becomes a report with its message, location and (when
    /// `RUST_BACKTRACE` asks) backtrace, and is not printed (whoever gets
    /// the report reports it). For executors built outside threadkit that
    /// hand the report on, such as a cluster worker.
    ///
    /// ```
    /// use threadkit::futures::PanicReport;
    ///
    /// let line = line!() + 1;
    /// let report = PanicReport::capture(|| -> u8 { panic!("bad input") }).unwrap_err();
    /// assert_eq!(report.message(), "bad input");
    /// assert!(report.location().unwrap().contains(&format!(":{line}:")));
    /// assert_eq!(PanicReport::capture(|| 5), Ok(5));
    /// ```
    ///
    /// # Differences from Python
    ///
    /// Python's `except BaseException` keeps the exception object; a Rust
    /// panic's payload is reduced to its message (a payload that is not a
    /// string reads `Box<dyn Any>`).
    pub fn capture<R>(f: impl FnOnce() -> R) -> Result<R, PanicReport> {
        crate::util::unwind::install_panic_hook();
        crate::util::unwind::run_captured(f).map_err(PanicReport::from)
    }

    pub(crate) fn with_details(
        message: String,
        location: Option<String>,
        backtrace: Option<Backtrace>,
    ) -> PanicReport {
        PanicReport(Arc::new(ReportInner {
            message,
            location,
            backtrace,
        }))
    }

    /// The panic's message (the `&str` or `String` given to `panic!`).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Where the panic was raised, as `file:line:column`, when known.
    pub fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }

    /// The backtrace captured when the task panicked, if `RUST_BACKTRACE`
    /// (or `RUST_LIB_BACKTRACE`) asked for one.
    pub fn backtrace(&self) -> Option<&Backtrace> {
        self.0.backtrace.as_ref()
    }
}

impl From<crate::util::unwind::PanicReport> for PanicReport {
    fn from(report: crate::util::unwind::PanicReport) -> Self {
        PanicReport::with_details(report.message, report.location, report.backtrace)
    }
}

impl From<String> for PanicReport {
    fn from(message: String) -> Self {
        PanicReport::new(message)
    }
}

impl From<&str> for PanicReport {
    fn from(message: &str) -> Self {
        PanicReport::new(message)
    }
}

impl PartialEq for PanicReport {
    fn eq(&self, other: &Self) -> bool {
        self.message() == other.message()
    }
}

impl Eq for PanicReport {}

impl std::hash::Hash for PanicReport {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.message().hash(state);
    }
}

impl PartialEq<str> for PanicReport {
    fn eq(&self, other: &str) -> bool {
        self.message() == other
    }
}

impl PartialEq<&str> for PanicReport {
    fn eq(&self, other: &&str) -> bool {
        self.message() == *other
    }
}

impl fmt::Debug for PanicReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PanicReport")
            .field("message", &self.message())
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

/// The message and, when known, ` (at file:line:column)`; with `{:#}`, the
/// backtrace too, when one was captured.
impl fmt::Display for PanicReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())?;
        if let Some(location) = self.location() {
            write!(f, " (at {location})")?;
        }
        if f.alternate() {
            if let Some(backtrace) = self.backtrace() {
                write!(f, "\nstack backtrace:\n{backtrace}")?;
            }
        }
        Ok(())
    }
}

/// Why a [`Future`](super::Future) has no value, or why an executor refused
/// work: Python's `CancelledError`, `TimeoutError`, the task's exception,
/// `BrokenExecutor` and the `RuntimeError` of a submit after shutdown.
///
/// # Examples
///
/// ```
/// use threadkit::futures::{FutureError, Shutdown, SubmitError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let f = pool.submit(|| -> u8 { panic!("bad input") }).unwrap();
/// assert_eq!(f.result(), Err(FutureError::Panicked("bad input".into())));
/// pool.shutdown(Shutdown::wait());
/// assert!(matches!(pool.submit(|| 1), Err(SubmitError::ShutDown)));
/// ```
///
/// # Which error type?
///
/// Each operation returns the narrowest type that says what can happen:
/// `submit` a [`SubmitError`], [`as_completed`](super::as_completed) a
/// [`TimeoutError`]. [`Future::result`](super::Future::result) keeps
/// `FutureError`, because every variant but `InvalidArgument` can reach it:
/// a cancel, the task's panic, a broken executor failing what it had queued,
/// a shutdown with `cancel_futures`, a value already taken by `.await`, a
/// process pool's value that could not travel. Every narrower type converts
/// into this one, so `?` works in a function that returns `FutureError`.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FutureError {
    /// The future was cancelled before it ran (Python's `CancelledError`,
    /// which [`CancelledError`] converts into).
    Cancelled,
    /// The timeout passed before the future finished (Python's `TimeoutError`,
    /// which [`TimeoutError`] converts into); the future itself is unaffected.
    Timeout,
    /// The task panicked (Python's `exception()`): the message, location and
    /// any backtrace, in a [`PanicReport`].
    Panicked(PanicReport),
    /// The executor broke before running the task, for instance because a
    /// worker's initializer failed (Python's `BrokenExecutor`).
    #[doc(alias("BrokenProcessPool", "BrokenThreadPool"))]
    BrokenExecutor(String),
    /// The executor was shut down (Python's `RuntimeError('cannot schedule
    /// new futures after shutdown')`): from `submit` as
    /// [`SubmitError::ShutDown`], from a future that a shutdown with
    /// `cancel_futures` or a map's submission failed.
    ShutDown,
    /// The value was already moved out of this future (by `.await`); Python
    /// has no equivalent, its results are shared objects.
    Consumed,
    /// An argument or a result could not be serialized, did not decode, or
    /// exceeds the frame limit on its way between processes (Python's
    /// `PicklingError` and friends). The task did not fail: its value could
    /// not travel.
    Serialization(String),
    /// An argument the executor cannot work with, such as `chunksize` 0
    /// (Python's `ValueError`).
    InvalidArgument(String),
}

impl fmt::Debug for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("Cancelled"),
            FutureError::Timeout => f.write_str("Timeout"),
            FutureError::Panicked(report) => f.debug_tuple("Panicked").field(report).finish(),
            FutureError::BrokenExecutor(msg) => f.debug_tuple("BrokenExecutor").field(msg).finish(),
            FutureError::ShutDown => f.write_str("ShutDown"),
            FutureError::Consumed => f.write_str("Consumed"),
            FutureError::Serialization(msg) => f.debug_tuple("Serialization").field(msg).finish(),
            FutureError::InvalidArgument(msg) => {
                f.debug_tuple("InvalidArgument").field(msg).finish()
            }
        }
    }
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("future was cancelled"),
            FutureError::Timeout => f.write_str("timed out waiting for the future"),
            FutureError::Panicked(report) => write!(f, "task panicked: {report}"),
            FutureError::BrokenExecutor(msg) => write!(f, "executor is broken: {msg}"),
            FutureError::ShutDown => f.write_str("cannot schedule new futures after shutdown"),
            FutureError::Consumed => f.write_str("the future's value was already taken"),
            FutureError::Serialization(msg) => write!(f, "could not pass a value: {msg}"),
            FutureError::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
        }
    }
}

impl Error for FutureError {}

/// Why an executor refused a task at `submit`: the only two things that can
/// happen there (Python's `RuntimeError('cannot schedule new futures after
/// shutdown')` and `BrokenExecutor`).
///
/// `submit` on every executor ([`Executor::submit`](super::Executor::submit),
/// [`Executor::submit_work`](super::Executor::submit_work), the scoped pool,
/// the process pool) returns it, so a `match` on it needs no catch-all arm.
/// It converts into [`FutureError`], so `?` works in a function that returns
/// `FutureError` for the task's outcome as well.
///
/// A task's own failure (a panic, a cancel, an argument that could not be
/// serialized for a process pool) is never a `SubmitError`: it is the
/// future's outcome, from [`Future::result`](super::Future::result).
///
/// # Examples
///
/// ```
/// use threadkit::futures::{FutureError, Shutdown, SubmitError, ThreadPoolExecutor};
///
/// fn double(pool: &ThreadPoolExecutor, n: u32) -> Result<u32, FutureError> {
///     let f = pool.submit(move || n * 2)?; // SubmitError -> FutureError
///     Ok(*f.result()?)
/// }
///
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// assert_eq!(double(&pool, 21), Ok(42));
/// pool.shutdown(Shutdown::wait());
/// match pool.submit(|| 1) {
///     Ok(_) => unreachable!(),
///     Err(SubmitError::ShutDown) => {}
///     Err(SubmitError::BrokenExecutor(reason)) => panic!("broken: {reason}"),
/// }
/// assert_eq!(double(&pool, 1), Err(FutureError::ShutDown));
/// ```
///
/// # Differences from Python
///
/// Python raises both from `submit` as exceptions of unrelated classes; here
/// they are the two variants of one enum. The enum is exhaustive: a new way
/// for `submit` to fail would be a breaking change, which is the point.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SubmitError {
    /// The executor was shut down (Python's `RuntimeError('cannot schedule
    /// new futures after shutdown')`).
    ShutDown,
    /// The executor is broken, for instance because a worker's initializer
    /// failed or no worker could be started (Python's `BrokenExecutor`).
    #[doc(alias("BrokenProcessPool", "BrokenThreadPool"))]
    BrokenExecutor(String),
}

impl fmt::Debug for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::ShutDown => f.write_str("ShutDown"),
            SubmitError::BrokenExecutor(msg) => f.debug_tuple("BrokenExecutor").field(msg).finish(),
        }
    }
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&FutureError::from(self.clone()), f)
    }
}

impl Error for SubmitError {}

impl From<SubmitError> for FutureError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::ShutDown => FutureError::ShutDown,
            SubmitError::BrokenExecutor(reason) => FutureError::BrokenExecutor(reason),
        }
    }
}

/// Python's `concurrent.futures.TimeoutError`: the timeout passed before a
/// future finished. The future itself is unaffected.
///
/// It is the whole error of an operation whose only failure is a timeout,
/// such as each item of [`as_completed`](super::as_completed), so a porter's
/// loop needs no nested `Result` and no catch-all arm. Where a timeout is one
/// failure among others ([`Future::result_timeout`](super::Future::result_timeout),
/// a map's iterator) it is [`FutureError::Timeout`], and this type converts
/// into it, so `?` works.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{FutureError, ThreadPoolExecutor, TimeoutError, as_completed};
///
/// fn total(pool: &ThreadPoolExecutor) -> Result<u64, FutureError> {
///     let futures = (1..=3u64).map(|n| pool.submit(move || n)).collect::<Result<Vec<_>, _>>()?;
///     let mut sum = 0;
///     for f in as_completed(&futures, Some(Duration::from_secs(60))) {
///         sum += f?.result()?; // TimeoutError -> FutureError
///     }
///     Ok(sum)
/// }
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// assert_eq!(total(&pool), Ok(6));
/// assert_eq!(FutureError::from(TimeoutError), FutureError::Timeout);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TimeoutError;

impl fmt::Debug for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TimeoutError")
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting for the future")
    }
}

impl Error for TimeoutError {}

impl From<TimeoutError> for FutureError {
    fn from(_: TimeoutError) -> Self {
        FutureError::Timeout
    }
}

/// Python's `concurrent.futures.CancelledError`: the future was cancelled
/// before it ran.
///
/// Like [`TimeoutError`], a struct of its own that converts into
/// [`FutureError::Cancelled`], the form [`Future::result`](super::Future::result)
/// reports it in (a cancel is one outcome among others there).
///
/// # Examples
///
/// ```
/// use threadkit::futures::{CancelledError, FutureError};
///
/// fn give_up() -> Result<(), FutureError> {
///     Err(CancelledError)?
/// }
/// assert_eq!(give_up(), Err(FutureError::Cancelled));
/// assert_eq!(CancelledError.to_string(), "future was cancelled");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CancelledError;

impl fmt::Debug for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CancelledError")
    }
}

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("future was cancelled")
    }
}

impl Error for CancelledError {}

impl From<CancelledError> for FutureError {
    fn from(_: CancelledError) -> Self {
        FutureError::Cancelled
    }
}

/// Why an executor could not be built: a setting that could never work,
/// such as Python's `ValueError("max_workers must be greater than 0")`.
#[derive(Clone, PartialEq, Eq)]
pub struct BuildError {
    kind: ErrorKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    ZeroWorkers,
    ZeroTasksPerChild,
    ZeroHandshakeTimeout,
    FrameTooSmall { bytes: usize, min: usize },
    ZeroPoolSize,
}

impl BuildError {
    pub(crate) fn zero_workers() -> Self {
        BuildError {
            kind: ErrorKind::ZeroWorkers,
        }
    }

    #[cfg_attr(
        any(loom, not(target_os = "linux"), not(feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn zero_tasks_per_child() -> Self {
        BuildError {
            kind: ErrorKind::ZeroTasksPerChild,
        }
    }

    #[cfg_attr(
        any(loom, not(target_os = "linux"), not(feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn zero_handshake_timeout() -> Self {
        BuildError {
            kind: ErrorKind::ZeroHandshakeTimeout,
        }
    }

    #[cfg_attr(
        any(loom, not(target_os = "linux"), not(feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn frame_too_small(bytes: usize, min: usize) -> Self {
        BuildError {
            kind: ErrorKind::FrameTooSmall { bytes, min },
        }
    }

    #[cfg_attr(not(feature = "green"), allow(dead_code))]
    pub(crate) fn zero_pool_size() -> Self {
        BuildError {
            kind: ErrorKind::ZeroPoolSize,
        }
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::ZeroWorkers => f.write_str("BuildError(ZeroWorkers)"),
            ErrorKind::ZeroTasksPerChild => f.write_str("BuildError(ZeroTasksPerChild)"),
            ErrorKind::ZeroHandshakeTimeout => f.write_str("BuildError(ZeroHandshakeTimeout)"),
            ErrorKind::FrameTooSmall { bytes, min } => {
                write!(
                    f,
                    "BuildError(FrameTooSmall {{ bytes: {bytes}, min: {min} }})"
                )
            }
            ErrorKind::ZeroPoolSize => f.write_str("BuildError(ZeroPoolSize)"),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::ZeroWorkers => f.write_str("max_workers must be greater than 0"),
            ErrorKind::ZeroTasksPerChild => f.write_str("max_tasks_per_child must be >= 1"),
            ErrorKind::ZeroHandshakeTimeout => {
                f.write_str("handshake_timeout must be longer than zero")
            }
            ErrorKind::FrameTooSmall { bytes, min } => write!(
                f,
                "max_frame_size of {bytes} bytes is below the smallest workable {min} bytes"
            ),
            ErrorKind::ZeroPoolSize => f.write_str("a pool's size must be greater than 0"),
        }
    }
}

impl Error for BuildError {}
