//! `with_timeout`: gevent's `Timeout` as a scope around a closure.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::{Duration, Instant};

use super::hub;

/// Why [`with_timeout`] has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreenTimeout {
    /// The time was up while the closure waited (or yielded): it unwound
    /// out of that wait (gevent's `Timeout` exception).
    Expired,
    /// Not called in a green thread: the closure did not run. Run it under
    /// [`run`](super::run) or [`spawn`](super::spawn).
    NotInGreenThread,
}

impl fmt::Display for GreenTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GreenTimeout::Expired => f.write_str("the green thread's timeout expired"),
            GreenTimeout::NotInGreenThread => {
                f.write_str("with_timeout was called outside a green thread")
            }
        }
    }
}

impl std::error::Error for GreenTimeout {}

/// The panic payload that unwinds a green thread out of a `with_timeout`
/// scope: the scope's token.
pub(crate) struct TimeoutUnwind(u64);

/// Runs `f` in the calling green thread, giving up when `timeout` has
/// passed: gevent's `with_timeout` (and `with Timeout(seconds):`).
///
/// When the time is up, the wait `f` is in (or its next wait or yield)
/// ends and `f` unwinds from there, running its destructors, under the same
/// rule as a kill: the wait hands on any wake-up it got, so nothing is
/// lost; `with_timeout` then returns `Err(GreenTimeout::Expired)`. A `f`
/// that finishes without waiting again returns its value even if late.
///
/// Scopes nest: an inner scope ends its closure only if its deadline comes
/// first; when an outer one's comes first, the inner closure unwinds
/// through the inner scope (which passes it on) to the outer one.
///
/// # Errors
///
/// [`GreenTimeout::Expired`]; [`GreenTimeout::NotInGreenThread`] when
/// called outside a green thread (`f` does not run).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::{Queue, green};
/// use threadkit::green::GreenTimeout;
///
/// green::run(|| {
///     let q: Queue<u8> = Queue::new(0);
///     let got = green::with_timeout(Duration::from_millis(10), || q.get());
///     assert_eq!(got.unwrap_err(), GreenTimeout::Expired);
///     let quick = green::with_timeout(Duration::from_secs(10), || 5);
///     assert_eq!(quick, Ok(5));
/// })
/// .unwrap();
/// assert_eq!(
///     green::with_timeout(Duration::from_secs(1), || ()),
///     Err(GreenTimeout::NotInGreenThread)
/// );
/// ```
///
/// # Differences from gevent
///
/// - A scope, not an object to `start` and `cancel`; the error is the
///   `Err` side, not an exception raised in the green thread, and no other
///   exception can be chosen.
/// - Code that catches unwinds (`catch_unwind`) must re-raise payloads it
///   does not own, as for kills.
/// - A green thread killed and timed out at once unwinds as killed.
#[doc(alias("Timeout", "gevent.Timeout"))]
pub fn with_timeout<T>(timeout: Duration, f: impl FnOnce() -> T) -> Result<T, GreenTimeout> {
    if !super::in_green() {
        return Err(GreenTimeout::NotInGreenThread);
    }
    let Some(at) = Instant::now().checked_add(timeout) else {
        return Ok(f()); // never expires
    };
    let token = hub::next_id();
    hub::with_current_meta(|meta| {
        meta.timeouts
            .get_or_insert_with(Default::default)
            .push((token, at));
    });
    refresh();
    let result = catch_unwind(AssertUnwindSafe(f));
    hub::with_current_meta(|meta| {
        if let Some(open) = &mut meta.timeouts {
            open.retain(|&(t, _)| t != token);
        }
    });
    refresh();
    match result {
        Ok(value) => Ok(value),
        Err(payload) => match payload.downcast_ref::<TimeoutUnwind>() {
            Some(TimeoutUnwind(t)) if *t == token => Err(GreenTimeout::Expired),
            _ => resume_unwind(payload),
        },
    }
}

/// Sets the running green thread's earliest open deadline on its hub.
fn refresh() {
    let earliest = hub::with_current_meta(|meta| {
        meta.timeouts
            .iter()
            .flat_map(|open| open.iter())
            .map(|&(_, at)| at)
            .min()
    });
    hub::set_timeout_at(earliest.flatten());
}

/// The payload to unwind the running green thread with, when its waits
/// end because a `with_timeout` deadline passed (and it was not killed):
/// the scope with the earliest deadline (the outermost of equal ones).
pub(crate) fn expired() -> Option<TimeoutUnwind> {
    let now = Instant::now();
    hub::with_current_meta(|meta| {
        let mut best: Option<(u64, Instant)> = None;
        for &(token, at) in meta.timeouts.iter().flat_map(|open| open.iter()) {
            if at <= now && best.is_none_or(|(_, b)| at < b) {
                best = Some((token, at));
            }
        }
        best.map(|(token, _)| TimeoutUnwind(token))
    })
    .flatten()
}
