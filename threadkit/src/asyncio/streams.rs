//! Streams: [`open_connection`], [`start_server`], [`StreamReader`] and
//! [`StreamWriter`] (Python's `asyncio` streams, over tokio's TCP).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The most a [`StreamReader::readline`] or
/// [`readuntil`](StreamReader::readuntil) buffers while looking for the
/// separator: Python's default `limit` (64 KiB).
pub const STREAM_LIMIT: usize = 64 * 1024;

/// Why a [`StreamReader`] read did not give what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The stream ended first (Python's `IncompleteReadError`): what was
    /// read, and how much was expected (`None`: up to a separator).
    #[doc(alias = "IncompleteReadError")]
    Incomplete {
        /// The bytes read before the end.
        partial: Vec<u8>,
        /// The number of bytes asked for, or `None` for a separator.
        expected: Option<usize>,
    },
    /// No separator within [`STREAM_LIMIT`] bytes (Python's
    /// `LimitOverrunError`); the bytes stay unread.
    #[doc(alias = "LimitOverrunError")]
    LimitOverrun,
    /// The connection failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Incomplete {
                partial,
                expected: Some(n),
            } => write!(
                f,
                "{} bytes read on a total of {n} expected bytes",
                partial.len()
            ),
            ReadError::Incomplete { partial, .. } => write!(
                f,
                "{} bytes read before the end, without the separator",
                partial.len()
            ),
            ReadError::LimitOverrun => {
                write!(f, "separator not found within {STREAM_LIMIT} bytes")
            }
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The reading end of a connection or a subprocess pipe: Python's
/// `asyncio.StreamReader`.
///
/// # Cancel safety
///
/// [`read`](StreamReader::read) is cancel safe. The others may have
/// consumed part of what they were reading when cancelled.
pub struct StreamReader {
    inner: BufReader<Pin<Box<dyn AsyncRead + Send>>>,
    eof: bool,
}

impl StreamReader {
    pub(crate) fn new(inner: impl AsyncRead + Send + 'static) -> Self {
        StreamReader {
            inner: BufReader::new(Box::pin(inner)),
            eof: false,
        }
    }

    /// Up to `n` bytes, as soon as some are there; empty at the end of the
    /// stream (Python's `read(n)`).
    ///
    /// # Errors
    ///
    /// The connection's error.
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; n];
        let got = self.inner.read(&mut buf).await?;
        buf.truncate(got);
        if got == 0 && n > 0 {
            self.eof = true;
        }
        Ok(buf)
    }

    /// Everything up to the end of the stream (Python's `read()`, `n=-1`).
    ///
    /// # Errors
    ///
    /// The connection's error.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.inner.read_to_end(&mut buf).await?;
        self.eof = true;
        Ok(buf)
    }

    /// Exactly `n` bytes (Python's `readexactly(n)`).
    ///
    /// # Errors
    ///
    /// [`ReadError::Incomplete`] with what was read if the stream ends
    /// first; [`ReadError::Io`].
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        let mut buf = Vec::with_capacity(n.min(STREAM_LIMIT));
        while buf.len() < n {
            let chunk = self.inner.fill_buf().await?;
            if chunk.is_empty() {
                self.eof = true;
                return Err(ReadError::Incomplete {
                    partial: buf,
                    expected: Some(n),
                });
            }
            let take = chunk.len().min(n - buf.len());
            buf.extend_from_slice(&chunk[..take]);
            self.inner.consume(take);
        }
        Ok(buf)
    }

    /// The bytes up to and including `separator` (Python's
    /// `readuntil(separator)`).
    ///
    /// # Errors
    ///
    /// [`ReadError::Incomplete`] if the stream ends first;
    /// [`ReadError::LimitOverrun`] if [`STREAM_LIMIT`] bytes come without
    /// the separator; [`ReadError::Io`]. An empty separator is
    /// `Io(InvalidInput)` (Python's `ValueError`).
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        if separator.is_empty() {
            return Err(ReadError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the separator is empty",
            )));
        }
        let mut buf = Vec::new();
        loop {
            let chunk = self.inner.fill_buf().await?;
            if chunk.is_empty() {
                self.eof = true;
                return Err(ReadError::Incomplete {
                    partial: buf,
                    expected: None,
                });
            }
            // Look for the separator across the boundary with what we have.
            let start = buf.len().saturating_sub(separator.len() - 1);
            let before = buf.len();
            buf.extend_from_slice(chunk);
            if let Some(at) = buf[start..]
                .windows(separator.len())
                .position(|w| w == separator)
            {
                let end = start + at + separator.len();
                self.inner.consume(end - before);
                buf.truncate(end);
                return Ok(buf);
            }
            if buf.len() > STREAM_LIMIT {
                // Leave the buffered chunk unread, as Python does.
                return Err(ReadError::LimitOverrun);
            }
            let n = chunk.len();
            self.inner.consume(n);
        }
    }

    /// One line, with its `\n`; at the end of the stream the rest without
    /// one, and then empty (Python's `readline()`).
    ///
    /// # Errors
    ///
    /// [`ReadError::LimitOverrun`] for a line over [`STREAM_LIMIT`] bytes;
    /// [`ReadError::Io`].
    pub async fn readline(&mut self) -> Result<Vec<u8>, ReadError> {
        match self.readuntil(b"\n").await {
            Err(ReadError::Incomplete { partial, .. }) => Ok(partial),
            other => other,
        }
    }

    /// Whether a read has met the end of the stream (Python's `at_eof()`).
    pub fn at_eof(&self) -> bool {
        self.eof && self.inner.buffer().is_empty()
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.inner.buffer().len())
            .field("eof", &self.eof)
            .finish()
    }
}

