//! Sockets with blocking-style methods that yield in a green thread:
//! gevent's `gevent.socket` (feature `green`).
//!
//! ```
//! use std::io::{Read, Write};
//! use threadkit::green;
//! use threadkit::green::net::{TcpListener, TcpStream};
//!
//! let echoed = green::run(|| {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = green::spawn(move || {
//!         let (mut conn, _) = listener.accept().unwrap(); // yields while it waits
//!         let mut buf = [0; 5];
//!         conn.read_exact(&mut buf).unwrap();
//!         conn.write_all(&buf).unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).unwrap();
//!     client.write_all(b"hello").unwrap();
//!     let mut got = [0; 5];
//!     client.read_exact(&mut got).unwrap(); // the server runs meanwhile
//!     server.join();
//!     got
//! })
//! .unwrap();
//! assert_eq!(&echoed, b"hello");
//! ```
//!
//! [`TcpListener`], [`TcpStream`] and [`UdpSocket`] have `std::net`'s names
//! and methods, so porting blocking code is changing an import. In a green
//! thread a call that would block parks only that green thread: the other
//! green threads of its carrier run, and the reactor makes it runnable
//! again when the socket is ready. Outside green threads the same calls
//! block the OS thread, as `std::net`'s do. Each call first tries the
//! operation at once (no wait when data is there), then waits for the
//! socket to become ready.
//!
//! A green thread killed, or timed out by [`with_timeout`](super::with_timeout),
//! while it waits in a socket call unwinds out of the wait with nothing
//! lost: a call consumes bytes (or a connection, or a datagram) only when
//! it returns them, so what arrives later is there for the next call.
//!
//! # The reactor
//!
//! The sockets are tokio's, registered with one IO reactor for the
//! process: a tokio current-thread runtime that a background thread
//! (`threadkit-green-io`, made by the first socket) drives. A socket that
//! becomes ready wakes its green thread through the hub's queue of
//! wake-ups from other threads, as a `Queue::put` from another thread
//! does; a hub with nothing to run parks its carrier as usual.
//!
//! Why not a reactor per hub, turned by the hub when it has nothing to
//! run: the hub's idle wait is a thread park that other threads end with
//! `Thread::unpark`, which cannot interrupt a reactor's `epoll_wait`, so
//! every wake-up from another thread (for any wait, not only sockets)
//! would have to learn a second way in, and a hub that never idles would
//! have to poll for IO from its busy loop. And a socket is `Send`: one
//! moved to another thread, or outliving its carrier, would stall while
//! its hub was busy or gone. The cost is a hop through the reactor thread
//! per wait that is not satisfied at once: `benches/green_net.rs`
//! measured a loopback echo round trip between two green threads of one
//! carrier at 2 to 5 times that of two tokio tasks on one current-thread
//! runtime, and from 0.9x to 2.5x that of two greenlets with
//! `gevent.socket` (three runs on a loaded 2-core machine: the hop is two
//! more thread wake-ups per round trip, which a busy machine delays).
//!
//! # Differences from Python's `socket` and from `std::net`
//!
//! - Timeouts have Python's `socket.settimeout` meaning: a read or write
//!   that waits longer fails with [`io::ErrorKind::TimedOut`] (std's
//!   `set_read_timeout` gives `WouldBlock` on Unix). A zero timeout is an
//!   error, as in std (use [`green::with_timeout`](super::with_timeout)
//!   to give up on a whole exchange). It applies to each call, as std's:
//!   `write_all` may take longer in all (Python's `sendall` applies it to
//!   the whole call). A listener has no accept timeout (std has none); in
//!   a green thread, wrap `accept` in `with_timeout`.
//! - Host names are resolved with std's blocking resolver, which blocks
//!   the carrier: pass IP addresses in green threads, or resolve under
//!   [`blocking`](super::blocking).
//! - A listener's backlog is 1024 (tokio's), not std's 128.
//! - Native only: under loom and Miri (which run green threads on the
//!   baton backend) this module is absent.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::util::Deadline;

