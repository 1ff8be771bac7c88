//! The child side: the hook that turns a process started by threadkit into
//! a worker before `main` runs, and the worker loops.
//!
//! # Why a load-time hook
//!
//! A worker is the parent's own executable started again. On Linux
//! threadkit puts [`init_hook`] in the executable's constructor list
//! (`.init_array`; `__mod_init_func` is sketched for a macOS port): it runs before `main` in every
//! program linking threadkit, checks one environment variable and returns at
//! once when it is not set. When it is set, the process serves its parent
//! and exits without ever reaching `main`: the user writes no set-up line,
//! and test binaries, examples, benches and release builds all work the
//! same. `spawn.rs` refers to the hook, so any program that can start a
//! worker contains it. On other platforms, [`init`](super::init) must be the
//! first line of `main`; a worker where neither ran never says hello, and
//! the parent reports [`ProcessError::Handshake`](super::ProcessError::Handshake).
//!
//! # Whom a worker serves
//!
//! Anyone can start any program with the role variable set and a socket at
//! fd 3, so the hook trusts neither: before it reads anything else, it
//! checks the process at the other end of fd 3 (`trust.rs`) and refuses
//! unless that is its parent, running the same executable file with every
//! privilege this process holds. A refused start runs no call, prints one
//! line to stderr and exits with `trust::REFUSED_EXIT_CODE`. After that,
//! the environment's values come from a verified parent, and are still
//! clamped (the frame limit) rather than believed.

use std::io::BufReader;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::call::{CALL_HEADER, Call, Reply};
use super::current;
use super::error::FrameError;
use super::fdpass;
use super::frame::{self, DEFAULT_MAX_FRAME, MAX_FRAME_CAP};
use super::outbox::Outbox;
use super::trust::{self, REFUSED_EXIT_CODE, Refusal};
use super::wire;

/// The role of a child: `pool` or `process`. Unset in ordinary programs.
pub(crate) const ENV_ROLE: &str = "THREADKIT_MP_ROLE";
/// The parent's pid, for the orphan watchdog (set when the child must not
/// outlive its parent).
pub(crate) const ENV_WATCH_PARENT: &str = "THREADKIT_MP_WATCH_PARENT";
/// The largest frame the child accepts and sends.
pub(crate) const ENV_MAX_FRAME: &str = "THREADKIT_MP_MAX_FRAME";
/// The child's name (`Process` name, or the pool worker's).
pub(crate) const ENV_NAME: &str = "THREADKIT_MP_NAME";
/// The channel to the parent in the child.
pub(crate) const CHANNEL_FD: i32 = 3;

/// The constructor entry: see the module docs.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
#[used]
// SAFETY: `.init_array` holds `extern "C" fn()` pointers run once at load,
// before main; `init_hook` is such a function and never unwinds.
#[unsafe(link_section = ".init_array")]
pub(crate) static INIT_HOOK: extern "C" fn() = init_hook;

/// The constructor entry: see the module docs.
#[cfg(all(target_vendor = "apple", not(miri)))]
#[used]
// SAFETY: as above, for Mach-O's constructor section.
#[unsafe(link_section = "__DATA,__mod_init_func")]
pub(crate) static INIT_HOOK: extern "C" fn() = init_hook;

/// The constructor entry: see the module docs.
#[cfg(any(
    miri,
    not(any(target_os = "linux", target_os = "android", target_vendor = "apple"))
))]
pub(crate) static INIT_HOOK: extern "C" fn() = init_hook;

extern "C" fn init_hook() {
    // A panic must not unwind into the C runtime.
    if std::panic::catch_unwind(run_if_worker).is_err() {
        std::process::abort();
    }
}

/// Serves the parent and exits if this process was started as a worker;
/// returns at once otherwise.
pub(crate) fn run_if_worker() {
    let Ok(role) = std::env::var(ENV_ROLE) else {
        return;
    };
    let watch = std::env::var(ENV_WATCH_PARENT).ok();
    let max_frame = std::env::var(ENV_MAX_FRAME).ok();
    let name = std::env::var(ENV_NAME).ok();
    for var in [ENV_ROLE, ENV_WATCH_PARENT, ENV_MAX_FRAME, ENV_NAME] {
        // SAFETY: this runs before main (or as main's first line, as
        // documented for `init`), while the process has a single thread.
        unsafe { std::env::remove_var(var) };
    }
    // Rust's runtime ignores SIGPIPE before `main`; we run before it, so do
    // the same: a write to a closed pipe is an error, not death.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let role = match (role.as_str(), trust::check_parent(CHANNEL_FD)) {
        (_, Err(refusal)) => refuse(&refusal),
        ("pool", Ok(())) => Role::Pool,
        ("process", Ok(())) => Role::Process,
        (other, Ok(())) => {
            eprintln!("threadkit: unknown worker role {other:?} in {ENV_ROLE}; exiting");
            std::process::exit(PROTOCOL_EXIT_CODE);
        }
    };
    // The parent is verified; its values are still only inputs.
    let max_frame = max_frame
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(DEFAULT_MAX_FRAME)
        .min(MAX_FRAME_CAP);
    fdpass::enter_child();
    current::enter_child(name.unwrap_or_default(), watch.is_some());
    if let Some(parent) = watch.and_then(|p| p.parse::<i32>().ok()) {
        watch_parent(parent);
    }
    // SAFETY: `check_parent` found a connected socket at CHANNEL_FD, placed
    // there by our parent before exec (spawn.rs); nothing else owns it.
    let channel = unsafe { UnixStream::from_raw_fd(CHANNEL_FD) };
    let code = serve(&channel, role, max_frame);
    drop(channel);
    std::process::exit(code);
}

