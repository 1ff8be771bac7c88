//! `tracing` integration (cargo feature `tracing`, off by default).
//!
//! - Every threadkit thread runs inside an `info` span named `thread` on
//!   target `threadkit::thread` (fields `thread.name`, `thread.ident`,
//!   `thread.daemon`), which *follows from* the span current where it was
//!   started: a thread may outlive the request that started it, so it is
//!   not its child. Its last event, `thread.exit`, says whether the target
//!   returned or panicked (`outcome`, `panic`).
//! - Every pool task runs inside a `trace` span named `task` on target
//!   `threadkit::futures` whose parent is the span current at `submit`, so
//!   the logs of a task nest under the request that submitted it; it
//!   records `queue_wait_us` (submit to start) and `busy_us` (the run).
//! - Lock-order inversions, deadlocks, starved pools, "all asleep" and
//!   stalls are `error!` events on target `threadkit::deadlock`.
//!
//! With no subscriber (or one that ignores these targets) a span costs a
//! couple of nanoseconds, against a task's hundreds.

use std::time::Instant;

use tracing::{Span, field};

/// Target of the deadlock, inversion and stall events.
pub(crate) const DEADLOCK_TARGET: &str = "threadkit::deadlock";

/// The span a new thread will run in, made on the thread that starts it.
pub(crate) fn thread_span(name: &str, ident: u64, daemon: bool) -> Span {
    let span = tracing::info_span!(
        target: "threadkit::thread",
        parent: None,
        "thread",
        thread.name = name,
        thread.ident = ident,
        thread.daemon = daemon,
    );
    span.follows_from(Span::current());
    span
}

/// The `thread.exit` event, in the thread's span: how its target ended.
pub(crate) fn thread_exit(panic: Option<&str>) {
    match panic {
        None => tracing::info!(target: "threadkit::thread", outcome = "returned", "thread.exit"),
        Some(message) => tracing::info!(
            target: "threadkit::thread",
            outcome = "panicked",
            panic = message,
            "thread.exit"
        ),
    }
}

/// Wraps a pool task so that it runs in its own span, a child of the span
/// current now (at submit), recording how long it waited and ran.
pub(crate) fn task<F: FnOnce() -> T, T>(f: F) -> impl FnOnce() -> T {
    let span = tracing::trace_span!(
        target: "threadkit::futures",
        "task",
        queue_wait_us = field::Empty,
        busy_us = field::Empty,
    );
    let submitted = (!span.is_disabled()).then(Instant::now);
    move || {
        let Some(submitted) = submitted else {
            return f();
        };
        let started = Instant::now();
        span.record("queue_wait_us", micros(started - submitted));
        let value = span.in_scope(f);
        span.record("busy_us", micros(started.elapsed()));
        value
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Emits a report (an inversion, a deadlock, a stall) as an `error!` event
/// on [`DEADLOCK_TARGET`].
pub(crate) fn report(kind: &'static str, text: &dyn std::fmt::Display) {
    tracing::error!(target: DEADLOCK_TARGET, kind, "{text}");
}

/// Whether a subscriber has been installed, so that a report in the default
/// mode goes to it instead of stderr.
#[cfg(feature = "debug-locks")]
pub(crate) fn has_subscriber() -> bool {
    tracing::dispatcher::has_been_set()
}
