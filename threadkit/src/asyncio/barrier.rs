//! [`Barrier`]: Python's `asyncio.Barrier`, where a fixed number of tasks
//! wait for each other.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::error::BrokenBarrierError;

/// One round of the barrier. Its outcome moves once, from `PENDING` to
/// `PASSED` (all parties arrived) or `BROKEN` (`abort` or `reset` while
/// tasks waited); every task of the round holds the `Arc` and reads it.
struct Round {
    outcome: AtomicU8,
}

const PENDING: u8 = 0;
const PASSED: u8 = 1;
const BROKEN: u8 = 2;

struct State {
    parties: usize,
    /// Tasks waiting in the current round.
    count: usize,
    round: Arc<Round>,
    /// Set by `abort`, cleared by `reset`.
    broken: bool,
}

/// A barrier for `parties` tasks: Python's `asyncio.Barrier(parties)`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::asyncio::{self, Barrier};
///
/// let mut indexes = asyncio::run(async {
///     let barrier = Arc::new(Barrier::new(3));
///     asyncio::gather((0..3).map(|_| {
///         let barrier = Arc::clone(&barrier);
///         async move { barrier.wait().await.unwrap() }
///     }))
///     .await
///     .unwrap()
/// })
/// .unwrap();
/// indexes.sort();
/// assert_eq!(indexes, [0, 1, 2]);
/// ```
///
/// # Cancel safety
///
/// [`wait`](Barrier::wait) is cancel safe: a task cancelled while waiting
/// leaves the round, which then needs another task to fill its place, as in
/// Python.
///
/// # Differences from Python's `asyncio.Barrier`
///
/// - The round is released at once when the last party arrives; there is
///   no separate draining phase visible to new arrivals.
/// - `Barrier(0)` raises `ValueError` in Python; here 0 parties behaves as
///   1, like [`threading::Barrier`](crate::threading::Barrier) and
///   `std::sync::Barrier`: a barrier that never blocks.
pub struct Barrier {
    state: Mutex<State>,
    notify: Notify,
}

impl Barrier {
    /// A barrier for `parties` tasks; 0 parties behaves as 1 (see the
    /// differences from Python).
    pub fn new(parties: usize) -> Self {
        Barrier {
            state: Mutex::new(State {
                parties: parties.max(1),
                count: 0,
                round: new_round(),
                broken: false,
            }),
            notify: Notify::new(),
        }
    }

    /// Waits until `parties` tasks are waiting, then releases them all;
    /// returns this task's arrival index, `0` to `parties - 1` (Python's
    /// `await barrier.wait()`).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken, or is aborted or
    /// reset while this task waits.
    pub async fn wait(&self) -> Result<usize, BrokenBarrierError> {
        let (index, round) = {
            let mut st = self.state.lock();
            if st.broken {
                return Err(BrokenBarrierError(()));
            }
            let index = st.count;
            st.count += 1;
            if st.count == st.parties {
                self.finish_round(&mut st, PASSED);
                return Ok(index);
            }
            (index, Arc::clone(&st.round))
        };
        let mut leave = Leave {
            barrier: self,
            round: &round,
            armed: true,
        };
        loop {
            let notified = self.notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            match round.outcome.load(Ordering::SeqCst) {
                PASSED => {
                    leave.armed = false;
                    return Ok(index);
                }
                BROKEN => {
                    leave.armed = false;
                    return Err(BrokenBarrierError(()));
                }
                _ => notified.await,
            }
        }
    }

    fn finish_round(&self, st: &mut State, outcome: u8) {
        st.round.outcome.store(outcome, Ordering::SeqCst);
        st.round = new_round();
        st.count = 0;
        self.notify.notify_waiters();
    }

    /// Puts the barrier in the broken state: current and future waiters get
    /// [`BrokenBarrierError`] until [`reset`](Barrier::reset) (Python's
    /// `abort()`).
    pub fn abort(&self) {
        let mut st = self.state.lock();
        st.broken = true;
        self.finish_round(&mut st, BROKEN);
    }

    /// Returns the barrier to its empty state; tasks waiting now get
    /// [`BrokenBarrierError`] (Python's `reset()`).
    pub fn reset(&self) {
        let mut st = self.state.lock();
        if st.count > 0 {
            self.finish_round(&mut st, BROKEN);
        }
        st.broken = false;
    }

    /// The number of tasks needed to pass (Python's `parties`).
    pub fn parties(&self) -> usize {
        self.state.lock().parties
    }

    /// The number of tasks waiting now (Python's `n_waiting`).
    pub fn n_waiting(&self) -> usize {
        self.state.lock().count
    }

    /// Whether the barrier is broken (Python's `broken`).
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }
}

fn new_round() -> Arc<Round> {
    Arc::new(Round {
        outcome: AtomicU8::new(PENDING),
    })
}

/// Takes a cancelled waiter out of its round, if the round is still filling.
struct Leave<'a> {
    barrier: &'a Barrier,
    round: &'a Arc<Round>,
    armed: bool,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut st = self.barrier.state.lock();
        if Arc::ptr_eq(&st.round, self.round) && st.count > 0 {
            st.count -= 1;
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &st.parties)
            .field("n_waiting", &st.count)
            .field("broken", &st.broken)
            .finish()
    }
}
