//! `Barrier`: Python's `threading.Barrier`, with its broken state.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use super::error::BrokenBarrierError;
use crate::loom::sync::{Condvar, Mutex, MutexGuard};
use crate::util::wait::{self, Deadline};

/// A rendezvous point for a fixed number of threads: Python's
/// `threading.Barrier`.
///
/// Each of `parties` threads calls [`wait`](Barrier::wait); all block until the
/// last arrives, then all are released together and the barrier is ready for
/// the next cycle. Each waiter gets a distinct index in `0..parties`; the
/// optional action runs once per cycle, in the last thread to arrive, before
/// anyone is released.
///
/// A waiter that times out, a call to [`abort`](Barrier::abort), a panicking
/// action, or a [`reset`](Barrier::reset) while threads are waiting *breaks*
/// the barrier: every current and later waiter gets [`BrokenBarrierError`]
/// until `reset`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::threading::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let b = Arc::clone(&barrier);
///         std::thread::spawn(move || b.wait().unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
///
/// # Differences from Python's `threading.Barrier`
///
/// - `Barrier(0)` raises `ValueError` in Python; here 0 parties behaves as 1,
///   like `std::sync::Barrier` (and `asyncio::Barrier`): a barrier that
///   never blocks.
/// - If the action panics, the barrier breaks (other waiters get
///   [`BrokenBarrierError`]) and the panic resumes in the thread that ran it,
///   as Python re-raises the action's exception there.
pub struct Barrier {
    parties: usize,
    default_timeout: Option<Duration>,
    action: Option<Box<dyn Fn() + Send + Sync>>,
    state: Mutex<State>,
    cv: Condvar,
}

/// CPython's barrier state machine:
///
/// - `Filling`: threads arrive and wait; the last one runs the action and
///   moves to `Draining`.
/// - `Draining`: released threads leave; the last to leave moves back to
///   `Filling`. New arrivals wait for that.
/// - `Resetting`: `reset()` was called with threads inside; they leave with an
///   error, and the last to leave moves to `Filling`.
/// - `Broken`: every waiter fails until `reset()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Filling,
    Draining,
    Resetting,
    Broken,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Threads inside `wait` (arrived and not yet left).
    count: usize,
}

impl Barrier {
    /// A barrier for `parties` threads, with no action and no default timeout.
    pub fn new(parties: usize) -> Self {
        Barrier {
            parties: parties.max(1),
            default_timeout: None,
            action: None,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
            }),
            cv: Condvar::new(),
        }
    }

    /// A barrier whose `action` runs once per cycle, in the last thread to
    /// arrive, before the others are released: Python's `Barrier(n, action)`.
    pub fn with_action(parties: usize, action: impl Fn() + Send + Sync + 'static) -> Self {
        Barrier {
            action: Some(Box::new(action)),
            ..Barrier::new(parties)
        }
    }

    /// Sets the timeout [`wait`](Barrier::wait) uses: Python's
    /// `Barrier(n, timeout=t)`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = Some(timeout);
        self
    }

    /// Waits for all parties, using the default timeout if one was set.
    /// Returns this thread's index in `0..parties`.
    pub fn wait(&self) -> Result<usize, BrokenBarrierError> {
        self.wait_deadline(Deadline::from_timeout(self.default_timeout))
    }

    /// Waits for all parties for at most `timeout`; if it passes, the barrier
    /// breaks and this and every other waiter get [`BrokenBarrierError`].
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        self.wait_deadline(Deadline::after(timeout))
    }

    fn wait_deadline(&self, deadline: Deadline) -> Result<usize, BrokenBarrierError> {
        let mut state = self.state.lock();
        // Wait for a previous cycle to drain or reset.
        wait::wait_until(&self.cv, &mut state, Deadline::Never, |s| {
            !matches!(s.phase, Phase::Draining | Phase::Resetting)
        });
        if state.phase == Phase::Broken {
            return Err(BrokenBarrierError);
        }
        let index = state.count;
        state.count += 1;
        let result = if index + 1 == self.parties {
            self.release(&mut state)
        } else {
            self.await_release(&mut state, deadline)
        };
        state.count -= 1;
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.cv.notify_all();
        }
        match result {
            Ok(()) => Ok(index),
            Err(Some(panic)) => {
                drop(state);
                panic::resume_unwind(panic)
            }
            Err(None) => Err(BrokenBarrierError),
        }
    }

    /// Last to arrive: run the action, then release everyone.
    #[allow(clippy::type_complexity)]
    fn release(
        &self,
        state: &mut MutexGuard<'_, State>,
    ) -> Result<(), Option<Box<dyn std::any::Any + Send>>> {
        if let Some(action) = &self.action {
            if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(action)) {
                self.break_barrier(state);
                return Err(Some(panic));
            }
        }
        state.phase = Phase::Draining;
        self.cv.notify_all();
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn await_release(
        &self,
        state: &mut MutexGuard<'_, State>,
        deadline: Deadline,
    ) -> Result<(), Option<Box<dyn std::any::Any + Send>>> {
        if !wait::wait_until(&self.cv, state, deadline, |s| s.phase != Phase::Filling) {
            self.break_barrier(state);
            return Err(None);
        }
        if matches!(state.phase, Phase::Broken | Phase::Resetting) {
            return Err(None);
        }
        Ok(())
    }

    fn break_barrier(&self, state: &mut State) {
        state.phase = Phase::Broken;
        self.cv.notify_all();
    }

    /// Returns the barrier to its initial, empty state. Threads waiting on it
    /// now get [`BrokenBarrierError`].
    pub fn reset(&self) {
        let mut state = self.state.lock();
        if state.count > 0 {
            if matches!(state.phase, Phase::Filling | Phase::Broken) {
                state.phase = Phase::Resetting;
            }
            // Draining: the cycle completed; the last to leave refills it.
        } else {
            state.phase = Phase::Filling;
        }
        self.cv.notify_all();
    }

    /// Breaks the barrier: every current and later waiter gets
    /// [`BrokenBarrierError`] until [`reset`](Barrier::reset).
    pub fn abort(&self) {
        let mut state = self.state.lock();
        self.break_barrier(&mut state);
    }

    /// The number of threads needed to pass the barrier.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current filling cycle.
    pub fn n_waiting(&self) -> usize {
        let state = self.state.lock();
        if state.phase == Phase::Filling {
            state.count
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}
