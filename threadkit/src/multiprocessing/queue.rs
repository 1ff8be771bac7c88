//! [`Queue`]: Python's `multiprocessing.Queue`, a FIFO of serde values
//! shared by processes.
//!
//! A queue is one `SOCK_SEQPACKET` socket pair: every put is one packet
//! written to the first socket, every get one packet read from the second.
//! The kernel keeps packets whole and in order, and many processes may put
//! and get at once with no lock (Python needs a pipe plus a lock for
//! readers and a feeder thread for writers). The socket buffer bounds the
//! queue: a put blocks while it is full, and one value may be at most about
//! the buffer's size (some 200 KiB by default on Linux); a larger one is
//! [`FrameError::Oversized`](super::FrameError::Oversized).

use std::fmt;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::codec;
use super::error::{ChannelError, FrameError};
use super::fdpass;
use super::pipe::{decode, poll_readable};
use crate::util::wait::Deadline;

/// Tag byte before every value, so an empty encoding is not read as EOF.
const TAG: u8 = 0x51;

/// A FIFO of `T`s shared by processes: Python's `multiprocessing.Queue`.
///
/// Clone it to keep a handle while passing another to a
/// [`Process`](super::Process) (Python pickles the queue for the child and
/// the parent keeps its own).
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::{Process, Queue};
///
/// fn producer(q: Queue<String>) {
///     for i in 0..3 {
///         q.put(&format!("item {i}")).unwrap();
///     }
/// }
///
/// let q = Queue::new().unwrap();
/// let p = Process::new(producer, q.clone());
/// p.start().unwrap();
/// let got: Vec<String> = (0..3).map(|_| q.get().unwrap()).collect();
/// assert_eq!(got, ["item 0", "item 1", "item 2"]);
/// p.join().unwrap();
/// assert!(q.try_get().is_err());
/// ```
///
/// # Differences from Python's `multiprocessing.Queue`
///
/// - Typed: one `T` per queue. `get(block, timeout)` is [`get`](Queue::get),
///   [`get_timeout`](Queue::get_timeout), [`try_get`](Queue::try_get)
///   (`get_nowait`); an empty queue is [`ChannelError::Timeout`].
/// - No feeder thread: `put` writes at once and blocks while the queue is
///   full; values are bounded by the socket buffer (see the module docs).
/// - No `qsize`, `close`, `join_thread`: dropping the last handle closes it.
pub struct Queue<T> {
    tx: OwnedFd,
    rx: OwnedFd,
    _values: PhantomData<fn(T) -> T>,
}

