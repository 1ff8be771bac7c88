//! Lesson: green threads (gevent) — the same plain blocking code run as
//! 100 000 green threads, as OS threads and as asyncio tasks.
//!
//! Python (gevent):
//!
//! ```python
//! import gevent
//! from gevent.queue import Queue
//!
//! def worker(q, i):
//!     gevent.sleep(0.25)      # blocking style: the wait switches to another greenlet
//!     q.put(i)
//!     gevent.sleep(0.25)
//!     return q.get()
//!
//! q = Queue()
//! gs = [gevent.spawn(worker, q, i) for i in range(100_000)]
//! gevent.joinall(gs)
//! print(sum(g.value for g in gs))   # every item put was got
//! ```
//!
//! The worker below is that function with threadkit's names: `sleep` and
//! `Queue` block an OS thread and yield in a green thread, so the same code
//! runs both ways, unchanged. The asyncio version needs `async`/`.await` at
//! every wait. Unlike gevent, nothing is monkey-patched: only threadkit's
//! waits yield (`std::thread::sleep` would block every green thread on the
//! carrier). Sockets yield too when they are `green::net`'s (gevent's
//! `gevent.socket`): the lesson ends with a small echo server, its clients
//! green threads on the same OS thread.
//!
//! Run: `cargo run --release -p threadkit --example green --features green,asyncio`

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::{Queue, asyncio, green, sleep};

/// The worker: plain blocking code (gevent's `worker`).
pub fn worker(q: &Queue<u64>, i: u64, nap: Duration) -> u64 {
    sleep(nap); // parks an OS thread; yields in a green thread
    q.put(i).expect("the queue is never shut down");
    sleep(nap);
    q.get().expect("the queue is never shut down")
}

/// The same worker for asyncio: every wait is awaited.
pub async fn worker_async(q: Arc<Queue<u64>>, i: u64, nap: Duration) -> u64 {
    asyncio::sleep(nap).await;
    q.put_async(i).await.expect("the queue is never shut down");
    asyncio::sleep(nap).await;
    q.get_async().await.expect("the queue is never shut down")
}

/// One way of running `n` workers: what they returned and what it cost.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// How many workers ran at once.
    pub n: usize,
    /// The sum of what the workers got: `n * (n - 1) / 2` when every item
    /// put was got once.
    pub sum: u64,
    /// From the first spawn to the last join.
    pub wall: Duration,
    /// How much the process's peak resident set grew over the run, in bytes
    /// (`None` where `/proc/self` cannot tell, off Linux).
    pub peak_rss_added: Option<u64>,
}

impl Run {
    /// The peak memory added per worker, in bytes.
    pub fn bytes_per_worker(&self) -> Option<u64> {
        self.peak_rss_added.map(|b| b / self.n as u64)
    }
}

