//! `threadkit::debug` without `debug-locks`: thread dumps, scheduled dumps,
//! JSON round trips, pool tasks in the wait-for graph (a cycle through a
//! running task, a starved pool). (The watchdog's "all asleep" has its own binary,
//! `debug_all_asleep.rs`, since its verdict concerns every thread.)

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use threadkit::debug::{self, Alarm, WaitKind};
use threadkit::futures::{Future, ThreadPoolExecutor};

use threadkit::threading::{Event, Thread};

/// Waits (generously) until `ready` holds for a fresh dump.
fn until_dump(mut ready: impl FnMut(&debug::ThreadDump) -> bool) -> debug::ThreadDump {
    let start = Instant::now();
    loop {
        let dump = debug::dump_threads();
        if ready(&dump) {
            return dump;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "dump never matched:\n{dump}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs its closure when dropped, also while a failed assertion unwinds:
/// it releases what a test keeps blocked. Exit shuts the pools down and
/// joins the non-daemon threads (as Python does), so a worker or thread a
/// failed test left blocked would keep the process from exiting, and the
/// failure from being reported as one.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

fn waiting_on(dump: &debug::ThreadDump, name: &str) -> Option<WaitKind> {
    dump.threads
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.waiting.as_ref())
        .map(|w| w.kind)
}

#[test]
fn dump_names_each_wait_and_clears_it_after() {
    let go = Arc::new(Event::new());
    let timed = Arc::new(Event::new());
    let _release = OnDrop({
        let (go, timed) = (Arc::clone(&go), Arc::clone(&timed));
        move || {
            go.set();
            timed.set();
        }
    });
    let a = {
        let go = Arc::clone(&go);
        Thread::builder()
            .name("dump-event-waiter")
            .spawn(move || go.wait())
            .unwrap()
    };
    let b = {
        let timed = Arc::clone(&timed);
        Thread::builder()
            .name("dump-timed-waiter")
            .spawn(move || {
                timed.wait_timeout(Duration::from_secs(30));
            })
            .unwrap()
    };
    let dump = until_dump(|d| {
        waiting_on(d, "dump-event-waiter").is_some() && waiting_on(d, "dump-timed-waiter").is_some()
    });
    let text = dump.to_string();
    assert!(text.contains("\"dump-event-waiter\""), "{text}");
    assert!(text.contains("[waiting: Event.wait"), "{text}");
    assert!(text.contains("with timeout"), "{text}");
    let timed_state = dump
        .threads
        .iter()
        .find(|t| t.name == "dump-timed-waiter")
        .unwrap();
    assert!(timed_state.waiting.as_ref().unwrap().timed);

    // JSON round trip (feature `serde`, on by default through `process`).
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(&dump).unwrap();
        let back: debug::ThreadDump = serde_json::from_str(&json).unwrap();
        assert_eq!(back, dump);
    }

    go.set();
    timed.set();
    a.join().unwrap();
    b.join().unwrap();
    let dump = debug::dump_threads();
    assert_eq!(waiting_on(&dump, "dump-event-waiter"), None);
}

/// `Thread::start` waits for the new thread to run on the record that
/// `join` waits on: a dump names that wait `Thread.start`, never
/// `Thread.join`. The wait is short, so a thread starts threads in a loop
/// until a dump catches it in one.
#[test]
fn a_start_waiting_for_its_thread_is_named_thread_start() {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _stop = OnDrop({
        let stop = Arc::clone(&stop);
        move || stop.store(true, std::sync::atomic::Ordering::Relaxed)
    });
    let starter = {
        let stop = Arc::clone(&stop);
        Thread::builder()
            .name("dump-starter")
            .spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    Thread::builder().daemon(true).spawn(|| {}).unwrap();
                }
            })
            .unwrap()
    };
    let mut seen = Vec::new();
    let dump = until_dump(|d| {
        if let Some(kind) = waiting_on(d, "dump-starter") {
            seen.push(kind);
        }
        seen.len() >= 3
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    starter.join().unwrap();
    // The starter waits on nothing but its starts.
    assert!(
        seen.iter().all(|&k| k == WaitKind::Start),
        "{seen:?}\n{dump}"
    );
    assert_eq!(WaitKind::Start.as_str(), "Thread.start");
    assert!(dump.to_string().contains("Thread.start"), "{dump}");
}

#[test]
fn dump_threads_later_fires_and_stops() {
    let (tx, rx) = mpsc::channel();
    let handle = debug::dump_threads_later(Duration::from_millis(10), true, move |alarm| {
        let _ = tx.send(matches!(alarm, Alarm::Scheduled(_)));
    });
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    handle.stop();
}

/// Waits (generously) until `find_deadlocks` reports something `wanted`.
fn until_found(mut wanted: impl FnMut(&debug::Deadlock) -> bool) -> debug::Deadlock {
    let start = Instant::now();
    loop {
        if let Some(found) = debug::find_deadlocks().into_iter().find(|d| wanted(d)) {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no such deadlock:\n{}",
            debug::dump_threads()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// CPython's docs on `ThreadPoolExecutor`: "Deadlocks can occur when the
/// callable associated with a Future waits on the results of another
/// Future" (their `wait_on_future` example, with one worker). The worker
/// waits for a task queued behind it in its own pool: a starved pool,
/// reported with the pool and the queued task; cancelling the queued task
/// ends it.
#[test]
fn a_pool_starved_by_a_task_waiting_on_its_own_pool_is_found() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("starved")
            .build()
            .unwrap(),
    );
    let (tx, rx) = mpsc::channel::<Arc<Future<u32>>>();
    let outer = {
        let pool = Arc::clone(&pool);
        pool.clone()
            .submit(move || {
                let inner = Arc::new(pool.submit(|| 5).unwrap());
                tx.send(Arc::clone(&inner)).unwrap();
                inner.result().copied()
            })
            .unwrap()
    };
    let inner = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let _release = OnDrop({
        let inner = Arc::clone(&inner);
        move || {
            inner.cancel();
        }
    });
    // This pool's (tests run in parallel: another test starves a pool too).
    let found = until_found(|d| {
        d.starved_pool.is_some() && d.threads.iter().any(|t| t.name == "starved_0")
    });
    let pool_id = found.starved_pool.unwrap();
    assert_eq!(found.threads.len(), 1);
    let worker = &found.threads[0];
    assert_eq!(worker.name, "starved_0");
    assert_eq!(worker.pool, Some(pool_id));
    let wait = worker.waiting.as_ref().unwrap();
    assert_eq!(wait.kind, WaitKind::Future);
    assert_eq!(wait.queued_in, Some(pool_id));
    assert!(!found.until_timeout);
    let text = debug::dump_threads().to_string();
    assert!(
        text.contains(&format!("pool #{pool_id} is starved")),
        "{text}"
    );
    assert!(text.contains("task queued in pool"), "{text}");

    // Cancel the queued task: the worker's wait ends (Python's `result()`
    // raises CancelledError), and the pool is not starved any more.
    assert!(inner.cancel());
    assert_eq!(
        outer.into_result().unwrap(),
        Err(threadkit::futures::FutureError::Cancelled)
    );
    assert!(
        !debug::find_deadlocks()
            .iter()
            .any(|d| d.starved_pool == Some(pool_id))
    );
}

/// A pool whose workers wait on tasks that other free workers run is not
/// starved: no report while the tasks are merely slow.
#[test]
fn a_task_waiting_on_a_task_run_by_a_free_worker_is_not_starvation() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .thread_name_prefix("not-starved")
            .build()
            .unwrap(),
    );
    let go = Arc::new(Event::new());
    let _release = OnDrop({
        let go = Arc::clone(&go);
        move || go.set()
    });
    let outer = {
        let (pool2, go) = (Arc::clone(&pool), Arc::clone(&go));
        pool.submit(move || {
            let inner = pool2.submit(move || go.wait()).unwrap();
            inner.into_result().is_ok()
        })
        .unwrap()
    };
    // Both workers wait: one on the Event, one on the task the other runs.
    // By kind: the first worker's `start()` of the second (recorded as a
    // join) may still show as its wait while the second already waits on
    // the Event.
    let dump = until_dump(|d| {
        let waits = |kind| {
            d.threads.iter().any(|t| {
                t.name.starts_with("not-starved")
                    && t.waiting.as_ref().is_some_and(|w| w.kind == kind)
            })
        };
        waits(WaitKind::Event) && waits(WaitKind::Future)
    });
    let waiter = dump
        .threads
        .iter()
        .find(|t| {
            t.name.starts_with("not-starved")
                && t.waiting
                    .as_ref()
                    .is_some_and(|w| w.kind == WaitKind::Future)
        })
        .unwrap_or_else(|| panic!("no worker waits on the task:\n{dump}"));
    let wait = waiter.waiting.as_ref().unwrap();
    let runner = dump
        .threads
        .iter()
        .find(|t| Some(t.ident) == wait.holder)
        .unwrap_or_else(|| panic!("the waited-for task's worker is not known:\n{dump}"));
    assert!(runner.name.starts_with("not-starved"));
    assert_eq!(wait.queued_in, None);
    assert!(dump.to_string().contains("run by \""), "{dump}");
    assert!(dump.deadlocks.iter().all(|d| d.starved_pool != waiter.pool));
    go.set();
    assert_eq!(outer.into_result(), Ok(true));
}