fn socketpair() -> Result<(OwnedFd, OwnedFd), ChannelError> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(ChannelError::Io(std::io::Error::last_os_error()));
    }
    // SAFETY: socketpair succeeded, so both are fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn buffer_size(fd: &OwnedFd, opt: i32) -> usize {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for getsockopt to write an int.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        usize::try_from(value).unwrap_or(1 << 16)
    } else {
        1 << 16
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// An empty queue.
    ///
    /// # Errors
    ///
    /// [`ChannelError::Io`] if the operating system has no sockets to spare.
    pub fn new() -> Result<Queue<T>, ChannelError> {
        let (tx, rx) = socketpair()?;
        Ok(Queue {
            tx,
            rx,
            _values: PhantomData,
        })
    }

    /// Appends `value`, waiting while the queue is full (Python's `put`).
    ///
    /// # Errors
    ///
    /// [`ChannelError::Encode`] if it does not serialize;
    /// [`ChannelError::Frame`] (`Oversized`) if it is larger than one packet
    /// may be.
    pub fn put(&self, value: &T) -> Result<(), ChannelError> {
        let mut msg = vec![TAG];
        codec::encode_into(&mut msg, value).map_err(ChannelError::Encode)?;
        loop {
            // SAFETY: `msg` is valid for reads of its length.
            let rc = unsafe {
                libc::send(
                    self.tx.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if rc >= 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EMSGSIZE) | Some(libc::ENOBUFS) => {
                    return Err(ChannelError::Frame(FrameError::Oversized {
                        len: msg.len(),
                        max: buffer_size(&self.tx, libc::SO_SNDBUF),
                    }));
                }
                _ => return Err(e.into()),
            }
        }
    }

    /// Removes and returns the oldest value, waiting for one (Python's
    /// `get()`).
    ///
    /// # Errors
    ///
    /// [`ChannelError::Frame`] for a value that does not decode.
    pub fn get(&self) -> Result<T, ChannelError> {
        self.get_deadline(Deadline::Never)
    }

    /// [`get`](Queue::get), giving up after `timeout` (Python's
    /// `get(timeout=)`).
    ///
    /// # Errors
    ///
    /// [`ChannelError::Timeout`] if nothing came; as [`get`](Queue::get).
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, ChannelError> {
        self.get_deadline(Deadline::after(timeout))
    }

    /// Removes the oldest value if there is one (Python's `get_nowait()`).
    ///
    /// # Errors
    ///
    /// [`ChannelError::Timeout`] if the queue is empty; as [`get`](Queue::get).
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T, ChannelError> {
        self.get_deadline(Deadline::Now)
    }

    fn get_deadline(&self, deadline: Deadline) -> Result<T, ChannelError> {
        let mut buf = vec![0u8; buffer_size(&self.rx, libc::SO_RCVBUF).max(1 << 16)];
        loop {
            if !poll_readable(self.rx.as_raw_fd(), deadline)? {
                return Err(ChannelError::Timeout);
            }
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    self.rx.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                match e.raw_os_error() {
                    // another reader took it, or a signal: wait again
                    Some(libc::EAGAIN) | Some(libc::EINTR) => continue,
                    _ => return Err(e.into()),
                }
            }
            let n = n as usize;
            if n == 0 {
                return Err(ChannelError::Closed);
            }
            if n > buf.len() {
                return Err(ChannelError::Frame(FrameError::Truncated));
            }
            if buf[0] != TAG {
                return Err(ChannelError::Frame(FrameError::Corrupt(
                    "not a queue packet".to_owned(),
                )));
            }
            return decode(&buf[1..n]);
        }
    }
}

impl<T> Clone for Queue<T> {
    /// Another handle to the same queue.
    ///
    /// # Panics
    ///
    /// If the process is out of file descriptors.
    fn clone(&self) -> Self {
        Queue {
            tx: self.tx.try_clone().expect("duplicating the queue's socket"),
            rx: self.rx.try_clone().expect("duplicating the queue's socket"),
            _values: PhantomData,
        }
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&Passed(self.tx.as_fd()))?;
        t.serialize_element(&Passed(self.rx.as_fd()))?;
        t.end()
    }
}

struct Passed<'a>(std::os::fd::BorrowedFd<'a>);

impl Serialize for Passed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fdpass::serialize_fd(self.0, s)
    }
}

struct Received(OwnedFd);

impl<'de> Deserialize<'de> for Received {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fdpass::deserialize_fd(d).map(Received)
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (Received(tx), Received(rx)) = <(Received, Received)>::deserialize(d)?;
        Ok(Queue {
            tx,
            rx,
            _values: PhantomData,
        })
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("tx", &self.tx.as_raw_fd())
            .field("rx", &self.rx.as_raw_fd())
            .finish()
    }
}

// Miri runs neither sockets nor integer-to-function-pointer round trips.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_timeout_and_oversize() {
        let q: Queue<Vec<u8>> = Queue::new().unwrap();
        assert!(matches!(q.try_get(), Err(ChannelError::Timeout)));
        assert!(matches!(
            q.get_timeout(Duration::from_millis(20)),
            Err(ChannelError::Timeout)
        ));
        q.put(&vec![]).unwrap();
        q.put(&vec![1, 2]).unwrap();
        let other = q.clone();
        assert_eq!(other.get().unwrap(), Vec::<u8>::new());
        assert_eq!(q.get().unwrap(), [1, 2]);
        assert!(matches!(
            q.put(&vec![0; 16 << 20]),
            Err(ChannelError::Frame(FrameError::Oversized { .. }))
        ));
        let units: Queue<()> = Queue::new().unwrap();
        units.put(&()).unwrap();
        units.get().unwrap();
    }
}
