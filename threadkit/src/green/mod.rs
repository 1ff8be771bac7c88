//! Green threads: gevent's "coroutine-based threading with automatic
//! switching" (feature `green`).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use threadkit::{Queue, green};
//!
//! let total = green::run(|| {
//!     let q = Arc::new(Queue::new(0));
//!     let producers: Vec<_> = (0..100)
//!         .map(|i| {
//!             let q = Arc::clone(&q);
//!             green::spawn(move || {
//!                 threadkit::sleep(Duration::from_millis(10)); // yields, like gevent.sleep
//!                 q.put(i).unwrap(); // plain blocking code: waits yield too
//!             })
//!         })
//!         .collect();
//!     green::joinall(&producers);
//!     (0..100).map(|_| q.get().unwrap()).sum::<i32>()
//! })
//! .unwrap();
//! assert_eq!(total, 4950);
//! ```
//!
//! A green thread is a function running on its own small stack (64 KiB by
//! default) that switches to another green thread whenever it waits. Every
//! threadkit wait does that with no change to the calling code: `Lock`,
//! `RLock`, `Condition`, `Semaphore`, `Event`, `Barrier`, `Queue`'s `put`,
//! `get` and `join`, `Future::result`, `Thread::join`, `Greenlet::join`
//! and [`crate::sleep`]. Outside green threads the same calls block the OS
//! thread, as before.
//!
//! Sockets that yield are in [`net`] (`TcpListener`, `TcpStream`,
//! `UdpSocket`, with `std::net`'s methods), gevent's `gevent.socket`.
//!
//! Green threads live on a *hub*, one per OS thread (the carrier), made by
//! the first spawn there. The hub runs while the carrier's own code waits
//! in threadkit, so [`run`] (or any join) drives it. A green thread never
//! leaves its carrier.
//!
//! Ready green threads run first come, first served, with one exception
//! taken from Go's scheduler: the first green thread that a running one
//! wakes (a queue's getter, a lock's next owner) runs next, while what it
//! was handed is still in cache. It does not start a new turn: after 16
//! such hand-offs in a row the hub serves its queue again, so two green
//! threads handing over to each other never starve the rest. gevent runs
//! woken greenlets strictly in order.
//!
//! For several cores, [`Hubs`] starts a number of carriers, each running
//! a hub, and places the green threads spawned through it on them; an
//! idle carrier steals green threads that have not started yet from the
//! others. [`on_carrier_stack`] runs deep or C-heavy code on the
//! carrier's own stack instead of the green thread's small one.
//!
//! # Soundness rules
//!
//! Each rule has a test in `tests/green.rs`.
//!
//! 1. **A started green thread never resumes on another OS thread.** Its
//!    stack may hold `!Send` values, thread-local references and addresses
//!    LLVM cached, so green threads do not migrate; wake-ups from other
//!    threads are queued to the carrier, which resumes the green thread
//!    itself. [`Hubs`] moves only `Send` green threads that have not
//!    started (a test in `tests/green_hubs.rs` checks the carrier after
//!    every wait).
//! 2. **One guard page per stack.** Overflow faults, never runs into a
//!    neighbour (a lightweight guard region where Linux has
//!    `MADV_GUARD_INSTALL`, else a `PROT_NONE` page). With guard regions
//!    (Linux 6.13+) stacks take one memory map per 64, so a million green
//!    threads live on one hub with default sysctls (about 4.6 KB of RSS
//!    each, one page of it stack); with `PROT_NONE` pages each stack takes
//!    two maps and `vm.max_map_count` (65530 by default) caps them near 32k,
//!    which the spawn error names.
//! 3. **A suspended stack is freed only after it finished or was unwound.**
//!    Stacks go back to the pool only from finished green threads; [`run`]
//!    kills (unwinds) what is left; a thread that ends with green threads
//!    still suspended leaks their stacks instead of freeing them, and its
//!    hub with them (a suspended green thread may be inside a call on its
//!    hub), and reports them killed.
//! 4. **A panic is caught at the green thread's root** and handed to
//!    whoever calls [`Greenlet::get`]; it never unwinds into the hub.
//! 5. **A stack overflow prints the green thread's name and stack size
//!    before aborting**, never a bare segfault.
//!
//! # Testing
//!
//! loom and Miri cannot follow a stack switch, so under `cfg(loom)` and
//! `cfg(miri)` green threads run on a *baton backend*: each green thread
//! is an OS thread of its own (a loom thread under loom), and one baton
//! per hub (a mutex and condition variable) lets exactly one of the hub
//! and its green threads run at a time. The hub, the waiting core's green
//! waiter, wake-ups and kills run unchanged on it: loom explores the
//! interleavings at every hand-over of the baton (its models live beside
//! this module and run in `ci/loom.sh`), and Miri checks a subset of the
//! green tests for undefined behaviour and data races (`ci/miri.sh`). A
//! killed green thread unwinds its own OS thread's stack, and the hub
//! joins that thread.
//!
//! [`net`] is native only: it is absent under loom and Miri.
//!
//! What the baton backend cannot check is what it replaces: the stack
//! switch itself, thread-locals seen from a switched stack, guard pages
//! and the overflow report. The soundness-rule tests (`rule_*` in
//! `tests/green.rs`, the overflow test among them) check those on the real
//! backend, natively. Under the baton, identity checks that compare with
//! the carrier's OS thread (joining one's own carrier) also differ, as
//! each green thread has an OS thread of its own there.
//!
//! # Differences from gevent
//!
//! - No monkey-patching: threadkit's own waits yield; `std::thread::sleep`,
//!   std IO, `std::sync` locks and C calls block the carrier and every
//!   green thread on it (use [`crate::sleep`], threadkit's primitives and
//!   [`net`]'s sockets).
//!   A `std::sync::Mutex` guard held across a threadkit wait can deadlock
//!   the carrier. A watchdog thread, as gevent's monitor thread, reports a
//!   green thread that runs longer than [`max_blocking`] (100 ms by default,
//!   `THREADKIT_GREEN_MAX_BLOCKING`) without switching: to standard error,
//!   or to [`set_blocked_hook`], with its name, spawn site and last wait
//!   site ([`BlockedReport`]); it costs a counter and three plain stores per
//!   switch.
//! - Kill unwinds the green thread with a private panic payload (gevent's
//!   `GreenletExit`); a `catch_unwind` in user code must re-raise payloads
//!   it does not own. It needs `panic = "unwind"`.
//! - Identity is the green thread: in one, `threading::current_thread()`
//!   is its own record (a dummy named after it, with its own ident, not
//!   listed by `threading::enumerate()`, no longer alive once it ended),
//!   `get_ident()` its ident, and a `threading::Local` gives it its own
//!   value. As for OS threads, a `Local` value is dropped with the `Local`
//!   (or by `clear`), not when its green thread ends. Rust's own
//!   `thread_local!` and `std::thread::current()` are the carrier's, shared
//!   by its green threads.
//! - An `RLock` is owned by the green thread that acquired it, not by its
//!   carrier. With `debug-locks`, each green thread has its own list of
//!   held locks, so green threads sharing a carrier record no false
//!   lock-order edges, and is itself the holder of the locks it takes
//!   (in thread dumps, order reports and `find_deadlocks`), not its carrier.
//! - A green thread waiting for a contended `Lock`, `RLock` or `Condition`
//!   lock queues on it in the waiting core, beside the threads waiting for
//!   it, and the release wakes it (first come, first served; a newcomer
//!   may take a freed lock before the woken waiter runs, as in
//!   parking_lot). Taking a `Condition`'s lock back after a wait is not
//!   interrupted by a kill or a `with_timeout` expiry: they take effect at
//!   the next wait. With feature `green` these locks sit on a lock word of
//!   threadkit's own (parking_lot's fast paths, the waiting core as the
//!   slow path), which makes each a few dozen bytes larger.
//! - A green thread killed while a `Barrier` fills breaks it, as a timeout
//!   does (Python's `Barrier.wait` on an exception).
//! - Thread dumps ([`crate::debug::dump_threads`]) list green threads with
//!   their carrier; their waits are recorded from the process's first dump
//!   (or watchdog look) on.

