//! The cluster's failure guarantees, each against a real private
//! redis-server and real worker processes (this binary started again).
//! Every wait is bounded (30 s); no assertion depends on wall time.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{BOUND, Workers, eventually, server};
use redis::Value;
use threadkit::futures::{FutureError, MapOptions, Shutdown, ThreadPoolExecutor, as_completed};
use threadkit::multiprocessing::ProcessPoolExecutor;
use threadkit_cluster::{ClusterError, ClusterExecutor, Task, TaskError, current_task};

const STARTS: &str = "tk-test:starts";

thread_local! {
    static CON: RefCell<Option<redis::Connection>> = const { RefCell::new(None) };
}

/// Records `tid attempt pid arg` in the test server's `tk-test:starts` list.
fn record_start(arg: u64) {
    let Ok(url) = std::env::var("TK_TEST_REDIS") else {
        return;
    };
    let info = current_task().expect("inside a cluster task");
    let line = format!("{} {} {} {arg}", info.tid, info.attempt, std::process::id());
    CON.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = redis::Client::open(url.as_str())
                .and_then(|cl| cl.get_connection())
                .ok();
        }
        if let Some(con) = c.as_mut() {
            let _ = redis::cmd("RPUSH")
                .arg(STARTS)
                .arg(line)
                .query::<Value>(con);
        }
    });
}

fn square(x: u64) -> u64 {
    x * x
}

fn slow_square(x: u64) -> u64 {
    record_start(x);
    std::thread::sleep(Duration::from_millis(50 + (x * 37) % 150));
    x * x
}

