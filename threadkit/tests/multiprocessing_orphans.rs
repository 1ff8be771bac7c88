//! If the parent dies, its pool workers and daemon children exit by
//! themselves (`PR_SET_PDEATHSIG` for pool workers, a parent watchdog for
//! daemon processes), even while busy in a long task.
//!
//! The test re-executes its own binary with `THREADKIT_TEST_ORPHAN_PARENT`
//! set; that copy plays the parent: it starts busy workers, prints their
//! pids and waits to be SIGKILLed.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use threadkit::multiprocessing::{Process, ProcessPoolExecutor};

const PARENT_ENV: &str = "THREADKIT_TEST_ORPHAN_PARENT";

fn sleep_ms(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn sleep_secs(s: u64) {
    std::thread::sleep(Duration::from_secs(s));
}

fn play_parent() -> ! {
    let pool = ProcessPoolExecutor::new(2).unwrap();
    let _busy: Vec<_> = (0..2)
        .map(|_| pool.submit(sleep_ms, 120_000).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.worker_pids().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut daemon = Process::new(sleep_secs, 120);
    daemon.set_daemon(true);
    daemon.start().unwrap();
    let mut pids = pool.worker_pids();
    pids.push(daemon.pid().unwrap());
    println!(
        "PIDS {}",
        pids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    std::thread::sleep(Duration::from_secs(120));
    std::process::exit(0)
}

/// Kills the playing parent if the test fails early.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `pid` is gone (or a zombie waiting for whoever adopted it).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'),
    }
}

#[test]
fn workers_exit_when_the_parent_dies() {
    if std::env::var_os(PARENT_ENV).is_some() {
        play_parent();
    }
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "workers_exit_when_the_parent_dies",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PARENT_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut parent = KillOnDrop(child);
    let stdout = parent.0.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("PIDS "))
        .expect("the parent printed its workers' pids");
    let pids: Vec<u32> = line[line.find("PIDS ").unwrap() + 5..]
        .split(' ')
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3, "{line}");
    assert!(pids.iter().all(|&p| !exited(p)));
    parent.0.kill().unwrap();
    parent.0.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pids.iter().all(|&p| exited(p)) {
        assert!(Instant::now() < deadline, "orphans left: {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
