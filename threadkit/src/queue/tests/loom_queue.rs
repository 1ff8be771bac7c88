//! Exhaustive interleaving checks of the queue core under loom.
//!
//! Only untimed and `try_` forms are used: loom does not model time.
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p threadkit --lib --release loom`

use loom::sync::Arc;
use loom::thread;

use crate::queue::{Queue, ShutDown, SimpleQueue, TryGetError};

/// A bounded queue of one hands items over in order, the second put blocking
/// until the consumer takes the first.
#[test]
fn loom_bounded_one_handoff() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.put(1).unwrap();
                q.put(2).unwrap();
            })
        };
        assert_eq!(q.get(), Ok(1));
        assert_eq!(q.get(), Ok(2));
        producer.join().unwrap();
        assert!(q.empty());
    });
}

/// `join` returns only after the consumer's `task_done`.
#[test]
fn loom_task_done_releases_join() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let item = q.get().unwrap();
                q.task_done().unwrap();
                item
            })
        };
        q.put(7).unwrap();
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(consumer.join().unwrap(), 7);
    });
}

/// A getter blocked on an empty queue wakes up with `ShutDown`.
#[test]
fn loom_shutdown_wakes_blocked_getter() {
    loom::model(|| {
        let q = Arc::new(Queue::<u8>::new(0));
        let getter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        q.shutdown(false);
        assert_eq!(getter.join().unwrap(), Err(ShutDown(())));
    });
}

/// A putter blocked on a full queue wakes up with its item handed back, and
/// the item already queued is still delivered after a plain shutdown.
#[test]
fn loom_shutdown_wakes_blocked_putter() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.put(1).unwrap();
        let putter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(2))
        };
        q.shutdown(false);
        assert_eq!(putter.join().unwrap(), Err(ShutDown(2)));
        assert_eq!(q.try_get(), Ok(1));
        assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
    });
}

/// An immediate shutdown drops pending items, marks them done and so
/// releases a joiner.
#[test]
fn loom_immediate_shutdown_releases_joiner() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        q.put(1).unwrap();
        let joiner = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.join())
        };
        q.shutdown(true);
        joiner.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
    });
}

/// Two producers and one consumer on a `SimpleQueue`: nothing lost.
#[test]
fn loom_simple_queue_two_producers() {
    loom::model(|| {
        let q = Arc::new(SimpleQueue::new());
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.put(n))
            })
            .collect();
        let a = q.get();
        let b = q.get();
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(a + b, 3);
    });
}
