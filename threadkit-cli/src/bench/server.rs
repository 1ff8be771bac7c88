//! The `download` workload's far end: a tiny HTTP/1.1 file server on
//! 127.0.0.1 (an ephemeral port), and the plain GET client each task runs.
//!
//! std's `TcpListener`/`TcpStream` are all it takes: one request per
//! connection (`Connection: close`), a fixed set of generated files, and a
//! per-request latency standing in for the network. A crate (hyper, tiny_http)
//! would add dependencies and a runtime for nothing the benchmark needs.
//!
//! File `i` is `size` bytes of a pattern that depends on `i`, so both ends (and
//! the CPython script) can check a body's length and byte sum without storing
//! the files. Only loopback addresses are ever used: the server binds
//! 127.0.0.1 and the client refuses any other address.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use threadkit::threading::Thread;

use super::clock;
use super::gil::Interpreter;

/// How long a connection may stall (either end) before it is dropped; bounds
/// every server thread and every client read.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more get a 503 rather than another thread.
const MAX_CONNECTIONS: usize = 1024;
/// The longest request head the server reads.
const MAX_HEAD: usize = 8 * 1024;

/// Byte `j` of file `i`.
fn pattern(i: usize, j: usize) -> u8 {
    ((i.wrapping_mul(31).wrapping_add(j)) % 251) as u8
}

/// The contents of file `i`.
pub(crate) fn file_body(i: usize, size: usize) -> Vec<u8> {
    (0..size).map(|j| pattern(i, j)).collect()
}

/// The checksum both ends agree on: the sum of the bytes (Python's `sum(body)`).
pub(crate) fn checksum(body: &[u8]) -> u64 {
    body.iter().map(|&b| u64::from(b)).sum()
}

/// What a correct download of file `i` looks like: (length, checksum).
pub(crate) fn expected(i: usize, size: usize) -> (usize, u64) {
    (size, (0..size).map(|j| u64::from(pattern(i, j))).sum())
}

/// A running loopback file server; stops when dropped.
pub(crate) struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<Thread<()>>,
}

struct Shared {
    stop: AtomicBool,
    latency: Duration,
    file_size: usize,
    files: usize,
    connections: AtomicUsize,
    /// CPU time the connection threads used, in nanoseconds, so the bench can
    /// keep the server's work out of the client's CPU column.
    cpu_nanos: AtomicU64,
    served: AtomicU64,
}

impl Server {
    /// Starts serving `files` files of `file_size` bytes at `/files/0` ..
    /// `/files/{files-1}`, each response delayed by `latency`.
    pub(crate) fn start(files: usize, file_size: usize, latency: Duration) -> io::Result<Server> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            latency,
            file_size,
            files,
            connections: AtomicUsize::new(0),
            cpu_nanos: AtomicU64::new(0),
            served: AtomicU64::new(0),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            Thread::builder()
                .name("bench-http-accept")
                .daemon(true)
                .spawn(move || accept_loop(&listener, &shared))
                .map_err(io::Error::other)?
        };
        Ok(Server {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The server's address (always 127.0.0.1).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL the CPython script uses.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// CPU time the server's connection threads have used so far.
    pub(crate) fn cpu_time(&self) -> Duration {
        Duration::from_nanos(self.shared.cpu_nanos.load(Ordering::Relaxed))
    }

    /// Successful responses sent so far.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; it sees `stop` and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join_timeout(Duration::from_secs(2));
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else { continue };
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = respond_error(&stream, "503 Service Unavailable");
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let conn_shared = Arc::clone(shared);
        // Daemon threads: a stalled connection never keeps the process alive,
        // and the socket timeouts end it anyway.
        let spawned = Thread::builder()
            .name("bench-http-conn")
            .daemon(true)
            .spawn(move || {
                let start = clock::thread_cpu();
                let _ = serve(stream, &conn_shared);
                let used = clock::thread_cpu().saturating_sub(start);
                conn_shared
                    .cpu_nanos
                    .fetch_add(used.as_nanos() as u64, Ordering::Relaxed);
                conn_shared.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn respond_error(mut stream: &TcpStream, status: &str) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()
}

/// Serves one request on `stream`, then closes it.
fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut reader = BufReader::new(&stream).take(MAX_HEAD as u64);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers; a request has no body here.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        return respond_error(&stream, "405 Method Not Allowed");
    }
    let index = path
        .strip_prefix("/files/")
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|&i| i < shared.files);
    let Some(index) = index else {
        return respond_error(&stream, "404 Not Found");
    };
    std::thread::sleep(shared.latency);
    let body = file_body(index, shared.file_size);
    let mut out = &stream;
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(&body)?;
    out.flush()?;
    shared.served.fetch_add(1, Ordering::Relaxed);
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// GETs `path` from the loopback server at `addr` with `Connection: close` and
/// returns the body, checking the status and `Content-Length`. Every blocking
/// socket call runs inside `interp.allow_threads`, so under the simulated GIL
/// the lock is released while waiting, as CPython's socket module does.
pub(crate) fn get<I: Interpreter>(
    addr: SocketAddr,
    path: &str,
    interp: &mut I,
) -> Result<Vec<u8>, String> {
    if !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to connect to non-loopback address {addr}"
        ));
    }
    let fail = |what: &str, e: io::Error| format!("GET {path}: {what}: {e}");
    let stream = interp
        .allow_threads(|| TcpStream::connect_timeout(&addr, IO_TIMEOUT))
        .map_err(|e| fail("connect", e))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| fail("socket options", e))?;
    let request = request(addr, path);
    interp
        .allow_threads(|| (&stream).write_all(request.as_bytes()))
        .map_err(|e| fail("send", e))?;
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = interp
            .allow_threads(|| (&stream).read(&mut buf))
            .map_err(|e| fail("read", e))?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        interp.tick();
    }
    parse_response(path, raw)
}

