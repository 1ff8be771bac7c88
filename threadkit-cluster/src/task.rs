//! Tasks by name: the [`task!`](crate::task) macro, [`Task`] handles and
//! the link-time registry the workers look names up in.

use std::any::type_name;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::TaskError;
use crate::wire::Outcome;

/// A handle to a registered task: its stable name and, in the type, its
/// argument and result types. Made by [`task!`](crate::task); callers pass
/// it to [`ClusterExecutor::submit`](crate::ClusterExecutor::submit).
///
/// A caller that does not link the task's code can make one with
/// [`Task::by_name`]: the worker then checks the types.
///
/// # Examples
///
/// ```
/// use threadkit_cluster::Task;
///
/// let t: Task<u64, u64> = Task::by_name("demo.square");
/// assert_eq!(t.name(), "demo.square");
/// assert_eq!(t.signature(), "u64 -> u64");
/// ```
pub struct Task<A, R> {
    name: &'static str,
    _types: PhantomData<fn(A) -> R>,
}

impl<A, R> Task<A, R> {
    /// A handle for the task registered under `name` with argument `A` and
    /// result `R` (no check here: a worker that knows no such task, or
    /// knows it with other types, fails the future with
    /// [`TaskError::UnknownTask`] or [`TaskError::SignatureMismatch`]).
    pub const fn by_name(name: &'static str) -> Self {
        Task {
            name,
            _types: PhantomData,
        }
    }

    /// The stable name workers look the task up by.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The type signature `A -> R` sent with every call, compared with the
    /// worker's.
    pub fn signature(&self) -> String {
        signature::<A, R>()
    }
}

impl<A, R> Clone for Task<A, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A, R> Copy for Task<A, R> {}

impl<A, R> fmt::Debug for Task<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name)
            .field("signature", &signature::<A, R>())
            .finish()
    }
}

/// Registers a plain function as a cluster task under a stable name and
/// declares the handle callers submit it with.
///
/// ```
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// threadkit_cluster::task! {
///     /// `x * x` on some worker.
///     pub SQUARE: fn(u64) -> u64 = square, "demo.square";
/// }
///
/// assert_eq!(SQUARE.name(), "demo.square");
/// assert!(threadkit_cluster::registered_tasks().contains(&"demo.square"));
/// ```
///
/// The function takes one serde argument (use a tuple or a struct for
/// several) and returns a serde value. Registration happens at link time
/// (with `inventory`), so a worker knows every task linked into its binary;
/// a worker never runs anything but a registered function, whatever the
/// stream says. Keep names stable across releases: they are the protocol.
#[macro_export]
macro_rules! task {
    ($(#[$meta:meta])* $vis:vis $handle:ident : fn($arg:ty) -> $ret:ty = $f:expr, $name:literal;) => {
        $(#[$meta])*
        $vis const $handle: $crate::Task<$arg, $ret> = $crate::Task::by_name($name);

        const _: () = {
            fn __threadkit_cluster_invoke(bytes: &[u8]) -> $crate::__private::Outcome {
                $crate::__private::invoke::<$arg, $ret>(bytes, $f)
            }
            fn __threadkit_cluster_signature() -> ::std::string::String {
                $crate::__private::signature::<$arg, $ret>()
            }
            $crate::__private::inventory::submit! {
                $crate::__private::Registration {
                    name: $name,
                    signature: __threadkit_cluster_signature,
                    invoke: __threadkit_cluster_invoke,
                }
            }
        };
    };
}

/// One registered task, collected at link time. Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registration {
    /// The stable name.
    pub name: &'static str,
    /// `A -> R`.
    pub signature: fn() -> String,
    /// Decode, run (catching a panic), encode.
    pub invoke: fn(&[u8]) -> Outcome,
}

inventory::collect!(Registration);

/// The names of every task linked into this binary, sorted.
pub fn registered_tasks() -> Vec<&'static str> {
    let mut names: Vec<_> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The registry as a map (the first registration of a name wins).
pub(crate) fn registry() -> HashMap<&'static str, &'static Registration> {
    let mut map = HashMap::new();
    for r in inventory::iter::<Registration> {
        map.entry(r.name).or_insert(r);
    }
    map
}

/// The type signature of a task, `A -> R`.
pub fn signature<A, R>() -> String {
    format!("{} -> {}", type_name::<A>(), type_name::<R>())
}

/// Decodes the argument, runs `f` catching a panic (with its location, as
/// threadkit's pools do), encodes the result.
pub fn invoke<A, R>(bytes: &[u8], f: fn(A) -> R) -> Outcome
where
    A: DeserializeOwned,
    R: Serialize,
{
    let arg: A = match rmp_serde::from_slice(bytes) {
        Ok(arg) => arg,
        Err(e) => return Outcome::Failed(TaskError::Malformed(format!("argument: {e}"))),
    };
    match threadkit::futures::PanicReport::capture(|| f(arg)) {
        Ok(value) => match rmp_serde::to_vec(&value) {
            Ok(bytes) => Outcome::Ok(bytes),
            Err(e) => Outcome::Failed(TaskError::Codec(format!("result: {e}"))),
        },
        Err(report) => Outcome::Panicked {
            message: report.message().to_owned(),
            location: report
                .location()
                .filter(|l| l.len() <= crate::wire::MAX_LOCATION)
                .map(str::to_owned),
        },
    }
}

/// What a running task can learn about itself: use [`TaskInfo::tid`] to
/// make side effects idempotent (a task may run more than once, see the
/// crate docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task id, unique per submission (shared by a `map` chunk).
    pub tid: String,
    /// Which delivery this is: 1 for the first, 2 after one reclaim, ...
    pub attempt: u32,
    /// The position within a `map` chunk (0 for `submit`).
    pub index: usize,
}

thread_local! {
    static CURRENT: RefCell<Option<TaskInfo>> = const { RefCell::new(None) };
}

/// The task this thread is running on a [`ClusterWorker`](crate::ClusterWorker),
/// or `None` outside a cluster task.
pub fn current_task() -> Option<TaskInfo> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(crate) fn set_current(info: Option<TaskInfo>) {
    CURRENT.with(|c| *c.borrow_mut() = info);
}