fn sleep_ms(ms: u64) -> u64 {
    record_start(ms);
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn poison(x: u64) -> u64 {
    record_start(x);
    std::process::abort()
}

/// The line of `boom`'s `panic!`.
const BOOM_LINE: u32 = line!() + 3;

fn boom(x: u64) -> u64 {
    panic!("boom {x}")
}

threadkit_cluster::task! { SQUARE: fn(u64) -> u64 = square, "test.square"; }
threadkit_cluster::task! { SLOW_SQUARE: fn(u64) -> u64 = slow_square, "test.slow_square"; }
threadkit_cluster::task! { SLEEP_MS: fn(u64) -> u64 = sleep_ms, "test.sleep_ms"; }
threadkit_cluster::task! { POISON: fn(u64) -> u64 = poison, "test.poison"; }
threadkit_cluster::task! { BOOM: fn(u64) -> u64 = boom, "test.boom"; }

/// Not a test: the entry point of the worker processes the tests start.
#[test]
fn worker_entry() {
    threadkit_cluster::worker_main_if_requested();
}

/// The parsed `starts` list: (tid, attempt, pid, arg).
fn starts(con: &mut redis::Connection) -> Vec<(String, u32, u32, u64)> {
    let lines: Vec<String> = redis::cmd("LRANGE")
        .arg(STARTS)
        .arg(0)
        .arg(-1)
        .query(con)
        .unwrap();
    lines
        .iter()
        .map(|l| {
            let mut it = l.split(' ');
            (
                it.next().unwrap().to_owned(),
                it.next().unwrap().parse().unwrap(),
                it.next().unwrap().parse().unwrap(),
                it.next().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn task_error<T: std::fmt::Debug>(r: Result<T, FutureError>) -> TaskError {
    let e = r.expect_err("the future should have failed");
    TaskError::from_future_error(&e).unwrap_or_else(|| panic!("not a cluster error: {e:?}"))
}

fn pending_count(con: &mut redis::Connection, ns: &str) -> i64 {
    let v: Value = redis::cmd("XPENDING")
        .arg(format!("tk:{{{ns}}}:tasks"))
        .arg("workers")
        .query(con)
        .unwrap();
    match v {
        Value::Array(items) => match items.first() {
            Some(Value::Int(n)) => *n,
            _ => 0,
        },
        _ => 0,
    }
}

fn xlen(con: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("XLEN").arg(key).query(con).unwrap()
}

#[test]
fn kill_9_mid_task_every_future_ok_exactly_once() {
    let Some(server) = server() else { return };
    let ns = "kill9";
    let mut workers = Workers::new(&server.url, ns, 2, 1500);
    let pids: Vec<u32> = (0..3).map(|_| workers.spawn()).collect();
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let completions: Arc<Vec<AtomicUsize>> =
        Arc::new((0..200).map(|_| AtomicUsize::new(0)).collect());
    let futures: Vec<_> = (0..200u64)
        .map(|i| {
            let f = exec.submit(&SLOW_SQUARE, i).unwrap();
            let c = Arc::clone(&completions);
            f.add_done_callback(move |_| {
                c[i as usize].fetch_add(1, Ordering::SeqCst);
            });
            f
        })
        .collect();
    let done = || futures.iter().filter(|f| f.done()).count();
    eventually("20 results", || done() >= 20);
    // Kill a worker that has a started, unfinished task.
    let mut con = server.con();
    let victim = {
        let finished: std::collections::HashSet<u64> = futures
            .iter()
            .enumerate()
            .filter(|(_, f)| f.done())
            .map(|(i, _)| i as u64)
            .collect();
        starts(&mut con)
            .into_iter()
            .find(|(_, _, pid, arg)| pids.contains(pid) && !finished.contains(arg))
            .map(|(_, _, pid, _)| pid)
            .unwrap_or(pids[0])
    };
    workers.kill(victim);
    for (i, f) in futures.iter().enumerate() {
        let i = i as u64;
        assert_eq!(f.result_timeout(BOUND), Ok(&(i * i)), "task {i}");
    }
    for (i, c) in completions.iter().enumerate() {
        assert_eq!(c.load(Ordering::SeqCst), 1, "future {i} completed once");
    }
    let starts = starts(&mut con);
    assert!(
        starts.iter().any(|s| s.1 >= 2),
        "some task was re-run after the kill (attempt 2)"
    );
    assert!(
        starts.iter().any(|s| s.2 == victim),
        "the victim had started tasks"
    );
    eventually("nothing pending in Redis", || {
        pending_count(&mut con, ns) == 0 && xlen(&mut con, &format!("tk:{{{ns}}}:tasks")) == 0
    });
    let caller = exec.caller_id().to_owned();
    exec.shutdown(Shutdown::wait());
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("tk:{{{ns}}}:st:{caller}"))
        .arg(format!("tk:{{{ns}}}:res:{caller}"))
        .query(&mut con)
        .unwrap();
    assert_eq!(exists, 0, "the caller's keys are gone after shutdown");
}

#[test]
fn poison_task_fails_with_worker_lost_after_3_attempts() {
    let Some(server) = server() else { return };
    let ns = "poison";
    let mut workers = Workers::new(&server.url, ns, 1, 600);
    workers.spawn();
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let f = exec.submit(&POISON, 7).unwrap();
    let mut spawned = 1;
    // The harness restarts a worker whenever the poison kills it.
    eventually("the poison task fails", || {
        if !f.done() && workers.alive() == 0 {
            assert!(spawned < 10, "the poison task keeps being retried");
            workers.spawn();
            spawned += 1;
        }
        f.done()
    });
    assert_eq!(
        task_error(f.result()),
        TaskError::WorkerLost { attempts: 3 }
    );
    let mut con = server.con();
    assert_eq!(starts(&mut con).len(), 3, "exactly 3 starts");
    // And the worker that saw the 4th delivery is alive and serving.
    let ok = exec.submit(&SQUARE, 9).unwrap();
    if workers.alive() == 0 {
        workers.spawn();
    }
    assert_eq!(ok.result_timeout(BOUND), Ok(&81));
    exec.shutdown(Shutdown::wait());
}

#[test]
fn cancel_before_start_never_runs_and_during_run_returns_false() {
    let Some(server) = server() else { return };
    let ns = "cancel";
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    // No worker yet: everything is pending.
    let futures: Vec<_> = (0..50u64)
        .map(|i| exec.submit(&SLEEP_MS, 1000 + i).unwrap())
        .collect();
    for f in futures.iter().step_by(2) {
        assert!(f.cancel(), "a pending task can be cancelled");
        assert!(f.cancelled());
    }
    let mut workers = Workers::new(&server.url, ns, 4, 1500);
    workers.spawn();
    workers.spawn();
    for (i, f) in futures.iter().enumerate() {
        let r = f.result_timeout(BOUND);
        if i % 2 == 0 {
            assert_eq!(r, Err(FutureError::Cancelled));
        } else {
            assert_eq!(r, Ok(&(1000 + i as u64)));
        }
    }
    let mut con = server.con();
    let ran: Vec<u64> = starts(&mut con).iter().map(|s| s.3).collect();
    for i in (0..50u64).step_by(2) {
        assert!(!ran.contains(&(1000 + i)), "cancelled task {i} ran");
    }
    // Once running, cancel() is refused and the task finishes.
    let f = exec.submit(&SLEEP_MS, 300).unwrap();
    eventually("the task starts", || f.running() || f.done());
    assert!(!f.cancel(), "a running task cannot be cancelled");
    assert_eq!(f.result_timeout(BOUND), Ok(&300));
    exec.shutdown(Shutdown::wait());
}

#[test]
fn broker_loss_fails_pending_futures_with_broker_lost() {
    let Some(mut server) = server() else { return };
    let exec = ClusterExecutor::builder(&server.url)
        .namespace("loss")
        .broker_timeout(Duration::from_secs(1))
        .connect()
        .unwrap();
    let futures: Vec<_> = (0..5u64)
        .map(|i| exec.submit(&SQUARE, i).unwrap())
        .collect();
    server.kill();
    for f in &futures {
        // BOUND is 30x the broker timeout: a hang guard, not a timing test.
        match task_error(f.result_timeout(BOUND)) {
            TaskError::BrokerLost(_) => {}
            other => panic!("expected BrokerLost, got {other:?}"),
        }
    }
    assert!(matches!(
        exec.submit(&SQUARE, 1),
        Err(ClusterError::BrokerLost(_) | ClusterError::Redis(_))
    ));
    exec.shutdown(Shutdown::wait());
}

#[test]
fn unknown_task_mismatched_types_and_panics_are_typed_errors() {
    let Some(server) = server() else { return };
    let ns = "typed";
    let mut workers = Workers::new(&server.url, ns, 2, 1500);
    workers.spawn();
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let unknown: Task<u64, u64> = Task::by_name("test.no_such_task");
    let f = exec.submit(&unknown, 1).unwrap();
    assert_eq!(
        task_error(f.result_timeout(BOUND)),
        TaskError::UnknownTask {
            name: "test.no_such_task".to_owned()
        }
    );
    let wrong: Task<String, u64> = Task::by_name("test.square");
    let f = exec.submit(&wrong, "seven".to_owned()).unwrap();
    match task_error(f.result_timeout(BOUND)) {
        TaskError::SignatureMismatch {
            name,
            caller,
            worker,
        } => {
            assert_eq!(name, "test.square");
            assert!(caller.contains("String"), "{caller}");
            assert_eq!(worker, "u64 -> u64");
        }
        other => panic!("expected SignatureMismatch, got {other:?}"),
    }
    let wrong_result: Task<u64, String> = Task::by_name("test.square");
    let f = exec.submit(&wrong_result, 3).unwrap();
    assert!(matches!(
        task_error(f.result_timeout(BOUND)),
        TaskError::SignatureMismatch { .. }
    ));
    let f = exec.submit(&BOOM, 5).unwrap();
    assert_eq!(
        f.result_timeout(BOUND),
        Err(FutureError::Panicked("boom 5".into()))
    );
    // The same report as a thread pool's: the message and where it was
    // raised, carried over from the worker.
    let Err(FutureError::Panicked(report)) = f.result_timeout(BOUND) else {
        unreachable!()
    };
    let location = report.location().expect("the panic's location");
    assert!(
        location.ends_with(&format!("cluster.rs:{BOOM_LINE}:5")),
        "{location}"
    );
    assert_eq!(report.to_string(), format!("boom 5 (at {location})"));
    // map: in order, in chunks, and the worker is still fine.
    let squares: Vec<u64> = exec
        .map_with(
            &SQUARE,
            0..25u64,
            MapOptions::default().timeout(BOUND).chunksize(4),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(squares, (0..25u64).map(|i| i * i).collect::<Vec<_>>());
    exec.shutdown(Shutdown::wait());
}

#[test]
fn map_timeout_yields_timeout_and_dropping_cancels_the_rest() {
    let Some(server) = server() else { return };
    let exec = ClusterExecutor::builder(&server.url)
        .namespace("maptimeout")
        .connect()
        .unwrap();
    // No workers: nothing can finish.
    let mut it = exec
        .map_with(
            &SQUARE,
            0..10u64,
            MapOptions::default()
                .timeout(Duration::from_millis(200))
                .chunksize(3),
        )
        .unwrap();
    assert_eq!(it.next(), Some(Err(FutureError::Timeout)));
    assert_eq!(it.next(), None);
    assert_eq!(exec.in_flight(), 4);
    drop(it);
    assert_eq!(exec.in_flight(), 0, "dropping the map cancelled its chunks");
    exec.shutdown(Shutdown::wait());
}

#[test]
fn mixed_as_completed_over_thread_process_and_cluster_futures() {
    let Some(server) = server() else { return };
    let ns = "mixed";
    let mut workers = Workers::new(&server.url, ns, 2, 1500);
    workers.spawn();
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let threads = ThreadPoolExecutor::new(2).unwrap();
    let processes = ProcessPoolExecutor::new(1).unwrap();
    let mut futures = Vec::new();
    for i in 0..6u64 {
        futures.push(threads.submit(move || i * i).unwrap());
        futures.push(processes.submit(square, i + 10).unwrap());
        futures.push(exec.submit(&SQUARE, i + 20).unwrap());
    }
    let mut got: Vec<u64> = as_completed(&futures, Some(BOUND))
        .map(|f| *f.unwrap().result().unwrap())
        .collect();
    got.sort_unstable();
    let mut want: Vec<u64> = (0..6u64)
        .flat_map(|i| [i * i, (i + 10) * (i + 10), (i + 20) * (i + 20)])
        .collect();
    want.sort_unstable();
    assert_eq!(got, want);
    exec.shutdown(Shutdown::wait());
    threads.shutdown(Shutdown::wait());
    processes.shutdown(Shutdown::wait());
}

#[test]
fn hostile_entries_fail_one_task_each_and_never_crash_the_worker() {
    let Some(server) = server() else { return };
    let ns = "hostile";
    let mut workers = Workers::new(&server.url, ns, 2, 1500);
    workers.spawn();
    let mut con = server.con();
    let tasks = format!("tk:{{{ns}}}:tasks");
    let state = format!("tk:{{{ns}}}:st:evil");
    let results = format!("tk:{{{ns}}}:res:evil");
    let _: () = redis::pipe()
        .cmd("HSET")
        .arg(&state)
        .arg("_caller")
        .arg("evil")
        .ignore()
        .cmd("PEXPIRE")
        .arg(&state)
        .arg(60_000)
        .ignore()
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("tk:{{{ns}}}:st:wrongtype"))
        .arg("not a hash")
        .arg("PX")
        .arg(60_000)
        .query(&mut con)
        .unwrap();
    let good_sig = SQUARE.signature();
    // MessagePack of the argument list [bin(7u64)]: what `submit(&SQUARE, 7)` sends.
    let good_args = vec![0x91, 0xc4, 0x01, 0x07];
    let huge = vec![0u8; 2 << 20];
    let long_caller = "x".repeat(10_000);
    let entries: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![("junk", b"1".to_vec())],
        vec![("caller", b"evil".to_vec())],
        vec![
            ("caller", long_caller.as_bytes().to_vec()),
            ("tid", b"t0".to_vec()),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t1".to_vec()),
            ("v", b"99".to_vec()),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t2".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"test.square".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", b"\xc1\xc1garbage".to_vec()),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t3".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"/bin/sh -c 'rm -rf /'".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", good_args.clone()),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t4".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"test.square".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", huge),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t5".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"test.square".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", good_args[..3].to_vec()),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t6".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"\xff\xfe".to_vec()),
        ],
        // A well-formed entry of protocol version 1 (an older caller).
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t9".to_vec()),
            ("v", b"1".to_vec()),
            ("fn", b"test.square".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", good_args.clone()),
        ],
        // Arguments with a trailing byte after the value.
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t10".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"test.square".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", [good_args.as_slice(), &[0x00]].concat()),
        ],
        // A caller whose state key is not a hash: Redis refuses the start.
        vec![
            ("caller", b"wrongtype".to_vec()),
            ("tid", b"t8".to_vec()),
            ("v", b"2".to_vec()),
        ],
        vec![
            ("caller", b"evil".to_vec()),
            ("tid", b"t7".to_vec()),
            ("v", b"2".to_vec()),
            ("fn", b"test.square".to_vec()),
            ("sig", good_sig.as_bytes().to_vec()),
            ("args", good_args.clone()),
        ],
    ];
    for fields in &entries {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&tasks).arg("*");
        for (k, v) in fields {
            cmd.arg(*k).arg(v.as_slice());
        }
        let _: String = cmd.query(&mut con).unwrap();
    }
    // Nine entries name the caller `evil` and a tid: nine results.
    let mut errors: HashMap<String, Option<TaskError>> = HashMap::new();
    eventually("a result for each hostile task", || {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&results)
            .arg("-")
            .arg("+")
            .query(&mut con)
            .unwrap();
        for e in reply.ids {
            let get = |k: &str| match e.map.get(k) {
                Some(Value::BulkString(b)) => b.clone(),
                _ => Vec::new(),
            };
            if get("k") == b"done" {
                let tid = String::from_utf8(get("t")).unwrap();
                errors.insert(tid, threadkit_cluster::__private::reply_error(&get("p")));
            }
        }
        errors.len() == 9
    });
    assert!(
        matches!(errors["t9"], Some(TaskError::Version { ref found, supported: 2 }) if found == "1"),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t10"], Some(TaskError::Malformed(ref m)) if m.contains("trailing")),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t1"], Some(TaskError::Version { .. })),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t2"], Some(TaskError::Malformed(_))),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t3"], Some(TaskError::UnknownTask { .. })),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t4"], Some(TaskError::TooLarge { .. })),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t5"], Some(TaskError::Malformed(_))),
        "{errors:?}"
    );
    assert!(
        matches!(errors["t6"], Some(TaskError::Malformed(_))),
        "{errors:?}"
    );
    assert_eq!(errors["t7"], None, "the well-formed hand-written entry ran");
    // The three entries naming no (usable) caller, and the one Redis
    // refused to start, were dead-lettered.
    eventually("four dead letters", || {
        xlen(&mut con, &format!("tk:{{{ns}}}:dead")) == 4
    });
    // The worker survived all of it and still serves.
    assert_eq!(workers.alive(), 1);
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    assert_eq!(
        exec.submit(&SQUARE, 12).unwrap().result_timeout(BOUND),
        Ok(&144)
    );
    exec.shutdown(Shutdown::wait());
    eventually("nothing pending in Redis", || {
        pending_count(&mut con, ns) == 0 && xlen(&mut con, &tasks) == 0
    });
}