/// The process's IO reactor (see the module docs), made on first use.
fn reactor() -> io::Result<&'static tokio::runtime::Handle> {
    static IO: OnceLock<Result<tokio::runtime::Handle, String>> = OnceLock::new();
    let made = IO.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| e.to_string())?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("threadkit-green-io".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .map_err(|e| e.to_string())?;
        Ok(handle)
    });
    made.as_ref()
        .map_err(|e| io::Error::other(format!("cannot start the green IO reactor: {e}")))
}

/// Runs `f` with the reactor as tokio's current runtime (registering a
/// socket needs it), for that call only: a guard kept across a switch
/// would nest wrongly with other green threads' guards.
fn registered<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let _enter = reactor()?.enter();
    f()
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timed out")
}

/// Polls `fut` (a readiness wait, a connect or an accept) until it is
/// ready or `deadline` passes ([`io::ErrorKind::TimedOut`]): parking only
/// the calling green thread, running the hub from its root, or parking a
/// plain thread. A killed (or timed-out) green thread drops `fut` and
/// unwinds.
fn wait<T>(deadline: Deadline, fut: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    let reactor = reactor()?;
    let mut fut = pin!(fut);
    let entered = std::future::poll_fn(|cx| {
        let _enter = reactor.enter();
        fut.as_mut().poll(cx)
    });
    super::bridge::block_on_until(deadline, entered).unwrap_or_else(|| Err(timed_out()))
}

/// Runs `attempt` until it does not report `WouldBlock`, waiting for
/// `ready` in between: tries first, so data already there costs no wait.
fn io_loop<T, F: Future<Output = io::Result<()>>>(
    deadline: Deadline,
    mut attempt: impl FnMut() -> io::Result<T>,
    mut ready: impl FnMut() -> F,
) -> io::Result<T> {
    loop {
        match attempt() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return done,
        }
        wait(deadline, ready())?;
    }
}

/// A socket timeout: `u64::MAX` nanoseconds for none.
#[derive(Debug)]
struct Timeout(AtomicU64);

impl Timeout {
    const NONE: u64 = u64::MAX;

    fn new() -> Timeout {
        Timeout(AtomicU64::new(Self::NONE))
    }

    fn set(&self, d: Option<Duration>) -> io::Result<()> {
        let nanos = match d {
            Some(d) if d.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ));
            }
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(Self::NONE - 1),
            None => Self::NONE,
        };
        self.0.store(nanos, Ordering::Relaxed);
        Ok(())
    }

    fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            Self::NONE => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Takes `other`'s value (a clone's timeouts).
    fn set_raw(&self, other: &Timeout) {
        self.0
            .store(other.0.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// When a call starting now gives up.
    fn deadline(&self) -> Deadline {
        Deadline::from_timeout(self.get())
    }
}

/// Resolves `addr` with std's resolver; an error if it names nothing.
fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        ));
    }
    Ok(addrs)
}

/// Tries `f` on each address in turn, as std does: the first success, or
/// the last error.
fn each_addr<T>(
    addr: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in resolve(addr)? {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no address")))
}

/// A TCP server socket: `std::net::TcpListener` (and gevent's
/// `socket.socket` in listening mode) whose `accept` yields in a green
/// thread.
///
/// # Examples
///
/// ```
/// use threadkit::green;
/// use threadkit::green::net::{TcpListener, TcpStream};
///
/// green::run(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = green::spawn(move || TcpStream::connect(addr).unwrap().local_addr().unwrap());
///     let (_conn, peer) = listener.accept().unwrap();
///     assert_eq!(peer, client.get().unwrap());
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct TcpListener {
    inner: tokio::net::TcpListener,
}

impl TcpListener {
    /// Binds a listening socket to `addr` (each address it resolves to in
    /// turn, as std does; port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// The OS's (address in use, permission), or none resolved.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |a| {
            registered(|| {
                let socket = match a {
                    SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                    SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
                };
                socket.set_reuseaddr(true)?;
                socket.bind(a)?;
                Ok(TcpListener {
                    inner: socket.listen(1024)?,
                })
            })
        })
    }

    /// Waits for a connection and returns it with its peer's address;
    /// yields in a green thread.
    ///
    /// # Errors
    ///
    /// The OS's.
    ///
    /// # Cancel safety
    ///
    /// A green thread killed while it waits takes no connection: the next
    /// `accept` gets it.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (inner, peer) = wait(Deadline::Never, self.inner.accept())?;
        Ok((TcpStream::wrap(inner), peer))
    }

    /// An endless iterator of [`accept`](Self::accept)ed connections, as
    /// std's.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// Takes over a std listener (made non-blocking and registered with the
    /// reactor; fallible, hence not `From`).
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        registered(|| {
            Ok(TcpListener {
                inner: tokio::net::TcpListener::from_std(listener)?,
            })
        })
    }
}

