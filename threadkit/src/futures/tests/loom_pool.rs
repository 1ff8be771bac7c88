//! loom models of the pool core's work queue (`WorkQueue` in
//! `futures/work.rs`): a submit to a pool with all its workers, which takes
//! only the queue's lock, races a shutdown; and a submit races a worker
//! going to sleep.

use loom::thread;

use crate::futures::WorkItem;
use crate::futures::work::WorkQueue;
use crate::loom::sync::Arc;

/// Two submits through `push_if_open` race a shutdown (`refuse`, then the
/// exit signal): each is either refused, or queued ahead of the exit
/// signal, so a worker run afterwards runs every accepted item before it
/// exits (an item queued behind the exit signal would be dropped unrun,
/// failing its future). Once refused, refused for good.
#[test]
fn loom_submit_races_shutdown() {
    loom::model(|| {
        let queue = Arc::new(WorkQueue::new());
        let submitter = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || {
                let mut accepted = Vec::new();
                for n in 0..2usize {
                    let (item, future) = WorkItem::new(move || n);
                    if queue.push_if_open(item).is_ok() {
                        accepted.push((n, future));
                    }
                }
                accepted
            })
        };
        queue.refuse();
        queue.close();
        let accepted = submitter.join().unwrap();
        let (late, _) = WorkItem::new(|| 0usize);
        assert!(queue.push_if_open(late).is_err());
        queue.work();
        for (n, future) in accepted {
            assert_eq!(future.into_result(), Ok(n));
        }
    });
}

/// A worker that found the work queue empty sleeps on its monitor; a submit
/// racing it must wake it (no lost wake-up: loom reports a deadlock), and
/// the exit signal queued after the item ends the worker only once the
/// item ran.
#[test]
fn loom_work_queue_wakes_a_sleeping_worker() {
    loom::model(|| {
        let queue = Arc::new(WorkQueue::new());
        let worker = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.work())
        };
        let (item, future) = WorkItem::new(|| 5usize);
        queue.push(item);
        queue.close();
        worker.join().unwrap();
        assert_eq!(future.into_result(), Ok(5));
    });
}

/// Two workers going to sleep race the exit signal: the first to get it
/// passes it on, so it ends both.
#[test]
fn loom_work_queue_exit_reaches_every_worker() {
    loom::model(|| {
        let queue = Arc::new(WorkQueue::new());
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || queue.work())
            })
            .collect();
        queue.close();
        for worker in workers {
            worker.join().unwrap();
        }
    });
}