#[test]
fn in_flight_bound_blocks_submit_instead_of_growing() {
    let Some(server) = server() else { return };
    let ns = "bound";
    let exec = Arc::new(
        ClusterExecutor::builder(&server.url)
            .namespace(ns)
            .max_in_flight(3)
            .connect()
            .unwrap(),
    );
    let first: Vec<_> = (0..3u64)
        .map(|i| exec.submit(&SQUARE, i).unwrap())
        .collect();
    let blocked = {
        let exec = Arc::clone(&exec);
        std::thread::spawn(move || exec.submit(&SQUARE, 3).unwrap())
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!blocked.is_finished(), "the 4th submit waits for room");
    assert_eq!(exec.in_flight(), 3);
    let mut workers = Workers::new(&server.url, ns, 2, 1500);
    workers.spawn();
    let last = blocked.join().unwrap();
    assert_eq!(last.result_timeout(BOUND), Ok(&9));
    for (i, f) in first.iter().enumerate() {
        assert_eq!(f.result_timeout(BOUND), Ok(&((i * i) as u64)));
    }
    exec.shutdown(Shutdown::wait());
}

/// Not a test: the caller process that `caller_death_*` kills.
#[test]
fn caller_entry() {
    use std::io::Write;
    let Ok(url) = std::env::var("TK_TEST_CALLER") else {
        return;
    };
    let exec = ClusterExecutor::builder(&url)
        .namespace("callerdeath")
        .key_ttl(Duration::from_secs(1))
        .connect()
        .unwrap();
    let futures: Vec<_> = (0..100u64)
        .map(|i| exec.submit(&SLEEP_MS, 100 + i).unwrap())
        .collect();
    println!("CALLER {}", exec.caller_id());
    std::io::stdout().flush().unwrap();
    // Killed long before this ends.
    std::thread::sleep(BOUND);
    drop(futures);
    std::process::exit(0);
}

