//! `asyncio.wait`, `shield`, `current_task`, `all_tasks` and
//! `run_coroutine_threadsafe`: behaviours ported from CPython's
//! `Lib/test/test_asyncio/test_tasks.py` (behaviour ported, not code).
//!
//! CPython is Copyright (c) 2001-2024 Python Software Foundation, licensed
//! under the PSF License Agreement. Each test names the CPython test whose
//! behaviour it checks; the code is new, written against threadkit's API.
//! CPython's tests drive a fake clock; these use events to order the tasks
//! and never decide on wall time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadkit::asyncio::{self, Event, ReturnWhen, TaskError};
use threadkit::futures::FutureError;

/// Hang guard: nothing in this file should take anywhere near this long.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn run<F: Future>(f: F) -> F::Output {
    asyncio::run(f).unwrap()
}

/// A task that waits for `gate` and returns `value`.
fn gated(gate: &Arc<Event>, value: u32) -> asyncio::Task<u32> {
    let gate = Arc::clone(gate);
    asyncio::create_task(async move {
        gate.wait().await;
        value
    })
}

// test_wait: ALL_COMPLETED (the default) waits for every task.
#[test]
fn wait_all_completed_waits_for_every_task() {
    run(async {
        let gate = Arc::new(Event::new());
        let a = asyncio::create_task(async { 1 });
        let b = gated(&gate, 2);
        let opener = Arc::clone(&gate);
        asyncio::create_task(async move { opener.set() });
        let w = asyncio::wait(vec![b, a], None, ReturnWhen::AllCompleted).await;
        assert!(w.pending.is_empty());
        let mut done = w.done;
        done.sort_by_key(|(i, _)| *i);
        assert_eq!(done, vec![(0, Ok(2)), (1, Ok(1))]);
    });
}

// test_wait_first_completed: returns with the one done, the other pending
// and untouched.
#[test]
fn wait_first_completed_returns_the_first_and_leaves_the_rest_running() {
    run(async {
        let never = Arc::new(Event::new());
        let a = gated(&never, 10);
        let b = asyncio::create_task(async { 20 });
        let w = asyncio::wait(vec![b, a], None, ReturnWhen::FirstCompleted).await;
        assert_eq!(w.done, vec![(0, Ok(20))]);
        assert_eq!(w.pending.len(), 1);
        let (index, a) = w.pending.into_iter().next().unwrap();
        assert_eq!(index, 1);
        assert!(!a.done(), "wait does not cancel the pending task");
        never.set();
        assert_eq!(a.await, Ok(10));
    });
}

// test_wait_really_done: tasks already done when wait looks are all in `done`.
#[test]
fn wait_first_completed_reports_every_task_already_done() {
    run(async {
        let a = asyncio::create_task(async { asyncio::sleep(Duration::ZERO).await });
        let b = asyncio::create_task(async {
            asyncio::sleep(Duration::ZERO).await;
            asyncio::sleep(Duration::ZERO).await;
        });
        // Let both finish before waiting.
        let probe = asyncio::create_task(async {});
        probe.await.unwrap();
        while !(a.done() && b.done()) {
            asyncio::sleep(Duration::ZERO).await;
        }
        let w = asyncio::wait(vec![b, a], None, ReturnWhen::FirstCompleted).await;
        assert_eq!(w.done.len(), 2);
        assert!(w.pending.is_empty());
    });
}

// test_wait_first_exception: a task that already failed ends the wait.
#[test]
fn wait_first_exception_returns_on_a_panic() {
    run(async {
        let never = Arc::new(Event::new());
        let a = gated(&never, 1);
        let b = asyncio::create_task(async { panic!("err") });
        let w = asyncio::wait(vec![b, a], None, ReturnWhen::FirstException).await;
        assert_eq!(w.done.len(), 1);
        assert_eq!(w.done[0].0, 0);
        assert!(matches!(w.done[0].1, Err(TaskError::Panicked(_))));
        assert_eq!(w.pending.len(), 1);
        for (_, t) in &w.pending {
            t.cancel();
        }
    });
}