/// The iterator of [`TcpListener::incoming`]; it never ends.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

/// A TCP connection: `std::net::TcpStream` (gevent's `socket.socket`)
/// whose reads, writes and connects yield in a green thread. It reads
/// and writes through [`Read`] and [`Write`], as std's, also through
/// `&TcpStream`, so one green thread can read while another writes.
///
/// # Examples
///
/// ```
/// use std::io::{ErrorKind, Read};
/// use std::time::Duration;
/// use threadkit::green;
/// use threadkit::green::net::{TcpListener, TcpStream};
///
/// green::run(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let mut s = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
///     s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
///     let err = s.read(&mut [0; 8]).unwrap_err(); // nothing was sent
///     assert_eq!(err.kind(), ErrorKind::TimedOut); // Python's socket.timeout
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct TcpStream {
    inner: tokio::net::TcpStream,
    read_timeout: Timeout,
    write_timeout: Timeout,
}

impl TcpStream {
    fn wrap(inner: tokio::net::TcpStream) -> TcpStream {
        TcpStream {
            inner,
            read_timeout: Timeout::new(),
            write_timeout: Timeout::new(),
        }
    }

    /// Connects to `addr` (each address it resolves to in turn, as std
    /// does); yields in a green thread while the handshake runs.
    ///
    /// # Errors
    ///
    /// The OS's: [`io::ErrorKind::ConnectionRefused`] when nothing
    /// listens there, and so on.
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |a| Self::connect_until(a, Deadline::Never))
    }

    /// Connects to `addr`, giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`]; [`io::ErrorKind::InvalidInput`] for a
    /// zero timeout (as std); the OS's.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        Self::connect_until(*addr, Deadline::after(timeout))
    }

    fn connect_until(addr: SocketAddr, deadline: Deadline) -> io::Result<TcpStream> {
        wait(deadline, tokio::net::TcpStream::connect(addr)).map(Self::wrap)
    }

    /// [`Read::read`]: what has arrived (at least one byte), waiting for
    /// data if none has; `Ok(0)` at the end of the stream.
    fn read_any(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        io_loop(
            self.read_timeout.deadline(),
            || self.inner.try_read(buf),
            || self.inner.readable(),
        )
    }

    /// [`Write::write`]: part of `buf` (at least one byte), waiting for
    /// room in the send buffer if there is none.
    fn write_any(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        io_loop(
            self.write_timeout.deadline(),
            || self.inner.try_write(buf),
            || self.inner.writable(),
        )
    }

    /// Shuts down the read half, the write half or both (`socket.shutdown`).
    ///
    /// # Errors
    ///
    /// The OS's (not connected).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        socket2::SockRef::from(&self.inner).shutdown(how)
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Sets `TCP_NODELAY` (Nagle's algorithm off).
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Sets how long a read may wait (`None`: forever), Python's
    /// `settimeout` for reads: past it, the read fails with
    /// [`io::ErrorKind::TimedOut`].
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a zero duration, as std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout.set(timeout)
    }

    /// Sets how long a write may wait (`None`: forever); as
    /// [`set_read_timeout`](Self::set_read_timeout).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a zero duration, as std.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.write_timeout.set(timeout)
    }

    /// The read timeout.
    ///
    /// # Errors
    ///
    /// Never (std's signature).
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.read_timeout.get())
    }

    /// The write timeout.
    ///
    /// # Errors
    ///
    /// Never (std's signature).
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.write_timeout.get())
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// Takes over a connected std stream (made non-blocking and registered
    /// with the reactor; fallible, hence not `From`). Its std timeouts are
    /// not carried over.
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        registered(|| tokio::net::TcpStream::from_std(stream)).map(TcpStream::wrap)
    }
}

