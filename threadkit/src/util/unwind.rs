//! Catching panics at the boundaries where threadkit reports them as
//! exceptions: a thread's target, a pool's task, a done-callback, a hook.
//!
//! [`run_captured`] runs a closure and turns a panic into a [`PanicReport`]:
//! the message, and where it was raised. The location and backtrace come
//! from threadkit's process panic hook ([`install_panic_hook`]), which
//! stashes them instead of printing Rust's `thread '…' panicked at …` line
//! while a capturing closure runs, so that the panic is reported once, by
//! whoever receives the report (the excepthook, a future's error).
//!
//! ```
//! # // The module is crate-internal; this shows what users observe.
//! let pool = threadkit::futures::ThreadPoolExecutor::new(1).unwrap();
//! let f = pool.submit(|| -> u8 { panic!("bad input") }).unwrap();
//! assert_eq!(f.result(), Err(threadkit::futures::FutureError::Panicked("bad input".into())));
//! ```
//!
//! The no-panic path costs one thread-local flag set and restored around
//! the closure; the hook's work happens only when something panics.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// The message a panic was raised with: the `&str` or `String` given to `panic!`,
/// or a placeholder for any other payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// A panic caught by [`run_captured`].
#[derive(Debug)]
pub(crate) struct PanicReport {
    pub(crate) message: String,
    /// `file:line:column` where it was raised, if threadkit's panic hook
    /// was installed when it happened.
    pub(crate) location: Option<String>,
    /// A backtrace, if `RUST_BACKTRACE` asked for one: captured, not yet
    /// resolved to symbols (that happens when it is formatted).
    pub(crate) backtrace: Option<std::backtrace::Backtrace>,
}

#[derive(Debug, Default)]
struct Stash {
    location: Option<String>,
    backtrace: Option<std::backtrace::Backtrace>,
}

thread_local! {
    /// What the hook does with a panic of the code threadkit runs now:
    /// `NOT_CAPTURING`, `SILENT` or `PRINTED`.
    static CAPTURING: Cell<u8> = const { Cell::new(NOT_CAPTURING) };
    /// What the panic hook saw of the last captured panic on this thread.
    static STASH: RefCell<Option<Stash>> = const { RefCell::new(None) };
}

/// Installs threadkit's panic hook once, chained to the current one: it
/// stashes the location of panics inside [`run_captured`] and passes every
/// other panic to the previous hook.
pub(crate) fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    // set_hook panics when called from a panicking thread: try again later.
    if INSTALLED.load(Ordering::Acquire) || std::thread::panicking() {
        return;
    }
    if INSTALLED.swap(true, Ordering::AcqRel) {
        return;
    }
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let mode = CAPTURING.try_with(Cell::get).unwrap_or(NOT_CAPTURING);
        if mode != NOT_CAPTURING {
            let backtrace = std::backtrace::Backtrace::capture();
            let stash = Stash {
                location: info.location().map(|l| l.to_string()),
                backtrace: match backtrace.status() {
                    std::backtrace::BacktraceStatus::Captured => Some(backtrace),
                    _ => None,
                },
            };
            let _ = STASH.try_with(|s| s.replace(Some(stash)));
        }
        if mode != SILENT {
            previous(info);
        }
    }));
}

/// Drops a panic payload, whose own `Drop` might panic.
fn drop_payload(payload: Box<dyn Any + Send>) {
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

/// The code runs outside [`run_captured`]: the hook passes its panics on.
const NOT_CAPTURING: u8 = 0;
/// The panic is reported once, by whoever receives the report.
const SILENT: u8 = 1;
/// The panic is printed as usual too: nobody may ever look at the report.
#[cfg(feature = "asyncio")]
const PRINTED: u8 = 2;

/// Runs `f`, catching a panic and what the panic hook stashed about it.
pub(crate) fn run_captured<R>(f: impl FnOnce() -> R) -> Result<R, PanicReport> {
    run_in_mode(SILENT, f)
}

/// [`run_captured`], but the panic is also printed by the previous hook:
/// for a task whose outcome nobody may retrieve (an asyncio task left to
/// run on its own), as Python logs "Task exception was never retrieved".
#[cfg(feature = "asyncio")]
pub(crate) fn run_captured_printed<R>(f: impl FnOnce() -> R) -> Result<R, PanicReport> {
    run_in_mode(PRINTED, f)
}

fn run_in_mode<R>(mode: u8, f: impl FnOnce() -> R) -> Result<R, PanicReport> {
    let was = CAPTURING
        .try_with(|c| c.replace(mode))
        .unwrap_or(NOT_CAPTURING);
    // AssertUnwindSafe: after a panic nothing of `f`'s state is used again.
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    let _ = CAPTURING.try_with(|c| c.set(was));
    outcome.map_err(|payload| {
        let message = panic_message(&*payload);
        drop_payload(payload);
        let stash = STASH
            .try_with(|s| s.take())
            .ok()
            .flatten()
            .unwrap_or_default();
        PanicReport {
            message,
            location: stash.location,
            backtrace: stash.backtrace,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{install_panic_hook, panic_message, run_captured};

    #[test]
    fn messages_from_str_string_and_other() {
        let p = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        assert_eq!(panic_message(&*p), "boom");
        let p = std::panic::catch_unwind(|| panic!("{} {}", "formatted", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "formatted 1");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "Box<dyn Any>");
    }

    #[test]
    fn a_captured_panic_reports_its_file_and_line() {
        install_panic_hook();
        let line = line!() + 1;
        let report = run_captured(|| -> () { panic!("here") }).unwrap_err();
        assert_eq!(report.message, "here");
        let location = report.location.expect("the hook stashed the location");
        assert!(
            location.starts_with(&format!("{}:{line}:", file!())),
            "{location}"
        );
        assert_eq!(run_captured(|| 5).unwrap(), 5);
    }
}
