//! `Barrier`: Python's `threading.Barrier`, with its broken state.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use super::error::BrokenBarrierError;
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList, Wakeups};

/// A rendezvous point for a fixed number of threads: Python's
/// `threading.Barrier`.
///
/// Each of `parties` threads calls [`wait`](Barrier::wait); all block until the
/// last arrives, then all are released together and the barrier is ready for
/// the next cycle. Each waiter gets a distinct index in `0..parties`; the
/// optional action runs once per cycle, in the last thread to arrive, before
/// anyone is released.
///
/// Tasks wait at the same barrier with [`wait_async`](Barrier::wait_async),
/// so threads and tasks can make up one cycle together.
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
/// - A green thread (feature `green`) killed in `wait` breaks the barrier, as
///   Python's `wait` does when an exception (or a timeout) ends it.
pub struct Barrier {
    parties: usize,
    default_timeout: Option<Duration>,
    action: Option<Box<dyn Fn() + Send + Sync>>,
    state: Monitor<State>,
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
    /// Threads and tasks inside `wait` (arrived and not yet left).
    count: usize,
    /// Everybody waiting for a phase change, threads and tasks.
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }

    fn wait_kind(&self) -> crate::debug::WaitKind {
        crate::debug::WaitKind::Barrier
    }
}

/// A panic payload from the action, to resume in the waiter that ran it.
type Panic = Box<dyn std::any::Any + Send>;

/// What an arrival found.
enum Arrival {
    /// The barrier was broken: leave at once, never counted.
    Broken,
    /// Counted in with this index; the last arrival has already released
    /// the others (or broken the barrier, if its action panicked).
    In {
        index: usize,
        last: bool,
        panic: Option<Panic>,
    },
}

