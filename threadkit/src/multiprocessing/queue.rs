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
//!
//! A queue with a `maxsize` also holds an `eventfd` in semaphore mode, the
//! count of free places, shared by every process holding the queue as the
//! sockets are: a put takes a place before it sends, a get gives one back
//! after it receives (Python uses a cross-process `BoundedSemaphore`).

use std::fmt;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::codec;
use super::error::{ChannelError, FrameError};
use super::fdpass::{Passed, Received};
use super::pipe::{decode, poll_for, poll_readable};
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
///   A full queue is [`ChannelError::Full`] after `try_put`/`put_timeout`.
/// - `close()` consumes the handle, so using it afterwards cannot be
///   written; no `qsize`, `join_thread` (there is no feeder thread to join).
pub struct Queue<T> {
    tx: OwnedFd,
    rx: OwnedFd,
    /// Free places of a queue with a `maxsize` (an eventfd semaphore).
    slots: Option<OwnedFd>,
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
        Queue::with_maxsize(0)
    }

    /// A queue holding at most `maxsize` values (Python's
    /// `Queue(maxsize)`); 0 means no limit but the socket buffer's.
    ///
    /// # Errors
    ///
    /// [`ChannelError::Io`] if the operating system has no descriptors to
    /// spare.
    pub fn with_maxsize(maxsize: u32) -> Result<Queue<T>, ChannelError> {
        let (tx, rx) = socketpair()?;
        let slots = if maxsize == 0 {
            None
        } else {
            // SAFETY: eventfd takes an initial count and flags and returns a
            // new descriptor or -1.
            let fd = unsafe {
                libc::eventfd(
                    maxsize,
                    libc::EFD_SEMAPHORE | libc::EFD_NONBLOCK | libc::EFD_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(ChannelError::Io(std::io::Error::last_os_error()));
            }
            // SAFETY: eventfd succeeded, so `fd` is a fresh descriptor we own.
            Some(unsafe { OwnedFd::from_raw_fd(fd) })
        };
        Ok(Queue {
            tx,
            rx,
            slots,
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
        self.put_deadline(value, Deadline::Never)
    }

    /// [`put`](Queue::put), giving up after `timeout` with
    /// [`ChannelError::Full`] (Python's `put(obj, timeout=)`).
    ///
    /// # Errors
    ///
    /// As [`put`](Queue::put), and [`ChannelError::Full`].
    pub fn put_timeout(&self, value: &T, timeout: Duration) -> Result<(), ChannelError> {
        self.put_deadline(value, Deadline::after(timeout))
    }

    /// Appends `value` only if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// As [`put`](Queue::put), and [`ChannelError::Full`].
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, value: &T) -> Result<(), ChannelError> {
        self.put_deadline(value, Deadline::Now)
    }

    /// Closes this handle (Python's `close()`): other handles, in this or
    /// other processes, keep the queue open.
    pub fn close(self) {}

    /// Sends `packet` as it is, for tests and fuzzing of the receive path.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn put_raw(&self, packet: &[u8]) -> Result<(), ChannelError> {
        self.send_packet(packet, Deadline::Now)
    }

    fn put_deadline(&self, value: &T, deadline: Deadline) -> Result<(), ChannelError> {
        let mut msg = vec![TAG];
        codec::encode_into(&mut msg, value).map_err(ChannelError::Encode)?;
        if let Some(slots) = &self.slots {
            take_slot(slots, deadline)?;
        }
        let sent = self.send_packet(&msg, deadline);
        if let (Err(_), Some(slots)) = (&sent, &self.slots) {
            give_slot(slots);
        }
        sent
    }

    fn send_packet(&self, msg: &[u8], deadline: Deadline) -> Result<(), ChannelError> {
        // Without a deadline the kernel waits for room itself; with one we
        // poll, since a blocking send cannot be bounded.
        let flags = match deadline {
            Deadline::Never => libc::MSG_NOSIGNAL,
            _ => libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
        };
        let mut polled = false;
        loop {
            // SAFETY: `msg` is valid for reads of its length.
            let rc =
                unsafe { libc::send(self.tx.as_raw_fd(), msg.as_ptr().cast(), msg.len(), flags) };
            if rc >= 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) => {
                    // Poll says "writable" at a quarter of the buffer: a big
                    // packet may still not fit, so back off before retrying.
                    if polled {
                        let pause = Duration::from_millis(1);
                        std::thread::sleep(deadline.remaining().map_or(pause, |l| l.min(pause)));
                    }
                    if !poll_for(self.tx.as_raw_fd(), libc::POLLOUT, deadline)? {
                        return Err(ChannelError::Full);
                    }
                    polled = true;
                }
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
            // The value is out of the queue: its place is free again, even
            // if it does not decode.
            if let Some(slots) = &self.slots {
                give_slot(slots);
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

/// Takes one free place from a queue's semaphore by `deadline`.
fn take_slot(slots: &OwnedFd, deadline: Deadline) -> Result<(), ChannelError> {
    loop {
        let mut count = 0u64;
        // SAFETY: `count` is valid for an 8-byte write; in semaphore mode a
        // read takes 1 from the counter or fails with EAGAIN at 0.
        let n = unsafe { libc::read(slots.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
        if n == 8 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) => {
                if !poll_readable(slots.as_raw_fd(), deadline)? {
                    return Err(ChannelError::Full);
                }
            }
            _ => return Err(ChannelError::Io(e)),
        }
    }
}

/// Gives one place back to a queue's semaphore.
fn give_slot(slots: &OwnedFd) {
    let one = 1u64;
    // SAFETY: `one` is valid for an 8-byte read. Adding 1 fails only past
    // u64::MAX - 1, far beyond any maxsize (a u32).
    unsafe { libc::write(slots.as_raw_fd(), (&one as *const u64).cast(), 8) };
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
            slots: self
                .slots
                .as_ref()
                .map(|s| s.try_clone().expect("duplicating the queue's semaphore")),
            _values: PhantomData,
        }
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(3)?;
        t.serialize_element(&Passed(self.tx.as_fd()))?;
        t.serialize_element(&Passed(self.rx.as_fd()))?;
        t.serialize_element(&self.slots.as_ref().map(|s| Passed(s.as_fd())))?;
        t.end()
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (Received(tx), Received(rx), slots) =
            <(Received, Received, Option<Received>)>::deserialize(d)?;
        Ok(Queue {
            tx,
            rx,
            slots: slots.map(|Received(fd)| fd),
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

    #[test]
    fn hostile_packets_are_typed_errors_and_the_queue_goes_on() {
        let q: Queue<(u32, String)> = Queue::with_maxsize(2).unwrap();
        q.put_raw(b"not a queue packet").unwrap();
        assert!(matches!(
            q.try_get(),
            Err(ChannelError::Frame(FrameError::Corrupt(_)))
        ));
        q.put_raw(&[TAG, 1, 2, 3]).unwrap();
        assert!(matches!(
            q.try_get(),
            Err(ChannelError::Frame(FrameError::Corrupt(_)))
        ));
        // both bad packets gave their places back
        q.put(&(1, "a".to_owned())).unwrap();
        q.put(&(2, "b".to_owned())).unwrap();
        assert_eq!(q.get().unwrap(), (1, "a".to_owned()));
    }
}
