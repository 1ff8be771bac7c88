//! Starting a worker: `current_exe()` run again with a role in its
//! environment, its channel at fd 3, then the handshake.
//!
//! The parent never forks without exec: `std::process::Command` forks (or
//! uses `posix_spawn`) and execs at once; between the two only
//! async-signal-safe calls run (`fcntl`, `dup2`, `prctl`, `getppid`).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

#[cfg(all(test, not(miri)))]
use super::error::FrameError;
use super::error::ProcessError;
use super::fdpass::FIRST_PASSED_FD;
use super::frame::{self, ReadError};
use super::trust::Refusal;
use super::wire;
use super::worker::{self, CHANNEL_FD};

/// How a worker is started.
#[derive(Debug)]
pub(crate) struct Options<'a> {
    /// `"pool"` or `"process"`.
    pub(crate) role: &'static str,
    /// The child's name, for its `current_process()`.
    pub(crate) name: &'a str,
    /// Exit when the parent exits (daemon processes and pool workers).
    pub(crate) watch_parent: bool,
    /// Also ask Linux to kill the child when the *spawning thread* exits;
    /// only for children reaped by the thread that spawned them.
    pub(crate) death_signal: bool,
    /// Descriptors to place at `FIRST_PASSED_FD..` in the child.
    pub(crate) fds: &'a [OwnedFd],
    pub(crate) max_frame: usize,
    pub(crate) handshake: Duration,
}

/// A started, greeted worker.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) child: Child,
    pub(crate) channel: UnixStream,
}

/// Starts a worker and waits for its hello.
pub(crate) fn spawn(opts: &Options<'_>) -> Result<Worker, ProcessError> {
    // Keep the constructor hook in every program that can start a worker.
    std::hint::black_box(&worker::INIT_HOOK);
    let exe = std::env::current_exe().map_err(ProcessError::Spawn)?;
    let (channel, child_end) = UnixStream::pair().map_err(ProcessError::Spawn)?;
    let mut sources: Vec<RawFd> = vec![child_end.as_raw_fd()];
    sources.extend(opts.fds.iter().map(AsRawFd::as_raw_fd));
    let mut scratch = vec![0 as RawFd; sources.len()];
    let parent = std::process::id() as i32;
    let death_signal = opts.death_signal;

    let mut cmd = Command::new(exe);
    cmd.env(worker::ENV_ROLE, opts.role)
        .env(worker::ENV_MAX_FRAME, opts.max_frame.to_string())
        .env(worker::ENV_NAME, opts.name)
        .stdin(Stdio::null());
    if opts.watch_parent {
        cmd.env(worker::ENV_WATCH_PARENT, parent.to_string());
    }
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe calls on memory allocated before the fork
    // (`sources`, `scratch`); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            // First move every source out of the way (a source may sit at a
            // target number), then place them; dup2 clears close-on-exec.
            for (tmp, &src) in scratch.iter_mut().zip(&sources) {
                *tmp = libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 64);
                if *tmp < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            for (i, &tmp) in scratch.iter().enumerate() {
                let target = if i == 0 {
                    CHANNEL_FD
                } else {
                    FIRST_PASSED_FD + (i as RawFd - 1)
                };
                if libc::dup2(tmp, target) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            #[cfg(target_os = "linux")]
            if death_signal {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            #[cfg(not(target_os = "linux"))]
            let _ = death_signal;
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(ProcessError::Spawn)?;
    drop(child_end);
    match handshake(&channel, opts) {
        Ok(()) => Ok(Worker { child, channel }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

fn handshake(channel: &UnixStream, opts: &Options<'_>) -> Result<(), ProcessError> {
    channel
        .set_read_timeout(Some(opts.handshake))
        .map_err(ProcessError::Io)?;
    let mut reader = channel;
    let hello = match frame::read_frame(&mut reader, opts.max_frame) {
        Ok(Some(msg)) => msg,
        Ok(None) => {
            return Err(ProcessError::Handshake(
                "the child exited without saying hello".to_owned(),
            ));
        }
        Err(ReadError::Io(e))
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Err(ProcessError::Handshake(format!(
                "the child did not say hello within {:?}; on this platform call \
                 threadkit::multiprocessing::init() as the first line of main",
                opts.handshake
            )));
        }
        Err(ReadError::Io(e)) => return Err(ProcessError::Io(e)),
        Err(ReadError::Frame(e)) => return Err(ProcessError::Frame(e)),
    };
    let (kind, _pid, body) = wire::split(&hello)?;
    match (kind, body) {
        (wire::HELLO, [wire::HELLO_READY]) => {}
        (wire::HELLO, [status]) => {
            return Err(ProcessError::Handshake(format!(
                "the worker refused to serve: {}",
                Refusal::describe_status(*status)
            )));
        }
        _ => {
            return Err(ProcessError::Handshake(
                "the child's hello is malformed".to_owned(),
            ));
        }
    }
    channel.set_read_timeout(None).map_err(ProcessError::Io)
}

/// Python's exit code: the process's status, or minus the signal that
/// killed it.
pub(crate) fn exitcode(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| -s))
        .unwrap_or(-1)
}

/// Describes how a worker ended, for error messages.
pub(crate) fn describe(code: i32) -> String {
    if code < 0 {
        let name = match -code {
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGTERM => " (SIGTERM)",
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGSEGV => " (SIGSEGV)",
            _ => "",
        };
        format!("was killed by signal {}{name}", -code)
    } else {
        format!("exited with code {code}")
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    fn opts() -> Options<'static> {
        Options {
            role: "pool",
            name: "test",
            watch_parent: false,
            death_signal: false,
            fds: &[],
            max_frame: 1 << 10,
            handshake: Duration::from_millis(200),
        }
    }

    fn hello(status: u8) -> Vec<u8> {
        let mut msg = Vec::new();
        wire::begin(&mut msg, wire::HELLO, 1);
        msg.push(status);
        let mut framed = Vec::new();
        frame::write_frame(&mut framed, &msg).unwrap();
        framed
    }

    /// A child where the worker hook never ran says nothing: a typed error
    /// after the timeout, not a hang.
    #[test]
    fn silent_child_is_a_handshake_error() {
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let start = std::time::Instant::now();
        match handshake(&ours, &opts()) {
            Err(ProcessError::Handshake(msg)) => {
                assert!(msg.contains("did not say hello"), "{msg}")
            }
            other => panic!("{other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn hello_statuses() {
        use std::io::Write;
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&hello(wire::HELLO_READY)).unwrap();
        handshake(&ours, &opts()).unwrap();

        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&hello(1)).unwrap();
        assert!(
            matches!(handshake(&ours, &opts()), Err(ProcessError::Handshake(m)) if m.contains("changed"))
        );

        let (ours, theirs) = UnixStream::pair().unwrap();
        drop(theirs);
        assert!(
            matches!(handshake(&ours, &opts()), Err(ProcessError::Handshake(m)) if m.contains("exited"))
        );

        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(&5000u32.to_le_bytes()).unwrap();
        assert!(matches!(
            handshake(&ours, &opts()),
            Err(ProcessError::Frame(FrameError::Oversized { .. }))
        ));
    }

    #[test]
    fn exit_descriptions() {
        assert_eq!(describe(3), "exited with code 3");
        assert_eq!(describe(-9), "was killed by signal 9 (SIGKILL)");
    }
}
