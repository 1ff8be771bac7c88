//! Process-pool settings that cannot work are refused at `build()`, and a
//! lost worker's futures say what happened to each of them.

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