#[cfg(any(loom, miri))]
mod baton;
mod board;
mod bridge;
mod greenlet;
mod hub;
#[cfg(not(loom))]
mod hubs;
#[cfg(all(test, loom))]
mod loom_green;
#[cfg(not(any(loom, miri)))]
pub mod net;
#[cfg(not(any(loom, miri)))]
mod overflow;
mod pool;
#[cfg(not(any(loom, miri)))]
mod raw;
#[cfg(not(any(loom, miri)))]
mod stack;
mod timeout;
mod watchdog;
// Under loom and Miri, which cannot follow a stack switch: one OS thread
// per green thread, passing its hub's baton (see baton.rs).
#[cfg(any(loom, miri))]
use baton::{self as raw, overflow, stack};

use std::time::{Duration, Instant};

pub(crate) use board::{arm as arm_dumps, armed as dumps_armed, snapshot as boards};
pub use bridge::{block_on, blocking};
pub use greenlet::{Builder, DEFAULT_STACK_SIZE, Greenlet, GreenletError};
pub(crate) use hub::{GreenWaker, Parked, uninterruptible, wait_slot};
#[cfg(not(loom))]
pub use hubs::{Hubs, HubsBuilder};
pub use pool::{Group, Imap, Pool};
pub use timeout::{GreenTimeout, with_timeout};
pub use watchdog::{BlockedReport, max_blocking, set_blocked_hook, set_max_blocking};

