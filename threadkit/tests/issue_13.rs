//! Issue 13: the Python porter's API. One test per point of the issue.

use std::time::Duration;

use threadkit::futures::{FutureError, SubmitError, ThreadPoolExecutor};

/// 1. `use threadkit::queue::Empty;` works, and one `Empty` (one `Full`)
///    matches after the try and the timed calls alike, as Python's
///    `queue.Empty` does.
#[test]
fn point_01_queue_empty_and_full_are_pythons_names() {
    use threadkit::queue::{Empty, Full, Queue};

    let q = Queue::new(1);
    assert_eq!(q.try_get(), Err(Empty));
    assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(Empty));
    q.put(1).unwrap();
    assert!(matches!(q.try_put(2), Err(Full(2))));
    assert!(matches!(
        q.put_timeout(3, Duration::from_millis(1)),
        Err(Full(3))
    ));
    // concurrent.futures' names too.
    use threadkit::futures::{CancelledError, TimeoutError};
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = std::sync::Arc::new(threadkit::threading::Event::new());
    let g = std::sync::Arc::clone(&gate);
    let busy = pool.submit(move || g.wait()).unwrap();
    let queued = pool.submit(|| ()).unwrap();
    assert_eq!(
        busy.result_timeout(Duration::ZERO),
        Err(TimeoutError.into())
    );
    assert!(queued.cancel());
    assert_eq!(queued.result(), Err(CancelledError.into()));
    gate.set();
}

/// 2. Threads that borrow a Queue, an Event and a Lock, without `Arc`, and
///    are threadkit threads (named, listed).
#[test]
fn point_02_scoped_threads_borrow_primitives() {
    use threadkit::queue::Queue;
    use threadkit::threading::{self, Event, Lock};

    let q = Queue::new(0);
    let stop = Event::new();
    let seen = Lock::new(Vec::new());
    threading::scope(|s| {
        let t = s
            .spawn(|| {
                while let Ok(n) = q.get() {
                    seen.acquire().push(n);
                }
                stop.set();
                threading::enumerate().contains(&threading::current_thread())
            })
            .unwrap();
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.shutdown(false);
        assert_eq!(t.join(), Ok(true));
    });
    assert!(stop.is_set());
    assert_eq!(*seen.acquire(), [1, 2]);
}

/// 4. A pool task's panic keeps its location, and its backtrace when
///    `RUST_BACKTRACE` asks for one.
#[test]
fn point_04_a_pool_panic_keeps_its_location() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let line = line!() + 1;
    let f = pool.submit(|| -> u8 { panic!("bad input {}", 3) }).unwrap();
    let Err(FutureError::Panicked(report)) = f.result() else {
        panic!("the task panicked")
    };
    assert_eq!(report.message(), "bad input 3");
    let location = report.location().expect("a location");
    assert!(
        location.starts_with(&format!("{}:{line}:", file!())),
        "{location}"
    );
    assert!(f.result().unwrap_err().to_string().contains(location));
    let wants_backtrace = std::env::var("RUST_BACKTRACE").is_ok_and(|v| v != "0")
        || std::env::var("RUST_LIB_BACKTRACE").is_ok_and(|v| v != "0");
    assert_eq!(report.backtrace().is_some(), wants_backtrace);
    // The error stays one pointer wide next to its tag.
    assert!(std::mem::size_of::<FutureError>() <= 32);
}

