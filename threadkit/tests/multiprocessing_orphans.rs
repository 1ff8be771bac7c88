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
const EXITING_ENV: &str = "THREADKIT_TEST_EXITING_PARENT";

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

/// Plays a parent that returns normally with a daemon child sleeping for
/// two minutes and a non-daemon child sleeping for 1 s.
fn play_exiting_parent() -> ! {
    let mut daemon = Process::new(sleep_secs, 120);
    daemon.set_daemon(true);
    daemon.start().unwrap();
    let worker = Process::new(sleep_secs, 1);
    worker.start().unwrap();
    println!("PIDS {} {}", daemon.pid().unwrap(), worker.pid().unwrap());
    std::process::exit(0)
}

/// Python's exit handling: at exit the parent terminates its daemon children
/// and joins the others (`multiprocessing.util._exit_function`).
#[test]
fn daemon_children_are_terminated_and_others_joined_at_exit() {
    if std::env::var_os(EXITING_ENV).is_some() {
        play_exiting_parent();
    }
    let start = Instant::now();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "daemon_children_are_terminated_and_others_joined_at_exit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(EXITING_ENV, "1")
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = &stdout[stdout.find("PIDS ").expect("pids printed") + 5..];
    let pids: Vec<u32> = line
        .split_whitespace()
        .take(2)
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(
        took >= Duration::from_millis(900),
        "the non-daemon child was joined: {took:?}"
    );
    assert!(
        took < Duration::from_secs(60),
        "the daemon child was not waited for: {took:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pids.iter().all(|&p| exited(p)) {
        assert!(Instant::now() < deadline, "children left: {pids:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
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