use crate::util::Deadline;

/// The panic payload that unwinds a killed green thread (gevent's
/// `GreenletExit`).
pub(crate) struct GreenletExit;

/// Unwinds the calling green thread out of its wait: it was killed, or
/// a [`with_timeout`] deadline passed.
///
/// Inlined, with the payload made by a call that returns first: every
/// frame between the wait and the green thread's root is walked twice by
/// the unwinder (search, then clean-up), at a few thousand instructions
/// per frame and walk, so this function is no frame of its own.
#[inline(always)]
pub(crate) fn unwind_killed() -> ! {
    std::panic::resume_unwind(killed_payload())
}

/// What [`unwind_killed`] unwinds with: the expired `with_timeout` scope's
/// payload, or [`GreenletExit`].
#[cold]
#[inline(never)]
fn killed_payload() -> Box<dyn std::any::Any + Send> {
    if !hub::current_killed() {
        if let Some(payload) = timeout::expired() {
            return Box::new(payload);
        }
    }
    Box::new(GreenletExit)
}

/// Spawns a green thread on the calling thread's hub: gevent's `spawn`.
///
/// # Panics
///
/// If its stack cannot be mapped (as `std::thread::spawn` panics when a
/// thread cannot be made); [`Builder::spawn`] returns the error instead.
#[track_caller]
pub fn spawn<F, T>(f: F) -> Greenlet<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn(f)
        .expect("failed to map a green thread's stack")
}

/// Spawns a green thread that runs `f` once `delay` has passed:
/// gevent's `spawn_later`. Until then it sleeps, so killing it then ends
/// it without running `f`.
///
/// # Panics
///
/// As [`spawn`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use threadkit::green;
///
/// green::run(|| {
///     let start = Instant::now();
///     let g = green::spawn_later(Duration::from_millis(20), move || start.elapsed());
///     assert!(g.get().unwrap() >= Duration::from_millis(20));
///     let never = green::spawn_later(Duration::from_secs(60), || unreachable!());
///     never.kill();
///     assert!(never.get().is_err());
/// })
/// .unwrap();
/// ```
pub fn spawn_later<F, T>(delay: Duration, f: F) -> Greenlet<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn(move || {
        crate::sleep(delay);
        f()
    })
}

