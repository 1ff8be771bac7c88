//! What each blocked thread waits for: the records behind
//! [`dump_threads`](super::dump_threads) and
//! [`find_deadlocks`](super::find_deadlocks).
//!
//! A thread writes its record only on the slow path, just before it parks
//! in the one waiting core (or in a lock's own parking), and clears it when
//! the wait ends, so a thread that never blocks pays nothing. The record
//! lives in a slot the thread shares with a global list, so another thread
//! can read it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
#[cfg(any(all(test, not(loom)), not(target_os = "linux")))]
use std::time::Instant;

use parking_lot::Mutex;

use crate::util::Deadline;

/// What kind of wait a thread is in, as Python would name the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum WaitKind {
    /// `Lock.acquire()`.
    Lock,
    /// `RLock.acquire()`.
    RLock,
    /// `Condition.wait()`.
    Condition,
    /// `Semaphore.acquire()` (or `BoundedSemaphore`).
    Semaphore,
    /// `Event.wait()`.
    Event,
    /// `Barrier.wait()`.
    Barrier,
    /// `Queue.get()`.
    QueueGet,
    /// `Queue.put()` on a full queue.
    QueuePut,
    /// `Queue.join()`.
    QueueJoin,
    /// `Thread.join()`.
    Join,
    /// `Thread.start()`, waiting for the new thread to run.
    Start,
    /// `Future.result()` / `exception()`, or `wait`/`as_completed`.
    Future,
    /// A wait of another kind (a process, a pool's shutdown...).
    Other,
}

impl WaitKind {
    /// The Python call this wait corresponds to.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitKind::Lock => "Lock.acquire",
            WaitKind::RLock => "RLock.acquire",
            WaitKind::Condition => "Condition.wait",
            WaitKind::Semaphore => "Semaphore.acquire",
            WaitKind::Event => "Event.wait",
            WaitKind::Barrier => "Barrier.wait",
            WaitKind::QueueGet => "Queue.get",
            WaitKind::QueuePut => "Queue.put",
            WaitKind::QueueJoin => "Queue.join",
            WaitKind::Join => "Thread.join",
            WaitKind::Start => "Thread.start",
            WaitKind::Future => "Future.result",
            WaitKind::Other => "wait",
        }
    }

    /// Whether the thing waited for has an owner who alone can end the
    /// wait (a lock's holder, the joined thread, the task's worker): only
    /// such waits form deadlock cycles.
    pub fn is_owned(self) -> bool {
        matches!(
            self,
            WaitKind::Lock | WaitKind::RLock | WaitKind::Join | WaitKind::Future
        )
    }
}

/// Who can end a wait, when the waited-for object knows.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum Holder {
    /// Nobody in particular (an event, a queue) or not known.
    #[default]
    Unknown,
    /// This thread (by threadkit ident): the joined thread.
    Thread(u64),
    /// Whoever holds the lock now: the ident in this cell (0 = nobody),
    /// which lives in the lock the thread is blocked on.
    #[cfg_attr(not(feature = "debug-locks"), allow(dead_code))]
    Live(*const AtomicU64),
    /// A pool task's whereabouts word (see [`Whereabouts`](super::tasks::Whereabouts)),
    /// which lives in the future the thread is blocked on.
    Task(*const AtomicU64),
}

/// What a wait is on, as a dump names it: formatted when a dump asks,
/// not when the thread blocks (a lock's name, `Lock#12` for an unnamed
/// one, would otherwise cost an allocation per blocking acquire).
#[derive(Clone, Debug)]
pub(crate) enum WaitObject {
    /// A name made by the waiter (or none).
    Text(Option<String>),
    /// A lock (feature `debug-locks`): its tag, named only when a dump
    /// reads the record ([`Slot::snapshot`] turns it into `Text`). A
    /// pointer, not the lock's `LockInfo`, so that the record stays small:
    /// the record is written on every blocking wait, and one of twice the
    /// size (copied through the stack) took about four times as long.
    #[cfg(feature = "debug-locks")]
    Lock(*const super::lock_order::LockTag),
}

impl WaitObject {
    /// The name a dump shows (a record's object as [`Slot::snapshot`]
    /// returns it, so never a `Lock`).
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            WaitObject::Text(text) => text.clone(),
            #[cfg(feature = "debug-locks")]
            WaitObject::Lock(_) => None,
        }
    }
}

