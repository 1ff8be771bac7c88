//! The one waiting core under every blocking call in threadkit.
//!
//! Python spells a blocking call `f(block=True, timeout=None)`; threadkit spells
//! it as a family (`get`, `try_get`, `get_timeout`, `get_deadline`). Every member
//! of every family turns its argument into a [`Deadline`] and then calls
//! [`wait_until`], which loops on a condition variable until the caller's
//! predicate holds or the deadline passes. Spurious wake-ups, overflowing
//! timeouts and the final re-check after a timeout are handled here once.

use std::time::{Duration, Instant};

use crate::loom::sync::{Condvar, MutexGuard};

/// When a blocking call gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Never: block until the condition holds (Python's `timeout=None`).
    Never,
    /// Do not block at all (Python's `block=False`).
    Now,
    /// Give up at this instant.
    At(Instant),
}

impl Deadline {
    /// The deadline `timeout` from now. A timeout too large to represent as an
    /// `Instant` means "never", where CPython raises `OverflowError`.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        if timeout.is_zero() {
            return Deadline::Now;
        }
        match Instant::now().checked_add(timeout) {
            Some(at) => Deadline::At(at),
            None => Deadline::Never,
        }
    }

    /// `Deadline::after` for an optional timeout; `None` waits forever.
    pub(crate) fn from_timeout(timeout: Option<Duration>) -> Deadline {
        timeout.map_or(Deadline::Never, Deadline::after)
    }

    /// Time left before the deadline; `None` for `Never`.
    pub(crate) fn remaining(self) -> Option<Duration> {
        match self {
            Deadline::Never => None,
            Deadline::Now => Some(Duration::ZERO),
            Deadline::At(at) => Some(at.saturating_duration_since(Instant::now())),
        }
    }
}

/// Blocks on `cv` until `ready(&mut state)` returns true or `deadline` passes.
///
/// Returns whether `ready` held when it returned. The predicate is evaluated
/// under the lock before the first wait and after every wake-up, including the
/// one caused by the timeout, so a condition that became true just as the
/// deadline passed is still reported as met.
pub(crate) fn wait_until<T>(
    cv: &Condvar,
    guard: &mut MutexGuard<'_, T>,
    deadline: Deadline,
    mut ready: impl FnMut(&mut T) -> bool,
) -> bool {
    loop {
        if ready(guard) {
            return true;
        }
        match deadline {
            Deadline::Never => cv.wait(guard),
            Deadline::Now => return false,
            Deadline::At(at) => {
                if cv.wait_until(guard, at).timed_out() {
                    return ready(guard);
                }
            }
        }
    }
}

/// Waits once for a notification on `cv` (no predicate), as Python's
/// `Condition.wait(timeout)` does. Returns `false` if the deadline passed first.
/// Callers must tolerate spurious wake-ups, exactly as in Python.
#[allow(dead_code)] // Condition moved to the monitor (issue 9): goes at merge.
pub(crate) fn wait_once<T>(
    cv: &Condvar,
    guard: &mut MutexGuard<'_, T>,
    deadline: Deadline,
) -> bool {
    match deadline {
        Deadline::Never => {
            cv.wait(guard);
            true
        }
        Deadline::Now => false,
        Deadline::At(at) => !cv.wait_until(guard, at).timed_out(),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::loom::sync::Mutex;

    #[test]
    fn huge_timeout_means_never() {
        assert_eq!(Deadline::after(Duration::MAX), Deadline::Never);
        assert_eq!(Deadline::after(Duration::ZERO), Deadline::Now);
        assert_eq!(Deadline::from_timeout(None), Deadline::Never);
        assert!(
            Deadline::after(Duration::from_secs(5)).remaining().unwrap() > Duration::from_secs(4)
        );
    }

    #[test]
    fn wait_until_times_out_and_rechecks() {
        let m = Mutex::new(0);
        let cv = Condvar::new();
        let mut g = m.lock();
        assert!(!wait_until(&cv, &mut g, Deadline::Now, |v| *v == 1));
        assert!(!wait_until(
            &cv,
            &mut g,
            Deadline::after(Duration::from_millis(10)),
            |v| *v == 1
        ));
        *g = 1;
        assert!(wait_until(&cv, &mut g, Deadline::Now, |v| *v == 1));
        assert!(!wait_once(
            &cv,
            &mut g,
            Deadline::after(Duration::from_millis(1))
        ));
    }
}
