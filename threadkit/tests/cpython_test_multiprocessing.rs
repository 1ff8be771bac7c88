//! Behaviours of Python's `multiprocessing` basics, ported from CPython's
//! `Lib/test/_test_multiprocessing.py` (`_TestProcess`, `_TestConnection`,
//! `_TestQueue`). Each test names the CPython test it follows.
//!
//! CPython is Copyright (c) 2001 Python Software Foundation, used under the
//! PSF License Agreement; the Rust code is threadkit's own.
#![cfg(feature = "process")]

use std::time::{Duration, Instant};

use threadkit::multiprocessing::{Process, ProcessError};

fn sleep_secs(s: u64) {
    std::thread::sleep(Duration::from_secs(s));
}

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn noop(_: ()) {}

fn panics(_: ()) {
    panic!("target failed");
}

/// Kills a still-running process when a test fails, so no child outlives it.
struct KillOnDrop<'a>(&'a Process);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if self.0.is_alive() {
            let _ = self.0.kill();
            let _ = self.0.join();
        }
    }
}

/// `_TestProcess.test_process`: name, pid, is_alive and exitcode through a
/// process's life.
#[test]
fn test_process() {
    let mut p = Process::new(noop, ());
    assert!(p.name().starts_with("Process-"));
    p.set_name("child");
    p.set_daemon(true);
    assert_eq!(p.name(), "child");
    assert!(p.daemon());
    assert_eq!(p.pid(), None);
    assert_eq!(p.exitcode(), None);
    assert!(!p.is_alive());
    assert!(matches!(p.join(), Err(ProcessError::NotStarted)));
    p.start().unwrap();
    let _guard = KillOnDrop(&p);
    assert!(p.pid().is_some());
    assert!(matches!(p.start(), Err(ProcessError::AlreadyStarted)));
    assert_eq!(p.join().unwrap(), 0);
    assert!(!p.is_alive());
    assert_eq!(p.exitcode(), Some(0));
}

/// `_TestProcess.test_forkserver_sigkill`/`test_terminate`: terminate gives
/// exit code -SIGTERM, after a join timeout that finds the child running.
#[test]
fn test_terminate() {
    let p = Process::new(sleep_secs, 60);
    p.start().unwrap();
    let _guard = KillOnDrop(&p);
    assert!(p.is_alive());
    let start = Instant::now();
    assert_eq!(p.join_timeout(Duration::from_millis(200)).unwrap(), None);
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert!(p.is_alive());
    p.terminate().unwrap();
    assert_eq!(p.join().unwrap(), -libc::SIGTERM);
    assert_eq!(p.exitcode(), Some(-libc::SIGTERM));
    // terminating an exited process does nothing
    p.terminate().unwrap();
}

/// `_TestProcess.test_kill`: kill gives exit code -SIGKILL.
#[test]
fn test_kill() {
    let p = Process::new(sleep_secs, 60);
    p.start().unwrap();
    let _guard = KillOnDrop(&p);
    p.kill().unwrap();
    assert_eq!(p.join().unwrap(), -libc::SIGKILL);
}

/// `_TestSubclassingProcess.test_sys_exit` and `test_process` exit codes:
/// `sys.exit(n)` gives `n`, an uncaught exception gives 1.
#[test]
fn test_exitcode() {
    for code in [0, 1, 7, 255] {
        let p = Process::new(exit_with, code);
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), code);
    }
    let p = Process::new(panics, ());
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), 1);
}

/// `_TestProcess.test_many_processes`: start several, join all.
#[test]
fn test_many_processes() {
    let ps: Vec<_> = (0..6).map(|_| Process::new(noop, ())).collect();
    for p in &ps {
        p.start().unwrap();
    }
    for p in &ps {
        assert_eq!(p.join().unwrap(), 0);
    }
}