/// The GET request both clients send (`Connection: close`: the body ends
/// where the stream does).
pub(crate) fn request(addr: SocketAddr, path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: threadkit-bench\r\n\
         Connection: close\r\n\r\n"
    )
}

/// The body of a whole response `raw`, checking the status (200) and that
/// the body has exactly `Content-Length` bytes; shared by both clients.
pub(crate) fn parse_response(path: &str, mut raw: Vec<u8>) -> Result<Vec<u8>, String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no complete response head"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("GET {path}: server said {status:?}"));
    }
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or_else(|| format!("GET {path}: no Content-Length"))?;
    let body = raw.split_off(head_end + 4);
    if body.len() != length {
        return Err(format!(
            "GET {path}: body has {} bytes, Content-Length said {length}",
            body.len()
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::gil::NoGil;

    #[test]
    fn serves_the_files_and_the_client_checks_them() {
        let server = Server::start(3, 10_000, Duration::from_millis(1)).unwrap();
        assert!(server.addr().ip().is_loopback());
        for i in 0..3 {
            let body = get(server.addr(), &format!("/files/{i}"), &mut NoGil).unwrap();
            assert_eq!((body.len(), checksum(&body)), expected(i, 10_000));
            assert_eq!(body, file_body(i, 10_000));
        }
        assert_eq!(server.served(), 3);
        // Files differ, so a mixed-up response would fail the checksum.
        assert_ne!(expected(0, 10_000), expected(1, 10_000));
    }

    #[test]
    fn errors_are_reported_not_hidden() {
        let server = Server::start(2, 100, Duration::ZERO).unwrap();
        let err = get(server.addr(), "/files/2", &mut NoGil).unwrap_err();
        assert!(err.contains("404"), "{err}");
        let err = get(server.addr(), "/nope", &mut NoGil).unwrap_err();
        assert!(err.contains("404"), "{err}");
        let remote: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let err = get(remote, "/files/0", &mut NoGil).unwrap_err();
        assert!(err.contains("non-loopback"), "{err}");
    }

    #[test]
    fn concurrent_requests_overlap_their_latency() {
        // All four requests are in service at one moment: sequential service
        // never has more than one. The latency only keeps them open long
        // enough (far longer than starting four clients) to be seen.
        let server = Server::start(4, 1000, Duration::from_millis(500)).unwrap();
        let addr = server.addr();
        let handles: Vec<_> = (0..4)
            .map(|i| std::thread::spawn(move || get(addr, &format!("/files/{i}"), &mut NoGil)))
            .collect();
        let mut most = 0;
        while most < 4 && !handles.iter().all(|h| h.is_finished()) {
            most = most.max(server.shared.connections.load(Ordering::SeqCst));
            std::thread::sleep(Duration::from_millis(1));
        }
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap().len(), 1000);
        }
        assert_eq!(most, 4, "requests in service at once");
    }

    #[test]
    fn stops_when_dropped() {
        let server = Server::start(1, 10, Duration::ZERO).unwrap();
        let addr = server.addr();
        drop(server);
        // The listener is closed: a new GET fails (refused) rather than hangs.
        assert!(get(addr, "/files/0", &mut NoGil).is_err());
    }
}
