//! Just enough HTTP for the lesson: a loopback server that serves a few
//! "images" after a delay (the network's latency), and a client that fetches
//! one. Standard library only; it binds 127.0.0.1 and talks to nothing else.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use threadkit::threading::Thread;

/// A server on 127.0.0.1 serving `/img/N` for each image; stops when dropped.
#[derive(Debug)]
pub struct ImageServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl ImageServer {
    /// Serves `images` on a free loopback port, answering each request after
    /// `latency`, one daemon thread per connection.
    pub fn start(images: Vec<Vec<u8>>, latency: Duration) -> io::Result<ImageServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let images = Arc::new(images);
        let stopping = Arc::clone(&stop);
        Thread::builder()
            .name("image-server")
            .daemon(true)
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let images = Arc::clone(&images);
                    let _ = Thread::builder()
                        .name("image-server-conn")
                        .daemon(true)
                        .spawn(move || serve(stream, &images, latency));
                }
            })
            .map_err(io::Error::other)?;
        Ok(ImageServer { addr, stop })
    }

    /// The URL of image `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}/img/{i}", self.addr)
    }
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, images: &[Vec<u8>], latency: Duration) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let image = request_line
        .split_whitespace()
        .nth(1)
        .and_then(|path| path.strip_prefix("/img/"))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| images.get(n));
    std::thread::sleep(latency);
    let mut out = &stream;
    match image {
        Some(body) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(body)
        }
        None => out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

/// `requests.get(url).content` for an `http://127.0.0.1:PORT/...` URL: the
/// body of a 200 response whose length matches its `Content-Length`.
pub(crate) fn get(url: &str) -> Result<Vec<u8>, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http URL: {url}"))?;
    let (host, path) = rest
        .split_once('/')
        .ok_or_else(|| format!("no path in {url}"))?;
    let addr: SocketAddr = host.parse().map_err(|e| format!("{host}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{host}: this lesson only talks to loopback addresses"
        ));
    }
    let fetch = || -> io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        Ok(response)
    };
    let response = fetch().map_err(|e| format!("{url}: {e}"))?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{url}: no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let body = response[split + 4..].to_vec();
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "{url}: {}",
            head.lines().next().unwrap_or("no status")
        ));
    }
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .ok_or_else(|| format!("{url}: no Content-Length"))?;
    if body.len() != length {
        return Err(format!("{url}: got {} of {length} bytes", body.len()));
    }
    Ok(body)
}