/// When a wait began. On Linux, from the coarse monotonic clock: reading
/// it is a load from the kernel's shared page (a few ns, where the precise
/// clock took most of a record's cost), in ticks of 1 to 4 ms, ample for
/// "waiting for 12.0 s" and for stall verdicts counted in seconds.
/// Elsewhere, an `Instant`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Since(
    #[cfg(target_os = "linux")] Duration,
    #[cfg(not(target_os = "linux"))] Instant,
);

impl Since {
    #[cfg(target_os = "linux")]
    fn coarse() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable timespec; the clock id is a
        // constant Linux has had since 2.6.32. On failure `now` stays 0,
        // which only makes a wait look older.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    /// Now.
    pub(crate) fn now() -> Self {
        #[cfg(target_os = "linux")]
        return Since(Self::coarse());
        #[cfg(not(target_os = "linux"))]
        return Since(Instant::now());
    }

    /// How long ago.
    pub(crate) fn elapsed(&self) -> Duration {
        #[cfg(target_os = "linux")]
        return Self::coarse().saturating_sub(self.0);
        #[cfg(not(target_os = "linux"))]
        return self.0.elapsed();
    }
}

/// One thread's current wait.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub(crate) kind: WaitKind,
    /// A name for the object: the lock's name, the joined thread's name.
    pub(crate) object: WaitObject,
    pub(crate) since: Since,
    pub(crate) timed: bool,
    pub(crate) holder: Holder,
}

/// With `debug-locks`: the locks a thread held when it blocked.
#[cfg(feature = "debug-locks")]
pub(crate) type HeldLocks = Box<[(super::LockInfo, super::Site)]>;

/// What a slot keeps under its mutex: the record, and apart from it (so
/// that writing and clearing a record stays a few stores: a record with a
/// list in it was copied whole through the stack, twice as slow) the
/// locks held, kept empty when none are.
#[derive(Debug, Default)]
struct Stored {
    record: Option<Record>,
    #[cfg(feature = "debug-locks")]
    held: HeldLocks,
}

// SAFETY: the only non-Send fields are `Holder::Live`'s and `Holder::Task`'s
// pointers and `WaitObject::Lock`'s, which are read only under the slot's
// mutex while the waiting thread is still inside the wait that keeps their
// target alive (see `Slot::snapshot`).
unsafe impl Send for Record {}

/// A thread's record, shared with readers on other threads.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) ident: u64,
    /// The pool this thread is a worker of (0: none), set once when the
    /// worker starts.
    pool: AtomicU64,
    record: Mutex<Stored>,
}

/// A thread's record as read now: who can end the wait and, for a pool
/// task still queued, where.
#[derive(Debug)]
pub(crate) struct Seen {
    pub(crate) record: Record,
    pub(crate) holder: Option<u64>,
    pub(crate) queued_in: Option<u64>,
    /// With `debug-locks`: the locks the thread held when it blocked.
    #[cfg(feature = "debug-locks")]
    pub(crate) held: HeldLocks,
}

impl Slot {
    /// The pool this thread works for, if it is a pool worker.
    pub(crate) fn pool(&self) -> Option<u64> {
        let pool = self.pool.load(Relaxed);
        (pool != 0).then_some(pool)
    }

    /// The record, with a live holder read now.
    pub(crate) fn snapshot(&self) -> Option<Seen> {
        let stored = self.record.lock();
        let record = stored.record.as_ref()?;
        let (holder, queued_in) = match record.holder {
            Holder::Unknown => (None, None),
            Holder::Thread(ident) => (Some(ident), None),
            Holder::Live(cell) => {
                // SAFETY: `cell` points into the lock this thread is blocked
                // on. The thread clears its record, under this same mutex,
                // before its acquire returns, and the lock outlives the
                // acquire (the thread borrows it), so while we hold the
                // mutex and see the record, the lock is alive.
                let ident = unsafe { (*cell).load(Relaxed) } & !TRACKED;
                ((ident != 0).then_some(ident), None)
            }
            Holder::Task(cell) => {
                // SAFETY: `cell` points into the shared state of the future
                // this thread is blocked on; the thread holds a reference to
                // it for the whole wait and clears its record, under this
                // same mutex, before the wait returns.
                let word = unsafe { (*cell).load(Relaxed) };
                super::tasks::decode(word)
            }
        };
        #[cfg_attr(not(feature = "debug-locks"), allow(unused_mut))]
        let mut record = record.clone();
        #[cfg(feature = "debug-locks")]
        if let WaitObject::Lock(tag) = record.object {
            // SAFETY: as for `Holder::Live`: `tag` is the lock this thread
            // is blocked on, alive while we hold the mutex and see the
            // record.
            let info = unsafe { &*tag }.info();
            record.object = WaitObject::Text(Some(info.to_string()));
        }
        Some(Seen {
            record,
            holder,
            queued_in,
            #[cfg(feature = "debug-locks")]
            held: stored.held.clone(),
        })
    }
}

