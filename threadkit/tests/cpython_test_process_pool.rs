//! Behaviours of Python's `ProcessPoolExecutor`, ported from CPython's
//! `Lib/test/test_concurrent_futures/test_process_pool.py`,
//! `test_shutdown.py` (`ProcessPoolShutdownTest`) and `test_init.py`; each
//! test names the CPython test it follows. Plus threadkit's own failure
//! guarantees: a killed worker fails only its own futures, and no child
//! process outlives the pool.
//!
//! CPython is Copyright (c) 2001 Python Software Foundation, used under the
//! PSF License Agreement; the Rust code is threadkit's own.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use threadkit::futures::{
    FutureError, MapOptions, ReturnWhen, Shutdown, SubmitError, ThreadPoolExecutor, as_completed,
    wait,
};
use threadkit::multiprocessing::ProcessPoolExecutor;

fn square(x: u64) -> u64 {
    x * x
}

fn pid(_: ()) -> u32 {
    std::process::id()
}

fn sleep_ms_then_pid(ms: u64) -> u32 {
    std::thread::sleep(Duration::from_millis(ms));
    std::process::id()
}

/// A fresh directory the test and its workers signal through, across
/// processes: the test opens the gate by creating `open` in it; workers that
/// meet leave a file each. Removed when dropped.
struct Gate(std::path::PathBuf);

