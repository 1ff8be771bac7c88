//! loom model of the pool core's lock-free way in (`SubmitGate` in
//! `futures/pool.rs`): a submit passing the gate races a shutdown.
//!
//! The queue is a modelled `Vec` behind a lock, standing in for the work
//! queue; `None` is the workers' exit signal, queued by the shutdown once
//! the gate is closed. An item accepted but queued after the exit signal
//! would never run: the model asserts that none is.

use loom::thread;

use crate::futures::pool::SubmitGate;
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
