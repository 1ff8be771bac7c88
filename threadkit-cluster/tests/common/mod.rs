//! Test harness: a private redis-server per test, and worker processes
//! (this test binary started again), all killed by pid when dropped, even
//! on panic.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Every wait in these tests is bounded by this.
pub const BOUND: Duration = Duration::from_secs(30);

/// A private `redis-server` on a unix socket (TCP disabled), no persistence.
pub struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    pub url: String,
}

/// Starts a server, or returns `None` (after a notice) when `redis-server`
/// is not installed. Under `CI=true` a missing server fails the test.
pub fn server() -> Option<RedisServer> {
    server_with(&[])
}

/// [`server`], with more `redis-server` arguments (TLS, ...).
pub fn server_with(extra: &[std::ffi::OsString]) -> Option<RedisServer> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|p| p.join("redis-server").is_file())
    });
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("redis-server is not installed (CI=true): .ci/run installs it with apt-get");
        }
        // Once, and past the test harness's output capture (which only
        // takes the print macros), so a skip is visible in a plain run.
        static NOTICE: std::sync::Once = std::sync::Once::new();
        NOTICE.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: skipping the threadkit-cluster tests that need a broker: \
                 redis-server is not installed (apt-get install -y redis-server)"
            );
        });
        return None;
    }
    let dir = std::env::temp_dir().join(format!(
        "tk-cluster-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sock = dir.join("r.sock");
    let child = Command::new("redis-server")
        .arg("--port")
        .arg("0")
        .arg("--unixsocket")
        .arg(&sock)
        .arg("--unixsocketperm")
        .arg("700")
        .arg("--save")
        .arg("")
        .arg("--appendonly")
        .arg("no")
        .arg("--daemonize")
        .arg("no")
        .arg("--dir")
        .arg(&dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let mut server = RedisServer {
        child: Some(child),
        dir,
        url: format!("redis+unix://{}", sock.display()),
    };
    let deadline = Instant::now() + BOUND;
    loop {
        if let Ok(mut con) = server.con_once() {
            if redis::cmd("PING").query::<String>(&mut con).is_ok() {
                break;
            }
        }
        let exited = server
            .child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
        if exited && !extra.is_empty() {
            // It refused the extra arguments: e.g. a build without TLS
            // (such as Valkey's static builds) given `--tls-port`.
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "redis-server refused {extra:?} (CI=true)"
            );
            eprintln!("NOTICE: skipping a test: redis-server refused {extra:?}");
            return None;
        }
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(server)
}

impl RedisServer {
    fn con_once(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(self.url.as_str())?;
        let con = client.get_connection_with_timeout(Duration::from_secs(5))?;
        con.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(con)
    }

    /// A plain connection for inspecting and poking at the keys.
    pub fn con(&self) -> redis::Connection {
        self.con_once().expect("connect to the test redis-server")
    }

    /// The server's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal by name (`STOP`, `CONT`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let pid = self.pid().expect("server running");
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} {pid}");
    }

    /// Kills the server now (SIGKILL, by pid).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            // In case a test stopped it: a stopped process still dies of
            // SIGKILL, but let it go at once.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(c.id().to_string())
                .status();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Worker processes: this test binary again, running only its
/// `worker_entry` test, which calls `worker_main_if_requested`.
pub struct Workers {
    pub children: Vec<Child>,
    url: String,
    ns: String,
    slots: usize,
    lease_ms: u64,
}

impl Workers {
    pub fn new(url: &str, ns: &str, slots: usize, lease_ms: u64) -> Self {
        Workers {
            children: Vec::new(),
            url: url.to_owned(),
            ns: ns.to_owned(),
            slots,
            lease_ms,
        }
    }

    /// Starts one more worker process; returns its pid.
    pub fn spawn(&mut self) -> u32 {
        let exe = std::env::current_exe().expect("current_exe");
        let child = Command::new(exe)
            .args([
                "worker_entry",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("THREADKIT_CLUSTER_WORKER", &self.url)
            .env("THREADKIT_CLUSTER_NAMESPACE", &self.ns)
            .env("THREADKIT_CLUSTER_SLOTS", self.slots.to_string())
            .env("THREADKIT_CLUSTER_LEASE_MS", self.lease_ms.to_string())
            .env("THREADKIT_CLUSTER_EXIT_WITH_PARENT", "1")
            .env("TK_TEST_REDIS", &self.url)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn a worker process");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// SIGKILLs the worker with this pid.
    pub fn kill(&mut self, pid: u32) {
        if let Some(i) = self.children.iter().position(|c| c.id() == pid) {
            let mut c = self.children.remove(i);
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// How many workers are still running (reaping the dead ones).
    pub fn alive(&mut self) -> usize {
        self.children
            .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        self.children.len()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}

/// Polls `cond` every 20 ms until it holds or [`BOUND`] passes.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "gave up after {BOUND:?} waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed (SIGKILL, by pid) when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
