//! The errors of the cluster: [`ClusterError`] (connecting, building,
//! submitting) and [`TaskError`] (why one task's future failed).

use std::error::Error;
use std::fmt;

use serde::{Deserialize, Serialize};
use threadkit::futures::FutureError;

/// Why a [`ClusterExecutor`](crate::ClusterExecutor) or
/// [`ClusterWorker`](crate::ClusterWorker) could not be built or could not
/// take a task.
///
/// # Examples
///
/// ```
/// use threadkit_cluster::{ClusterError, ClusterExecutor};
///
/// let err = ClusterExecutor::builder("not a url").connect().unwrap_err();
/// assert!(matches!(err, ClusterError::Redis(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterError {
    /// The Redis client failed: a bad URL, a refused connection, a failed
    /// command (the message of `redis::RedisError`).
    Redis(String),
    /// Redis refused the credentials: a wrong password, an unknown or
    /// disabled ACL user (`WRONGPASS`), or a password missing (`NOAUTH`).
    Auth(String),
    /// A builder setting is out of range (zero slots, zero lease, ...).
    Config(&'static str),
    /// The argument could not be encoded.
    Encode(String),
    /// The encoded argument is over the executor's size cap.
    TooLarge {
        /// Encoded size in bytes.
        size: usize,
        /// The cap in bytes.
        limit: usize,
    },
    /// The executor was shut down (Python's `RuntimeError('cannot schedule
    /// new futures after shutdown')`).
    ShutDown,
    /// The broker went away and the executor gave up on it.
    BrokerLost(String),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::Redis(msg) => write!(f, "redis: {msg}"),
            ClusterError::Auth(msg) => write!(f, "redis refused the credentials: {msg}"),
            ClusterError::Config(msg) => write!(f, "invalid setting: {msg}"),
            ClusterError::Encode(msg) => write!(f, "could not encode the argument: {msg}"),
            ClusterError::TooLarge { size, limit } => {
                write!(
                    f,
                    "encoded argument is {size} bytes, over the {limit}-byte cap"
                )
            }
            ClusterError::ShutDown => f.write_str("cannot schedule new futures after shutdown"),
            ClusterError::BrokerLost(msg) => write!(f, "the broker was lost: {msg}"),
        }
    }
}

impl Error for ClusterError {}

/// So `?` carries a submit's error into a function that returns the
/// futures' [`FutureError`], as threadkit's
/// [`SubmitError`](threadkit::futures::SubmitError) does: `ShutDown` stays
/// `ShutDown`, an argument that cannot travel (`Encode`, `TooLarge`) is
/// `Serialization`, a bad setting `InvalidArgument`, and a failing or lost
/// broker `BrokenExecutor` with the message.
///
/// ```
/// use threadkit::futures::FutureError;
/// use threadkit_cluster::ClusterError;
///
/// assert_eq!(FutureError::from(ClusterError::ShutDown), FutureError::ShutDown);
/// ```
impl From<ClusterError> for FutureError {
    fn from(e: ClusterError) -> Self {
        match e {
            ClusterError::ShutDown => FutureError::ShutDown,
            ClusterError::Config(_) => FutureError::InvalidArgument(e.to_string()),
            ClusterError::Encode(_) | ClusterError::TooLarge { .. } => {
                FutureError::Serialization(e.to_string())
            }
            ClusterError::Redis(_) | ClusterError::Auth(_) | ClusterError::BrokerLost(_) => {
                FutureError::BrokenExecutor(e.to_string())
            }
        }
    }
}

impl From<redis::RedisError> for ClusterError {
    fn from(e: redis::RedisError) -> Self {
        if is_auth_error(&e) {
            ClusterError::Auth(e.to_string())
        } else {
            ClusterError::Redis(e.to_string())
        }
    }
}

/// Whether Redis refused the connection's credentials.
pub(crate) fn is_auth_error(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
}

