//! [`pipe`] and [`Connection`]: Python's `multiprocessing.Pipe()`, a duplex
//! channel of serde values between two processes.

use std::fmt;
use std::io::Write;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::codec;
use super::error::{ChannelError, FrameError};
use super::fdpass::{Passed, Received};
use super::frame::{self, DEFAULT_MAX_FRAME, FrameReader, Progress, ReadError};
use crate::loom::sync::Mutex;
use crate::util::wait::Deadline;

/// Two connected [`Connection`]s (Python's `Pipe(duplex=True)`): what one
/// sends the other receives, both ways.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::{Connection, Process, pipe};
///
/// fn child(conn: Connection) {
///     let n: u64 = conn.recv().unwrap();
///     conn.send(&(n * 2)).unwrap();
/// }
///
/// let (parent_end, child_end) = pipe().unwrap();
/// let p = Process::new(child, child_end);
/// p.start().unwrap();
/// parent_end.send(&21u64).unwrap();
/// assert_eq!(parent_end.recv::<u64>().unwrap(), 42);
/// assert_eq!(p.join().unwrap(), 0);
/// ```
///
/// # Errors
///
/// [`ChannelError::Io`] if the operating system has no sockets to spare.
#[doc(alias = "Pipe")]
pub fn pipe() -> Result<(Connection, Connection), ChannelError> {
    let (a, b) = UnixStream::pair()?;
    Ok((Connection::from_stream(a)?, Connection::from_stream(b)?))
}

/// Two [`Connection`]s of which the first only receives and the second only
/// sends (Python's `Pipe(duplex=False)`). Sending on the first, or receiving
/// on the second, is [`ChannelError::WrongEnd`]; the operating system also
/// refuses it (each socket is shut down in the other direction), so the
/// rule holds in a child the end is passed to.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::{ChannelError, pipe_one_way};
///
/// let (receiver, sender) = pipe_one_way().unwrap();
/// sender.send("one way").unwrap();
/// assert_eq!(receiver.recv::<String>().unwrap(), "one way");
/// assert!(matches!(receiver.send(&1u8), Err(ChannelError::WrongEnd(_))));
/// ```
///
/// # Errors
///
/// [`ChannelError::Io`] if the operating system has no sockets to spare.
#[doc(alias = "duplex")]
pub fn pipe_one_way() -> Result<(Connection, Connection), ChannelError> {
    let (a, b) = UnixStream::pair()?;
    a.shutdown(std::net::Shutdown::Write)?;
    b.shutdown(std::net::Shutdown::Read)?;
    let mut receiver = Connection::from_stream(a)?;
    receiver.ends = Ends::ReceiveOnly;
    let mut sender = Connection::from_stream(b)?;
    sender.ends = Ends::SendOnly;
    Ok((receiver, sender))
}

/// What an end of a pipe may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ends {
    Both,
    ReceiveOnly,
    SendOnly,
}

/// One end of a [`pipe`]: Python's `multiprocessing.connection.Connection`.
///
/// Values are serde values, sent as length-prefixed binary frames of at
/// most 64 MiB. A `Connection` can be handed to a child as (part of) a
/// [`Process`](super::Process) argument; the parent's copy is then dropped
/// with the argument, so each end has one owner and a closed end is seen as
/// [`ChannelError::Closed`] on the other.
///
/// # Differences from Python's `Connection`
///
/// - `recv` is typed: `conn.recv::<T>()`; a message that does not decode as
///   a `T` is [`ChannelError::Frame`] (`Corrupt`), and the message is gone,
///   as an unpickling error consumes it in Python.
/// - `poll(timeout)` and `recv_timeout` instead of `poll` + `recv`; the
///   timeout bounds the whole receive, a message that arrives in pieces and
///   a wait for another thread's receive included.
/// - A stream that breaks the framing (a truncated message, or one over the
///   frame limit) breaks the connection: every later receive returns the
///   same [`ChannelError::Frame`] error, because the bytes that follow can
///   no longer be told apart. Python raises once and reads garbage after.
pub struct Connection {
    reader: Mutex<Reader>,
    writer: Mutex<UnixStream>,
    /// The socket both share, for `poll` (which must not wait for a
    /// receiver holding `reader`).
    fd: RawFd,
    ends: Ends,
    max_frame: usize,
    _not_clone: PhantomData<()>,
}

