//! The errors of the `multiprocessing` module.

use std::error::Error;
use std::fmt;
use std::io;

/// A length-prefixed frame that could not be read: the bytes on the wire
/// were cut short, too large or not what the other side should have sent.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameError {
    /// The stream ended inside a frame.
    Truncated,
    /// The frame announces (or needs) more bytes than the limit allows.
    Oversized {
        /// The frame's size in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The frame's contents do not decode.
    Corrupt(String),
}

impl fmt::Debug for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated => f.write_str("Truncated"),
            FrameError::Oversized { len, max } => f
                .debug_struct("Oversized")
                .field("len", len)
                .field("max", max)
                .finish(),
            FrameError::Corrupt(msg) => f.debug_tuple("Corrupt").field(msg).finish(),
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated => f.write_str("the stream ended inside a frame"),
            FrameError::Oversized { len, max } => {
                write!(f, "a frame of {len} bytes exceeds the limit of {max} bytes")
            }
            FrameError::Corrupt(msg) => write!(f, "corrupt frame: {msg}"),
        }
    }
}

impl Error for FrameError {}

/// Why an operation on a [`Process`](super::Process) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// `start` was called twice (Python's `AssertionError: cannot start a
    /// process twice`).
    AlreadyStarted,
    /// `join`, `terminate` or `kill` before `start`.
    NotStarted,
    /// The process handle was [closed](super::Process::close) (Python's
    /// `ValueError: process object is closed`).
    Closed,
    /// `close` while the child still runs (Python's `ValueError: Cannot
    /// close a process while it is still running`).
    StillRunning,
    /// The operating system refused to start the child.
    Spawn(io::Error),
    /// The child never said hello: threadkit's worker hook did not run in
    /// it (see the [module docs](super#set-up)), or it is another program.
    Handshake(String),
    /// The argument (or the value) could not be serialized.
    Encode(String),
    /// Talking to the child failed.
    Io(io::Error),
    /// A frame from the child was bad.
    Frame(FrameError),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::AlreadyStarted => f.write_str("cannot start a process twice"),
            ProcessError::NotStarted => f.write_str("can only join a started process"),
            ProcessError::Closed => f.write_str("process object is closed"),
            ProcessError::StillRunning => {
                f.write_str("cannot close a process while it is still running")
            }
            ProcessError::Spawn(e) => write!(f, "could not start the child process: {e}"),
            ProcessError::Handshake(msg) => write!(f, "worker handshake failed: {msg}"),
            ProcessError::Encode(msg) => write!(f, "could not serialize: {msg}"),
            ProcessError::Io(e) => write!(f, "i/o error talking to the child: {e}"),
            ProcessError::Frame(e) => e.fmt(f),
        }
    }
}

impl Error for ProcessError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ProcessError::Spawn(e) | ProcessError::Io(e) => Some(e),
            ProcessError::Frame(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FrameError> for ProcessError {
    fn from(e: FrameError) -> Self {
        ProcessError::Frame(e)
    }
}

/// Why a send or receive on a [`Connection`](super::Connection) or a
/// [`Queue`](super::Queue) failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChannelError {
    /// The other end is closed (Python's `EOFError` / `BrokenPipeError`).
    Closed,
    /// Nothing arrived before the timeout (Python's `queue.Empty`).
    Timeout,
    /// No room before the timeout: a `multiprocessing::Queue` at its
    /// `maxsize`, or a full socket buffer (Python's `queue.Full`).
    Full,
    /// The value could not be serialized, or is too large.
    Encode(String),
    /// A received message was cut short, too large or did not decode.
    Frame(FrameError),
    /// Another operating-system error.
    Io(io::Error),
    /// A send on the receiving end of a one-way pipe, or a receive on its
    /// sending end (Python's `OSError: connection is read-only`).
    WrongEnd(&'static str),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Closed => f.write_str("the other end is closed"),
            ChannelError::Timeout => f.write_str("timed out"),
            ChannelError::Full => f.write_str("the queue is full"),
            ChannelError::Encode(msg) => write!(f, "could not serialize: {msg}"),
            ChannelError::Frame(e) => e.fmt(f),
            ChannelError::Io(e) => write!(f, "i/o error: {e}"),
            ChannelError::WrongEnd(msg) => f.write_str(msg),
        }
    }
}

impl Error for ChannelError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ChannelError::Io(e) => Some(e),
            ChannelError::Frame(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FrameError> for ChannelError {
    fn from(e: FrameError) -> Self {
        ChannelError::Frame(e)
    }
}

impl From<io::Error> for ChannelError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::UnexpectedEof => ChannelError::Closed,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ChannelError::Timeout,
            _ => ChannelError::Io(e),
        }
    }
}