/// Reads what has arrived (at least one byte), waiting for data if none
/// has; `Ok(0)` at the end of the stream. In a green thread the wait
/// parks only the green thread.
///
/// # Errors
///
/// [`io::ErrorKind::TimedOut`] past the read timeout; the OS's.
impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_any(buf)
    }
}

/// As for `TcpStream`: one green thread may read while another writes.
impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_any(buf)
    }
}

/// Writes part of `buf` (at least one byte), waiting for room in the send
/// buffer if there is none; `flush` does nothing (TCP has no user-space
/// buffer). In a green thread the wait parks only the green thread.
///
/// # Errors
///
/// [`io::ErrorKind::TimedOut`] past the write timeout; the OS's
/// (`BrokenPipe` after the peer closed).
impl Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_any(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// As for `TcpStream`.
impl Write for &TcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_any(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A UDP socket: `std::net::UdpSocket` whose sends and receives yield in a
/// green thread.
///
/// # Examples
///
/// ```
/// use threadkit::green;
/// use threadkit::green::net::UdpSocket;
///
/// green::run(|| {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    inner: tokio::net::UdpSocket,
    read_timeout: Timeout,
    write_timeout: Timeout,
}

impl UdpSocket {
    fn wrap(inner: tokio::net::UdpSocket) -> UdpSocket {
        UdpSocket {
            inner,
            read_timeout: Timeout::new(),
            write_timeout: Timeout::new(),
        }
    }

    /// Binds a socket to `addr` (each address it resolves to in turn).
    ///
    /// # Errors
    ///
    /// The OS's, or none resolved.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |a| UdpSocket::try_from(std::net::UdpSocket::bind(a)?))
    }

    /// Sends `buf` as one datagram to `addr` (the first address it resolves
    /// to, as std).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the write timeout; the OS's.
    pub fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(addr)?[0];
        io_loop(
            self.write_timeout.deadline(),
            || self.inner.try_send_to(buf, target),
            || self.inner.writable(),
        )
    }

    /// Receives one datagram into `buf` (the rest of a longer one is
    /// dropped, as std), with its sender's address.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the read timeout; the OS's.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        io_loop(
            self.read_timeout.deadline(),
            || self.inner.try_recv_from(buf),
            || self.inner.readable(),
        )
    }

    /// Sets the peer for [`send`](Self::send) and [`recv`](Self::recv)
    /// (and only accepts datagrams from it): each address `addr` resolves
    /// to in turn.
    ///
    /// # Errors
    ///
    /// The OS's, or none resolved.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |a| wait(Deadline::Never, self.inner.connect(a)))
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the write timeout; the OS's (not
    /// connected, `ConnectionRefused` after an ICMP error).
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        io_loop(
            self.write_timeout.deadline(),
            || self.inner.try_send(buf),
            || self.inner.writable(),
        )
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the read timeout; the OS's.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        io_loop(
            self.read_timeout.deadline(),
            || self.inner.try_recv(buf),
            || self.inner.readable(),
        )
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// The OS's (`NotConnected`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Sets how long a receive may wait (`None`: forever); past it,
    /// [`io::ErrorKind::TimedOut`].
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a zero duration, as std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout.set(timeout)
    }

    /// Sets how long a send may wait (`None`: forever).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a zero duration, as std.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.write_timeout.set(timeout)
    }

    /// The receive timeout.
    ///
    /// # Errors
    ///
    /// Never (std's signature).
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.read_timeout.get())
    }

    /// The send timeout.
    ///
    /// # Errors
    ///
    /// Never (std's signature).
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.write_timeout.get())
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// Takes over a std socket (made non-blocking and registered with the
    /// reactor; fallible, hence not `From`).
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        registered(|| tokio::net::UdpSocket::from_std(socket)).map(UdpSocket::wrap)
    }
}