/// The receiving side: the stream and the frame read so far.
struct Reader {
    stream: UnixStream,
    frame: FrameReader,
}

impl Connection {
    pub(crate) fn from_stream(stream: UnixStream) -> Result<Connection, ChannelError> {
        Ok(Connection {
            fd: stream.as_raw_fd(),
            ends: Ends::Both,
            writer: Mutex::new(stream.try_clone()?),
            reader: Mutex::new(Reader {
                stream,
                frame: FrameReader::new(DEFAULT_MAX_FRAME),
            }),
            max_frame: DEFAULT_MAX_FRAME,
            _not_clone: PhantomData,
        })
    }

    /// Sends `value` (Python's `send(obj)`).
    ///
    /// # Errors
    ///
    /// [`ChannelError::Encode`] if it does not serialize or exceeds the frame
    /// limit; [`ChannelError::Closed`] if the other end is gone.
    pub fn send<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), ChannelError> {
        let bytes = codec::encode(value).map_err(ChannelError::Encode)?;
        self.send_bytes(&bytes)
    }

    /// Sends raw bytes as one message (Python's `send_bytes`).
    ///
    /// # Errors
    ///
    /// As [`send`](Connection::send).
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), ChannelError> {
        if self.ends == Ends::ReceiveOnly {
            return Err(ChannelError::WrongEnd(
                "this end of a one-way pipe only receives",
            ));
        }
        if bytes.len() > self.max_frame {
            return Err(ChannelError::Encode(
                FrameError::Oversized {
                    len: bytes.len(),
                    max: self.max_frame,
                }
                .to_string(),
            ));
        }
        let mut w = self.writer.lock();
        let mut buf = Vec::with_capacity(bytes.len() + 4);
        frame::write_frame(&mut buf, bytes)?;
        w.write_all(&buf)?;
        Ok(())
    }

    /// Waits for and returns the next value (Python's `recv()`).
    ///
    /// # Errors
    ///
    /// [`ChannelError::Closed`] once the other end is closed and everything
    /// it sent was received; [`ChannelError::Frame`] for a truncated,
    /// oversized or undecodable message.
    pub fn recv<T: DeserializeOwned>(&self) -> Result<T, ChannelError> {
        decode(&self.recv_bytes()?)
    }

    /// [`recv`](Connection::recv), giving up after `timeout` with
    /// [`ChannelError::Timeout`]. The timeout bounds the whole receive: a
    /// message whose bytes stop coming, or another thread receiving on the
    /// same connection, cannot hold this call past it. Bytes of a message
    /// read before the timeout are kept for the next receive.
    ///
    /// # Errors
    ///
    /// As [`recv`](Connection::recv), and [`ChannelError::Timeout`].
    pub fn recv_timeout<T: DeserializeOwned>(&self, timeout: Duration) -> Result<T, ChannelError> {
        decode(&self.recv_frame(Deadline::after(timeout))?)
    }

    /// Waits for and returns the next message's bytes (Python's
    /// `recv_bytes()`).
    ///
    /// # Errors
    ///
    /// As [`recv`](Connection::recv).
    pub fn recv_bytes(&self) -> Result<Vec<u8>, ChannelError> {
        self.recv_frame(Deadline::Never)
    }

    /// Receives one frame by `deadline`.
    fn recv_frame(&self, deadline: Deadline) -> Result<Vec<u8>, ChannelError> {
        if self.ends == Ends::SendOnly {
            return Err(ChannelError::WrongEnd(
                "this end of a one-way pipe only sends",
            ));
        }
        let mut guard = match deadline {
            Deadline::Never => self.reader.lock(),
            Deadline::Now => self.reader.try_lock().ok_or(ChannelError::Timeout)?,
            Deadline::At(at) => self
                .reader
                .try_lock_until(at)
                .ok_or(ChannelError::Timeout)?,
        };
        let Reader { stream, frame } = &mut *guard;
        loop {
            // Blocking reads need no poll; a deadline polls before each read,
            // so a read never blocks past it.
            if deadline != Deadline::Never && !poll_readable(stream.as_raw_fd(), deadline)? {
                return Err(ChannelError::Timeout);
            }
            match frame.advance(stream) {
                Ok(Progress::Frame(bytes)) => return Ok(bytes),
                Ok(Progress::End) => return Err(ChannelError::Closed),
                Ok(Progress::Partial) => {}
                Err(ReadError::Frame(e)) => return Err(ChannelError::Frame(e)),
                Err(ReadError::Io(e)) => return Err(e.into()),
            }
        }
    }

    /// Whether a message (or the end of the stream) is ready to be received,
    /// waiting up to `timeout` (`None`: forever). Python's `poll(timeout)`.
    ///
    /// **Python's `poll()` with no argument returns at once: that is
    /// `poll(Some(Duration::ZERO))` here.** `poll(None)` waits forever, as
    /// Python's `poll(None)` does; Rust has no default arguments, so the
    /// choice is always written out.
    ///
    /// # Errors
    ///
    /// [`ChannelError::Io`] if polling fails.
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool, ChannelError> {
        poll_readable(self.fd, Deadline::from_timeout(timeout))
    }
}