// test_wait_first_exception_in_wait: the failure happens during the wait.
#[test]
fn wait_first_exception_returns_on_a_panic_during_the_wait() {
    run(async {
        let never = Arc::new(Event::new());
        let go = Arc::new(Event::new());
        let a = gated(&never, 1);
        let gate = Arc::clone(&go);
        let b = asyncio::create_task(async move {
            gate.wait().await;
            panic!("err")
        });
        let opener = Arc::clone(&go);
        asyncio::create_task(async move { opener.set() });
        let w = asyncio::wait(vec![b, a], None, ReturnWhen::FirstException).await;
        assert_eq!(w.done.len(), 1);
        assert!(matches!(w.done[0].1, Err(TaskError::Panicked(ref m)) if m == "err"));
        assert_eq!(w.pending[0].0, 1);
        w.pending[0].1.cancel();
    });
}

// FIRST_EXCEPTION with no exception: like ALL_COMPLETED; a cancelled task
// is not an exception.
#[test]
fn wait_first_exception_without_a_panic_waits_for_all() {
    run(async {
        let gate = Arc::new(Event::new());
        let a = gated(&gate, 1);
        let cancelled = asyncio::create_task(async {
            asyncio::sleep(HANG_GUARD).await;
            2
        });
        cancelled.cancel();
        let opener = Arc::clone(&gate);
        asyncio::create_task(async move { opener.set() });
        let w = asyncio::wait(vec![a, cancelled], None, ReturnWhen::FirstException).await;
        assert!(w.pending.is_empty());
        assert_eq!(w.done.len(), 2);
        assert!(w.done.contains(&(1, Err(TaskError::Cancelled))));
    });
}

// test_wait_with_exception: ALL_COMPLETED gathers failures too.
#[test]
fn wait_all_completed_includes_the_failures() {
    run(async {
        let a = asyncio::create_task(async { 1 });
        let b = asyncio::create_task(async { panic!("really") });
        let w = asyncio::wait(vec![b, a], None, ReturnWhen::AllCompleted).await;
        assert_eq!(w.done.len(), 2);
        let errors = w.done.iter().filter(|(_, o)| o.is_err()).count();
        assert_eq!(errors, 1);
    });
}

// test_wait_with_timeout / test_wait_concurrent_complete: at the timeout,
// the done and the pending are reported; nothing is cancelled.
#[test]
fn wait_with_timeout_reports_done_and_pending_without_cancelling() {
    run(async {
        let never = Arc::new(Event::new());
        let a = asyncio::create_task(async { 1 });
        let b = gated(&never, 2);
        let w = asyncio::wait(
            vec![b, a],
            Some(Duration::from_millis(10)),
            ReturnWhen::AllCompleted,
        )
        .await;
        assert_eq!(w.done, vec![(1, Ok(1))]);
        assert_eq!(w.pending.len(), 1);
        let (_, b) = w.pending.into_iter().next().unwrap();
        assert!(!b.done());
        never.set();
        assert_eq!(asyncio::wait_for(b, HANG_GUARD).await, Ok(Ok(2)));
    });
}

// test_wait_errors (threadkit's answer): an empty input returns at once.
#[test]
fn wait_on_nothing_returns_at_once() {
    run(async {
        let w = asyncio::wait(
            Vec::<asyncio::Task<u8>>::new(),
            None,
            ReturnWhen::FirstCompleted,
        )
        .await;
        assert!(w.done.is_empty() && w.pending.is_empty());
    });
}

// test_shield_result / test_shield_shortcut.
#[test]
fn shield_gives_the_result() {
    assert_eq!(run(async { asyncio::shield(async { 42 }).await }), Ok(42));
}

// test_shield_exception.
#[test]
fn shield_gives_the_panic() {
    let out = run(async { asyncio::shield(async { panic!("expected") }).await });
    assert!(matches!(out, Err(TaskError::Panicked(ref m)) if m == "expected"));
}

