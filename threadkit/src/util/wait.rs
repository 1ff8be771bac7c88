//! Deadlines: how every blocking call in threadkit says when it gives up.
//!
//! Python spells a blocking call `f(block=True, timeout=None)`; threadkit spells
//! it as a family (`get`, `try_get`, `get_timeout`, `get_deadline`). Every member
//! of every family turns its argument into a [`Deadline`] and hands it to the
//! one waiting core, [`Monitor`](super::monitor::Monitor), which handles
//! spurious wake-ups and the final re-check after a timeout once for all.

use std::time::{Duration, Instant};

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
    #[inline]
    pub(crate) fn remaining(self) -> Option<Duration> {
        match self {
            Deadline::Never => None,
            Deadline::Now => Some(Duration::ZERO),
            Deadline::At(at) => Some(at.saturating_duration_since(Instant::now())),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn huge_timeout_means_never() {
        assert_eq!(Deadline::after(Duration::MAX), Deadline::Never);
        assert_eq!(Deadline::after(Duration::ZERO), Deadline::Now);
        assert_eq!(Deadline::from_timeout(None), Deadline::Never);
        assert!(
            Deadline::after(Duration::from_secs(5)).remaining().unwrap() > Duration::from_secs(4)
        );
    }
}