#[test]
fn caller_death_keys_expire_and_workers_drop_its_tasks() {
    use std::io::BufRead;
    let Some(server) = server() else { return };
    let ns = "callerdeath";
    let exe = std::env::current_exe().unwrap();
    let mut child = common::KillOnDrop(
        std::process::Command::new(exe)
            .args([
                "caller_entry",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("TK_TEST_CALLER", &server.url)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let caller = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("CALLER ").map(|(_, id)| id.trim().to_owned()))
        .expect("the caller process printed its id");
    let mut con = server.con();
    let tasks = format!("tk:{{{ns}}}:tasks");
    assert_eq!(xlen(&mut con, &tasks), 100);
    drop(child); // kill -9
    let state = format!("tk:{{{ns}}}:st:{caller}");
    let results = format!("tk:{{{ns}}}:res:{caller}");
    eventually("the dead caller's keys expire", || {
        redis::cmd("EXISTS")
            .arg(&state)
            .arg(&results)
            .query::<i64>(&mut con)
            .unwrap()
            == 0
    });
    let mut workers = Workers::new(&server.url, ns, 4, 1500);
    workers.spawn();
    eventually("the workers drop its tasks", || {
        pending_count(&mut con, ns) == 0 && xlen(&mut con, &tasks) == 0
    });
    assert!(starts(&mut con).is_empty(), "none of its tasks ran");
    assert_eq!(workers.alive(), 1);
}

#[test]
fn graceful_stop_finishes_the_running_task() {
    let Some(server) = server() else { return };
    let ns = "graceful";
    let worker = threadkit_cluster::ClusterWorker::new(&server.url)
        .namespace(ns)
        .slots(1)
        .lease(Duration::from_millis(1500));
    let stop = worker.stop_handle();
    let runner = std::thread::spawn(move || worker.run());
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let f = exec.submit(&SLEEP_MS, 400).unwrap();
    eventually("the task starts", || f.running() || f.done());
    stop.stop();
    let deadline = std::time::Instant::now() + BOUND;
    while !runner.is_finished() {
        assert!(std::time::Instant::now() < deadline, "run() did not return");
        std::thread::sleep(Duration::from_millis(20));
    }
    runner.join().unwrap().unwrap();
    assert_eq!(
        f.result_timeout(Duration::ZERO),
        Ok(&400),
        "committed before run() returned"
    );
    exec.shutdown(Shutdown::wait());
}

#[test]
fn a_stopped_broker_fails_pending_futures_with_broker_lost() {
    let Some(server) = server() else { return };
    let exec = ClusterExecutor::builder(&server.url)
        .namespace("stopped")
        .broker_timeout(Duration::from_secs(1))
        .connect()
        .unwrap();
    let f = exec.submit(&SQUARE, 3).unwrap();
    // SIGSTOP: the socket still accepts connections, nothing answers.
    server.signal("STOP");
    // BOUND is 30x the broker timeout (plus one 5 s read timeout): a hang
    // guard only.
    let r = f.result_timeout(BOUND);
    server.signal("CONT");
    match task_error(r) {
        TaskError::BrokerLost(_) => {}
        other => panic!("expected BrokerLost, got {other:?}"),
    }
    exec.shutdown(Shutdown::wait());
}

#[test]
fn shutdown_cancel_futures_cancels_what_has_not_started() {
    let Some(server) = server() else { return };
    let ns = "shutdown";
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    // No workers: nothing starts.
    let futures: Vec<_> = (0..5u64)
        .map(|i| exec.submit(&SLEEP_MS, i).unwrap())
        .collect();
    exec.shutdown(Shutdown::wait().cancel_futures());
    for f in &futures {
        assert!(f.cancelled());
    }
    assert!(matches!(
        exec.submit(&SQUARE, 1),
        Err(ClusterError::ShutDown)
    ));
    // A worker started now skips (and deletes) the cancelled entries...
    let mut workers = Workers::new(&server.url, ns, 2, 1500);
    workers.spawn();
    let mut con = server.con();
    eventually("the cancelled entries are dropped", || {
        pending_count(&mut con, ns) == 0 && xlen(&mut con, &format!("tk:{{{ns}}}:tasks")) == 0
    });
    // ...without running any of them, and the caller left no keys behind.
    assert!(starts(&mut con).is_empty());
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("tk:{{{ns}}}:st:*"))
        .query(&mut con)
        .unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

/// Result entries written by hand, as an older or foreign worker (or
/// anyone who can write to a caller's result stream) might: each fails its
/// one future with a typed error, and a well-formed panic keeps its
/// location.
#[test]
fn old_foreign_or_padded_replies_fail_their_future_with_a_typed_error() {
    // Version 1's reply encoding: a panic was its message only.
    #[derive(serde::Serialize)]
    enum V1Reply {
        Batch(Vec<V1Outcome>),
    }
    #[derive(serde::Serialize)]
    enum V1Outcome {
        #[allow(dead_code)]
        Ok(serde_bytes::ByteBuf),
        Panicked(String),
    }
    // Version 2's.
    #[derive(serde::Serialize)]
    enum V2Reply {
        Batch(Vec<V2Outcome>),
    }
    #[derive(serde::Serialize)]
    enum V2Outcome {
        Ok(serde_bytes::ByteBuf),
        Panicked {
            message: String,
            location: Option<String>,
        },
    }

    let Some(server) = server() else { return };
    // No workers in this namespace: the test writes the replies.
    let ns = "replies";
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let mut con = server.con();
    let tasks = format!("tk:{{{ns}}}:tasks");
    let results = format!("tk:{{{ns}}}:res:{}", exec.caller_id());
    let mut answer = |payload: Vec<u8>| {
        let f = exec.submit(&SQUARE, 3).unwrap();
        let last: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&tasks)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query(&mut con)
            .unwrap();
        let tid = match last.ids[0].map.get("tid") {
            Some(Value::BulkString(b)) => b.clone(),
            other => panic!("no tid: {other:?}"),
        };
        let _: String = redis::cmd("XADD")
            .arg(&results)
            .arg("*")
            .arg("t")
            .arg(tid)
            .arg("k")
            .arg("done")
            .arg("a")
            .arg(1)
            .arg("w")
            .arg("test")
            .arg("p")
            .arg(payload)
            .query(&mut con)
            .unwrap();
        f.result_timeout(BOUND).copied()
    };
    let v1 = rmp_serde::to_vec(&V1Reply::Batch(vec![V1Outcome::Panicked("old".into())])).unwrap();
    assert!(
        matches!(task_error(answer(v1)), TaskError::Malformed(_)),
        "a version-1 panic reply is malformed for a version-2 caller"
    );
    let nine = rmp_serde::to_vec(&9u64).unwrap();
    let ok = rmp_serde::to_vec(&V2Reply::Batch(vec![V2Outcome::Ok(nine.into())])).unwrap();
    assert_eq!(answer(ok.clone()), Ok(9), "the well-formed reply decodes");
    match task_error(answer([ok.as_slice(), &[0xc0]].concat())) {
        TaskError::Malformed(m) => assert!(m.contains("trailing"), "{m}"),
        other => panic!("expected Malformed, got {other:?}"),
    }
    let panicked = |location: String| {
        rmp_serde::to_vec(&V2Reply::Batch(vec![V2Outcome::Panicked {
            message: "far away".into(),
            location: Some(location),
        }]))
        .unwrap()
    };
    let Err(FutureError::Panicked(report)) = answer(panicked("src/far.rs:1:2".into())) else {
        panic!("expected a panic report")
    };
    assert_eq!(report.message(), "far away");
    assert_eq!(report.location(), Some("src/far.rs:1:2"));
    assert!(matches!(
        task_error(answer(panicked("x".repeat(5000)))),
        TaskError::Malformed(_)
    ));
    exec.shutdown(Shutdown::wait());
}

/// A worker claims no more entries than it has free slots, also when a
/// slot takes its next entry itself right after a commit: with 6 tasks
/// queued for 2 one-slot workers, no worker ever has more than one entry
/// pending, and both run some.
#[test]
fn a_worker_never_holds_more_entries_than_slots() {
    let Some(server) = server() else { return };
    let ns = "fair";
    let mut workers = Workers::new(&server.url, ns, 1, 1500);
    workers.spawn();
    workers.spawn();
    let mut con = server.con();
    let tasks = format!("tk:{{{ns}}}:tasks");
    // Per consumer (worker): its pending (taken, uncommitted) entries.
    let pending = |con: &mut redis::Connection| -> Vec<i64> {
        let consumers: Value = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(&tasks)
            .arg("workers")
            .query(con)
            .unwrap();
        let Value::Array(consumers) = consumers else {
            panic!("XINFO CONSUMERS: {consumers:?}")
        };
        // Each consumer: a flat [name, value, ...] array (RESP2).
        consumers
            .iter()
            .map(|c| match c {
                Value::Array(fields) => fields
                    .chunks(2)
                    .find_map(|kv| match kv {
                        [Value::BulkString(k), Value::Int(n)] if k == b"pending" => Some(*n),
                        _ => None,
                    })
                    .unwrap_or(0),
                other => panic!("a consumer: {other:?}"),
            })
            .collect()
    };
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    // Both workers are up (their liveness keys) before anything is submitted.
    eventually("two workers up", || {
        let up: Vec<String> = redis::cmd("KEYS")
            .arg(format!("tk:{{{ns}}}:w:*"))
            .query(&mut con)
            .unwrap();
        up.len() == 2
    });
    let futures: Vec<_> = (0..6)
        .map(|_| exec.submit(&SLEEP_MS, 150).unwrap())
        .collect();
    let mut most = 0;
    eventually("all six done", || {
        most = pending(&mut con).into_iter().fold(most, i64::max);
        futures.iter().all(|f| f.done())
    });
    for f in &futures {
        assert_eq!(f.result_timeout(BOUND), Ok(&150));
    }
    assert!(most >= 1, "the poll saw the workers' taken entries");
    assert!(most <= 1, "a one-slot worker held {most} entries at once");
    let ran_by: std::collections::HashSet<u32> = starts(&mut con)
        .into_iter()
        .map(|(_, _, pid, _)| pid)
        .collect();
    assert_eq!(ran_by.len(), 2, "both workers ran tasks: {ran_by:?}");
    exec.shutdown(Shutdown::wait());
}