/// The writing end of a connection or a subprocess pipe: Python's
/// `asyncio.StreamWriter`.
///
/// [`write`](StreamWriter::write) buffers; [`drain`](StreamWriter::drain)
/// sends what was buffered, as Python's `await writer.drain()`.
pub struct StreamWriter {
    /// `None` once closed: dropping it closes a pipe (for which tokio's
    /// shutdown does nothing).
    inner: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    buf: Vec<u8>,
    peer: Option<SocketAddr>,
}

impl StreamWriter {
    pub(crate) fn new(inner: impl AsyncWrite + Send + 'static, peer: Option<SocketAddr>) -> Self {
        StreamWriter {
            inner: Some(Box::pin(inner)),
            buf: Vec::new(),
            peer,
        }
    }

    /// Buffers `data` to send (Python's `write(data)`).
    pub fn write(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Buffers each of `lines` (Python's `writelines`).
    pub fn writelines<'a>(&mut self, lines: impl IntoIterator<Item = &'a [u8]>) {
        for line in lines {
            self.write(line);
        }
    }

    /// Sends what was buffered (Python's `await drain()`).
    ///
    /// # Errors
    ///
    /// The connection's error; what was not sent stays buffered.
    pub async fn drain(&mut self) -> io::Result<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the writer is closed",
            ));
        };
        while !self.buf.is_empty() {
            let n = inner.write(&self.buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.buf.drain(..n);
        }
        inner.flush().await
    }

    /// Sends what was buffered, then closes the writing side (Python's
    /// `close()` then `await wait_closed()`); the peer reads the end of
    /// the stream. Closing again does nothing; [`drain`](Self::drain)
    /// afterwards is a `NotConnected` error.
    ///
    /// # Errors
    ///
    /// The connection's error (the writer is closed anyway).
    #[doc(alias = "wait_closed")]
    pub async fn close(&mut self) -> io::Result<()> {
        if self.inner.is_none() {
            return Ok(());
        }
        let drained = self.drain().await;
        let shut = match self.inner.as_mut() {
            Some(inner) => inner.shutdown().await,
            None => Ok(()),
        };
        self.inner = None;
        drained.and(shut)
    }

    /// The address of the other end (Python's
    /// `get_extra_info('peername')`); `None` for a pipe.
    #[doc(alias = "get_extra_info")]
    pub fn peername(&self) -> Option<SocketAddr> {
        self.peer
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("buffered", &self.buf.len())
            .field("peer", &self.peer)
            .finish()
    }
}

fn split(stream: TcpStream) -> (StreamReader, StreamWriter) {
    let peer = stream.peer_addr().ok();
    let (r, w) = stream.into_split();
    (StreamReader::new(r), StreamWriter::new(w, peer))
}

/// Connects to `host:port` over TCP: Python's
/// `reader, writer = await asyncio.open_connection(host, port)`.
///
/// # Errors
///
/// The resolver's or the connection's error.
///
/// # Examples
///
/// ```
/// use threadkit::asyncio;
///
/// asyncio::run(async {
///     // An echo server, then a client.
///     let server = asyncio::start_server(
///         |mut reader, mut writer| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line);
///             writer.close().await.unwrap();
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await
///     .unwrap();
///     let port = server.local_addr().port();
///     let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await.unwrap();
///     writer.write(b"hello\n");
///     writer.drain().await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"hello\n");
///     assert_eq!(reader.readline().await.unwrap(), b"");
///     server.close();
/// })
/// .unwrap();
/// ```
pub async fn open_connection(host: &str, port: u16) -> io::Result<(StreamReader, StreamWriter)> {
    Ok(split(TcpStream::connect((host, port)).await?))
}

/// A listening TCP server: what Python's `start_server` returns.
///
/// Dropping it, or [`close`](Server::close), stops accepting; connections
/// already accepted go on.
pub struct Server {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Server {
    /// The address it listens on (Python's
    /// `server.sockets[0].getsockname()`): with port 0, the port chosen.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections (Python's `close()`).
    pub fn close(&self) {
        self.accept.abort();
    }

    /// Whether it still accepts connections (Python's `is_serving()`).
    pub fn is_serving(&self) -> bool {
        !self.accept.is_finished()
    }

    /// Serves until [`close`](Server::close)d from elsewhere or the
    /// awaiting task is cancelled (Python's `serve_forever()`).
    ///
    /// # Errors
    ///
    /// The listener's error, if accepting fails for good.
    pub async fn serve_forever(mut self) -> io::Result<()> {
        match (&mut self.accept).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("serving", &self.is_serving())
            .finish()
    }
}

/// Listens on `host:port` and runs `client_connected(reader, writer)` as a
/// task for each connection: Python's
/// `await asyncio.start_server(client_connected_cb, host, port)`.
///
/// It serves at once (Python's `start_serving=True`). See
/// [`open_connection`] for an example.
///
/// # Errors
///
/// The error of binding the address.
///
/// # Panics
///
/// When called outside a running loop.
pub async fn start_server<F, Fut>(client_connected: F, host: &str, port: u16) -> io::Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    let accept = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let (r, w) = split(stream);
                    drop(super::create_task(client_connected(r, w)));
                }
                // A connection that failed before it was accepted, or a
                // full descriptor table: keep serving, as asyncio does,
                // after a pause rather than in a busy loop.
                Err(_) => super::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    });
    Ok(Server { addr, accept })
}
