//! [`create_subprocess_exec`] and [`Subprocess`]: Python's
//! `asyncio.create_subprocess_exec` and `asyncio.subprocess.Process`, over
//! tokio's process support.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use tokio::process::{Child, Command};

use super::streams::{StreamReader, StreamWriter};

/// Where a child's standard stream goes: Python's `stdout=None`, `PIPE`,
/// `DEVNULL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Redirect {
    /// The parent's own stream (Python's `None`).
    #[default]
    Inherit,
    /// A pipe the parent reads or writes
    /// ([`Subprocess::stdout`] and the others).
    #[doc(alias = "PIPE")]
    Pipe,
    /// `/dev/null` (Python's `DEVNULL`).
    #[doc(alias = "DEVNULL")]
    Null,
}

/// The three standard streams of a child, each a [`Redirect`]: Python's
/// `stdin=`, `stdout=`, `stderr=` keywords.
///
/// ```
/// use threadkit::asyncio::{Redirect, Stdio};
///
/// let stdio = Stdio { stdout: Redirect::Pipe, ..Stdio::default() };
/// assert_eq!(stdio.stdin, Redirect::Inherit);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stdio {
    /// The child's standard input.
    pub stdin: Redirect,
    /// The child's standard output.
    pub stdout: Redirect,
    /// The child's standard error.
    pub stderr: Redirect,
}

fn std_stdio(r: Redirect) -> std::process::Stdio {
    match r {
        Redirect::Inherit => std::process::Stdio::inherit(),
        Redirect::Pipe => std::process::Stdio::piped(),
        Redirect::Null => std::process::Stdio::null(),
    }
}

/// Python's `returncode`: the exit code, or `-signal` if a signal ended it.
fn returncode(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => -signal,
        (None, None) => -1,
    }
}

/// Starts `program` with `args`: Python's
/// `await asyncio.create_subprocess_exec(program, *args, stdout=PIPE)`.
///
/// # Errors
///
/// The operating system's error if the program cannot be started (Python's
/// `FileNotFoundError`, `PermissionError`).
///
/// # Panics
///
/// When called outside a running loop.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio::{self, Redirect, Stdio};
///
/// asyncio::run(async {
///     let stdio = Stdio { stdout: Redirect::Pipe, ..Stdio::default() };
///     let mut proc = asyncio::create_subprocess_exec("echo", ["hello"], stdio).await.unwrap();
///     let line = proc.stdout.as_mut().unwrap().readline().await.unwrap();
///     assert_eq!(line, b"hello\n");
///     assert_eq!(proc.wait().await.unwrap(), 0);
/// })
/// .unwrap();
/// ```
///
/// # Differences from Python's `create_subprocess_exec`
///
/// The keywords are one [`Stdio`] value; `stderr=STDOUT` has no
/// counterpart yet.
pub async fn create_subprocess_exec<I, S>(
    program: impl AsRef<OsStr>,
    args: I,
    stdio: Stdio,
) -> io::Result<Subprocess>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = Command::new(program)
        .args(args)
        .stdin(std_stdio(stdio.stdin))
        .stdout(std_stdio(stdio.stdout))
        .stderr(std_stdio(stdio.stderr))
        .spawn()?;
    Ok(Subprocess {
        stdin: child.stdin.take().map(|w| StreamWriter::new(w, None)),
        stdout: child.stdout.take().map(StreamReader::new),
        stderr: child.stderr.take().map(StreamReader::new),
        child,
        status: None,
    })
}

/// A child process started by [`create_subprocess_exec`]: Python's
/// `asyncio.subprocess.Process`.
///
/// Dropping it does not stop the child (as in Python); [`kill`](Subprocess::kill)
/// or [`wait`](Subprocess::wait) first.
pub struct Subprocess {
    /// The child's standard input, with [`Redirect::Pipe`].
    pub stdin: Option<StreamWriter>,
    /// The child's standard output, with [`Redirect::Pipe`].
    pub stdout: Option<StreamReader>,
    /// The child's standard error, with [`Redirect::Pipe`].
    pub stderr: Option<StreamReader>,
    child: Child,
    status: Option<ExitStatus>,
}

impl Subprocess {
    /// The child's process id, until it has been waited for (Python's
    /// `pid`).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The exit code once the child has ended and been waited for, `-N`
    /// if signal `N` ended it (Python's `returncode`).
    pub fn returncode(&mut self) -> Option<i32> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status.map(returncode)
    }

    /// Waits for the child to end and returns its
    /// [`returncode`](Subprocess::returncode) (Python's `await wait()`).
    ///
    /// With a piped stdout or stderr that nobody reads, a child that
    /// writes much can block on the full pipe: read it, or use
    /// [`communicate`](Subprocess::communicate), as Python's docs warn.
    ///
    /// # Errors
    ///
    /// The operating system's error from waiting.
    pub async fn wait(&mut self) -> io::Result<i32> {
        if let Some(status) = self.status {
            return Ok(returncode(status));
        }
        // Close our end of stdin so a child reading it sees the end.
        self.stdin = None;
        let status = self.child.wait().await?;
        self.status = Some(status);
        Ok(returncode(status))
    }

    /// Sends `input` to stdin (then closes it), reads stdout and stderr to
    /// their end, and waits for the child: Python's
    /// `stdout, stderr = await proc.communicate(input)`. A stream not
    /// piped gives an empty `Vec`.
    ///
    /// # Errors
    ///
    /// The operating system's error from a pipe or from waiting.
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let stdin = self.stdin.take();
        let stdout = self.stdout.take();
        let stderr = self.stderr.take();
        let write = async move {
            if let (Some(mut w), Some(input)) = (stdin, input) {
                w.write(input);
                // A child that exits without reading is not an error.
                match w.close().await {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    other => other?,
                }
            }
            Ok::<(), io::Error>(())
        };
        let read = |r: Option<StreamReader>| async move {
            match r {
                Some(mut r) => r.read_to_end().await,
                None => Ok(Vec::new()),
            }
        };
        // The three at once, or a child filling one pipe while we write
        // another would wait for ever.
        let out = tokio::spawn(read(stdout));
        let err = tokio::spawn(read(stderr));
        let w = write.await;
        let joined = |j: Result<io::Result<Vec<u8>>, tokio::task::JoinError>| {
            j.map_err(|e| io::Error::other(e.to_string()))?
        };
        let out = (joined(out.await), joined(err.await));
        w?;
        let out = (out.0?, out.1?);
        self.wait().await?;
        Ok(out)
    }

    /// Kills the child with `SIGKILL` (Python's `kill()`).
    ///
    /// # Errors
    ///
    /// The operating system's error; none if the child has already been
    /// waited for.
    pub fn kill(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Asks the child to end with `SIGTERM` (Python's `terminate()`).
    ///
    /// # Errors
    ///
    /// As [`kill`](Subprocess::kill).
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends `signal` to the child (Python's `send_signal`), unless it has
    /// already been waited for (its pid may then belong to another process).
    ///
    /// # Errors
    ///
    /// The operating system's error.
    pub fn send_signal(&mut self, signal: i32) -> io::Result<()> {
        if self.returncode().is_some() {
            return Ok(());
        }
        let Some(pid) = self.child.id() else {
            return Ok(());
        };
        let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
        // SAFETY: kill(2) with a pid of our own child that has not been
        // reaped (so the pid is not reused) and a signal number.
        if unsafe { libc::kill(pid, signal) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl fmt::Debug for Subprocess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subprocess")
            .field("pid", &self.child.id())
            .field("status", &self.status)
            .finish()
    }
}