impl Gate {
    fn new(name: &str) -> Gate {
        let dir =
            std::env::temp_dir().join(format!("threadkit-gate-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Gate(dir)
    }
    fn path(&self) -> String {
        self.0.to_str().unwrap().to_owned()
    }
    fn open(&self) {
        std::fs::write(self.0.join("open"), b"").unwrap();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Hang guard for the tasks that wait on a gate: they return when it opens.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// With a gate, waits (in the worker) until the test opens it (or drops it,
/// ending the test); then the pid.
fn pid_after_gate(gate: Option<String>) -> u32 {
    if let Some(dir) = gate {
        let (dir, open) = (
            std::path::Path::new(&dir),
            std::path::Path::new(&dir).join("open"),
        );
        let deadline = Instant::now() + HANG_GUARD;
        while dir.exists() && !open.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    std::process::id()
}

/// Marks this worker as arrived in `dir`, then waits for another worker to
/// arrive too: only two workers running at once can meet. Returns the pid and
/// whether they met.
fn meet_another_worker(dir: String) -> (u32, bool) {
    let me = std::process::id();
    std::fs::write(std::path::Path::new(&dir).join(me.to_string()), b"").unwrap();
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if std::fs::read_dir(&dir).unwrap().count() >= 2 {
            return (me, true);
        }
        if Instant::now() >= deadline {
            return (me, false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn fail(msg: String) -> u64 {
    panic!("{msg}")
}

fn exit_now(code: i32) -> u64 {
    std::process::exit(code)
}

fn abort_now(_: ()) -> u64 {
    std::process::abort()
}

/// Pids of the live child processes of this process, from /proc.
fn children() -> HashSet<u32> {
    let me = std::process::id();
    let mut kids = HashSet::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...; comm may contain spaces
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let mut fields = after.split(' ');
        let _state = fields.next();
        if fields.next().and_then(|p| p.parse::<u32>().ok()) == Some(me) {
            kids.insert(pid);
        }
    }
    kids
}

/// Waits a little for `pids` to be gone from our children (they are reaped
/// by the pool, but other tests run in parallel in this binary).
fn assert_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kids = children();
        let left: Vec<_> = pids.iter().filter(|p| kids.contains(p)).collect();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "children left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `ExecutorTest.test_submit`/`test_map` on the process pool.
#[test]
fn test_submit_and_map() {
    let pool = ProcessPoolExecutor::new(2).unwrap();
    assert_eq!(pool.submit(square, 8).unwrap().into_result(), Ok(64));
    let got: Vec<u64> = pool
        .map(square, 0..10)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, (0..10).map(|x| x * x).collect::<Vec<_>>());
    // a non-capturing closure coerces to a fn pointer
    let f = pool.submit(
        |(a, b): (u32, String)| format!("{b}{a}"),
        (7, "x".to_owned()),
    );
    assert_eq!(f.unwrap().into_result().unwrap(), "x7");
}

/// `test_map_chunksize`: any chunksize gives the same results; 0 is refused.
#[test]
fn test_map_chunksize() {
    let pool = ProcessPoolExecutor::new(2).unwrap();
    let expected: Vec<u64> = (0..100).map(|x| x * x).collect();
    for chunksize in [1, 5, 40, 1000] {
        let got: Vec<u64> = pool
            .map_with(square, 0..100, MapOptions::default().chunksize(chunksize))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, expected, "chunksize {chunksize}");
    }
    assert!(matches!(
        pool.map_with(square, 0..3, MapOptions::default().chunksize(0)),
        Err(FutureError::InvalidArgument(m)) if m.contains("chunksize")
    ));
}

/// `ExecutorTest.test_map_timeout` on the process pool: the results ready
/// in time come out, then one `Timeout` (Python's `TimeoutError`) once the
/// deadline passes, without waiting for the slow task, and the iterator ends.
#[test]
fn test_map_timeout() {
    // One worker runs the tasks in order; it is started first, because the
    // timeout counts from the map call and starting a process while other
    // tests run can take a while.
    let pool = ProcessPoolExecutor::new(1).unwrap();
    assert_eq!(pool.submit(square, 2).unwrap().result(), Ok(&4));
    // The slow task returns only once the gate opens, after the timeout.
    let gate = Gate::new("map-timeout");
    let start = Instant::now();
    // 1 s is far more than two quick tasks on a running worker need.
    let timeout = Duration::from_secs(1);
    let mut results = pool
        .map_with(
            pid_after_gate,
            [None, None, Some(gate.path())],
            MapOptions::default().timeout(timeout).chunksize(1),
        )
        .unwrap();
    assert!(results.next().unwrap().is_ok());
    assert!(results.next().unwrap().is_ok());
    assert_eq!(results.next().unwrap(), Err(FutureError::Timeout));
    assert!(start.elapsed() >= timeout);
    gate.open();
    assert!(results.next().is_none());
}

/// A quick task's result reaches its future while a long task pipelined
/// behind it on the same worker still runs (CPython's workers hand each
/// result over at once): the worker does not hold finished replies back.
#[test]
fn test_quick_result_not_held_behind_long_task() {
    let pool = ProcessPoolExecutor::new(1).unwrap();
    // Quick tasks first, so that the pool pipelines several per worker.
    assert_eq!(pool.map(square, 0..200).unwrap().count(), 200);
    // The long task lasts until the gate opens, after the quick result came.
    let gate = Gate::new("quick-result");
    let quick = pool.submit(pid_after_gate, None).unwrap();
    let long = pool.submit(pid_after_gate, Some(gate.path())).unwrap();
    assert!(quick.result_timeout(HANG_GUARD).is_ok());
    assert!(!long.done());
    gate.open();
    assert!(long.result_timeout(HANG_GUARD).is_ok());
}

/// `test_traceback` (the exception comes back with its message) and
/// `ExecutorTest.test_map_exception`: a panicking task fails only its own
/// future, and the worker stays.
#[test]
fn test_panic_fails_only_its_future() {
    let pool = ProcessPoolExecutor::new(1).unwrap();
    let before = pool.submit(pid, ()).unwrap().into_result().unwrap();
    let bad = pool.submit(fail, "bad input".to_owned()).unwrap();
    assert_eq!(bad.result(), Err(FutureError::Panicked("bad input".into())));
    // Python's `_RemoteTraceback`, in part: where the worker panicked.
    let Err(FutureError::Panicked(report)) = bad.result() else {
        unreachable!()
    };
    assert!(
        report.location().is_some_and(|l| l.starts_with(file!())),
        "{report:?}"
    );
    let after = pool.submit(pid, ()).unwrap().into_result().unwrap();
    assert_eq!(before, after, "the worker survived the panic");
    // in map, the failing chunk yields its error for each of its items
    let got: Vec<_> = pool
        .map_with(
            |x: u64| if x == 3 { panic!("three") } else { x },
            0..6,
            MapOptions::default().chunksize(2),
        )
        .unwrap()
        .collect();
    assert_eq!(got[0], Ok(0));
    assert_eq!(got[2], Err(FutureError::Panicked("three".into())));
    assert_eq!(got[3], Err(FutureError::Panicked("three".into())));
    assert_eq!(got[5], Ok(5));
}

/// `test_killed_child`, threadkit's way: a worker SIGKILLed mid-task fails
/// only the futures it was running, naming the signal; all other work
/// completes and the pool keeps serving with a new worker.
#[test]
fn test_killed_child() {
    let pool = ProcessPoolExecutor::new(2).unwrap();
    let victim = pool.submit(sleep_ms_then_pid, 30_000).unwrap();
    // let the other worker start too, with slow-ish tasks
    let others: Vec<_> = (0..20)
        .map(|_| pool.submit(sleep_ms_then_pid, 20).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !victim.running() || pool.worker_pids().len() < 2 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    // the victim's worker is the one not answering the short tasks
    let short_pids: HashSet<u32> = others[..2].iter().map(|f| *f.result().unwrap()).collect();
    let target = *pool
        .worker_pids()
        .iter()
        .find(|p| !short_pids.contains(p))
        .expect("the busy worker");
    // SAFETY: kill has no memory preconditions; target is our child.
    unsafe { libc::kill(target as i32, libc::SIGKILL) };
    match victim.result_timeout(Duration::from_secs(20)) {
        Err(FutureError::BrokenExecutor(msg)) => {
            assert!(msg.contains("signal 9") && msg.contains("SIGKILL"), "{msg}");
            assert!(msg.contains(&target.to_string()), "{msg}");
        }
        other => panic!("expected BrokenExecutor, got {other:?}"),
    }
    for f in &others {
        assert!(f.result().is_ok(), "{:?}", f.result());
    }
    // the pool replaced the worker and keeps serving
    let squares: Vec<u64> = pool
        .map_with(square, 0..50, MapOptions::default().chunksize(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(squares[49], 49 * 49);
    assert!(!pool.worker_pids().contains(&target));
    assert_gone(&[target]);
}

/// A worker that exits or aborts in a task fails that task with its exit
/// code or signal; the pool goes on (Python would break the whole pool:
/// `test_killed_child`'s `BrokenProcessPool`).
#[test]
fn test_worker_exit_and_abort() {
    let pool = ProcessPoolExecutor::new(1).unwrap();
    match pool.submit(exit_now, 3).unwrap().into_result() {
        Err(FutureError::BrokenExecutor(msg)) => {
            assert!(msg.contains("exited with code 3"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
    match pool.submit(abort_now, ()).unwrap().into_result() {
        Err(FutureError::BrokenExecutor(msg)) => assert!(msg.contains("SIGABRT"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(pool.submit(square, 3).unwrap().into_result(), Ok(9));
}

/// `test_saturation`: never more than max_workers processes.
#[test]
fn test_saturation() {
    let pool = ProcessPoolExecutor::new(3).unwrap();
    let futures: Vec<_> = (0..30)
        .map(|_| pool.submit(sleep_ms_then_pid, 5).unwrap())
        .collect();
    let pids: HashSet<u32> = futures.iter().map(|f| *f.result().unwrap()).collect();
    assert!(pids.len() <= 3, "{pids:?}");
}

/// `test_idle_process_reuse_one`: sequential tasks reuse one worker.
#[test]
fn test_idle_process_reuse_one() {
    let pool = ProcessPoolExecutor::new(4).unwrap();
    let first = pool.submit(pid, ()).unwrap().into_result().unwrap();
    for _ in 0..5 {
        assert_eq!(pool.submit(pid, ()).unwrap().into_result().unwrap(), first);
    }
    assert_eq!(pool.worker_pids().len(), 1);
}

/// `test_max_tasks_per_child`: a worker is replaced after its quota.
#[test]
fn test_max_tasks_per_child() {
    let pool = ProcessPoolExecutor::builder()
        .max_workers(1)
        .max_tasks_per_child(3)
        .build()
        .unwrap();
    let pids: Vec<u32> = (0..6)
        .map(|_| pool.submit(pid, ()).unwrap().into_result().unwrap())
        .collect();
    assert_eq!(pids[0], pids[1]);
    assert_eq!(pids[1], pids[2]);
    assert_ne!(pids[2], pids[3]);
    assert_eq!(pids[3], pids[5]);
    assert!(
        ProcessPoolExecutor::builder()
            .max_tasks_per_child(0)
            .build()
            .is_err()
    );
}

/// `test_max_tasks_early_shutdown`: shutdown with quotas still runs all.
#[test]
fn test_max_tasks_early_shutdown() {
    let pool = ProcessPoolExecutor::builder()
        .max_workers(3)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let futures: Vec<_> = (0..6).map(|x| pool.submit(square, x).unwrap()).collect();
    pool.shutdown(Shutdown::wait());
    for (x, f) in futures.iter().enumerate() {
        assert_eq!(f.result(), Ok(&(x as u64 * x as u64)));
    }
}

/// `test_max_workers_too_large`/`test_init`'s ValueError: 0 workers refused.
#[test]
fn test_zero_workers() {
    assert!(ProcessPoolExecutor::new(0).is_err());
    assert!(
        ProcessPoolExecutor::builder()
            .build()
            .unwrap()
            .max_workers()
            >= 1
    );
}

static INITIALIZED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn init_worker(value: u64) {
    INITIALIZED.store(value, std::sync::atomic::Ordering::SeqCst);
}

fn read_initialized(_: ()) -> u64 {
    INITIALIZED.load(std::sync::atomic::Ordering::SeqCst)
}

fn init_fails(_: ()) {
    panic!("initializer failed");
}

/// `test_init.py` `InitializerMixin.test_initializer`: every worker ran it.
#[test]
fn test_initializer() {
    let pool = ProcessPoolExecutor::builder()
        .max_workers(2)
        .initializer(init_worker, 42)
        .build()
        .unwrap();
    for f in (0..4).map(|_| pool.submit(read_initialized, ()).unwrap()) {
        assert_eq!(f.into_result(), Ok(42));
    }
}

/// `test_init.py` `FailingInitializerMixin.test_initializer`: the pool
/// breaks, pending and later tasks fail with BrokenExecutor.
#[test]
fn test_failing_initializer() {
    let pool = ProcessPoolExecutor::builder()
        .max_workers(1)
        .initializer(init_fails, ())
        .build()
        .unwrap();
    let f = pool.submit(square, 2).unwrap();
    assert!(matches!(
        f.into_result(),
        Err(FutureError::BrokenExecutor(_))
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match pool.submit(square, 2) {
            Err(SubmitError::BrokenExecutor(msg)) => {
                assert!(msg.contains("initializer failed"), "{msg}");
                break;
            }
            Ok(f) => assert!(f.into_result().is_err()),
            Err(e) => panic!("{e:?}"),
        }
        assert!(Instant::now() < deadline);
    }
}

/// `ExecutorShutdownTest.test_run_after_shutdown` and
/// `ProcessPoolShutdownTest.test_processes_terminate`/`test_del_shutdown`:
/// no submit after shutdown; after shutdown and drop no child remains.
#[test]
fn test_processes_terminate() {
    let pool = ProcessPoolExecutor::new(3).unwrap();
    let futures: Vec<_> = (0..30).map(|x| pool.submit(square, x).unwrap()).collect();
    for f in &futures {
        f.result().unwrap();
    }
    let pids = pool.worker_pids();
    assert!(!pids.is_empty());
    pool.shutdown(Shutdown::wait());
    assert!(matches!(pool.submit(square, 1), Err(SubmitError::ShutDown)));
    assert!(pool.worker_pids().is_empty());
    assert_gone(&pids);
    drop(pool);

    let pool = ProcessPoolExecutor::new(2).unwrap();
    let _ = pool.map(square, 0..10).unwrap().count();
    let pids = pool.worker_pids();
    drop(pool);
    assert_gone(&pids);
}

/// `ExecutorShutdownTest.test_cancel_futures`: queued tasks are cancelled.
#[test]
fn test_cancel_futures() {
    let pool = ProcessPoolExecutor::new(1).unwrap();
    let futures: Vec<_> = (0..200)
        .map(|_| pool.submit(sleep_ms_then_pid, 20).unwrap())
        .collect();
    pool.shutdown(Shutdown::wait().cancel_futures());
    let cancelled = futures.iter().filter(|f| f.cancelled()).count();
    assert!(cancelled > 0);
    assert!(futures.iter().all(|f| f.done()));
}

/// `as_completed` and `wait` across thread-pool and process-pool futures.
#[test]
fn test_mixed_pools_wait_and_as_completed() {
    let procs = ProcessPoolExecutor::new(2).unwrap();
    let threads = ThreadPoolExecutor::new(2).unwrap();
    let futures = vec![
        procs.submit(square, 3).unwrap(),
        threads.submit(|| 16).unwrap(),
        procs.submit(square, 5).unwrap(),
    ];
    let mut got: Vec<u64> = as_completed(&futures, Some(Duration::from_secs(30)))
        .map(|f| *f.unwrap().result().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, [9, 16, 25]);
    let done = wait(
        &futures,
        Some(Duration::from_secs(30)),
        ReturnWhen::AllCompleted,
    );
    assert_eq!(done.done.len(), 3);
}

/// Bad input is a typed error, never a hang: an argument or a result over
/// the frame limit, or one that fails to serialize, is
/// `FutureError::Serialization`, not a panic of the task.
#[test]
fn test_oversized_and_unserializable() {
    let pool = ProcessPoolExecutor::builder()
        .max_workers(1)
        .max_frame_size(1024)
        .build()
        .unwrap();
    let big = pool.submit(|v: Vec<u8>| v.len(), vec![0u8; 4096]).unwrap();
    assert!(
        matches!(big.into_result(), Err(FutureError::Serialization(m)) if m.contains("exceeds"))
    );
    let big_result = pool.submit(|n: usize| vec![1u8; n], 4096).unwrap();
    assert!(
        matches!(big_result.into_result(), Err(FutureError::Serialization(m)) if m.contains("exceeds"))
    );
    // serde_json-like failure: a map with non-string keys is fine here,
    // so use a type whose Serialize fails.
    struct Unserializable;
    impl serde::Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("refuses to serialize"))
        }
    }
    impl<'de> serde::Deserialize<'de> for Unserializable {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Unserializable)
        }
    }
    let bad_arg = pool
        .submit(|_: Unserializable| 1u8, Unserializable)
        .unwrap();
    assert!(
        matches!(bad_arg.into_result(), Err(FutureError::Serialization(m)) if m.contains("refuses"))
    );
    let bad_result = pool.submit(|_: ()| Unserializable, ()).unwrap();
    assert!(
        matches!(bad_result.into_result(), Err(FutureError::Serialization(m)) if m.contains("refuses"))
    );
    assert_eq!(pool.submit(square, 4).unwrap().into_result(), Ok(16));
}

/// Equal long tasks spread one per worker even right after a burst of
/// quick tasks (when workers are pipelining): two tasks that each wait for
/// the other to be running meet, on two workers.
#[test]
fn test_equal_tasks_spread_after_quick_tasks() {
    let pool = ProcessPoolExecutor::new(2).unwrap();
    let _ = pool.map(square, 0..2000).unwrap().count();
    // On a busy machine the second worker may still be starting: the first
    // alone can finish the burst. Both must be up for the tasks to spread.
    let deadline = Instant::now() + HANG_GUARD;
    while pool.worker_pids().len() < 2 {
        assert!(Instant::now() < deadline, "the second worker never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let meeting = Gate::new("spread");
    let fs: Vec<_> = (0..2)
        .map(|_| pool.submit(meet_another_worker, meeting.path()).unwrap())
        .collect();
    let met: Vec<(u32, bool)> = fs.iter().map(|f| *f.result().unwrap()).collect();
    assert!(
        met.iter().all(|m| m.1),
        "the tasks never ran at once: {met:?}"
    );
    assert_ne!(met[0].0, met[1].0);
}

/// Writes raw bytes on the worker's channel to the parent (fd 3), as a
/// broken or malicious worker would.
fn write_raw_to_parent(bytes: Vec<u8>) -> u8 {
    // SAFETY: fd 3 is the worker's channel; the slice is valid for reads.
    unsafe { libc::write(3, bytes.as_ptr().cast(), bytes.len()) };
    // SAFETY: _exit has no preconditions: end the worker so that the
    // frame stays truncated.
    unsafe { libc::_exit(0) }
}

fn write_raw_and_wait(bytes: Vec<u8>) -> u8 {
    // SAFETY: as above.
    unsafe { libc::write(3, bytes.as_ptr().cast(), bytes.len()) };
    std::thread::sleep(Duration::from_secs(60));
    0
}

/// A worker that sends a truncated, an oversized or a corrupt frame fails
/// its task with a typed error naming the problem (and is replaced); never
/// a hang.
#[test]
fn test_bad_frames_from_a_worker() {
    let pool = ProcessPoolExecutor::builder()
        .max_workers(1)
        .max_frame_size(1 << 20)
        .build()
        .unwrap();
    let mut truncated = 100u32.to_le_bytes().to_vec();
    truncated.extend_from_slice(b"abc");
    let oversized = u32::MAX.to_le_bytes().to_vec();
    let mut corrupt = 3u32.to_le_bytes().to_vec();
    corrupt.extend_from_slice(b"xyz"); // shorter than a message header
    type Task = fn(Vec<u8>) -> u8;
    let cases: [(Task, Vec<u8>, &str); 3] = [
        (write_raw_to_parent, truncated, "ended inside a frame"),
        (write_raw_and_wait, oversized, "exceeds the limit"),
        (write_raw_and_wait, corrupt, "corrupt frame"),
    ];
    for (f, bytes, expected) in cases {
        match pool
            .submit(f, bytes)
            .unwrap()
            .result_timeout(Duration::from_secs(30))
        {
            Err(FutureError::BrokenExecutor(msg)) => {
                assert!(msg.contains("bad frame") && msg.contains(expected), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pool.submit(square, 5).unwrap().into_result(), Ok(25));
    }
}

fn nested_square(x: u64) -> u64 {
    let inner = ProcessPoolExecutor::new(1).unwrap();
    inner.submit(square, x).unwrap().into_result().unwrap()
}

/// A worker may itself run a pool: the worker marker is not inherited.
#[test]
fn test_nested_pool() {
    let pool = ProcessPoolExecutor::new(1).unwrap();
    assert_eq!(
        pool.submit(nested_square, 11).unwrap().into_result(),
        Ok(121)
    );
}