/// The exit code of a worker whose parent broke the protocol (a bad frame,
/// an unknown message kind).
pub(crate) const PROTOCOL_EXIT_CODE: i32 = 3;

/// What a verified child was started to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// A pool worker: an optional INIT, then TASKs until EOF.
    Pool,
    /// A `Process`: one RUN.
    Process,
}

/// A request from the parent, checked against the worker's role.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    pub(crate) kind: u8,
    pub(crate) id: u64,
    /// An encoded `Call` (see `call.rs`).
    pub(crate) call: &'a [u8],
}

/// Splits a message from the parent and checks that this role takes its
/// kind: a pool worker takes TASK and INIT, a `Process` one RUN.
pub(crate) fn decode_request(role: Role, msg: &[u8]) -> Result<Request<'_>, FrameError> {
    let (kind, id, call) = wire::split(msg)?;
    match (role, kind) {
        (Role::Pool, wire::TASK | wire::INIT) | (Role::Process, wire::RUN) => {}
        _ => {
            return Err(FrameError::Corrupt(format!(
                "a {role:?} worker takes no message of kind {kind}"
            )));
        }
    }
    if call.len() < CALL_HEADER {
        return Err(FrameError::Corrupt(format!(
            "a call of {} bytes has no header",
            call.len()
        )));
    }
    Ok(Request { kind, id, call })
}

/// Tells the peer (if there is one) and stderr why this process will not
/// serve, and exits without running anything.
fn refuse(refusal: &Refusal) -> ! {
    if !matches!(refusal, Refusal::NoChannel(_)) {
        let mut hello = Vec::new();
        wire::begin(&mut hello, wire::HELLO, u64::from(std::process::id()));
        hello.push(refusal.status());
        let mut framed = Vec::new();
        if frame::write_frame(&mut framed, &hello).is_ok() {
            // SAFETY: `check_parent` got peer credentials from CHANNEL_FD, so
            // it is an open, connected socket; `framed` is valid for reads of
            // its length. A failed send changes nothing: we exit either way.
            unsafe {
                libc::send(
                    CHANNEL_FD,
                    framed.as_ptr().cast(),
                    framed.len(),
                    libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                )
            };
        }
    }
    eprintln!("threadkit: refusing to serve as a worker process: {refusal}");
    std::process::exit(REFUSED_EXIT_CODE);
}

/// Exits this process as soon as its parent is gone (re-parented), checked
/// ten times a second; a backstop to `PR_SET_PDEATHSIG` and to EOF on the
/// channel, for a worker busy in a long task.
fn watch_parent(parent: i32) {
    let spawned = std::thread::Builder::new()
        .name("threadkit-orphan-watch".into())
        .spawn(move || {
            loop {
                // SAFETY: getppid has no preconditions.
                if unsafe { libc::getppid() } != parent {
                    // SAFETY: _exit has no preconditions; nothing of the
                    // dead parent's work is worth flushing.
                    unsafe { libc::_exit(1) };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    drop(spawned);
}

fn serve(channel: &UnixStream, role: Role, max_frame: usize) -> i32 {
    let Ok(outbox) = channel.try_clone().and_then(Outbox::start) else {
        return 2;
    };
    let code = serve_requests(channel, &outbox, role, max_frame);
    // Whatever the reason to stop, replies already made reach the parent.
    let _ = outbox.flush();
    code
}

fn serve_requests(channel: &UnixStream, outbox: &Outbox, role: Role, max_frame: usize) -> i32 {
    let mut r = BufReader::with_capacity(1 << 16, channel);
    let mut out = Vec::with_capacity(256);
    wire::begin(&mut out, wire::HELLO, u64::from(std::process::id()));
    out.push(wire::HELLO_READY);
    if outbox.send(&out, false).is_err() {
        return 2;
    }
    if role == Role::Pool {
        // A task's panic is its future's error; Python's pool prints nothing.
        // threadkit's hook, chained on top, stashes where a task panicked
        // for the reply.
        std::panic::set_hook(Box::new(|_| {}));
        crate::util::unwind::install_panic_hook();
    }
    loop {
        let msg = match frame::read_frame(&mut r, max_frame) {
            Ok(Some(msg)) => msg,
            Ok(None) => return 0,
            Err(_) => return PROTOCOL_EXIT_CODE,
        };
        // A kind this role does not take is a broken protocol: answer
        // nothing, run nothing.
        let Ok(Request { kind, id, call }) = decode_request(role, &msg) else {
            return PROTOCOL_EXIT_CODE;
        };
        // SAFETY: the call comes from our parent, which
        // `trust::check_parent` verified runs this same executable file
        // (same device and inode) and holds every privilege we do; it builds
        // calls only through `Call::encode_into`. Anything a parent could
        // make us run, it could run itself.
        let mut reply = unsafe { Call::run(call) };
        if kind == wire::RUN {
            return i32::from(!matches!(reply, Reply::Ok(_)));
        }
        if let Reply::Ok(bytes) = &reply {
            if bytes.len() + wire::HEADER > max_frame {
                reply = Reply::BadResult(format!(
                    "a result of {} bytes exceeds the frame limit of {max_frame} bytes",
                    bytes.len()
                ));
            }
        }
        wire::encode_reply(&mut out, id, &reply);
        // While more requests are buffered, a burst of small tasks shares
        // one write (the outbox still sends each reply within a moment).
        if outbox.send(&out, !r.buffer().is_empty()).is_err() {
            return 0;
        }
        if kind == wire::INIT && !matches!(reply, Reply::Ok(_)) {
            return 4;
        }
    }
}
