//! Lesson: asyncio for I/O — fetch several URLs concurrently.
//!
//! Tutorial (with `aiohttp`):
//!
//! ```python
//! async def fetch(session, url):
//!     async with session.get(url) as response:
//!         return await response.text()
//!
//! async def main(urls):
//!     async with aiohttp.ClientSession() as session:
//!         return await asyncio.gather(*(fetch(session, u) for u in urls))
//! ```
//!
//! No external network: the example starts its own HTTP server on
//! 127.0.0.1 (tokio's `TcpListener`, each page answered after a short
//! delay) and fetches from it with a minimal hand-written HTTP/1.1 `GET`
//! client over tokio's `TcpStream`.
//!
//! Run: `cargo run --example asyncio_fetch --features asyncio`

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use threadkit::asyncio;
use tokio::net::{TcpListener, TcpStream};

/// Writes all of `data` to `stream`.
async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads from `stream` until `done(&buf)` or end of stream.
async fn read_until(stream: &TcpStream, done: impl Fn(&[u8]) -> bool) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !done(&buf) {
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}

fn end_of_head(buf: &[u8]) -> bool {
    buf.windows(4).any(|w| w == b"\r\n\r\n")
}

/// Starts the loopback server: `GET /page/N` answers `page N` after `delay`.
/// Returns its address; it runs until the event loop ends.
pub async fn start_server(delay: Duration) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    asyncio::create_task(async move {
        while let Ok((stream, _)) = listener.accept().await {
            asyncio::create_task(async move {
                let request = read_until(&stream, end_of_head).await?;
                let request = String::from_utf8_lossy(&request);
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let body = match path.strip_prefix("/page/") {
                    Some(n) => format!("page {n}"),
                    None => "not found".to_owned(),
                };
                asyncio::sleep(delay).await; // a slow server
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                write_all(&stream, response.as_bytes()).await
            });
        }
    });
    Ok(addr)
}

/// A minimal HTTP/1.1 `GET`: returns the status code and the body.
pub async fn get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    write_all(&stream, request.as_bytes()).await?;
    let response = read_until(&stream, |_| false).await?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no end of headers"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;
    Ok((status, body.to_owned()))
}

/// Fetches `/page/0` to `/page/{n-1}` concurrently from a fresh loopback
/// server whose every answer takes `delay`; returns the bodies in order and
/// the wall time (about one `delay`, not `n`).
pub fn fetch_pages(n: usize, delay: Duration) -> (Vec<String>, Duration) {
    let start = Instant::now();
    let bodies = asyncio::run(async move {
        let addr = start_server(delay).await.expect("bind 127.0.0.1");
        let fetches = (0..n).map(|i| async move { get(addr, &format!("/page/{i}")).await });
        asyncio::gather(fetches)
            .await
            .expect("no fetch panics")
            .into_iter()
            .map(|r| {
                let (status, body) = r.expect("loopback fetch");
                assert_eq!(status, 200);
                body
            })
            .collect()
    })
    .expect("not inside another event loop");
    (bodies, start.elapsed())
}

fn main() {
    let (bodies, elapsed) = fetch_pages(5, Duration::from_millis(500));
    for body in &bodies {
        println!("{body}");
    }
    println!("{} pages in {:.2} s", bodies.len(), elapsed.as_secs_f64());
    assert_eq!(bodies[4], "page 4");
}