// test_shield_effect: cancelling the outer task does not affect the inner.
#[test]
fn shield_effect_cancelling_the_outer_task_leaves_the_inner_running() {
    run(async {
        let proof = Arc::new(AtomicUsize::new(0));
        let waiter = Arc::new(Event::new());
        let finished = Arc::new(Event::new());
        let started = Arc::new(Event::new());
        let (p, w, f, s) = (
            Arc::clone(&proof),
            Arc::clone(&waiter),
            Arc::clone(&finished),
            Arc::clone(&started),
        );
        let outer = asyncio::create_task(async move {
            let inner = {
                let p = Arc::clone(&p);
                async move {
                    w.wait().await;
                    p.fetch_add(1, Ordering::SeqCst);
                    f.set();
                }
            };
            let shielded = asyncio::shield(inner);
            s.set();
            shielded.await.unwrap();
            p.fetch_add(100, Ordering::SeqCst);
        });
        started.wait().await;
        outer.cancel();
        assert_eq!(outer.await, Err(TaskError::Cancelled));
        waiter.set();
        asyncio::wait_for(finished.wait(), HANG_GUARD)
            .await
            .unwrap();
        assert_eq!(proof.load(Ordering::SeqCst), 1);
    });
}

// A timeout around a shield ends the wait, not the shielded work.
#[test]
fn shield_survives_wait_for() {
    run(async {
        let go = Arc::new(Event::new());
        let finished = Arc::new(Event::new());
        let (g, f) = (Arc::clone(&go), Arc::clone(&finished));
        let shielded = asyncio::shield(async move {
            g.wait().await;
            f.set();
        });
        assert!(
            asyncio::wait_for(shielded, Duration::from_millis(1))
                .await
                .is_err()
        );
        go.set();
        asyncio::wait_for(finished.wait(), HANG_GUARD)
            .await
            .unwrap();
    });
}

// test_current_task / test_current_task_with_interleaving_tasks.
#[test]
fn current_task_is_the_task_running_the_code() {
    run(async {
        let fut1 = Arc::new(Event::new());
        let fut2 = Arc::new(Event::new());
        let (a1, a2) = (Arc::clone(&fut1), Arc::clone(&fut2));
        let task1 = asyncio::create_task(async move {
            let me = asyncio::current_task();
            a1.wait().await;
            assert_eq!(asyncio::current_task(), me);
            a2.set();
            me
        });
        let (b1, b2) = (Arc::clone(&fut1), Arc::clone(&fut2));
        let task2 = asyncio::create_task(async move {
            let me = asyncio::current_task();
            b1.set();
            b2.wait().await;
            assert_eq!(asyncio::current_task(), me);
            me
        });
        let (id1, id2) = (task1.id(), task2.id());
        assert_ne!(id1, id2);
        assert_eq!(task1.await, Ok(Some(id1)));
        assert_eq!(task2.await, Ok(Some(id2)));
    });
}

// test_current_task_no_running_loop.
#[test]
fn current_task_outside_a_task_is_none() {
    assert_eq!(asyncio::current_task(), None);
    assert!(asyncio::get_running_loop().is_err());
    assert_eq!(
        asyncio::get_running_loop().unwrap_err().to_string(),
        "no running event loop"
    );
}

// all_tasks lists the tasks not done, and no longer a task once done.
#[test]
fn all_tasks_lists_the_tasks_not_done() {
    run(async {
        let gate = Arc::new(Event::new());
        let t = gated(&gate, 1);
        let id = t.id();
        assert!(asyncio::all_tasks().contains(&id));
        gate.set();
        assert_eq!(t.await, Ok(1));
        assert!(!asyncio::all_tasks().contains(&id));
    });
}

// A cancelled task that never ran leaves all_tasks too.
#[test]
fn all_tasks_forgets_a_task_cancelled_before_it_ran() {
    run(async {
        let t = asyncio::create_task(async { 1 });
        let id = t.id();
        t.cancel();
        assert_eq!(t.await, Err(TaskError::Cancelled));
        assert!(!asyncio::all_tasks().contains(&id));
    });
}

