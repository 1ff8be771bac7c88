//! What every owned lock (`Lock`, `RLock`, the lock of a `Condition`) keeps
//! for debugging, and the three calls its acquire paths make: one mechanism
//! for every lock kind.
//!
//! - Always, on the slow path only: the waiter's record (what it waits
//!   for, since when).
//! - With `debug-locks`: the holder's ident (so that thread dumps and
//!   `find_deadlocks` say who holds what), the lock's tag (id, name,
//!   creation site) and the order checks of
//!   [`lock_order`](super::lock_order). Without the feature none of it
//!   exists: recording the holder costs a thread-local read per acquire,
//!   which tripled an uncontended `Lock`'s cost.

use super::WaitKind;
#[cfg(feature = "debug-locks")]
use super::lock_order::{self, LockTag};
#[cfg(not(feature = "debug-locks"))]
use super::waits::Holder;
#[cfg(feature = "debug-locks")]
use super::waits::Owner;
use super::waits::{self, WaitScope};
use crate::util::Deadline;

/// What kind of lock is tracked, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LockKind {
    Lock,
    RLock,
    Condition,
}

impl LockKind {
    #[cfg_attr(not(feature = "debug-locks"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LockKind::Lock => "Lock",
            LockKind::RLock => "RLock",
            LockKind::Condition => "Condition",
        }
    }

    fn wait_kind(self) -> WaitKind {
        match self {
            LockKind::Lock => WaitKind::Lock,
            LockKind::RLock => WaitKind::RLock,
            LockKind::Condition => WaitKind::Condition,
        }
    }
}

/// How an acquire was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acquire {
    /// Waits as long as it takes: `acquire()`.
    Blocking,
    /// Gives up at a deadline: `acquire_timeout`.
    Timed,
    /// Never waits: `try_acquire()`.
    Try,
}

/// Spin steps of [`LockTracking::contended`]: 2^0 + ... + 2^5 spin hints.
const SPIN_STEPS: u32 = 6;

/// The debugging state of one lock: nothing without `debug-locks` (the
/// type is then empty and every call below compiles to nothing but the
/// slow path's wait record).
#[derive(Debug)]
pub(crate) struct LockTracking {
    /// Who holds it, for thread dumps and `find_deadlocks`.
    #[cfg(feature = "debug-locks")]
    owner: Owner,
    #[cfg(feature = "debug-locks")]
    tag: LockTag,
}

impl LockTracking {
    #[track_caller]
    #[cfg_attr(not(feature = "debug-locks"), allow(unused_variables))]
    pub(crate) const fn new(kind: LockKind, name: Option<&'static str>) -> Self {
        LockTracking {
            #[cfg(feature = "debug-locks")]
            owner: Owner::new(),
            #[cfg(feature = "debug-locks")]
            tag: LockTag::new(kind, name, std::panic::Location::caller()),
        }
    }

    /// Before an acquire that may wait (only blocking ones are checked);
    /// the result goes to [`acquired`](Self::acquired).
    #[inline]
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub(crate) fn before(&self, how: Acquire) -> Checked {
        let _ = how;
        Checked {
            #[cfg(feature = "debug-locks")]
            id: Some(lock_order::before_acquire(
                &self.tag,
                how,
                std::panic::Location::caller(),
            )),
        }
    }

    /// A blocking acquire in the usual case, inline: the order is known
    /// (nothing to check), the held list has room and `try_lock` takes the
    /// lock. Returns its guard with the hold recorded; `None`, having done
    /// nothing: take the whole path (`before`, the lock, `acquired`).
    #[cfg(feature = "debug-locks")]
    #[inline]
    #[track_caller]
    pub(crate) fn acquire_fast<G>(
        &self,
        try_lock: impl FnOnce() -> Option<G>,
    ) -> Option<(G, Held<'_>)> {
        let (guard, word) =
            lock_order::acquire_fast(&self.tag, std::panic::Location::caller(), try_lock)?;
        self.owner.set_word(word);
        Some((
            guard,
            Held {
                tracking: Some(self),
            },
        ))
    }

    /// Records the wait of a thread about to block on this lock (a `kind`
    /// lock); the record goes when the scope is dropped.
    pub(crate) fn waiting(&self, kind: LockKind, deadline: Deadline) -> WaitScope {
        #[cfg(feature = "debug-locks")]
        let (name, holder) = (waits::WaitObject::Lock(&self.tag), self.owner.holder());
        #[cfg(not(feature = "debug-locks"))]
        let (name, holder) = (waits::WaitObject::Text(None), Holder::Unknown);
        waits::enter(kind.wait_kind(), name, deadline, holder)
    }

