//! Lesson: outgrowing one machine. The seed's CPU-bound loop, run through a
//! `ClusterExecutor` by 3 worker processes, one of which is killed (`kill
//! -9`) mid-run: its task re-runs on another worker and every result still
//! arrives exactly once.
//!
//! ```python
//! # Dask: the same concurrent.futures shape, run by workers on many hosts
//! # (each started with `dask worker tcp://scheduler:8786`).
//! from concurrent.futures import as_completed
//! from dask.distributed import Client
//!
//! def cpu_intensive_task(n):
//!     total = 0
//!     for i in range(n):
//!         total += i
//!     return total
//!
//! executor = Client("tcp://scheduler:8786").get_executor()
//! futures = [executor.submit(cpu_intensive_task, 10**7 + i) for i in range(24)]
//! for f in as_completed(futures):
//!     print(f.result())
//! ```
//!
//! The workers here are this same binary started again on this machine, on
//! a private `redis-server` listening on a unix socket; on real machines
//! they are your binary started with `THREADKIT_CLUSTER_WORKER=redis://…`
//! on each host (see the crate docs). `threadkit tour outgrow_one_machine`
//! runs this code as a lesson (with the CLI's `cluster` feature).
//!
//! Run: `cargo run --release -p threadkit-cluster --example outgrow_one_machine`
//! (needs `redis-server`: `apt-get install redis-server`; without it the
//! example says so and exits successfully).

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadkit::futures::{Shutdown, as_completed};
use threadkit_cluster::{ClusterExecutor, current_task};

/// The seed's loop (`for i in range(n): total += i`).
pub fn cpu_intensive_task(n: u64) -> u64 {
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

/// How many tasks the demo submits.
pub const TASKS: u64 = 24;
/// The seed's `10**7`, times 20 so that each task takes a visible moment
/// (about 0.1-0.2 s in a release build) and every worker is busy when one
/// is killed.
pub const N: u64 = 200_000_000;

/// Whether `redis-server` is on PATH.
pub fn redis_server_installed() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|p| p.join("redis-server").is_file())
    })
}

/// What to tell someone without `redis-server`.
pub const INSTALL_REDIS: &str = "install it with `sudo apt-get install redis-server` \
     (Debian/Ubuntu), `brew install redis` (macOS) or use Valkey";

/// A cluster on this machine: a private `redis-server` on a unix socket and
/// worker processes (this same binary, started again as workers). Dropping
/// it kills them (by pid) and removes its directory.
#[derive(Debug)]
pub struct LocalCluster {
    /// The executor, connected to the private server.
    pub exec: ClusterExecutor,
    /// The server's URL (`redis+unix://…`).
    pub url: String,
    /// The workers' pids, in start order.
    pub worker_pids: Vec<u32>,
    children: Vec<Child>,
    dir: PathBuf,
}