/// What the three socket types share with their std twins: `into_std`,
/// the TTL and the file descriptor.
macro_rules! std_shaped {
    ($ty:ident, $std:ty) => {
        impl $ty {
            /// Gives the socket back as a std one, in blocking mode (its
            /// timeouts here are not carried over).
            ///
            /// # Errors
            ///
            /// The OS's.
            pub fn into_std(self) -> io::Result<$std> {
                let s = self.inner.into_std()?;
                s.set_nonblocking(false)?;
                Ok(s)
            }

            /// Sets `IP_TTL`.
            ///
            /// # Errors
            ///
            /// The OS's.
            pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
                self.inner.set_ttl(ttl)
            }

            /// `IP_TTL`.
            ///
            /// # Errors
            ///
            /// The OS's.
            pub fn ttl(&self) -> io::Result<u32> {
                self.inner.ttl()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.inner.as_fd()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.inner.as_raw_fd()
            }
        }
    };
}

std_shaped!(TcpListener, std::net::TcpListener);
std_shaped!(TcpStream, std::net::TcpStream);
std_shaped!(UdpSocket, std::net::UdpSocket);

impl TcpListener {
    /// Another handle to the same socket (a duplicated file descriptor,
    /// registered with the reactor on its own), as std's `try_clone`:
    /// for one green thread or thread to read while another writes.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        let dup: std::net::TcpListener = socket2::SockRef::from(&self.inner).try_clone()?.into();
        TcpListener::try_from(dup)
    }
}

impl TcpStream {
    /// Another handle to the same socket (a duplicated file descriptor,
    /// registered with the reactor on its own, with this one's timeouts),
    /// as std's `try_clone`: for one green thread or thread to read while
    /// another writes.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        let dup: std::net::TcpStream = socket2::SockRef::from(&self.inner).try_clone()?.into();
        TcpStream::try_from(dup).inspect(|c| {
            c.read_timeout.set_raw(&self.read_timeout);
            c.write_timeout.set_raw(&self.write_timeout);
        })
    }
}

impl UdpSocket {
    /// Another handle to the same socket (a duplicated file descriptor,
    /// registered with the reactor on its own, with this one's timeouts),
    /// as std's `try_clone`: for one green thread or thread to read while
    /// another writes.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        let dup: std::net::UdpSocket = socket2::SockRef::from(&self.inner).try_clone()?.into();
        UdpSocket::try_from(dup).inspect(|c| {
            c.read_timeout.set_raw(&self.read_timeout);
            c.write_timeout.set_raw(&self.write_timeout);
        })
    }
}

impl TcpStream {
    /// Reads what has arrived into `buf` without taking it from the
    /// socket, waiting for data if none has.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the read timeout; the OS's.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        wait(self.read_timeout.deadline(), self.inner.peek(buf))
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl UdpSocket {
    /// Receives the next datagram into `buf` without taking it from the
    /// socket, with its sender's address.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the read timeout; the OS's.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        wait(self.read_timeout.deadline(), self.inner.peek_from(buf))
    }

    /// Receives the next datagram from the connected peer into `buf`
    /// without taking it from the socket.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::TimedOut`] past the read timeout; the OS's.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        wait(self.read_timeout.deadline(), self.inner.peek(buf))
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn set_broadcast(&self, broadcast: bool) -> io::Result<()> {
        self.inner.set_broadcast(broadcast)
    }

    /// `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.broadcast()
    }
}