/// [`spawn`] for a closure that is not `Send` (it holds an `Rc`, say).
///
/// # Panics
///
/// As [`spawn`].
#[track_caller]
pub fn spawn_local<F, T>(f: F) -> Greenlet<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Builder::new()
        .spawn_local(f)
        .expect("failed to map a green thread's stack")
}

/// Runs `f` as a green thread on the calling thread's hub, runs the hub
/// until `f` returns, then kills the green threads left on it: the
/// explicit scope (like `asyncio.run`). Returns `f`'s value, or why there
/// is none. Called from a green thread, it runs `f` there directly.
///
/// # Examples
///
/// ```
/// use threadkit::green;
///
/// assert_eq!(green::run(|| 1 + 1).unwrap(), 2);
/// ```
#[track_caller]
pub fn run<F, T>(f: F) -> Result<T, GreenletError>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    if raw::in_green() || ON_CARRIER_STACK.with(std::cell::Cell::get) {
        return Ok(f());
    }
    let g = Builder::new().spawn_local(f).map_err(|e| {
        GreenletError::Panicked(Box::new(format!(
            "failed to map a green thread's stack: {e}"
        )))
    })?;
    let result = g.get();
    if let Some(hub) = hub::get() {
        hub.kill_all();
    }
    result
}

/// Lets the other ready green threads run, then goes on: gevent's
/// `sleep(0)`. In the root of a hub it runs the ready green threads once;
/// on a thread without green threads it is `std::thread::yield_now`.
#[track_caller]
pub fn yield_now() {
    let at = std::panic::Location::caller();
    let parked = hub::with(|hub| {
        hub.note_wait(at);
        (raw::in_green() || hub.live() > 0).then(|| hub.yield_now())
    });
    match parked.flatten() {
        Some(Parked::Killed) => unwind_killed(),
        Some(_) => {}
        None => std::thread::yield_now(),
    }
}

/// Runs `f` on the carrier's own stack rather than the green thread's,
/// and returns its value: for deep recursion or C code that needs more
/// stack than a green thread has (64 KiB by default; the carrier has its
/// OS thread's stack, 2 MiB or more). Outside a green thread it just
/// calls `f`. A panic in `f` propagates to the caller.
///
/// While `f` runs, the green thread cannot switch: every wait in `f`
/// (threadkit's included) blocks the carrier, and every other green
/// thread of its hub with it, as a plain thread's wait does; waiting
/// there for something only a green thread of the same carrier does
/// deadlocks ([`run`] in `f` runs its function directly, as in a green
/// thread). A long `f` holds the hub like any green thread that does
/// not switch, and the watchdog ([`max_blocking`]) reports it so. In `f`,
/// `threading::current_thread()` is the carrier's;
/// `RLock` ownership stays the green thread's. `f` is `Send`, as it runs
/// on another stack.
///
/// # Examples
///
/// ```
/// use threadkit::green;
///
/// fn depth(n: u64) -> u64 {
///     let pad = std::hint::black_box([0u8; 1024]); // a large frame
///     if n == 0 { u64::from(pad[0]) } else { 1 + depth(n - 1) }
/// }
///
/// let got = green::run(|| {
///     // 200 KiB of frames or more: far past a 64 KiB green stack.
///     green::on_carrier_stack(|| depth(200))
/// });
/// assert_eq!(got.unwrap(), 200);
/// ```
///
/// # Differences from gevent
///
/// greenlet copies stacks, so gevent has no fixed green stack to
/// outgrow. Under the test backend (loom and Miri, where each green thread
/// is an OS thread of its own) `f` runs on the green thread's OS thread,
/// which has a full stack, as no green thread there too.
#[doc(alias("on_parent_stack", "carrier"))]
pub fn on_carrier_stack<F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send,
{
    /// Clears [`ON_CARRIER_STACK`] again, also when `f` panics.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let _ = ON_CARRIER_STACK.try_with(|c| c.set(false));
        }
    }
    if !raw::in_green() {
        return f();
    }
    let f = move || {
        ON_CARRIER_STACK.with(|c| c.set(true));
        let _leave = Leave;
        f()
    };
    #[cfg(not(any(loom, miri)))]
    return hub::hidden(|| raw::on_carrier_stack(f));
    #[cfg(any(loom, miri))]
    raw::on_carrier_stack(f)
}

