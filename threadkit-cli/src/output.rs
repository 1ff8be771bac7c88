//! Output into a closed pipe: `threadkit tour | head` ends quietly, the way
//! `yes | head` does, instead of with a panic message.
//!
//! Rust ignores `SIGPIPE`, so a write to a pipe whose reader has gone fails
//! with `EPIPE`, and `println!` turns that failure into a panic. The CLI's
//! output comes from many places, the lesson examples compiled in among them
//! (they print with `println!` as any example does), often on their threads;
//! a panic hook is the one place that sees all of them. It ends the process
//! as a C program's default `SIGPIPE` action would: killed by `SIGPIPE`
//! (exit status 141 in a shell), with nothing on stderr. Any other panic
//! goes to the default hook unchanged.

use std::panic::PanicHookInfo;

/// Installs the hook; call it first in `main`.
pub(crate) fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(fd) = broken_stream(info) {
            if pipe_closed(fd) {
                die_of_sigpipe();
            }
        }
        default(info);
    }));
}

/// The file descriptor a panic of `print!`/`eprint!` failed to write to:
/// std's message is "failed printing to stdout: <the error>".
fn broken_stream(info: &PanicHookInfo<'_>) -> Option<i32> {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())?;
    if message.starts_with("failed printing to stdout") {
        Some(libc::STDOUT_FILENO)
    } else if message.starts_with("failed printing to stderr") {
        Some(libc::STDERR_FILENO)
    } else {
        None
    }
}

/// Whether `fd` is a pipe or socket whose reading end is closed (so the
/// failed write was `EPIPE`, not, say, a full disk, which must still show).
fn pipe_closed(fd: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid, initialised `pollfd` that lives across the
    // call; a timeout of 0 makes it a non-blocking query.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n == 1 && pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// Ends the process as the default action of `SIGPIPE` does.
fn die_of_sigpipe() -> ! {
    // SAFETY: restoring a signal's default disposition and raising it are
    // async-signal-safe libc calls with no memory arguments; `_exit` ends the
    // process without running atexit handlers or destructors (nor threads'
    // unwinding), which is what death by the signal would do as well.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
        libc::_exit(128 + libc::SIGPIPE)
    }
}