fn slots() -> &'static Mutex<Vec<Weak<Slot>>> {
    static SLOTS: OnceLock<Mutex<Vec<Weak<Slot>>>> = OnceLock::new();
    SLOTS.get_or_init(Mutex::default)
}

thread_local! {
    static MINE: std::cell::OnceCell<Arc<Slot>> = const { std::cell::OnceCell::new() };
}

/// Every live thread's slot.
pub(crate) fn all_slots() -> Vec<Arc<Slot>> {
    let mut slots = slots().lock();
    slots.retain(|s| s.strong_count() > 0);
    slots.iter().filter_map(Weak::upgrade).collect()
}

/// Marks the calling thread as waiting until the returned scope is dropped.
pub(crate) fn enter(
    kind: WaitKind,
    object: WaitObject,
    deadline: Deadline,
    holder: Holder,
) -> WaitScope {
    // Under loom the bookkeeping would reach the thread registry, whose
    // statics outlive a model: record nothing.
    if cfg!(loom) {
        return WaitScope::NONE;
    }
    #[cfg(feature = "debug-locks")]
    let held = super::lock_order::held_by_current_thread();
    let since = Since::now();
    let recorded = with_my_slot(|slot| {
        let mut stored = slot.record.lock();
        stored.record = Some(Record {
            kind,
            object,
            since,
            timed: deadline != Deadline::Never,
            holder,
        });
        #[cfg(feature = "debug-locks")]
        if !held.is_empty() {
            stored.held = held.into_boxed_slice();
        }
    });
    WaitScope {
        recorded: recorded.is_some(),
        not_send: std::marker::PhantomData,
    }
}

/// Runs `f` on the calling thread's slot, made and listed on first use
/// (`None` once the thread's locals are gone). Borrowed, not cloned: no
/// reference count to touch on a wait's way in and out.
fn with_my_slot<R>(f: impl FnOnce(&Slot) -> R) -> Option<R> {
    // A green thread has a record of its own (its carrier's is the root's).
    #[cfg(feature = "green")]
    if crate::green::in_green() {
        return crate::green::wait_slot().map(|slot| f(&slot));
    }
    MINE.try_with(|mine| {
        f(mine.get_or_init(|| {
            let slot = Arc::new(Slot {
                ident: crate::threading::get_ident(),
                pool: AtomicU64::new(0),
                record: Mutex::default(),
            });
            slots().lock().push(Arc::downgrade(&slot));
            slot
        }))
    })
    .ok()
}

/// A record for a green thread (`ident`), not in the list of OS threads'
/// records: its hub's board lists it.
#[cfg(feature = "green")]
pub(crate) fn unlisted_slot(ident: u64) -> Arc<Slot> {
    Arc::new(Slot {
        ident,
        pool: AtomicU64::new(0),
        record: Mutex::default(),
    })
}

/// Marks the calling thread as a worker of `pool` (once, when it starts),
/// for the starvation verdict of [`find_deadlocks`](super::find_deadlocks).
pub(crate) fn mark_worker(pool: u64) {
    if cfg!(loom) {
        return;
    }
    with_my_slot(|slot| slot.pool.store(pool, Relaxed));
}

/// Clears the thread's record when the wait ends, on the thread that
/// waited (so not `Send`: the slot is found again through the thread's
/// locals).
#[must_use]
pub(crate) struct WaitScope {
    recorded: bool,
    not_send: std::marker::PhantomData<*const ()>,
}

impl WaitScope {
    const NONE: WaitScope = WaitScope {
        recorded: false,
        not_send: std::marker::PhantomData,
    };
}

