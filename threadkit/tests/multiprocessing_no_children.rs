//! After shutdown and drop, no child process remains: not running, not a
//! zombie. One test in its own binary, so that /proc's list of our children
//! is ours alone.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::time::{Duration, Instant};

use threadkit::futures::{FutureError, MapOptions, Shutdown};
use threadkit::multiprocessing::{Process, ProcessPoolExecutor, Queue};

fn square(x: u64) -> u64 {
    x * x
}

fn sleep_then_pid(ms: u64) -> u32 {
    std::thread::sleep(Duration::from_millis(ms));
    std::process::id()
}

fn exit_now(code: i32) -> u64 {
    std::process::exit(code)
}

fn send_one(q: Queue<u32>) {
    q.put(&7).unwrap();
}

/// Pids of our children (any state, zombies included), from /proc.
fn children() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let after = &stat[stat.rfind(')').unwrap() + 2..];
                after.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(me)
            })
        })
        .collect()
}

#[test]
fn no_child_outlives_its_pool_or_process() {
    {
        let pool = ProcessPoolExecutor::builder()
            .max_workers(2)
            .max_tasks_per_child(5)
            .build()
            .unwrap();
        let squares: Vec<u64> = pool
            .map_with(square, 0..40, MapOptions::default().chunksize(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(squares[39], 39 * 39);
        // a worker that dies, and one killed mid-task
        assert!(matches!(
            pool.submit(exit_now, 2).unwrap().into_result(),
            Err(FutureError::BrokenExecutor(_))
        ));
        let victim = pool.submit(sleep_then_pid, 60_000).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !victim.running() || pool.worker_pids().is_empty() {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        for pid in pool.worker_pids() {
            // SAFETY: kill has no memory preconditions; pid is our worker.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        let killed = pool.worker_pids();
        assert!(victim.into_result().is_err());
        // A task submitted before the pool has noticed the death may still be
        // handed to the dead worker and fail with it; wait for the pool to
        // replace its workers, then it must serve again.
        let deadline = Instant::now() + Duration::from_secs(20);
        while pool.worker_pids().iter().any(|pid| killed.contains(pid)) {
            assert!(
                Instant::now() < deadline,
                "the pool never replaced its killed workers"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(pool.submit(square, 9).unwrap().into_result(), Ok(81));
        assert!(!children().is_empty());
        // dropped here with idle workers: shutdown(wait=True)
    }
    let q = Queue::new().unwrap();
    let p = Process::new(send_one, q.clone());
    p.start().unwrap();
    assert_eq!(q.get().unwrap(), 7);
    assert_eq!(p.join().unwrap(), 0);
    drop(p);

    let pool = ProcessPoolExecutor::new(2).unwrap();
    let _ = pool.map(square, 0..100).unwrap().count();
    pool.shutdown(Shutdown::wait());
    drop(pool);

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = children();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "children left: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
