//! loom models of the pool core: its lock-free way in (`SubmitGate` in
//! `futures/pool.rs`), where a submit passing the gate races a shutdown,
//! and its work queue (`WorkQueue` in `futures/work.rs`), where a submit
//! races a worker going to sleep.
//!
//! The queue is a modelled `Vec` behind a lock, standing in for the work
//! queue; `None` is the workers' exit signal, queued by the shutdown once
//! the gate is closed. An item accepted but queued after the exit signal
//! would never run: the model asserts that none is.

use loom::thread;

use crate::futures::WorkItem;
use crate::futures::pool::SubmitGate;
use crate::futures::work::WorkQueue;
use crate::loom::sync::{Arc, Mutex};

/// Two submits race a shutdown: each is either refused, or queued ahead of
/// the exit signal.
#[test]
fn loom_submit_races_shutdown() {
    loom::model(|| {
        let gate = Arc::new(SubmitGate::new());
        gate.open();
        let queue = Arc::new(Mutex::new(Vec::new()));
        let submitter = {
            let (gate, queue) = (Arc::clone(&gate), Arc::clone(&queue));
            thread::spawn(move || {
                let mut accepted = Vec::new();
                for item in 0..2usize {
                    if let Some(_pass) = gate.pass() {
                        queue.lock().push(Some(item));
                        accepted.push(item);
                    }
                }
                accepted
            })
        };
        gate.close();
        queue.lock().push(None);
        let accepted = submitter.join().unwrap();
        // Refused once closed, for good.
        assert!(gate.pass().is_none());
        let queue = queue.lock();
        let ahead: Vec<usize> = queue.iter().map_while(|entry| *entry).collect();
        assert_eq!(ahead, accepted);
        assert_eq!(queue.len(), accepted.len() + 1);
    });
}

/// Until every worker is started (`open`), the gate lets nobody through:
/// those submits take the pool's lock.
#[test]
fn loom_gate_needs_all_workers() {
    loom::model(|| {
        let gate = SubmitGate::new();
        assert!(gate.pass().is_none());
        gate.open();
        assert!(gate.pass().is_some());
        gate.close();
        assert!(gate.pass().is_none());
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
            thread::spawn(move || queue.work(0))
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
                thread::spawn(move || queue.work(0))
            })
            .collect();
        queue.close();
        for worker in workers {
            worker.join().unwrap();
        }
    });
}