impl Drop for WaitScope {
    fn drop(&mut self) {
        if self.recorded {
            with_my_slot(|slot| {
                let mut stored = slot.record.lock();
                stored.record = None;
                #[cfg(feature = "debug-locks")]
                if !stored.held.is_empty() {
                    stored.held = Box::default();
                }
            });
        }
    }
}

/// Who holds an owned lock: the holder's ident, 0 when free. Kept by every
/// `Lock`, `RLock` and `Condition` with `debug-locks`, so that a thread dump
/// and `find_deadlocks` can say who holds what.
#[cfg(feature = "debug-locks")]
#[derive(Debug, Default)]
pub(crate) struct Owner(AtomicU64);

/// Set in an [`Owner`] word beside the holder's ident when the order
/// checker recorded the acquire (idents stay far below it).
pub(crate) const TRACKED: u64 = 1 << 63;

#[cfg(feature = "debug-locks")]
impl Owner {
    pub(crate) const fn new() -> Self {
        Owner(AtomicU64::new(0))
    }

    /// The calling thread now holds the lock; `tracked`: the order checker
    /// recorded the acquire (kept here as [`TRACKED`], so that the guard
    /// needs no word of its own for it).
    #[inline]
    pub(crate) fn set_current(&self, tracked: bool) {
        self.0
            .store(super::lock_order::owner_word(tracked), Relaxed);
    }

    /// The calling thread now holds the lock: `word` as
    /// [`owner_word`](super::lock_order::owner_word) gives it.
    #[inline]
    pub(crate) fn set_word(&self, word: u64) {
        self.0.store(word, Relaxed);
    }

    /// Whether somebody holds the lock (read when it is dropped).
    pub(crate) fn is_held(&mut self) -> bool {
        *self.0.get_mut() != 0
    }

    /// Nobody holds the lock now; returns whether the order checker had
    /// recorded the acquire. Only the holder writes the word while it holds
    /// the lock, so a load and a store do (no read-modify-write).
    #[inline]
    pub(crate) fn clear(&self) -> bool {
        let was = self.0.load(Relaxed);
        self.0.store(0, Relaxed);
        was & TRACKED != 0
    }

    /// For a waiter's record: whoever holds the lock while it waits.
    pub(crate) fn holder(&self) -> Holder {
        Holder::Live(&self.0)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The cost of one wait record (written before a thread parks, cleared
    /// when it wakes), in ns, against a park-free baseline: a measurement,
    /// not a check. `cargo test --release -p threadkit --lib
    /// wait_record_cost -- --ignored --nocapture` (add `--features
    /// debug-locks` for the held-lock list).
    #[test]
    #[ignore = "a measurement; run it by hand"]
    fn wait_record_cost() {
        const N: u32 = 200_000;
        let best = |f: &dyn Fn()| {
            (0..20)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..N {
                        f();
                    }
                    start.elapsed().as_nanos() as f64 / f64::from(N)
                })
                .fold(f64::INFINITY, f64::min)
        };
        let empty = best(&|| {
            std::hint::black_box(());
        });
        let event = best(&|| {
            drop(std::hint::black_box(enter(
                WaitKind::Event,
                WaitObject::Text(None),
                Deadline::Never,
                Holder::Unknown,
            )))
        });
        // A lock's record: its name as a dump will show it (with
        // `debug-locks`; a lock has none without).
        #[cfg(feature = "debug-locks")]
        let tag = super::super::lock_order::LockTag::new(
            super::super::tracking::LockKind::Lock,
            Some("a_lock"),
            std::panic::Location::caller(),
        );
        let named = best(&|| {
            #[cfg(feature = "debug-locks")]
            let object = WaitObject::Lock(&tag);
            #[cfg(not(feature = "debug-locks"))]
            let object = WaitObject::Text(None);
            drop(std::hint::black_box(enter(
                WaitKind::Lock,
                object,
                Deadline::Never,
                Holder::Unknown,
            )))
        });
        let clock = best(&|| {
            std::hint::black_box(Instant::now());
        });
        println!(
            "wait record: {:.1} ns (unnamed), {:.1} ns (named lock); `Instant::now` \
             alone {:.1} ns; loop {empty:.1} ns",
            event - empty,
            named - empty,
            clock - empty
        );
    }
}
