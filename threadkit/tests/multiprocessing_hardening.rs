//! Process-pool settings that cannot work are refused at `build()`, and a
//! lost worker's futures say what happened to each of them.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::time::Duration;

use threadkit::futures::FutureError;
use threadkit::multiprocessing::ProcessPoolExecutor;

fn quick(x: u64) -> u64 {
    x
}

fn sleep_then_abort(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    std::process::abort()
}

#[test]
fn unworkable_settings_are_refused_by_build() {
    let err = ProcessPoolExecutor::builder()
        .handshake_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("handshake_timeout"), "{err}");
    let err = ProcessPoolExecutor::builder()
        .max_frame_size(10)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("max_frame_size"), "{err}");
    // A huge limit is clamped to the documented cap, and the pool works.
    let pool = ProcessPoolExecutor::builder()
        .max_workers(1)
        .max_frame_size(usize::MAX)
        .build()
        .unwrap();
    assert_eq!(pool.submit(quick, 3).unwrap().result(), Ok(&3));
}

/// The running task's future says it was running; one queued behind it on
/// the same worker (when the pool pipelined it there) says it was queued,
/// never that it was running. A task that was not yet sent runs on the
/// replacement worker.
#[test]
fn a_lost_worker_fails_the_running_task_and_names_the_queued_ones() {
    let pool = ProcessPoolExecutor::new(1).unwrap();
    for i in 0..20 {
        assert_eq!(pool.submit(quick, i).unwrap().result(), Ok(&i));
    }
    let running = pool.submit(sleep_then_abort, 100).unwrap();
    let behind = pool.submit(quick, 7).unwrap();
    match running.result() {
        Err(FutureError::BrokenExecutor(msg)) => {
            assert!(
                msg.contains("SIGABRT") && msg.ends_with("while running this task"),
                "{msg}"
            )
        }
        other => panic!("{other:?}"),
    }
    match behind.result() {
        Ok(&7) => {}
        Err(FutureError::BrokenExecutor(msg)) => {
            assert!(msg.starts_with("queued on worker process"), "{msg}");
            assert!(msg.ends_with("while running another task"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    // The pool serves on.
    assert_eq!(pool.submit(quick, 8).unwrap().result(), Ok(&8));
}

mod process_api {
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    use threadkit::multiprocessing::{
        ChannelError, Connection, Process, ProcessError, Queue, active_children, pipe_one_way,
    };

    fn nothing(_: ()) {}

    fn wait_for_go(conn: Connection) {
        let _: u8 = conn.recv().unwrap();
    }

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

    /// Python raises the pickling error at `start`; `new` never panics.
    #[test]
    fn an_unserializable_argument_fails_start_not_new() {
        let p = Process::new(|_: Unserializable| {}, Unserializable);
        assert!(matches!(p.start(), Err(ProcessError::Encode(m)) if m.contains("refuses")));
        assert!(Process::try_new(|_: Unserializable| {}, Unserializable).is_err());
    }

    /// `test_close` and `test_sentinel` from CPython's `_test_multiprocessing`.
    #[test]
    fn close_sentinel_and_active_children() {
        let (parent_end, child_end) = threadkit::multiprocessing::pipe().unwrap();
        let p = Process::new(wait_for_go, child_end);
        assert!(matches!(p.sentinel(), Err(ProcessError::NotStarted)));
        p.start().unwrap();
        let pid = p.pid().unwrap();
        assert!(active_children().contains(&pid));
        assert!(matches!(p.close(), Err(ProcessError::StillRunning)));
        let sentinel = p.sentinel().unwrap().as_raw_fd();
        let readable = |timeout_ms: i32| {
            let mut pfd = libc::pollfd {
                fd: sentinel,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: `pfd` is one valid pollfd for the duration of the call.
            unsafe { libc::poll(&mut pfd, 1, timeout_ms) > 0 }
        };
        assert!(!readable(0), "sentinel ready while the child runs");
        parent_end.send(&1u8).unwrap();
        assert!(readable(60_000), "sentinel never became ready");
        assert_eq!(p.join().unwrap(), 0);
        assert!(!active_children().contains(&pid));
        p.close().unwrap();
        assert!(matches!(p.join(), Err(ProcessError::Closed)));
        assert!(matches!(p.start(), Err(ProcessError::Closed)));
        let never = Process::new(nothing, ());
        never.close().unwrap();
        assert!(matches!(never.start(), Err(ProcessError::Closed)));
    }

    fn fill(q: Queue<u32>) {
        for i in 0..5 {
            q.put(&i).unwrap();
        }
    }

    /// `Queue(maxsize)` across processes: a child blocks at the limit until
    /// the parent makes room; `put_nowait`/`put(timeout)` report `Full`.
    #[test]
    fn a_bounded_queue_holds_its_maxsize_across_processes() {
        let q: Queue<u32> = Queue::with_maxsize(2).unwrap();
        q.try_put(&100).unwrap();
        q.put_timeout(&101, Duration::from_millis(10)).unwrap();
        assert!(matches!(q.try_put(&102), Err(ChannelError::Full)));
        assert!(matches!(
            q.put_timeout(&102, Duration::from_millis(10)),
            Err(ChannelError::Full)
        ));
        assert_eq!(q.get().unwrap(), 100);
        assert_eq!(q.get().unwrap(), 101);
        let p = Process::new(fill, q.clone());
        p.start().unwrap();
        let got: Vec<u32> = (0..5)
            .map(|_| q.get_timeout(Duration::from_secs(60)).unwrap())
            .collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(p.join().unwrap(), 0);
        // Two places free again: the child's puts were all given back.
        q.try_put(&1).unwrap();
        q.try_put(&2).unwrap();
        assert!(matches!(q.try_put(&3), Err(ChannelError::Full)));
        q.close();
    }

    fn send_back(conn: Connection) {
        assert!(matches!(conn.recv::<u8>(), Err(ChannelError::WrongEnd(_))));
        conn.send(&"from the child".to_owned()).unwrap();
    }

    /// `Pipe(duplex=False)`: the direction holds in the child too.
    #[test]
    fn a_one_way_pipe_keeps_its_direction_in_a_child() {
        let (receiver, sender) = pipe_one_way().unwrap();
        assert!(matches!(
            receiver.send(&1u8),
            Err(ChannelError::WrongEnd(_))
        ));
        let p = Process::new(send_back, sender);
        p.start().unwrap();
        assert_eq!(
            receiver
                .recv_timeout::<String>(Duration::from_secs(60))
                .unwrap(),
            "from the child"
        );
        assert_eq!(p.join().unwrap(), 0);
    }
}

mod who_am_i {
    use threadkit::multiprocessing::{
        Connection, Process, ProcessInfo, ProcessPoolExecutor, cpu_count, current_process,
        parent_process, pipe,
    };

    fn report(conn: Connection) {
        let me = current_process();
        conn.send(&(me.name, me.pid, me.daemon, parent_process()))
            .unwrap();
    }

    fn pool_name(_: ()) -> (String, bool, Option<u32>) {
        let me = current_process();
        (me.name, me.daemon, parent_process())
    }

    /// `test_current` and `test_parent_process` from CPython's
    /// `_test_multiprocessing`.
    #[test]
    fn current_and_parent_process_in_children() {
        let main: ProcessInfo = current_process();
        assert_eq!(main.name, "MainProcess");
        assert_eq!(parent_process(), None);
        assert!(cpu_count() >= 1);

        let (ours, theirs) = pipe().unwrap();
        let mut p = Process::new(report, theirs);
        p.set_name("reporter");
        p.set_daemon(true);
        p.start().unwrap();
        let (name, pid, daemon, parent): (String, u32, bool, Option<u32>) = ours.recv().unwrap();
        assert_eq!(name, "reporter");
        assert_eq!(Some(pid), p.pid());
        assert!(daemon);
        assert_eq!(parent, Some(std::process::id()));
        p.join().unwrap();

        let pool = ProcessPoolExecutor::new(1).unwrap();
        let (name, daemon, parent) = pool.submit(pool_name, ()).unwrap().into_result().unwrap();
        assert_eq!(name, "ProcessPoolWorker-0");
        assert!(daemon);
        assert_eq!(parent, Some(std::process::id()));
    }
}

/// `multiprocessing.Pool`, after CPython's `_TestPool`.
mod pool {
    use std::time::Duration;

    use threadkit::futures::Shutdown;

    use threadkit::futures::FutureError;
    use threadkit::multiprocessing::{Pool, ProcessPoolExecutor};

    fn sqr(x: i64) -> i64 {
        x * x
    }

    fn sqr_slowly(x: i64) -> i64 {
        std::thread::sleep(Duration::from_millis(200));
        x * x
    }

    fn sleep_forever(_: ()) {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn fail_on_three(x: i64) -> i64 {
        if x == 3 {
            panic!("three");
        }
        x
    }

    /// Waits (with a hang guard) until the future's task was handed to a
    /// worker.
    fn until_running<T>(f: &threadkit::futures::Future<T>) {
        let guard = std::time::Instant::now();
        while !f.running() {
            assert!(guard.elapsed() < Duration::from_secs(60), "never started");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `test_apply`, `test_map`, `test_imap`, `test_imap_unordered`.
    #[test]
    fn apply_map_imap() {
        let pool = Pool::new(2).unwrap();
        assert_eq!(pool.apply(sqr, 5), Ok(25));
        let expected: Vec<i64> = (0..100).map(sqr).collect();
        assert_eq!(pool.map(sqr, 0..100, 1).unwrap(), expected);
        assert_eq!(pool.map(sqr, 0..100, 7).unwrap(), expected);
        let got: Vec<i64> = pool
            .imap(sqr, 0..10, 3)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, expected[..10]);
        let mut got: Vec<i64> = pool
            .imap_unordered(sqr, 0..10, 3)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        got.sort();
        assert_eq!(got, expected[..10]);
        assert!(matches!(
            pool.map(sqr, 0..3, 0),
            Err(FutureError::InvalidArgument(_))
        ));
    }

    /// `test_map_exception` style: the first error in input order.
    #[test]
    fn map_reports_the_first_error() {
        let pool = Pool::new(2).unwrap();
        assert_eq!(
            pool.map(fail_on_three, 0..6, 1),
            Err(FutureError::Panicked("three".into()))
        );
        let failed = pool
            .imap_unordered(fail_on_three, 0..6, 2)
            .unwrap()
            .filter(Result::is_err)
            .count();
        assert_eq!(failed, 2, "the failed chunk of two yields two errors");
    }

    /// `test_async` and `test_async_timeout`.
    #[test]
    fn async_results() {
        let pool = Pool::new(1).unwrap();
        let res = pool.apply_async(sqr_slowly, 7).unwrap();
        assert_eq!(res.successful(), None);
        assert!(matches!(
            res.get(Some(Duration::ZERO)),
            Err(FutureError::Timeout)
        ));
        assert!(res.wait(None));
        assert!(res.ready());
        assert_eq!(res.get(Some(Duration::from_secs(60))), Ok(&49));
        assert_eq!(res.successful(), Some(true));
        let bad = pool.apply_async(fail_on_three, 3).unwrap();
        assert!(bad.wait(None));
        assert_eq!(bad.successful(), Some(false));
    }

    /// `test_terminate`: a running task and the ones behind it do not keep
    /// the pool alive.
    #[test]
    fn terminate_stops_running_and_pending_tasks() {
        let pool = Pool::new(1).unwrap();
        let running = pool.apply_async(sleep_forever, ()).unwrap();
        let pending = pool.apply_async(sqr, 2).unwrap();
        // The first task is running once the worker took it.
        let running = running.into_future();
        until_running(&running);
        pool.terminate();
        assert!(
            matches!(running.result(), Err(FutureError::BrokenExecutor(m)) if m.contains("SIGTERM"))
        );
        assert!(matches!(pending.get(None), Err(FutureError::Cancelled)));
        assert!(matches!(pool.apply(sqr, 1), Err(FutureError::ShutDown)));
    }

    /// Python 3.14's `ProcessPoolExecutor.kill_workers()`.
    #[test]
    fn kill_workers_ends_a_stuck_executor() {
        let pool = ProcessPoolExecutor::new(1).unwrap();
        let stuck = pool.submit(sleep_forever, ()).unwrap();
        until_running(&stuck);
        pool.kill_workers();
        let got = stuck.result();
        assert!(
            matches!(&got, Err(FutureError::BrokenExecutor(m)) if m.contains("SIGKILL")),
            "{got:?}"
        );
        pool.shutdown(Shutdown::wait());
        assert!(pool.worker_pids().is_empty());
    }
}