std::thread_local! {
    /// Whether [`on_carrier_stack`] runs its function on this thread now:
    /// [`run`] in it then runs its function directly (its hub cannot run
    /// there).
    static ON_CARRIER_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Who runs now, when it is a green thread: gevent's `getcurrent()`.
pub fn current() -> Option<GreenThread> {
    if !raw::in_green() {
        return None;
    }
    let (id, name) = hub::get()?.current()?;
    Some(GreenThread { id, name })
}

/// The calling green thread's `threading` record (`current_thread()` in
/// a green thread), made on first use; `None` outside green threads.
#[inline]
pub(crate) fn current_thread_handle() -> Option<crate::threading::ThreadHandle> {
    hub::with_current_meta(|meta| {
        meta.thread
            .get_or_insert_with(|| crate::threading::ThreadHandle::new_green(meta.name.as_deref()))
            .clone()
    })
}

/// The calling green thread's `Local` token, made on first use by `fresh`;
/// `None` outside green threads.
#[inline]
pub(crate) fn local_token(fresh: impl FnOnce() -> u64) -> Option<u64> {
    hub::with_current_meta(|meta| {
        if meta.local_token == 0 {
            meta.local_token = fresh();
        }
        meta.local_token
    })
}

/// The identity of a running green thread ([`current`]).
#[derive(Clone, Debug)]
pub struct GreenThread {
    id: u64,
    name: Option<std::sync::Arc<str>>,
}

impl GreenThread {
    /// Its id, unique in the process (the same as [`Greenlet::id`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Waits for every green thread of `greenlets`: gevent's `joinall`.
pub fn joinall<T>(greenlets: &[Greenlet<T>]) {
    greenlets.iter().for_each(Greenlet::join);
}

/// Kills every green thread of `greenlets` and waits until they have
/// unwound: gevent's `killall`.
pub fn killall<T>(greenlets: &[Greenlet<T>]) {
    greenlets.iter().for_each(Greenlet::kill);
}

/// Whether the caller is a green thread, or a root whose hub has green
/// threads to run while it waits.
#[inline]
pub(crate) fn active() -> bool {
    hub::active()
}

/// Whether the caller is a green thread.
#[inline]
pub(crate) fn in_green() -> bool {
    raw::in_green()
}

/// The running green thread's identity as a lock owner (`RLock`); `None`
/// outside green threads. (Under loom and Miri each green thread is an OS
/// thread of its own, whose id serves.)
#[cfg(not(any(loom, miri)))]
#[inline]
pub(crate) fn owner_id() -> Option<std::num::NonZeroUsize> {
    std::num::NonZeroUsize::new(overflow::running() as usize)
}

/// The waiting core's hook: the green sleeper to register for the caller,
/// if it is a green thread or the root of a busy hub.
#[inline]
pub(crate) fn sleeper() -> Option<GreenWaker> {
    hub::sleeper()
}

/// The waiting core's hook: waits as the sleeper [`sleeper`] gave.
pub(crate) fn park(deadline: Deadline) -> Parked {
    hub::park(deadline)
}

/// Python's `time.sleep` when green threads may run: see [`crate::sleep`].
/// Returns false if the caller is a plain thread (the caller sleeps).
#[track_caller]
pub(crate) fn sleep(d: Duration) -> bool {
    if !hub::active() {
        return false;
    }
    hub::note_wait(std::panic::Location::caller());
    if d.is_zero() {
        yield_now();
        return true;
    }
    let deadline = Deadline::after(d);
    loop {
        match park(deadline) {
            Parked::TimedOut => return true,
            Parked::Killed => unwind_killed(),
            Parked::Woken => {
                if let Deadline::At(at) = deadline {
                    if Instant::now() >= at {
                        return true;
                    }
                }
            }
        }
    }
}