impl LocalCluster {
    /// Starts `redis-server` and `workers` worker processes of `slots`
    /// slots each, in `namespace`. The binary must call
    /// `threadkit_cluster::worker_main_if_requested()` first in `main`.
    pub fn start(workers: usize, slots: usize, namespace: &str) -> Result<LocalCluster, String> {
        let dir = std::env::temp_dir().join(format!("tk-{namespace}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("temp dir: {e}"))?;
        let sock = dir.join("r.sock");
        let url = format!("redis+unix://{}", sock.display());
        let mut children = Vec::new();
        let server = Command::new("redis-server")
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
            .spawn();
        match server {
            Ok(child) => children.push(child),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("cannot start redis-server: {e}"));
            }
        }
        // From here on, a failure drops the half-built cluster via `Guard`.
        let mut guard = Guard { children, dir };
        let started = Instant::now();
        let exec = loop {
            match ClusterExecutor::builder(&url)
                .namespace(namespace)
                .connect()
            {
                Ok(exec) => break exec,
                Err(e) if started.elapsed() > Duration::from_secs(10) => {
                    return Err(format!("redis-server did not start: {e}"));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut worker_pids = Vec::new();
        for _ in 0..workers {
            let child = Command::new(&exe)
                .env("THREADKIT_CLUSTER_WORKER", &url)
                .env("THREADKIT_CLUSTER_NAMESPACE", namespace)
                .env("THREADKIT_CLUSTER_SLOTS", slots.to_string())
                .env("THREADKIT_CLUSTER_LEASE_MS", "1500")
                .env("THREADKIT_CLUSTER_EXIT_WITH_PARENT", "1")
                .spawn()
                .map_err(|e| format!("cannot start a worker: {e}"))?;
            worker_pids.push(child.id());
            guard.children.push(child);
        }
        let (children, dir) = guard.disarm();
        Ok(LocalCluster {
            exec,
            url,
            worker_pids,
            children,
            dir,
        })
    }

    /// Kills the worker `pid` (SIGKILL, as `kill -9`) and reaps it.
    pub fn kill_worker(&mut self, pid: u32) -> bool {
        let Some(i) = self.children.iter().position(|c| c.id() == pid) else {
            return false;
        };
        let mut c = self.children.remove(i);
        let _ = c.kill();
        let _ = c.wait();
        true
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.exec.shutdown(Shutdown::no_wait().cancel_futures());
        drop(Guard {
            children: std::mem::take(&mut self.children),
            dir: std::mem::take(&mut self.dir),
        });
    }
}

/// Kills its processes (by pid) and removes its directory when dropped.
struct Guard {
    children: Vec<Child>,
    dir: PathBuf,
}

impl Guard {
    /// Hands its processes and directory over, to be cleaned by another.
    fn disarm(mut self) -> (Vec<Child>, PathBuf) {
        (
            std::mem::take(&mut self.children),
            std::mem::take(&mut self.dir),
        )
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One result as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// The loop's total.
    pub total: u64,
    /// The worker that ran it.
    pub pid: u32,
    /// Which delivery of the task this was (2 or more: a re-run).
    pub attempt: u32,
}

/// What the demo saw.
#[derive(Debug)]
pub struct Outcome {
    /// The worker killed mid-run, if one was.
    pub killed: Option<u32>,
    /// Whether every task's result arrived exactly once.
    pub once: bool,
    /// Whether every total is the loop's right answer.
    pub correct: bool,
    /// How many results came from a re-run.
    pub reran: usize,
    /// From the first submit to the last result.
    pub elapsed: Duration,
}

/// Submits [`TASKS`] loops of about `n` iterations (the demo: [`N`]) and,
/// after 4 results, kills a worker mid-task; `on_result` sees each result
/// as it arrives, `on_kill` the killed worker's pid.
pub fn run_with_a_kill(
    cluster: &mut LocalCluster,
    n: u64,
    mut on_result: impl FnMut(usize, Arrival),
    mut on_kill: impl FnMut(u32),
) -> Result<Outcome, String> {
    let arrivals: Arc<Vec<AtomicUsize>> =
        Arc::new((0..TASKS).map(|_| AtomicUsize::new(0)).collect());
    let start = Instant::now();
    let mut futures = Vec::new();
    for i in 0..TASKS {
        let f = cluster
            .exec
            .submit(&UNIT, n + i)
            .map_err(|e| format!("submit: {e}"))?;
        let arrivals = Arc::clone(&arrivals);
        f.add_done_callback(move |_| {
            arrivals[i as usize].fetch_add(1, Ordering::SeqCst);
        });
        futures.push(f);
    }

    // After 4 results, kill the worker that reported least recently among
    // those that reported (so it is up and serving): with 20 tasks still
    // queued it is busy, and it has been on its current task the longest,
    // so it dies mid-task.
    let mut last_seen: HashMap<u32, usize> = HashMap::new();
    let mut killed = None;
    let mut reran = 0;
    let mut correct = true;
    for (done, f) in as_completed(&futures, Some(Duration::from_secs(120))).enumerate() {
        let f = f.map_err(|e| format!("not every task finished within 120 s: {e}"))?;
        let (total, pid, attempt) = *f.result().map_err(|e| format!("a task failed: {e}"))?;
        let i = futures.iter().position(|g| std::ptr::eq(g, f)).unwrap_or(0) as u64;
        correct &= total == cpu_intensive_task_total(n + i);
        if attempt > 1 {
            reran += 1;
        }
        on_result(
            done,
            Arrival {
                total,
                pid,
                attempt,
            },
        );
        last_seen.insert(pid, done);
        if killed.is_none() && done + 1 == 4 {
            let victim = cluster
                .worker_pids
                .iter()
                .copied()
                .filter(|p| last_seen.contains_key(p))
                .min_by_key(|p| last_seen[p]);
            if let Some(victim) = victim {
                if cluster.kill_worker(victim) {
                    on_kill(victim);
                    killed = Some(victim);
                }
            }
        }
    }
    Ok(Outcome {
        killed,
        once: arrivals.iter().all(|a| a.load(Ordering::SeqCst) == 1),
        correct,
        reran,
        elapsed: start.elapsed(),
    })
}

/// What [`cpu_intensive_task`]`(n)` returns: `n(n-1)/2`.
pub fn cpu_intensive_task_total(n: u64) -> u64 {
    let n = u128::from(n);
    (n * n.saturating_sub(1) / 2) as u64
}

fn main() {
    // In the worker processes this serves tasks and never returns.
    threadkit_cluster::worker_main_if_requested();

    if !redis_server_installed() {
        println!("This lesson needs redis-server, which is not installed;");
        println!("{INSTALL_REDIS}. Skipping.");
        return;
    }
    let mut cluster = LocalCluster::start(3, 1, "outgrow").expect("a local cluster");
    println!("private redis-server on {}", cluster.url);
    println!("3 workers: pids {:?}", cluster.worker_pids);
    let outcome = run_with_a_kill(
        &mut cluster,
        N,
        |done, a| {
            let note = if a.attempt > 1 {
                format!("  <- attempt {}: re-run after its worker died", a.attempt)
            } else {
                String::new()
            };
            println!(
                "result {:>2}/{TASKS}: {} from worker {}{note}",
                done + 1,
                a.total,
                a.pid
            );
        },
        |victim| println!("--- kill -9 worker {victim} mid-run ---"),
    )
    .expect("the demo runs");
    println!(
        "{TASKS} results in {:.1?}, each delivered exactly once: {}; {} re-run after the kill",
        outcome.elapsed, outcome.once, outcome.reran
    );
    assert!(outcome.once, "a result arrived twice or never");
    assert!(outcome.correct, "a wrong total");
}