/// Decodes a message as a `T`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ChannelError> {
    codec::decode(bytes).map_err(|e| ChannelError::Frame(FrameError::Corrupt(e)))
}

/// Waits until `fd` is readable or the deadline passes.
pub(crate) fn poll_readable(fd: i32, deadline: Deadline) -> Result<bool, ChannelError> {
    poll_for(fd, libc::POLLIN, deadline)
}

/// Waits until `fd` is ready for `events` (or has an error or hang-up to
/// report) or the deadline passes.
pub(crate) fn poll_for(fd: i32, events: i16, deadline: Deadline) -> Result<bool, ChannelError> {
    loop {
        let ms = match deadline.remaining() {
            None => -1,
            Some(left) => i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX),
        };
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc > 0 {
            return Ok(true);
        }
        if rc == 0 {
            if deadline.remaining().is_some_and(|l| l.is_zero()) {
                return Ok(false);
            }
            continue;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(ChannelError::Io(e));
        }
    }
}

impl Serialize for Connection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let ends = match self.ends {
            Ends::Both => 0u8,
            Ends::ReceiveOnly => 1,
            Ends::SendOnly => 2,
        };
        let r = self.reader.lock();
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&Passed(std::os::fd::AsFd::as_fd(&r.stream)))?;
        t.serialize_element(&ends)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (Received(fd), ends) = <(Received, u8)>::deserialize(d)?;
        let mut conn =
            Connection::from_stream(UnixStream::from(fd)).map_err(serde::de::Error::custom)?;
        conn.ends = match ends {
            0 => Ends::Both,
            1 => Ends::ReceiveOnly,
            2 => Ends::SendOnly,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown pipe direction {other}"
                )));
            }
        };
        Ok(conn)
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").field("fd", &self.fd).finish()
    }
}

