//! `green::net` against its anchors, in the same run: a loopback TCP echo
//! round trip (64 bytes, `TCP_NODELAY`) between two green threads of one
//! carrier, against
//! - two OS threads with `std::net` (blocking sockets),
//! - two tokio tasks on one current-thread runtime (what a reactor turned
//!   by each hub could reach: no hop to a reactor thread),
//! - two greenlets with `gevent.socket` (`benches/green_net_gevent.py`),
//!   run with `$GREEN_PY` or the venv the `green` bench installs under the
//!   target dir (`target/green-venv`); without one the row is skipped.
//!
//! Run: `cargo bench -p threadkit --features green --bench green_net`
//! (`-- --test` for a tiny smoke run).
//!
//! Last numbers (2026-12-03, 2-core VM shared with other builds, load
//! average 4.5 to 10: compare only the rows of one run; gevent 26.9 on
//! CPython 3.11, 5000 round trips), three runs:
//!
//! | echo round trip, 64 B | run 1 | run 2 | run 3 |
//! | --- | --- | --- | --- |
//! | `green::net`, two green threads, one carrier | 55.4 us | 64.7 us | 31.2 us |
//! | `std::net`, two OS threads | 0.58x | 0.21x | 0.45x |
//! | tokio, two tasks, one current-thread runtime | 0.50x | 0.20x | 0.48x |
//! | `gevent.socket`, two greenlets | 1.14x | 0.40x | 1.14x |
//!
//! Each wait that data does not end at once costs a hop through the
//! reactor thread (see the `green::net` docs): two per round trip here.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use threadkit::green;
use threadkit::green::net::{TcpListener, TcpStream};

const MSG: [u8; 64] = [b'x'; 64];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rounds(f: impl FnMut() -> f64) -> f64 {
    median(std::iter::repeat_with(f).take(3).collect())
}

/// Echoes until the peer closes.
fn serve(mut conn: impl Read + Write) {
    let mut buf = [0; 4096];
    loop {
        match conn.read(&mut buf).unwrap() {
            0 => return,
            n => conn.write_all(&buf[..n]).unwrap(),
        }
    }
}

/// `n` round trips of [`MSG`]; nanoseconds per round trip.
fn client(mut s: impl Read + Write, n: usize) -> f64 {
    let mut buf = [0; 64];
    let t = Instant::now();
    for _ in 0..n {
        s.write_all(&MSG).unwrap();
        s.read_exact(&mut buf).unwrap();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn echo_green(n: usize) -> f64 {
    rounds(|| {
        green::run(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let server = green::spawn(move || {
                let (conn, _) = listener.accept().unwrap();
                conn.set_nodelay(true).unwrap();
                serve(conn);
            });
            let s = TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            let ns = client(&s, n);
            drop(s);
            server.join();
            ns
        })
        .unwrap()
    })
}

fn echo_threads(n: usize) -> f64 {
    rounds(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            conn.set_nodelay(true).unwrap();
            serve(conn);
        });
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        let ns = client(&s, n);
        drop(s);
        server.join().unwrap();
        ns
    })
}

async fn write_all(s: &tokio::net::TcpStream, mut buf: &[u8]) {
    while !buf.is_empty() {
        s.writable().await.unwrap();
        match s.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
}

async fn read_some(s: &tokio::net::TcpStream, buf: &mut [u8]) -> usize {
    loop {
        match s.try_read(buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        s.readable().await.unwrap();
    }
}

fn echo_tokio(n: usize) -> f64 {
    rounds(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (conn, _) = listener.accept().await.unwrap();
                conn.set_nodelay(true).unwrap();
                let mut buf = [0; 4096];
                loop {
                    match read_some(&conn, &mut buf).await {
                        0 => return,
                        k => write_all(&conn, &buf[..k]).await,
                    }
                }
            });
            let s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let mut buf = [0; 64];
            let t = Instant::now();
            for _ in 0..n {
                write_all(&s, &MSG).await;
                let mut got = 0;
                while got < 64 {
                    got += read_some(&s, &mut buf[got..]).await;
                }
            }
            let ns = t.elapsed().as_nanos() as f64 / n as f64;
            drop(s);
            server.await.unwrap();
            ns
        })
    })
}

/// A Python with gevent (never installed here: the `green` bench does
/// that), or why there is none.
fn gevent_python() -> Result<PathBuf, String> {
    let py = match std::env::var_os("GREEN_PY") {
        Some(py) => PathBuf::from(py),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("green-venv/bin/python"),
    };
    let has = Command::new(&py)
        .args(["-c", "import gevent"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has {
        Ok(py)
    } else {
        Err(format!(
            "no gevent at {} (set GREEN_PY, or run the green bench once to install it)",
            py.display()
        ))
    }
}

fn echo_gevent(py: &PathBuf, n: usize) -> Option<f64> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/green_net_gevent.py");
    let out = Command::new(py)
        .arg(script)
        .arg(n.to_string())
        .output()
        .ok()?;
    let json = String::from_utf8_lossy(&out.stdout);
    let at = json.find("\"ns\":")? + 5;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn main() {
    green::set_max_blocking(None);
    let smoke = std::env::args().any(|a| a == "--test");
    let n = if smoke { 100 } else { 20_000 };
    let ours = echo_green(n);
    println!("echo round trip, 64 B over loopback ({n} round trips, median of 3):");
    println!("  green::net, two green threads, one carrier   {ours:>9.0} ns");
    let threads = echo_threads(n);
    println!(
        "  std::net, two OS threads                     {threads:>9.0} ns  ({:.2}x green)",
        threads / ours
    );
    let tokio = echo_tokio(n);
    println!(
        "  tokio, two tasks on one current-thread rt    {tokio:>9.0} ns  ({:.2}x green)",
        tokio / ours
    );
    match if smoke {
        Err("smoke run".to_string())
    } else {
        gevent_python()
    } {
        Ok(py) => match echo_gevent(&py, n / 4) {
            Some(g) => println!(
                "  gevent.socket, two greenlets                 {g:>9.0} ns  ({:.2}x green)",
                g / ours
            ),
            None => println!("  gevent row failed"),
        },
        Err(why) => println!("  gevent row skipped: {why}"),
    }
}