/// 6. Futures hash and compare by identity: Python's
///    `{pool.submit(work, i): i for i in range(n)}`.
/// 5. One error type per operation: `submit` gives a `SubmitError`,
///    `as_completed` a `TimeoutError`, `result` a `FutureError`. The loop of
///    the issue's program (b) has no nested `Result` and no catch-all arm,
///    and `?` carries both narrow errors into `FutureError`.
///
/// Python (the program this mirrors):
///
/// ```python
/// futs = {pool.submit(work, i): i for i in range(4)}
/// for f in as_completed(futs, timeout=60):
///     try:
///         print(futs[f], "->", f.result())
///     except ValueError as e:
///         print(futs[f], "failed:", e)
/// ```
#[test]
fn point_05_per_operation_error_types() {
    use std::collections::HashMap;
    use threadkit::futures::{Future, Shutdown, TimeoutError, as_completed};

    fn work(i: u32) -> u32 {
        if i == 3 {
            panic!("bad input {i}");
        }
        i * i
    }

    /// Each task's input and its square or its panic's message.
    type Seen = Vec<(u32, Result<u32, String>)>;

    /// The porter's loop: `f?` is the timeout, `result()` the task's outcome.
    fn run(pool: &ThreadPoolExecutor) -> Result<Seen, FutureError> {
        let mut futs: HashMap<Future<u32>, u32> = HashMap::new();
        for i in 0..4 {
            futs.insert(pool.submit(move || work(i))?, i); // SubmitError -> FutureError
        }
        let mut seen = Vec::new();
        for f in as_completed(futs.keys(), Some(Duration::from_secs(60))) {
            let f = f?; // TimeoutError -> FutureError
            let i = futs[f];
            match f.result() {
                Ok(v) => seen.push((i, Ok(*v))),
                Err(FutureError::Panicked(e)) => seen.push((i, Err(e.message().to_owned()))),
                Err(other) => return Err(other),
            }
        }
        seen.sort_unstable();
        Ok(seen)
    }

    let pool = ThreadPoolExecutor::new(2).unwrap();
    assert_eq!(
        run(&pool),
        Ok(vec![
            (0, Ok(0)),
            (1, Ok(1)),
            (2, Ok(4)),
            (3, Err("bad input 3".to_owned()))
        ])
    );

    // as_completed's item type names its only error: the match is exhaustive
    // with two arms.
    let gate = std::sync::Arc::new(threadkit::threading::Event::new());
    let g = std::sync::Arc::clone(&gate);
    let slow = pool.submit(move || g.wait()).unwrap();
    let mut timed_out = 0;
    for f in as_completed([&slow], Some(Duration::from_millis(1))) {
        let f: Result<&Future<()>, TimeoutError> = f;
        match f {
            Ok(_) => unreachable!("the gate is closed"),
            Err(TimeoutError) => timed_out += 1,
        }
    }
    assert_eq!(timed_out, 1);
    gate.set();
    assert_eq!(slow.into_result(), Ok(()));

    // submit's error names its only two cases: exhaustive, no catch-all.
    pool.shutdown(Shutdown::wait());
    let refused = match pool.submit(|| 1) {
        Ok(_) => unreachable!("the pool is shut down"),
        Err(SubmitError::ShutDown) => "shut down",
        Err(SubmitError::BrokenExecutor(_)) => "broken",
    };
    assert_eq!(refused, "shut down");
    assert_eq!(run(&pool), Err(FutureError::ShutDown));
    assert_eq!(
        pool.submit(|| 1).unwrap_err().to_string(),
        FutureError::ShutDown.to_string()
    );

    // The Python names convert into FutureError, as `?` needs.
    assert_eq!(FutureError::from(TimeoutError), FutureError::Timeout);
    assert_eq!(
        FutureError::from(threadkit::futures::CancelledError),
        FutureError::Cancelled
    );
}