// Miri runs neither sockets nor integer-to-function-pointer round trips.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_process() {
        let (a, b) = pipe().unwrap();
        a.send(&vec![1u32, 2, 3]).unwrap();
        b.send("back").unwrap();
        assert_eq!(b.recv::<Vec<u32>>().unwrap(), [1, 2, 3]);
        assert_eq!(a.recv::<String>().unwrap(), "back");
        assert!(!a.poll(Some(Duration::from_millis(10))).unwrap());
        assert!(matches!(
            a.recv_timeout::<u8>(Duration::from_millis(10)),
            Err(ChannelError::Timeout)
        ));
        drop(b);
        assert!(matches!(a.recv::<u8>(), Err(ChannelError::Closed)));
    }

    #[test]
    fn bad_frames_are_typed_errors() {
        let (a, b) = UnixStream::pair().unwrap();
        let conn = Connection::from_stream(b).unwrap();
        // truncated: announces 100 bytes, sends 3, closes
        (&a).write_all(&100u32.to_le_bytes()).unwrap();
        (&a).write_all(b"abc").unwrap();
        drop(a);
        assert!(matches!(
            conn.recv::<u8>(),
            Err(ChannelError::Frame(FrameError::Truncated))
        ));
        // oversized and corrupt
        let (a, b) = UnixStream::pair().unwrap();
        let conn = Connection::from_stream(b).unwrap();
        (&a).write_all(&u32::MAX.to_le_bytes()).unwrap();
        assert!(matches!(
            conn.recv::<u8>(),
            Err(ChannelError::Frame(FrameError::Oversized { .. }))
        ));
        // an integer whose bytes end mid-varint does not decode
        let (a, b) = pipe().unwrap();
        a.send_bytes(&[0xff]).unwrap();
        assert!(matches!(
            b.recv::<u64>(),
            Err(ChannelError::Frame(FrameError::Corrupt(_)))
        ));
        // passing an endpoint outside a Process argument is refused
        assert!(matches!(a.send(&b), Err(ChannelError::Encode(_))));
    }

    #[test]
    fn recv_timeout_bounds_a_message_that_stops_coming() {
        let (a, b) = UnixStream::pair().unwrap();
        let conn = Connection::from_stream(b).unwrap();
        let whole = codec::encode(&"hello".to_owned()).unwrap();
        let mut framed = Vec::new();
        frame::write_frame(&mut framed, &whole).unwrap();
        // the header and part of the body, then nothing
        (&a).write_all(&framed[..6]).unwrap();
        assert!(matches!(
            conn.recv_timeout::<String>(Duration::from_millis(20)),
            Err(ChannelError::Timeout)
        ));
        // what was read is kept: the rest completes the same message
        (&a).write_all(&framed[6..]).unwrap();
        assert_eq!(conn.recv::<String>().unwrap(), "hello");
    }

    #[test]
    fn recv_timeout_does_not_wait_behind_another_receiver() {
        let (a, b) = pipe().unwrap();
        let b = std::sync::Arc::new(b);
        let blocked = std::thread::spawn({
            let b = std::sync::Arc::clone(&b);
            move || b.recv::<u8>()
        });
        // Let the other thread take the receiver (a hang guard, not a
        // timing assertion: the result holds whichever thread comes first).
        std::thread::sleep(Duration::from_millis(20));
        assert!(matches!(
            b.recv_timeout::<u8>(Duration::from_millis(20)),
            Err(ChannelError::Timeout)
        ));
        a.send(&1u8).unwrap();
        assert_eq!(blocked.join().unwrap().unwrap(), 1);

        // Two timed receivers, one message: one gets it, the other times
        // out (it must not block in a read once the message is gone).
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let b = std::sync::Arc::clone(&b);
                std::thread::spawn(move || b.recv_timeout::<u8>(Duration::from_millis(500)))
            })
            .collect();
        a.send(&2u8).unwrap();
        let mut results: Vec<_> = receivers.into_iter().map(|t| t.join().unwrap()).collect();
        results.sort_by_key(|r| r.is_err());
        assert_eq!(*results[0].as_ref().unwrap(), 2);
        assert!(matches!(results[1], Err(ChannelError::Timeout)));
    }

    #[test]
    fn trailing_bytes_and_broken_framing() {
        let (a, b) = pipe().unwrap();
        let mut bytes = codec::encode(&5u64).unwrap();
        bytes.push(0);
        a.send_bytes(&bytes).unwrap();
        assert!(matches!(
            b.recv::<u64>(),
            Err(ChannelError::Frame(FrameError::Corrupt(_)))
        ));
        // a value that does not decode leaves the stream in step
        a.send(&6u64).unwrap();
        assert_eq!(b.recv::<u64>().unwrap(), 6);
        // an oversized frame breaks it: the same error ever after, even
        // though a valid frame follows
        let (raw, b) = UnixStream::pair().unwrap();
        let conn = Connection::from_stream(b).unwrap();
        (&raw).write_all(&u32::MAX.to_le_bytes()).unwrap();
        frame::write_frame(&mut &raw, &codec::encode(&1u8).unwrap()).unwrap();
        for _ in 0..3 {
            assert!(matches!(
                conn.recv_timeout::<u8>(Duration::from_secs(10)),
                Err(ChannelError::Frame(FrameError::Oversized { .. }))
            ));
        }
    }
}