/// Why one cluster task has no value, beyond the errors every threadkit
/// future knows (a panic is [`FutureError::Panicked`], a cancel
/// [`FutureError::Cancelled`]).
///
/// A cluster future is an ordinary [`threadkit::futures::Future<T>`] so that
/// it mixes with thread-pool and process-pool futures; its error type is
/// therefore [`FutureError`], and a `TaskError` travels inside
/// [`FutureError::BrokenExecutor`]. [`TaskError::from_future_error`] gets the
/// typed value back.
///
/// # Examples
///
/// ```
/// use threadkit::futures::FutureError;
/// use threadkit_cluster::TaskError;
///
/// let lost = TaskError::WorkerLost { attempts: 3 };
/// let as_future_error: FutureError = lost.clone().into();
/// assert!(matches!(as_future_error, FutureError::BrokenExecutor(_)));
/// assert_eq!(TaskError::from_future_error(&as_future_error), Some(lost));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskError {
    /// No worker that took the task knows its name: the worker binary is
    /// older or newer than the caller's, or the name is misspelt.
    UnknownTask {
        /// The name the caller asked for.
        name: String,
    },
    /// The worker knows the name, but its argument/result types differ
    /// from the caller's (different builds of the task).
    SignatureMismatch {
        /// The task name.
        name: String,
        /// The caller's `argument -> result` type signature.
        caller: String,
        /// The worker's.
        worker: String,
    },
    /// The task entry speaks another protocol version.
    Version {
        /// The version in the entry.
        found: String,
        /// The version this worker speaks.
        supported: u32,
    },
    /// The task entry or its argument could not be decoded (truncated,
    /// foreign or hand-written).
    Malformed(String),
    /// The encoded argument or result is over the size cap.
    TooLarge {
        /// Size in bytes.
        size: usize,
        /// The cap in bytes.
        limit: usize,
    },
    /// The task's result could not be encoded on the worker or decoded on
    /// the caller.
    Codec(String),
    /// The task was started `attempts` times and each time its worker died
    /// (killed, out of memory, host lost) before finishing: Dask's
    /// `KilledWorker`. Not retried further.
    WorkerLost {
        /// How many times it was delivered to a worker.
        attempts: u32,
    },
    /// The connection to Redis was lost for longer than the grace period,
    /// or Redis restarted and lost the task: the outcome is unknown.
    BrokerLost(String),
}

/// Marks a `TaskError` inside a [`FutureError::BrokenExecutor`] message.
const TAG: &str = " [threadkit-cluster:";

impl TaskError {
    /// The typed cluster error inside `error`, if it carries one (see the
    /// type's docs). `None` for every other [`FutureError`].
    pub fn from_future_error(error: &FutureError) -> Option<TaskError> {
        let FutureError::BrokenExecutor(msg) = error else {
            return None;
        };
        let start = msg.rfind(TAG)? + TAG.len();
        let hex = msg[start..].strip_suffix(']')?;
        let bytes = crate::wire::unhex(hex)?;
        rmp_serde::from_slice(&bytes).ok()
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::UnknownTask { name } => {
                write!(f, "no worker knows a task named {name:?}")
            }
            TaskError::SignatureMismatch {
                name,
                caller,
                worker,
            } => write!(
                f,
                "task {name:?} has type {worker} on the worker but {caller} on the caller"
            ),
            TaskError::Version { found, supported } => write!(
                f,
                "task entry has protocol version {found:?}, the worker speaks {supported}"
            ),
            TaskError::Malformed(msg) => write!(f, "malformed task entry: {msg}"),
            TaskError::TooLarge { size, limit } => {
                write!(f, "payload of {size} bytes is over the {limit}-byte cap")
            }
            TaskError::Codec(msg) => write!(f, "could not encode or decode a value: {msg}"),
            TaskError::WorkerLost { attempts } => write!(
                f,
                "the task's worker died {attempts} times before it finished (not retried again)"
            ),
            TaskError::BrokerLost(msg) => write!(f, "the broker was lost: {msg}"),
        }
    }
}

impl Error for TaskError {}

impl From<TaskError> for FutureError {
    fn from(e: TaskError) -> Self {
        let bytes = rmp_serde::to_vec(&e).unwrap_or_default();
        FutureError::BrokenExecutor(format!("{e}{TAG}{}]", crate::wire::hex(&bytes)))
    }
}
