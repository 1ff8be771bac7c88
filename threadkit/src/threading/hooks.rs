//! Hooks run on every threadkit thread: the excepthook that reports a panic
//! escaping a thread's target (Python's `threading.excepthook`), and start/exit
//! hooks around the target (the role of `threading.settrace`/`setprofile`, on
//! which debugging tools can build).
//!
//! # How a panic is reported once
//!
//! The first time a thread starts, threadkit installs (once) a process panic
//! hook that chains to the one installed before it. While a threadkit thread
//! runs its target or one of these hooks, that panic hook does not print
//! Rust's usual `thread '…' panicked at …` message: it stashes the panic's
//! location (and a backtrace, if `RUST_BACKTRACE` asks for one) for the
//! excepthook, which reports the panic once. Panics anywhere else go to the
//! previous hook unchanged. Consequences:
//!
//! - a panic that the target catches itself (`catch_unwind`) is not printed;
//! - a panic hook installed *after* threadkit's replaces it, and then panics
//!   in threadkit threads are reported twice (by that hook and the excepthook).

use std::fmt;
// std's Arc, not the loom facade's: hooks are unsized `dyn Fn`s.
use std::sync::{Arc, OnceLock};

use super::thread::ThreadHandle;
use crate::loom::sync::Mutex;
// Panic capture lives in util (futures and multiprocessing use it too).
pub(crate) use crate::util::unwind::{PanicReport, install_panic_hook, run_captured};

/// A start or exit hook as stored: what [`start_hook`] and [`exit_hook`]
/// return.
pub type ThreadHook = Arc<dyn Fn(&ThreadHandle) + Send + Sync>;
type ExceptHook = Arc<dyn Fn(&ExceptHookArgs<'_>) + Send + Sync>;

struct Hooks {
    start: Mutex<Option<ThreadHook>>,
    exit: Mutex<Option<ThreadHook>>,
    except: Mutex<Option<ExceptHook>>,
}

fn hooks() -> &'static Hooks {
    static HOOKS: OnceLock<Hooks> = OnceLock::new();
    HOOKS.get_or_init(|| Hooks {
        start: Mutex::new(None),
        exit: Mutex::new(None),
        except: Mutex::new(None),
    })
}

/// What the excepthook is told about a panic that ended a thread: Python's
/// `threading.ExceptHookArgs`.
#[derive(Debug)]
pub struct ExceptHookArgs<'a> {
    thread: &'a ThreadHandle,
    message: &'a str,
    location: Option<&'a str>,
    backtrace: Option<&'a str>,
}

impl<'a> ExceptHookArgs<'a> {
    /// The thread whose target panicked (Python's `args.thread`).
    pub fn thread(&self) -> &'a ThreadHandle {
        self.thread
    }

    /// The panic message (Python's `args.exc_value`).
    pub fn message(&self) -> &'a str {
        self.message
    }

    /// Where the panic happened, as `file:line:column`, when known.
    pub fn location(&self) -> Option<&'a str> {
        self.location
    }

    /// The backtrace, when one was captured (`RUST_BACKTRACE=1`); Python's
    /// `args.exc_traceback`.
    pub fn backtrace(&self) -> Option<&'a str> {
        self.backtrace
    }

    /// The kind of exception: Python's `args.exc_type`. Rust has one kind,
    /// the panic, so this is always `"panic"`; Python's `SystemExit` (which
    /// the excepthook ignores) has no counterpart, as a thread cannot exit
    /// the process by unwinding.
    pub fn exc_type(&self) -> &'static str {
        "panic"
    }

    /// Python's `args.exc_value`: the panic message, as
    /// [`message`](Self::message).
    pub fn exc_value(&self) -> &'a str {
        self.message
    }

    /// Python's `args.exc_traceback`: the location and, when captured
    /// (`RUST_BACKTRACE=1`), the backtrace, as `panicked at FILE:LINE:COL`
    /// followed by the backtrace's lines. `None` when neither is known.
    pub fn exc_traceback(&self) -> Option<String> {
        match (self.location, self.backtrace) {
            (None, None) => None,
            (Some(at), None) => Some(format!("panicked at {at}")),
            (None, Some(bt)) => Some(bt.to_owned()),
            (Some(at), Some(bt)) => Some(format!("panicked at {at}\n{bt}")),
        }
    }
}

impl fmt::Display for ExceptHookArgs<'_> {
    /// The report [`default_excepthook`] prints, without a final newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Exception in thread {}:", self.thread.name())?;
        if let Some(location) = self.location {
            writeln!(f, "panicked at {location}:")?;
        }
        f.write_str(self.message)?;
        if let Some(bt) = self.backtrace {
            write!(f, "\nstack backtrace:\n{bt}")?;
        }
        Ok(())
    }
}