/// A worker in its initializer does not wait for anything: while the first
/// worker waits for a task queued behind it, the second one, which will run
/// that task once initialized, keeps the pool from being starved. (Workers
/// used to count as the pool's only once their initializer had run, and the
/// pool was reported starved meanwhile.)
#[test]
fn a_worker_in_its_initializer_keeps_its_pool_from_starving() {
    let initializing = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .thread_name_prefix("initializing")
            .initializer({
                let initializing = Arc::clone(&initializing);
                move || {
                    initializing.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
            .build()
            .unwrap(),
    );
    let outer = {
        let pool2 = Arc::clone(&pool);
        pool.submit(move || pool2.submit(|| 5).unwrap().into_result().ok())
            .unwrap()
    };
    // From when the second worker is in its initializer (the first worker
    // then waits for the task, or is about to) until the task has run.
    let start = Instant::now();
    while initializing.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "hang guard");
        std::thread::sleep(Duration::from_millis(1));
    }
    while !outer.done() {
        let starved = debug::find_deadlocks().into_iter().find(|d| {
            d.starved_pool.is_some() && d.threads.iter().any(|t| t.name.starts_with("initializing"))
        });
        assert!(starved.is_none(), "{}", starved.unwrap());
        assert!(start.elapsed() < Duration::from_secs(10), "hang guard");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(outer.into_result(), Ok(Some(5)));
}

/// A cycle through a running task: a thread waits for a task whose worker
/// joins that thread. Both stay blocked until the test process exits: the
/// waiter is a daemon thread and the pool a scoped one (its worker is a
/// plain std thread, which exit does not wait for, where a
/// `ThreadPoolExecutor`'s workers are joined at exit as in Python).
#[test]
fn a_cycle_through_a_running_task_is_found() {
    let _waiter = Thread::builder()
        .name("cycle-waiter")
        .daemon(true)
        .spawn(|| {
            let me = threadkit::threading::current_thread();
            threadkit::futures::scope(|s| {
                let task = s
                    .submit(move || {
                        let _ = me.join();
                    })
                    .unwrap();
                let _ = task.result();
            });
        })
        .unwrap();
    let found = until_found(|d| d.threads.iter().any(|t| t.name == "cycle-waiter"));
    assert_eq!(found.threads.len(), 2, "{found}");
    let kinds: Vec<_> = found
        .threads
        .iter()
        .map(|t| t.waiting.as_ref().unwrap().kind)
        .collect();
    assert!(
        kinds.contains(&WaitKind::Future) && kinds.contains(&WaitKind::Join),
        "{found}"
    );
    assert_eq!(found.starved_pool, None);
    assert!(found.to_string().contains("Future.result"), "{found}");
}

/// The watchdog raises `Alarm::Starvation` for a starved pool (this
/// test's: tests run in parallel, and another one starves a pool too).
#[test]
fn the_watchdog_reports_a_starved_pool() {
    let (alarms, seen) = mpsc::channel();
    let watchdog = debug::Watchdog::new()
        .period(Duration::from_millis(10))
        .all_asleep(false)
        .on_alarm(move |alarm| {
            if let Alarm::Starvation(dump) = alarm
                && dump.deadlocks.iter().any(|d| {
                    d.starved_pool.is_some() && d.threads.iter().any(|t| t.name == "watched_0")
                })
            {
                let _ = alarms.send(dump.to_string());
            }
        })
        .start();
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("watched")
            .build()
            .unwrap(),
    );
    let (tx, rx) = mpsc::channel::<Arc<Future<()>>>();
    let outer = {
        let pool2 = Arc::clone(&pool);
        pool.submit(move || {
            let inner = Arc::new(pool2.submit(|| ()).unwrap());
            tx.send(Arc::clone(&inner)).unwrap();
            let _ = inner.result();
        })
        .unwrap()
    };
    let inner = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let _release = OnDrop({
        let inner = Arc::clone(&inner);
        move || {
            inner.cancel();
        }
    });
    let text = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(text.contains("\"watched_0\""), "{text}");
    assert!(inner.cancel());
    outer.result().unwrap();
    watchdog.stop();
}
