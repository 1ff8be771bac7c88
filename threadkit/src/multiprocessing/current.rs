//! Who this process is: Python's `current_process()`, `parent_process()`
//! and `cpu_count()`.

use std::sync::OnceLock;

/// What a child learned about itself when it started.
struct Child {
    name: String,
    daemon: bool,
    parent: u32,
}

static CHILD: OnceLock<Child> = OnceLock::new();

/// Records, in a child that threadkit started, its name and whether it is a
/// daemon (see `worker.rs`).
pub(crate) fn enter_child(name: String, daemon: bool) {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() } as u32;
    let _ = CHILD.set(Child {
        name,
        daemon,
        parent,
    });
}

/// This process as Python's `multiprocessing.current_process()` describes
/// it.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::{current_process, parent_process};
///
/// let me = current_process();
/// assert_eq!(me.name, "MainProcess");
/// assert_eq!(me.pid, std::process::id());
/// assert!(parent_process().is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// `MainProcess` in a program started normally; in a child, the
    /// [`Process`](super::Process)'s name, or `ProcessPoolWorker-N` in a
    /// pool worker.
    pub name: String,
    /// The process id.
    pub pid: u32,
    /// Whether threadkit started it as a daemon (daemon processes and pool
    /// workers exit when their parent does).
    pub daemon: bool,
}

/// This process (Python's `multiprocessing.current_process()`).
pub fn current_process() -> ProcessInfo {
    let pid = std::process::id();
    match CHILD.get() {
        Some(child) => ProcessInfo {
            name: child.name.clone(),
            pid,
            daemon: child.daemon,
        },
        None => ProcessInfo {
            name: "MainProcess".to_owned(),
            pid,
            daemon: false,
        },
    }
}

/// The process that started this one, if threadkit started it (Python's
/// `multiprocessing.parent_process()`); `None` in the main process.
///
/// Only its pid is known here: the parent's `Process` handle lives in the
/// parent. (Python returns a `Process`-like object with the parent's name.)
pub fn parent_process() -> Option<u32> {
    CHILD.get().map(|child| child.parent)
}

/// The number of CPUs this process may use (Python's
/// `multiprocessing.cpu_count()`).
///
/// # Differences from Python
///
/// Python counts every CPU of the machine; this counts the CPUs the process
/// may run on (affinity masks and cgroup quotas included), which is what a
/// pool size should follow. It is at least 1.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