    /// Takes a `kind` lock whose first try failed: spins briefly, retrying
    /// (as parking_lot does before it parks), and only then records the
    /// wait for thread dumps and blocks in `block` until `deadline`. A
    /// contended lock usually frees within the spin, so the record (a
    /// clock read and a thread-local slot) is paid by real waits only.
    /// A green thread (feature `green`), or a hub's root with green threads
    /// to run, does not spin: the holder may be a green thread of the same
    /// carrier, which cannot run meanwhile.
    #[cold]
    pub(crate) fn contended<G>(
        &self,
        kind: LockKind,
        deadline: Deadline,
        mut try_lock: impl FnMut() -> Option<G>,
        block: impl FnOnce(Deadline) -> Option<G>,
    ) -> Option<G> {
        #[cfg(feature = "green")]
        let spin_steps = if crate::green::active() {
            0
        } else {
            SPIN_STEPS
        };
        #[cfg(not(feature = "green"))]
        let spin_steps = SPIN_STEPS;
        for step in 0..spin_steps {
            for _ in 0..(1u32 << step) {
                std::hint::spin_loop();
            }
            if let Some(guard) = try_lock() {
                return Some(guard);
            }
        }
        if deadline == Deadline::Now {
            return None;
        }
        let _record = self.waiting(kind, deadline);
        block(deadline)
    }

    /// The lock is now held by the calling thread; the returned value must
    /// be dropped while it still is (declare it before the inner guard).
    #[inline]
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub(crate) fn acquired(&self, how: Acquire, checked: Checked) -> Held<'_> {
        let _ = (how, checked);
        #[cfg(feature = "debug-locks")]
        {
            let id = match checked.id {
                Some(id) => id,
                None => lock_order::checked_id(&self.tag),
            };
            let tracked = lock_order::acquired(&self.tag, id, how, std::panic::Location::caller());
            self.owner.set_current(tracked);
            Held {
                tracking: Some(self),
            }
        }
        #[cfg(not(feature = "debug-locks"))]
        Held {
            lock: std::marker::PhantomData,
        }
    }
}

/// A lock dropped while held (a guard was `mem::forget`-ed) leaves no
/// stale entry in its holder's list of held locks.
#[cfg(feature = "debug-locks")]
impl Drop for LockTracking {
    fn drop(&mut self) {
        if self.owner.is_held() {
            lock_order::dropped_while_held(&mut self.tag);
        }
    }
}

/// What [`LockTracking::before`] found, for [`LockTracking::acquired`]:
/// the lock's id if order checking is on (so the switch is tested and the
/// id loaded once per acquire), or [`Checked::TRY`] for an acquire that
/// never waits and so skipped `before`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked {
    /// `Some(0)`: checking off; `None`: not asked yet (an `Option`, not a
    /// reserved id, so that the compiler sees which case an acquire path
    /// is in and drops the test).
    #[cfg(feature = "debug-locks")]
    id: Option<u64>,
}

impl Checked {
    /// For a try-acquire, which calls no `before`.
    pub(crate) const TRY: Checked = Checked {
        #[cfg(feature = "debug-locks")]
        id: None,
    };
}

/// Ends a hold: clears the owner and tells the order checker (nothing
/// without `debug-locks`). An `RLock` re-entered by its owner holds a
/// [`Held::reentry`], which does nothing. One word: whether the order
/// checker recorded the acquire is kept in the owner word (see
/// [`Owner::set_current`]), so that a guard stays small.
#[derive(Debug)]
pub(crate) struct Held<'a> {
    #[cfg(feature = "debug-locks")]
    tracking: Option<&'a LockTracking>,
    #[cfg(not(feature = "debug-locks"))]
    lock: std::marker::PhantomData<&'a ()>,
}

impl Held<'_> {
    /// A further level of a lock the thread already holds.
    pub(crate) fn reentry() -> Self {
        Held {
            #[cfg(feature = "debug-locks")]
            tracking: None,
            #[cfg(not(feature = "debug-locks"))]
            lock: std::marker::PhantomData,
        }
    }
}

#[cfg(feature = "debug-locks")]
impl Drop for Held<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(tracking) = self.tracking {
            if tracking.owner.clear() {
                lock_order::released(&tracking.tag);
            }
        }
    }
}
