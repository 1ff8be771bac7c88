//! A thread dump on a Unix signal, while the process keeps running: the
//! JVM's SIGQUIT, Python's `faulthandler.register(signum)`.
//!
//! The signal handler only writes one byte to a pipe (`write` is
//! async-signal-safe; formatting a dump is not). A daemon thread,
//! `threadkit-signal`, reads the pipe and takes the dump.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

use super::dump::{ThreadDump, dump_threads};
use crate::threading::Thread;

/// Which signal asks for a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpSignal {
    /// `SIGQUIT` (Ctrl-\ in a terminal), as the JVM does. Replaces the
    /// default action, which ends the process with a core dump.
    Quit,
    /// `SIGUSR1`: `kill -USR1 <pid>`.
    Usr1,
}

impl DumpSignal {
    fn number(self) -> libc::c_int {
        match self {
            DumpSignal::Quit => libc::SIGQUIT,
            DumpSignal::Usr1 => libc::SIGUSR1,
        }
    }
}

type Handler = Arc<dyn Fn(&ThreadDump) + Send + Sync>;

/// The pipe's write end, for the signal handler; -1 until installed.
static WRITE_END: AtomicI32 = AtomicI32::new(-1);
static HANDLER: Mutex<Option<Handler>> = Mutex::new(None);

/// Prints a [`ThreadDump`] to stderr each time the process receives
/// `signal`; the process keeps running.
///
/// # Errors
///
/// The operating system's error if the pipe, the reader thread or the
/// signal handler could not be set up.
pub fn install_dump_signal(signal: DumpSignal) -> io::Result<()> {
    install_dump_signal_with(signal, |dump| eprintln!("{dump}"))
}

/// Like [`install_dump_signal`], handing each dump to `handler` instead.
/// A later call replaces the handler.
///
/// # Errors
///
/// As for [`install_dump_signal`].
pub fn install_dump_signal_with(
    signal: DumpSignal,
    handler: impl Fn(&ThreadDump) + Send + Sync + 'static,
) -> io::Result<()> {
    *HANDLER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(handler));
    reader_started()?;
    // SAFETY: `on_signal` is an `extern "C"` function that only does
    // async-signal-safe work (an atomic load and `write`, saving errno);
    // the `sigaction` struct is fully initialised (zeroed, then set).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(signal.number(), &action, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Creates the pipe and starts the reader thread, once.
fn reader_started() -> io::Result<()> {
    static STARTED: OnceLock<Result<(), io::ErrorKind>> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error().kind());
        }
        let [read_end, write_end] = fds;
        // A full pipe must not block the handler: dumps already asked for
        // are enough.
        // SAFETY: `write_end` is the descriptor `pipe2` just returned.
        unsafe {
            let flags = libc::fcntl(write_end, libc::F_GETFL);
            libc::fcntl(write_end, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        let spawned = Thread::builder()
            .name("threadkit-signal")
            .daemon(true)
            .spawn(move || read_requests(read_end));
        if let Err(e) = spawned {
            // SAFETY: both descriptors are ours and nothing else uses them.
            unsafe {
                libc::close(read_end);
                libc::close(write_end);
            }
            return Err(io::Error::other(e.to_string()).kind());
        }
        WRITE_END.store(write_end, Relaxed);
        Ok(())
    });
    started.map_err(io::Error::from)
}

/// The reader thread: one dump per byte received.
fn read_requests(read_end: libc::c_int) {
    let mut byte = 0u8;
    loop {
        // SAFETY: `byte` is a valid one-byte buffer; `read_end` stays open
        // for the life of the process.
        let n = unsafe { libc::read(read_end, (&raw mut byte).cast(), 1) };
        if n == 1 {
            let handler = HANDLER.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(handler) = handler {
                handler(&dump_threads());
            }
        } else if n == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

extern "C" fn on_signal(_: libc::c_int) {
    let fd = WRITE_END.load(Relaxed);
    if fd < 0 {
        return;
    }
    // SAFETY: `write` and errno access are async-signal-safe; the byte is
    // a valid buffer. errno is restored so the interrupted code sees its own.
    unsafe {
        let errno = *libc::__errno_location();
        let byte = 1u8;
        libc::write(fd, (&raw const byte).cast(), 1);
        *libc::__errno_location() = errno;
    }
}