/// Replaces the excepthook: the function called on the panicking thread when
/// a threadkit thread's target panics (Python's `threading.excepthook = f`).
///
/// If the hook itself panics, that panic is reported to stderr and otherwise
/// ignored; the thread still finishes and `join` still reports the original
/// panic.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use threadkit::threading::{Thread, reset_excepthook, set_excepthook};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&seen);
/// set_excepthook(move |args| {
///     sink.lock().unwrap().push((args.thread().name().to_owned(), args.message().to_owned()));
/// });
/// let t = Thread::builder().name("bad").spawn(|| panic!("oops")).unwrap();
/// assert!(t.join().is_err());
/// reset_excepthook();
/// assert_eq!(*seen.lock().unwrap(), [("bad".to_owned(), "oops".to_owned())]);
/// ```
#[doc(alias = "excepthook")]
pub fn set_excepthook<F>(hook: F)
where
    F: Fn(&ExceptHookArgs<'_>) + Send + Sync + 'static,
{
    *hooks().except.lock() = Some(Arc::new(hook));
}

/// Restores [`default_excepthook`] (Python's
/// `threading.excepthook = threading.__excepthook__`).
pub fn reset_excepthook() {
    *hooks().except.lock() = None;
}

/// The excepthook threadkit starts with (Python's `threading.__excepthook__`):
/// prints `Exception in thread NAME:`, the panic location, the message and any
/// captured backtrace to stderr.
pub fn default_excepthook(args: &ExceptHookArgs<'_>) {
    eprintln!("{args}");
}

/// Sets the hook called on every threadkit thread when it starts, before its
/// target runs, with that thread's handle (the role of `threading.settrace`).
///
/// Hooks see only threads started after they are set. A panicking hook is
/// reported to stderr and does not stop the thread.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use threadkit::threading::{Thread, clear_start_hook, set_start_hook};
///
/// let started = Arc::new(AtomicUsize::new(0));
/// let count = Arc::clone(&started);
/// set_start_hook(move |t| {
///     if t.name() == "counted" {
///         count.fetch_add(1, Ordering::SeqCst);
///     }
/// });
/// Thread::builder().name("counted").spawn(|| ()).unwrap().join().unwrap();
/// clear_start_hook();
/// assert_eq!(started.load(Ordering::SeqCst), 1);
/// ```
#[doc(alias("settrace", "setprofile"))]
pub fn set_start_hook<F>(hook: F)
where
    F: Fn(&ThreadHandle) + Send + Sync + 'static,
{
    *hooks().start.lock() = Some(Arc::new(hook));
}

/// Removes the start hook (Python's `threading.settrace(None)`).
pub fn clear_start_hook() {
    *hooks().start.lock() = None;
}

/// The hook set by [`set_start_hook`], if any: the role of Python's
/// `threading.gettrace()`.
///
/// # Examples
///
/// Install a hook for a while, then put back whatever was there (Python's
/// `old = threading.gettrace(); threading.settrace(f); ...;
/// threading.settrace(old)`):
///
/// ```
/// use threadkit::threading::{clear_start_hook, set_start_hook, start_hook};
///
/// let old = start_hook();
/// set_start_hook(|t| eprintln!("starting {}", t.name()));
/// assert!(start_hook().is_some());
/// match old {
///     Some(old) => set_start_hook(move |t| old(t)),
///     None => clear_start_hook(),
/// }
/// ```
#[doc(alias = "gettrace")]
pub fn start_hook() -> Option<ThreadHook> {
    hooks().start.lock().clone()
}

/// The hook set by [`set_exit_hook`], if any: the role of Python's
/// `threading.getprofile()`. See [`start_hook`].
#[doc(alias = "getprofile")]
pub fn exit_hook() -> Option<ThreadHook> {
    hooks().exit.lock().clone()
}

/// Sets the hook called on every threadkit thread after its target returned
/// or panicked (and after the excepthook), just before the thread counts as
/// finished: `join` returns only after it ran. See [`set_start_hook`].
pub fn set_exit_hook<F>(hook: F)
where
    F: Fn(&ThreadHandle) + Send + Sync + 'static,
{
    *hooks().exit.lock() = Some(Arc::new(hook));
}

/// Removes the exit hook.
pub fn clear_exit_hook() {
    *hooks().exit.lock() = None;
}

/// Calls the excepthook for a panic that ended `thread`'s target.
pub(crate) fn report_exception(thread: &ThreadHandle, report: &PanicReport) {
    let backtrace = report.backtrace.as_ref().map(ToString::to_string);
    let args = ExceptHookArgs {
        thread,
        message: &report.message,
        location: report.location.as_deref(),
        backtrace: backtrace.as_deref(),
    };
    let hook = hooks().except.lock().clone();
    let outcome = run_captured(|| match hook {
        Some(hook) => hook(&args),
        None => default_excepthook(&args),
    });
    if let Err(failure) = outcome {
        report_hook_failure("threading.excepthook", thread, &failure);
    }
}

/// Prints a panic raised by one of the hooks themselves (Python reports a
/// failing excepthook as `Exception in threading.excepthook:`).
fn report_hook_failure(which: &str, thread: &ThreadHandle, failure: &PanicReport) {
    let _ = run_captured(|| {
        let backtrace = failure.backtrace.as_ref().map(ToString::to_string);
        let args = ExceptHookArgs {
            thread,
            message: &failure.message,
            location: failure.location.as_deref(),
            backtrace: backtrace.as_deref(),
        };
        eprintln!("Exception in {which}:\n{args}");
    });
}

fn run_thread_hook(which: &str, hook: Option<ThreadHook>, thread: &ThreadHandle) {
    if let Some(hook) = hook {
        if let Err(failure) = run_captured(|| hook(thread)) {
            report_hook_failure(which, thread, &failure);
        }
    }
}

pub(crate) fn run_start_hook(thread: &ThreadHandle) {
    let hook = hooks().start.lock().clone();
    run_thread_hook("threadkit start hook", hook, thread);
}

pub(crate) fn run_exit_hook(thread: &ThreadHandle) {
    let hook = hooks().exit.lock().clone();
    run_thread_hook("threadkit exit hook", hook, thread);
}