/// The `Vm...:` line of `/proc/self/status`, in bytes.
fn status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Runs `f` on a fresh OS thread (so that its green threads' stack pool
/// goes with it) and measures the growth of the peak resident set: the
/// kernel's peak (`VmHWM`) is reset to the current size first. Memory an
/// earlier run freed to the allocator is reused without growing the
/// resident set, so each way is best measured in a fresh process.
fn measured(n: usize, f: impl FnOnce() -> u64 + Send) -> Run {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_bytes("VmRSS:");
    let t = Instant::now();
    let sum = std::thread::scope(|s| s.spawn(f).join().expect("the run does not panic"));
    let wall = t.elapsed();
    let peak = status_bytes("VmHWM:");
    let peak_rss_added = match (reset, before, peak) {
        (true, Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
        _ => None,
    };
    Run {
        n,
        sum,
        wall,
        peak_rss_added,
    }
}

/// `n` green threads on one carrier, each running [`worker`].
pub fn as_green_threads(n: usize, nap: Duration) -> Run {
    measured(n, move || {
        green::run(move || {
            let q = Arc::new(Queue::new(0));
            let gs: Vec<_> = (0..n as u64)
                .map(|i| {
                    let q = Arc::clone(&q);
                    green::spawn(move || worker(&q, i, nap))
                })
                .collect();
            green::joinall(&gs);
            gs.into_iter()
                .map(|g| g.get().expect("no worker fails"))
                .sum()
        })
        .expect("the scope does not fail")
    })
}

/// `n` OS threads, each running the same [`worker`].
pub fn as_os_threads(n: usize, nap: Duration) -> Run {
    measured(n, move || {
        let q = Queue::new(0);
        std::thread::scope(|s| {
            let q = &q;
            let ts: Vec<_> = (0..n as u64)
                .map(|i| s.spawn(move || worker(q, i, nap)))
                .collect();
            ts.into_iter()
                .map(|t| t.join().expect("no worker fails"))
                .sum()
        })
    })
}

/// `n` asyncio tasks on one event loop, each running [`worker_async`].
pub fn as_asyncio_tasks(n: usize, nap: Duration) -> Run {
    measured(n, move || {
        asyncio::run(async move {
            let q = Arc::new(Queue::new(0));
            let got = asyncio::gather((0..n as u64).map(|i| worker_async(Arc::clone(&q), i, nap)))
                .await
                .expect("no worker fails");
            got.into_iter().sum()
        })
        .expect("not inside another event loop")
    })
}

/// Runs `n` workers one way (`green`, `threads` or `asyncio`).
pub fn run_one(how: &str, n: usize, nap: Duration) -> Option<Run> {
    match how {
        "green" => Some(as_green_threads(n, nap)),
        "threads" => Some(as_os_threads(n, nap)),
        "asyncio" => Some(as_asyncio_tasks(n, nap)),
        _ => None,
    }
}

impl Run {
    /// One line a child process prints: `n sum wall_secs peak_bytes`.
    pub fn to_line(self) -> String {
        let peak = self
            .peak_rss_added
            .map_or("?".to_owned(), |b| b.to_string());
        format!("{} {} {} {peak}", self.n, self.sum, self.wall.as_secs_f64())
    }

    /// Reads back [`Run::to_line`].
    pub fn from_line(line: &str) -> Option<Run> {
        let mut it = line.split_whitespace();
        Some(Run {
            n: it.next()?.parse().ok()?,
            sum: it.next()?.parse().ok()?,
            wall: Duration::try_from_secs_f64(it.next()?.parse().ok()?).ok()?,
            peak_rss_added: it.next()?.parse().ok(),
        })
    }
}

/// A small echo server on green sockets (`green::net`, gevent's
/// `gevent.socket`): one green thread accepts, one per connection echoes,
/// and `clients` green clients each send a line and read it back, all on
/// this one OS thread. Returns how many got their line back.
pub fn echo_server(clients: usize) -> usize {
    use std::io::{Read, Write};
    use threadkit::green::net::{TcpListener, TcpStream};

    green::run(move || {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let _server = green::spawn(move || {
            for conn in listener.incoming().take(clients) {
                let Ok(mut conn) = conn else { continue };
                green::spawn(move || {
                    let mut buf = [0; 64];
                    while let Ok(n @ 1..) = conn.read(&mut buf) {
                        if conn.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let gots: Vec<_> = (0..clients)
            .map(|i| {
                green::spawn(move || {
                    let line = format!("hello from client {i}\n");
                    let mut s = TcpStream::connect(addr).ok()?;
                    s.write_all(line.as_bytes()).ok()?;
                    let mut back = vec![0; line.len()];
                    s.read_exact(&mut back).ok()?;
                    Some(back == line.as_bytes())
                })
            })
            .collect();
        gots.into_iter()
            .filter_map(|g| g.get().ok().flatten())
            .filter(|&same| same)
            .count()
    }) // `run` ends the server's green threads left waiting
    .expect("the echo run")
}

/// Each way runs in a fresh process (this program again, with the way and
/// the count as arguments), so that memory one run freed is not counted as
/// free for the next.
fn main() {
    let nap = Duration::from_millis(250);
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [how, n] = args.as_slice() {
        let n = n.parse().expect("a count");
        let run = run_one(how, n, nap).expect("green, threads or asyncio");
        println!("{}", run.to_line());
        return;
    }
    let exe = std::env::current_exe().expect("this program's path");
    for (how, n) in [("green", 100_000), ("threads", 2_000), ("asyncio", 100_000)] {
        let out = std::process::Command::new(&exe)
            .args([how, &n.to_string()])
            .output()
            .expect("runs itself");
        let run = Run::from_line(&String::from_utf8_lossy(&out.stdout)).expect("its line");
        let n = run.n as u64;
        assert_eq!(run.sum, n * (n - 1) / 2); // every item put was got
        let per = run
            .bytes_per_worker()
            .map_or("?".to_owned(), |b| b.to_string());
        println!(
            "{:>7} {how:<8} {:.2} s, peak memory {per} bytes per worker",
            run.n,
            run.wall.as_secs_f64()
        );
    }
    let echoed = echo_server(200);
    println!("echo server on one OS thread: {echoed} of 200 green clients got their line back");
}