#[test]
fn point_06_futures_key_a_map() {
    use std::collections::HashMap;
    use threadkit::futures::as_completed;

    let pool = ThreadPoolExecutor::new(2).unwrap();
    let futs: HashMap<_, _> = (0..5u32)
        .map(|i| (pool.submit(move || i * i).unwrap(), i))
        .collect();
    assert_eq!(futs.len(), 5);
    let mut seen = Vec::new();
    for f in as_completed(futs.keys(), None) {
        let f = f.unwrap();
        assert_eq!(*f.result().unwrap(), futs[f] * futs[f]);
        seen.push(futs[f]);
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    let f = pool.submit(|| 0).unwrap();
    assert_eq!(f, f);
    assert_ne!(f, pool.submit(|| 0).unwrap());
}

/// 7. Named options instead of positional booleans.
#[test]
fn point_07_shutdown_takes_named_options() {
    use threadkit::futures::Shutdown;

    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = std::sync::Arc::new(threadkit::threading::Event::new());
    let g = std::sync::Arc::clone(&gate);
    let busy = pool.submit(move || g.wait()).unwrap();
    let queued = pool.submit(|| ()).unwrap();
    pool.shutdown(Shutdown::no_wait().cancel_futures());
    assert!(queued.cancelled());
    assert!(matches!(pool.submit(|| ()), Err(SubmitError::ShutDown)));
    gate.set();
    pool.shutdown(Shutdown::wait());
    assert!(busy.done());

    // pool.map(f, it) and pool.map(f, it, timeout=60, chunksize=2)
    use threadkit::futures::MapOptions;
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let plain: Vec<u32> = pool
        .map(|n: u32| n + 1, 0..4)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(plain, [1, 2, 3, 4]);
    let options = MapOptions::default()
        .timeout(Duration::from_secs(60))
        .chunksize(2);
    let chunked: Vec<u32> = pool
        .map_with(|n: u32| n * 2, 0..4, options)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(chunked, [0, 2, 4, 6]);
    assert!(matches!(
        pool.map_with(|n: u32| n, 0..4, MapOptions::default().chunksize(0)),
        Err(FutureError::InvalidArgument(_))
    ));
}

/// 9. Names that clash with neither std's `Future` trait nor the `futures`
///    crate: `ConcurrentFuture` and the `concurrent::futures` path.
#[test]
fn point_09_names_do_not_clash_with_std() {
    use std::future::Future; // the std trait stays in scope
    use threadkit::concurrent::futures::{ConcurrentFuture, ThreadPoolExecutor};

    fn is_std_future<F: Future>(_: &F) {}
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let f: ConcurrentFuture<u8> = pool.submit(|| 5).unwrap();
    is_std_future(&f);
    assert_eq!(f.result(), Ok(&5));
}

#[cfg(feature = "asyncio")]
mod asyncio_points {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use threadkit::asyncio::{self, TaskError};

    /// 3. `gather!` of futures of different types, and its
    ///    `return_exceptions` form.
    #[test]
    fn point_03_gather_of_different_types() {
        async fn user() -> String {
            "ada".to_owned()
        }
        async fn posts() -> Vec<u32> {
            vec![1, 2]
        }
        asyncio::run(async {
            let (u, p) = threadkit::gather!(user(), posts()).await.unwrap();
            assert_eq!((u.as_str(), p), ("ada", vec![1, 2]));
            let failed = threadkit::gather!(user(), async { panic!("no posts") }).await;
            let failed: Result<(String, ()), TaskError> = failed;
            assert_eq!(failed, Err(TaskError::Panicked("no posts".into())));
            let (u, e) = threadkit::gather!(return_exceptions = true; user(), async {
                panic!("boom")
            })
            .await;
            let e: Result<(), TaskError> = e;
            assert_eq!(u.as_deref(), Ok("ada"));
            assert_eq!(e, Err(TaskError::Panicked("boom".into())));
        })
        .unwrap();
    }

    /// 4 (asyncio). A panic in `gather` or a `TaskGroup` carries the same
    /// report as a pool task's, with its location.
    #[test]
    fn point_04_gather_and_task_group_panics_keep_their_location() {
        use threadkit::asyncio::TaskGroup;

        let (gathered, grouped, line) = asyncio::run(async {
            let line = line!() + 2;
            let gathered = asyncio::gather([async {
                panic!("in gather");
            }])
            .await;
            let grouped = TaskGroup::scope(async |tg| {
                tg.create_task(async { panic!("in group") });
                asyncio::sleep(std::time::Duration::from_secs(10)).await;
            })
            .await;
            (gathered, grouped, line)
        })
        .unwrap();
        let Err(TaskError::Panicked(report)) = gathered else {
            panic!("{gathered:?}")
        };
        assert_eq!(report.message(), "in gather");
        let at = format!("{}:{line}:", file!());
        assert!(
            report.location().is_some_and(|l| l.starts_with(&at)),
            "{report:?}"
        );
        let group = grouped.unwrap_err();
        let [TaskError::Panicked(report)] = group.exceptions() else {
            panic!("{group:?}")
        };
        assert_eq!(report.message(), "in group");
        assert!(
            report.location().is_some_and(|l| l.contains(file!())),
            "{report:?}"
        );
    }

    /// 4 (asyncio). A panic in a task from `create_task` keeps its location
    ///    too.
    #[test]
    fn point_04_a_tasks_panic_keeps_its_location() {
        let (outcome, line) = asyncio::run(async {
            let line = line!() + 2;
            let task = asyncio::create_task(async {
                panic!("in a task");
            });
            (task.await, line)
        })
        .unwrap();
        let Err(TaskError::Panicked(report)) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(report.message(), "in a task");
        let at = format!("{}:{line}:", file!());
        assert!(
            report.location().is_some_and(|l| l.starts_with(&at)),
            "{report:?}"
        );
    }

    /// 6 (asyncio). Tasks hash and compare by identity.
    #[test]
    fn point_06_tasks_fill_a_set() {
        asyncio::run(async {
            let a = asyncio::create_task(async { 1 });
            let b = asyncio::create_task(async { 1 });
            assert_ne!(a, b);
            let set: HashSet<_> = [a, b].into_iter().collect();
            assert_eq!(set.len(), 2);
        })
        .unwrap();
    }

    /// 8. `Task::result` lends, as `futures::Future::result` does;
    ///    `into_result` moves.
    #[test]
    fn point_08_task_result_lends() {
        asyncio::run(async {
            let task = asyncio::create_task(async { vec![1, 2, 3] });
            assert_eq!(task.result(), Err(TaskError::InvalidState));
            while !task.done() {
                asyncio::sleep(std::time::Duration::from_millis(1)).await;
            }
            let first: &Vec<i32> = task.result().unwrap();
            let second: &Vec<i32> = task.result().unwrap();
            assert!(std::ptr::eq(first, second));
            assert_eq!(task.into_result(), Ok(vec![1, 2, 3]));
        })
        .unwrap();
    }

    /// 10. `create_task` outside a loop: Python's words, at the caller's line.
    #[test]
    fn point_10_create_task_outside_a_loop_says_so_at_the_callers_line() {
        static WHERE: Mutex<Option<String>> = Mutex::new(None);
        let me = std::thread::current().id();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                *WHERE.lock().unwrap() = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
            }
        }));
        let line = line!() + 1;
        let payload = std::panic::catch_unwind(|| asyncio::create_task(async {})).unwrap_err();
        std::panic::set_hook(previous);
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap();
        assert_eq!(message, "no running event loop");
        assert_eq!(
            WHERE.lock().unwrap().as_deref(),
            Some(format!("{}:{line}", file!()).as_str())
        );
    }
}