impl Barrier {
    /// A barrier for `parties` threads, with no action and no default timeout.
    pub fn new(parties: usize) -> Self {
        Barrier {
            parties: parties.max(1),
            default_timeout: None,
            action: None,
            state: Monitor::new(State {
                phase: Phase::Filling,
                count: 0,
                waiters: WaitList::default(),
            }),
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

    /// [`wait`](Self::wait) for async code: the same barrier, so threads and
    /// tasks can meet at it together (Python's `await barrier.wait()`). The
    /// default timeout does not apply; bound the wait with
    /// `asyncio::wait_for` or any timer.
    ///
    /// # Cancel safety
    ///
    /// Cancelled while the barrier fills, the task leaves the cycle, which
    /// then needs another party to fill its place, as in Python's
    /// `asyncio.Barrier`; cancelled after it was released, it leaves as if
    /// it had returned. The barrier is not broken either way.
    pub async fn wait_async(&self) -> Result<usize, BrokenBarrierError> {
        // Wait for a previous cycle to drain or reset, then arrive.
        let arrival = self
            .state
            .until(|s| (!s.phase.is_leaving()).then(|| self.arrive(s)))
            .await;
        let (index, last, panic) = match arrival {
            Arrival::Broken => return Err(BrokenBarrierError),
            Arrival::In { index, last, panic } => (index, last, panic),
        };
        // From here on this task is counted in: leave on every path.
        let inside = Inside {
            barrier: self,
            changed: last,
        };
        let released = if last {
            panic.is_none()
        } else {
            let phase = self
                .state
                .until(|s| (s.phase != Phase::Filling).then_some(s.phase))
                .await;
            phase == Phase::Draining
        };
        drop(inside);
        if let Some(panic) = panic {
            panic::resume_unwind(panic);
        }
        if released {
            Ok(index)
        } else {
            Err(BrokenBarrierError)
        }
    }

    fn wait_deadline(&self, deadline: Deadline) -> Result<usize, BrokenBarrierError> {
        let mut state = self.state.lock();
        // Wait for a previous cycle to drain or reset.
        self.state
            .wait_until(&mut state, Deadline::Never, |s| !s.phase.is_leaving());
        let (index, panic, changed) = match self.arrive(&mut state) {
            Arrival::Broken => return Err(BrokenBarrierError),
            Arrival::In {
                index,
                last: true,
                panic,
            } => (index, panic, true),
            Arrival::In { index, .. } => {
                // A green thread killed here unwinds out of the wait with
                // the state locked again: like a timeout (Python's
                // `Barrier.wait` on any exception), it breaks the barrier
                // and leaves before it unwinds on.
                let waited = panic::catch_unwind(AssertUnwindSafe(|| {
                    self.state
                        .wait_until(&mut state, deadline, |s| s.phase != Phase::Filling)
                }));
                let released = match waited {
                    Ok(released) => released,
                    Err(payload) => {
                        state.phase = Phase::Broken;
                        let woken = self.leave(&mut state, true);
                        drop(state);
                        woken.wake();
                        panic::resume_unwind(payload);
                    }
                };
                if !released {
                    // Timed out: Python breaks the barrier for everybody.
                    state.phase = Phase::Broken;
                }
                (index, None, !released)
            }
        };
        let released = state.phase == Phase::Draining;
        let woken = self.leave(&mut state, changed);
        drop(state);
        woken.wake();
        if let Some(panic) = panic {
            panic::resume_unwind(panic);
        }
        if released {
            Ok(index)
        } else {
            Err(BrokenBarrierError)
        }
    }

    /// Counts a waiter in, the state no longer `Draining` or `Resetting`.
    /// The last to arrive runs the action and releases everybody, under the
    /// lock as CPython's does under its condition's.
    fn arrive(&self, state: &mut State) -> Arrival {
        if state.phase == Phase::Broken {
            return Arrival::Broken;
        }
        let index = state.count;
        state.count += 1;
        let last = index + 1 == self.parties;
        let mut panic = None;
        if last {
            let caught = self
                .action
                .as_ref()
                .and_then(|action| panic::catch_unwind(AssertUnwindSafe(action)).err());
            state.phase = match caught {
                Some(_) => Phase::Broken,
                None => Phase::Draining,
            };
            panic = caught;
            // The others are woken when this waiter leaves, which it does
            // before it returns.
        }
        Arrival::In { index, last, panic }
    }

    /// A waiter counted in leaves; the last to leave a drained or reset
    /// cycle starts the next one. `changed`: this waiter changed the phase
    /// (it released the cycle, or broke it). Returns the waiters to wake:
    /// everybody listed waits for a change of phase, so all of them if it
    /// changed, else none.
    fn leave(&self, state: &mut State, mut changed: bool) -> Wakeups {
        state.count -= 1;
        if state.count == 0 && state.phase.is_leaving() {
            state.phase = Phase::Filling;
            changed = true;
        }
        if changed {
            self.state.take_all(state)
        } else {
            self.state.take(state, 0)
        }
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
        let woken = self.state.take_all(&mut state);
        drop(state);
        woken.wake();
    }

    /// Breaks the barrier: every current and later waiter gets
    /// [`BrokenBarrierError`] until [`reset`](Barrier::reset).
    pub fn abort(&self) {
        let mut state = self.state.lock();
        state.phase = Phase::Broken;
        let woken = self.state.take_all(&mut state);
        drop(state);
        woken.wake();
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

impl Phase {
    /// A cycle whose waiters are leaving: new arrivals wait for it to end.
    fn is_leaving(self) -> bool {
        matches!(self, Phase::Draining | Phase::Resetting)
    }
}

/// A task counted in to the barrier; leaves it when dropped, on every path
/// including cancellation.
struct Inside<'a> {
    barrier: &'a Barrier,
    /// This task was the last to arrive: it changed the phase.
    changed: bool,
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        let barrier = self.barrier;
        let mut state = barrier.state.lock();
        let woken = barrier.leave(&mut state, self.changed);
        drop(state);
        woken.wake();
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
