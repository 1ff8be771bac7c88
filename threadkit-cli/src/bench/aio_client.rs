//! The `download` workload's async client for the `asyncio` mode: an HTTP/1.1
//! GET over a tokio [`TcpStream`] on the event loop, waiting with
//! `readable()`/`writable()` (no extra tokio features), and checked exactly
//! as the blocking [`server::get`]: status, `Content-Length`, and then the
//! caller compares size and checksum.

use std::io;
use std::net::SocketAddr;

use threadkit::asyncio;
use tokio::net::TcpStream;

use super::server::{self, IO_TIMEOUT};

/// Fetches `path` from the loopback server at `addr` (anything else is
/// refused) and returns the body; the whole exchange may take
/// [`IO_TIMEOUT`].
pub(crate) async fn get(addr: SocketAddr, path: &str) -> Result<Vec<u8>, String> {
    if !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to connect to non-loopback address {addr}"
        ));
    }
    asyncio::wait_for(exchange(addr, path), IO_TIMEOUT)
        .await
        .unwrap_or_else(|_| Err(format!("GET {path}: no answer within {IO_TIMEOUT:?}")))
}

async fn exchange(addr: SocketAddr, path: &str) -> Result<Vec<u8>, String> {
    let fail = |what: &str, e: io::Error| format!("GET {path}: {what}: {e}");
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| fail("connect", e))?;
    let request = server::request(addr, path);
    let mut unsent = request.as_bytes();
    while !unsent.is_empty() {
        stream.writable().await.map_err(|e| fail("send", e))?;
        match stream.try_write(unsent) {
            Ok(n) => unsent = &unsent[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(fail("send", e)),
        }
    }
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        stream.readable().await.map_err(|e| fail("read", e))?;
        match stream.try_read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(fail("read", e)),
        }
    }
    server::parse_response(path, raw)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::bench::server::Server;

    #[test]
    fn fetches_and_checks_like_the_blocking_client() {
        let server = Server::start(2, 3000, Duration::ZERO).unwrap();
        let addr = server.addr();
        let (body, missing) =
            asyncio::run(async move { (get(addr, "/files/1").await, get(addr, "/nope").await) })
                .unwrap();
        let body = body.unwrap();
        assert_eq!(
            (body.len(), server::checksum(&body)),
            server::expected(1, 3000)
        );
        assert!(missing.unwrap_err().contains("server said"));
        let far: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let refused = asyncio::run(get(far, "/files/0")).unwrap();
        assert!(refused.unwrap_err().contains("non-loopback"));
    }
}
