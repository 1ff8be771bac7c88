//! Every kind of wait that another party serves, as one table: the green
//! tests interrupt a waiter in each (a kill in `tests/green.rs`, a
//! `with_timeout` in `tests/green_api.rs`) and check that the wake-up meant
//! for it goes to the next waiter, nothing lost.

use threadkit::Queue;
use threadkit::threading::{Condition, Event, Semaphore};

/// What is done with each kind of wait: `state` is the primitive, `wait`
/// blocks on it until `release` serves one waiter.
pub(crate) trait WaitCase {
    /// Runs the case on one kind of wait.
    fn run<S: Send + Sync + 'static>(&mut self, state: S, wait: fn(&S), release: fn(&S));
}

/// Runs `case` on every kind of wait that another party serves: an
/// `Event`, a `Semaphore`, a `Queue`'s get and put, a `Condition`.
pub(crate) fn every_kind_of_wait(case: &mut impl WaitCase) {
    case.run(Event::new(), |e| e.wait(), |e| e.set());
    case.run(
        Semaphore::new(0),
        |s| drop(s.acquire()),
        |s| s.release(1).unwrap(),
    );
    case.run(
        Queue::new(0),
        |q| {
            q.get().unwrap();
        },
        |q| q.put(1).unwrap(),
    );
    case.run(
        {
            let q = Queue::new(1);
            q.put(0).unwrap();
            q
        },
        |q| q.put(1).unwrap(),
        |q| {
            q.get().unwrap();
        },
    );
    case.run(
        Condition::new(false),
        |c| {
            let mut g = c.acquire();
            while !*g {
                g.wait();
            }
        },
        |c| {
            let mut g = c.acquire();
            *g = true;
            // One notify: the interrupted waiter must not swallow it.
            g.notify(1);
        },
    );
}
