//! Lesson: outgrowing one machine. The seed's CPU-bound loop, run through a
//! `ClusterExecutor` by 3 worker processes, one of which is killed (`kill
//! -9`) mid-run: its task re-runs on another worker and every result still
//! arrives exactly once.
//!
//! The workers here are this same binary started again on this machine, on
//! a private `redis-server` listening on a unix socket; on real machines
//! they are your binary started with `THREADKIT_CLUSTER_WORKER=redis://…`
//! on each host (see the crate docs).
//!
//! Run: `cargo run --release -p threadkit-cluster --example outgrow_one_machine`
//! (needs `redis-server`: `apt-get install redis-server`; without it the
//! example says so and exits successfully).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::futures::as_completed;
use threadkit_cluster::{ClusterExecutor, current_task};

/// The seed's loop (`for i in range(n): total += i`).
fn cpu_intensive_task(n: u64) -> u64 {
    let mut total = 0u64;
    for i in 0..n {
        total = total.wrapping_add(black_box(i));
    }
    total
}

/// One unit of work: the loop, plus who ran it (pid) and which attempt.
fn unit(n: u64) -> (u64, u32, u32) {
    let attempt = current_task().map_or(0, |t| t.attempt);
    (cpu_intensive_task(n), std::process::id(), attempt)
}

threadkit_cluster::task! {
    /// The seed's CPU-bound loop, by name.
    pub UNIT: fn(u64) -> (u64, u32, u32) = unit, "lesson.outgrow.unit";
}

const TASKS: u64 = 24;
/// The seed's `10**7`, times 20 so that each task takes a visible moment
/// (about 0.1-0.2 s in a release build) and every worker is busy when one
/// is killed.
const N: u64 = 200_000_000;

/// Kills its processes (by pid) and removes its directory when dropped.
struct Guard {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_server_installed() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|p| p.join("redis-server").is_file())
    })
}

fn main() {
    // In the worker processes this serves tasks and never returns.
    threadkit_cluster::worker_main_if_requested();

    if !redis_server_installed() {
        println!("This lesson needs redis-server, which is not installed.");
        println!("Install it with `sudo apt-get install redis-server` (Debian/Ubuntu),");
        println!("`brew install redis` (macOS) or use Valkey; skipping.");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tk-outgrow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sock = dir.join("r.sock");
    let mut guard = Guard {
        children: Vec::new(),
        dir: dir.clone(),
    };
    guard.children.push(
        Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--unixsocket")
            .arg(&sock)
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server"),
    );
    let url = format!("redis+unix://{}", sock.display());
    let started = Instant::now();
    let exec = loop {
        match ClusterExecutor::builder(&url)
            .namespace("outgrow")
            .connect()
        {
            Ok(exec) => break exec,
            Err(e) if started.elapsed() > Duration::from_secs(10) => {
                panic!("redis-server did not start: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    println!("private redis-server on {}", sock.display());

    let exe = std::env::current_exe().expect("current_exe");
    let mut worker_pids = Vec::new();
    for _ in 0..3 {
        let child = Command::new(&exe)
            .env("THREADKIT_CLUSTER_WORKER", &url)
            .env("THREADKIT_CLUSTER_NAMESPACE", "outgrow")
            .env("THREADKIT_CLUSTER_SLOTS", "1")
            .env("THREADKIT_CLUSTER_LEASE_MS", "1500")
            .env("THREADKIT_CLUSTER_EXIT_WITH_PARENT", "1")
            .spawn()
            .expect("start a worker");
        worker_pids.push(child.id());
        guard.children.push(child);
    }
    println!("3 workers: pids {worker_pids:?}");

    let arrivals: Arc<Vec<AtomicUsize>> =
        Arc::new((0..TASKS).map(|_| AtomicUsize::new(0)).collect());
    let start = Instant::now();
    let futures: Vec<_> = (0..TASKS)
        .map(|i| {
            let f = exec.submit(&UNIT, N + i).expect("submit");
            let arrivals = Arc::clone(&arrivals);
            f.add_done_callback(move |_| {
                arrivals[i as usize].fetch_add(1, Ordering::SeqCst);
            });
            f
        })
        .collect();

    // After 4 results, kill the worker that reported least recently among
    // those that reported (so it is up and serving): with 20 tasks still
    // queued it is busy, and it has been on its current task the longest,
    // so it dies mid-task.
    let mut last_seen: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    let mut killed = false;
    let mut reran = 0;
    for (done, f) in as_completed(&futures, Some(Duration::from_secs(120))).enumerate() {
        let f = f.expect("every task finishes within 120 s");
        let (total, pid, attempt) = *f.result().expect("task result");
        let note = if attempt > 1 {
            reran += 1;
            format!("  <- attempt {attempt}: re-run after its worker died")
        } else {
            String::new()
        };
        println!(
            "result {:>2}/{TASKS}: {total} from worker {pid}{note}",
            done + 1
        );
        last_seen.insert(pid, done);
        if !killed && done + 1 == 4 {
            let victim = *worker_pids
                .iter()
                .filter(|p| last_seen.contains_key(p))
                .min_by_key(|p| last_seen[p])
                .expect("a worker reported");
            if let Some(i) = guard.children.iter().position(|c| c.id() == victim) {
                let mut c = guard.children.remove(i);
                let _ = c.kill();
                let _ = c.wait();
                println!("--- kill -9 worker {victim} mid-run ---");
                killed = true;
            }
        }
    }
    let once = arrivals.iter().all(|a| a.load(Ordering::SeqCst) == 1);
    println!(
        "{TASKS} results in {:.1?}, each delivered exactly once: {once}; {reran} re-run after the kill",
        start.elapsed()
    );
    exec.shutdown(true, false);
    assert!(once, "a result arrived twice or never");
}