/// Submits `add(1, 2)` from a thread, as RunCoroutineThreadsafeTests.target.
fn from_a_thread<F>(
    make: impl FnOnce() -> F + Send + 'static,
) -> Result<Result<u32, FutureError>, TaskError>
where
    F: Future<Output = u32> + Send + 'static,
{
    run(async move {
        let event_loop = asyncio::get_running_loop().unwrap();
        asyncio::to_thread(move || {
            let fut = asyncio::run_coroutine_threadsafe(make(), &event_loop);
            match fut.into_result_timeout(HANG_GUARD) {
                Ok(outcome) => outcome,
                Err(_) => panic!("hang guard"),
            }
        })
        .await
    })
}

// test_run_coroutine_threadsafe.
#[test]
fn run_coroutine_threadsafe_gives_the_result_to_the_thread() {
    let out = from_a_thread(|| async {
        asyncio::sleep(Duration::from_millis(5)).await;
        1 + 2
    });
    assert_eq!(out, Ok(Ok(3)));
}

// test_run_coroutine_threadsafe_with_exception.
#[test]
fn run_coroutine_threadsafe_gives_the_panic_to_the_thread() {
    let out = from_a_thread(|| async { panic!("Fail!") });
    assert!(
        matches!(&out, Ok(Err(FutureError::Panicked(m))) if m.message().contains("Fail!")),
        "{out:?}"
    );
}

// test_run_coroutine_threadsafe_with_timeout: the thread gives up, cancels
// the future, and the task on the loop is cancelled.
#[test]
fn run_coroutine_threadsafe_cancelled_from_the_thread_cancels_the_task() {
    run(async {
        let event_loop = asyncio::get_running_loop().unwrap();
        let dropped = Arc::new(Event::new());
        let d = Arc::clone(&dropped);
        let cancelled = asyncio::to_thread(move || {
            struct SetOnDrop(Arc<Event>);
            impl Drop for SetOnDrop {
                fn drop(&mut self) {
                    self.0.set();
                }
            }
            let guard = SetOnDrop(d);
            let fut = asyncio::run_coroutine_threadsafe(
                async move {
                    let _guard = guard;
                    asyncio::sleep(HANG_GUARD).await;
                    3
                },
                &event_loop,
            );
            assert_eq!(
                fut.result_timeout(Duration::ZERO),
                Err(FutureError::Timeout)
            );
            fut.cancel()
        })
        .await;
        assert_eq!(cancelled, Ok(true));
        asyncio::wait_for(dropped.wait(), HANG_GUARD).await.unwrap();
    });
}

// test_run_coroutine_threadsafe_task_cancelled: the cancelled task is a
// cancelled future (cancelled here through the future itself, as threadkit
// hands out no task object to cancel).
#[test]
fn run_coroutine_threadsafe_cancelled_task_is_a_cancelled_future() {
    run(async {
        let event_loop = asyncio::get_running_loop().unwrap();
        let fut = asyncio::run_coroutine_threadsafe(
            async {
                asyncio::sleep(HANG_GUARD).await;
                3
            },
            &event_loop,
        );
        assert!(fut.cancel());
        assert!(fut.cancelled());
        assert_eq!(fut.result_async().await, Err(FutureError::Cancelled));
    });
}

// A loop that closes before the task finishes: the thread is told, it does
// not wait forever.
#[test]
fn run_coroutine_threadsafe_on_a_closed_loop_is_a_broken_executor() {
    let event_loop = run(async { asyncio::get_running_loop().unwrap() });
    let fut = asyncio::run_coroutine_threadsafe(async { 1 }, &event_loop);
    match fut.into_result_timeout(HANG_GUARD) {
        Ok(outcome) => assert!(
            matches!(outcome, Err(FutureError::BrokenExecutor(_))),
            "{outcome:?}"
        ),
        Err(_) => panic!("hang guard"),
    }
}
