//! Behaviours of Python's `multiprocessing` basics, ported from CPython's
//! `Lib/test/_test_multiprocessing.py` (`_TestProcess`, `_TestConnection`,
//! `_TestQueue`). Each test names the CPython test it follows.
//!
//! CPython is Copyright (c) 2001 Python Software Foundation, used under the
//! PSF License Agreement; the Rust code is threadkit's own.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::time::{Duration, Instant};

use threadkit::multiprocessing::{ChannelError, Connection, Process, ProcessError, Queue, pipe};

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

fn echo_doubled(conn: Connection) {
    while let Ok(n) = conn.recv::<u64>() {
        conn.send(&(n * 2)).unwrap();
    }
}

/// `_TestConnection.test_connection`: send/recv both ways, poll, and EOF
/// once the other end is gone.
#[test]
fn test_connection() {
    let (parent, child) = pipe().unwrap();
    let p = Process::new(echo_doubled, child);
    p.start().unwrap();
    let _guard = KillOnDrop(&p);
    assert!(!parent.poll(Some(Duration::from_millis(10))).unwrap());
    for n in [1u64, 21, 1 << 40] {
        parent.send(&n).unwrap();
        assert!(parent.poll(Some(Duration::from_secs(10))).unwrap());
        assert_eq!(parent.recv::<u64>().unwrap(), n * 2);
    }
    assert!(matches!(
        parent.recv_timeout::<u64>(Duration::from_millis(20)),
        Err(ChannelError::Timeout)
    ));
    drop(parent); // the child reads EOF and returns
    assert_eq!(p.join().unwrap(), 0);
}

fn close_after_one(conn: Connection) {
    conn.send(&"bye").unwrap();
}

/// `_TestConnection.test_connection` (EOFError): the child exits, the parent
/// gets `Closed` after the last message.
#[test]
fn test_connection_eof() {
    let (parent, child) = pipe().unwrap();
    let p = Process::new(close_after_one, child);
    p.start().unwrap();
    assert_eq!(parent.recv::<String>().unwrap(), "bye");
    assert!(matches!(parent.recv::<String>(), Err(ChannelError::Closed)));
    assert_eq!(p.join().unwrap(), 0);
}

fn queue_producer((q, start): (Queue<u32>, u32)) {
    for i in start..start + 50 {
        q.put(&i).unwrap();
    }
}

/// `_TestQueue.test_put`/`test_get` with several producer processes: every
/// item arrives once, each producer's items in order.
#[test]
fn test_queue_many_producers() {
    let q: Queue<u32> = Queue::new().unwrap();
    let ps: Vec<_> = (0..3)
        .map(|k| Process::new(queue_producer, (q.clone(), k * 1000)))
        .collect();
    for p in &ps {
        p.start().unwrap();
    }
    let mut got: Vec<u32> = (0..150)
        .map(|_| q.get_timeout(Duration::from_secs(30)).unwrap())
        .collect();
    for p in &ps {
        assert_eq!(p.join().unwrap(), 0);
    }
    for k in 0..3 {
        let mine: Vec<u32> = got.iter().copied().filter(|v| v / 1000 == k).collect();
        assert_eq!(mine, (k * 1000..k * 1000 + 50).collect::<Vec<_>>());
    }
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 150);
    // `_TestQueue.test_get` with block=False / timeout on an empty queue
    assert!(matches!(q.try_get(), Err(ChannelError::Timeout)));
    let start = Instant::now();
    assert!(matches!(
        q.get_timeout(Duration::from_millis(100)),
        Err(ChannelError::Timeout)
    ));
    assert!(start.elapsed() >= Duration::from_millis(90));
}

fn queue_consumer((inbox, outbox): (Queue<String>, Queue<usize>)) {
    while let Ok(s) = inbox.get() {
        if s.is_empty() {
            break;
        }
        outbox.put(&s.len()).unwrap();
    }
}

/// `_TestQueue.test_fork`-style round trip: the parent feeds a child
/// through one queue and reads its answers from another; a None-like
/// sentinel ends it.
#[test]
fn test_queue_round_trip() {
    let inbox: Queue<String> = Queue::new().unwrap();
    let outbox: Queue<usize> = Queue::new().unwrap();
    let mut p = Process::new(queue_consumer, (inbox.clone(), outbox.clone()));
    p.set_daemon(true);
    p.start().unwrap();
    let _guard = KillOnDrop(&p);
    for word in ["a", "bb", "ccc"] {
        inbox.put(&word.to_owned()).unwrap();
    }
    inbox.put(&String::new()).unwrap();
    let lens: Vec<usize> = (0..3).map(|_| outbox.get().unwrap()).collect();
    assert_eq!(lens, [1, 2, 3]);
    assert_eq!(p.join().unwrap(), 0);
}
