//! The hub: one per carrier OS thread, created by the first spawn on it. It
//! owns the green threads spawned there (a slot table), their ready queue,
//! a timer heap, a queue of wake-ups from other threads and the stack pool.
//!
//! The hub has no thread of its own: it runs whenever the carrier's own
//! code (the *root*, outside every green thread) waits in threadkit (a
//! `Greenlet::join`, [`crate::sleep`], any lock or queue wait, [`run`]):
//! the wait runs green threads until its own condition holds, as gevent's
//! main greenlet switches to the hub.
//!
//! [`run`]: super::run

use std::cell::{Cell, OnceCell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use super::board::HubBoard;
use super::overflow;
use super::raw::{self, RawGreen, Resume};
use super::stack::{GreenStack, StackPool};
use super::watchdog::{Published, Watch};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::thread::{self, Thread};
use crate::util::Deadline;

/// The slot number of the hub's root (the carrier's own code).
pub(crate) const ROOT: u32 = u32::MAX;

/// A wake-up (or kill) sent from another thread.
#[derive(Clone, Copy, Debug)]
struct Remote {
    slot: u32,
    generation: u32,
    kill: bool,
}

/// The part of a hub other threads reach. Never freed: a dropped hub's is
/// handed to the next hub made ([`SPARE`]), so that a [`GreenWaker`] is a
/// plain pointer, with no reference count to touch at every wait and
/// wake-up. A waker outliving its hub then reaches the next owner, which
/// drops its wake-up as it drops one for a finished green thread: the new
/// owner's slot generations start above every generation the old one
/// gave out (`Remotes::floor`); one for the root is a spurious wake-up.
#[derive(Debug)]
pub(crate) struct Shared {
    remote: Mutex<Remotes>,
    pending: AtomicBool,
}

/// A [`Shared`]'s locked part.
#[derive(Debug)]
struct Remotes {
    list: Vec<Remote>,
    /// The carrier of the hub owning it; `None` while it is spare.
    carrier: Option<Thread>,
    /// Above every slot generation its owners have given out.
    floor: u32,
}

/// The [`Shared`] parts of dropped hubs, for the next hubs made. Under
/// loom every model run makes its own (loom's objects live for one run, and
/// a static cannot hold its mutex), so nothing is spared there.
#[cfg(not(loom))]
static SPARE: Mutex<Vec<&'static Shared>> = Mutex::new(Vec::new());

impl Shared {
    /// A spare one taken over for the calling thread's new hub, or a new
    /// one; with the first slot generation the hub may give out.
    fn take_over() -> (&'static Shared, u32) {
        #[cfg(not(loom))]
        let spare = SPARE.lock().pop();
        #[cfg(loom)]
        let spare = None;
        let shared = spare.unwrap_or_else(|| {
            Box::leak(Box::new(Shared {
                remote: Mutex::new(Remotes {
                    list: Vec::new(),
                    carrier: None,
                    floor: 0,
                }),
                pending: AtomicBool::new(false),
            }))
        });
        let mut remotes = shared.remote.lock();
        remotes.list.clear();
        remotes.carrier = Some(thread::current());
        shared.pending.store(false, Ordering::Relaxed);
        let floor = remotes.floor;
        drop(remotes);
        (shared, floor)
    }

    /// Gives it up (its hub is dropped, having given out generations below
    /// `floor`) for the next hub made.
    fn hand_back(&'static self, floor: u32) {
        let mut remotes = self.remote.lock();
        remotes.list.clear();
        remotes.carrier = None;
        remotes.floor = remotes.floor.max(floor);
        drop(remotes);
        #[cfg(not(loom))]
        SPARE.lock().push(self);
    }

    fn push(&self, r: Remote) {
        let mut guard = self.remote.lock();
        let remotes = &mut *guard;
        if let Some(carrier) = &remotes.carrier {
            remotes.list.push(r);
            // Before the unpark: the carrier parks only while it reads
            // `pending` false.
            self.pending.store(true, Ordering::Release);
            carrier.unpark();
        }
    }
}

/// Who to wake: a green thread (slot and generation) of a hub, or its root.
/// A wake-up for a generation that has finished is dropped; one that comes
/// while the green thread runs or waits for something else is a spurious
/// wake-up, which every wait loop tolerates.
#[derive(Clone, Debug)]
pub(crate) struct GreenWaker {
    shared: &'static Shared,
    slot: u32,
    generation: u32,
}

impl GreenWaker {
    /// Schedules the green thread (or wakes the root) on its hub.
    pub(crate) fn wake(self) {
        self.send(false);
    }

    /// Kills the green thread: it unwinds at its next (or current) wait.
    pub(crate) fn kill(&self) {
        self.send(true);
    }

    fn send(&self, kill: bool) {
        let local = with(|hub| {
            let mine = std::ptr::eq(hub.shared, self.shared);
            if mine {
                hub.wake(self.slot, self.generation, kill);
            }
            mine
        });
        if local != Some(true) {
            self.shared.push(Remote {
                slot: self.slot,
                generation: self.generation,
                kill,
            });
        }
    }
}

/// What a green thread is, for `current()` and the overflow report.
#[derive(Debug)]
#[cfg_attr(any(loom, miri), allow(dead_code))] // no overflow report there
pub(crate) struct Meta {
    pub(crate) id: u64,
    pub(crate) name: Option<Arc<str>>,
    /// Its stack's address range, for the overflow handler; the guard
    /// page is the lowest page.
    pub(crate) stack: (usize, usize),
    /// Its `threading` record and `Local` token, made on first use
    /// ([`with_current_meta`]).
    pub(crate) thread: Option<crate::threading::ThreadHandle>,
    pub(crate) local_token: u64,
    /// Its open `with_timeout` scopes, outermost first: (token, deadline);
    /// boxed, made by the first one (most green threads have none): 8
    /// bytes in every slot rather than a `Vec`'s 24.
    #[allow(clippy::box_collection)]
    pub(crate) timeouts: Option<Box<Vec<(u64, Instant)>>>,
    /// Its wait record for thread dumps, made by its first recorded wait.
    pub(crate) wait_slot: Option<Arc<crate::debug::waits::Slot>>,
}

/// The handle side of a green thread, told when its hub gives it up
/// without running it to the end (the carrier thread exits with it still
/// suspended or never started): it then reports itself killed, so that
/// nobody waits for it forever.
pub(crate) trait Abandon {
    /// Marks the green thread finished (killed), waking its joiners.
    fn abandon(&self);

    /// Whether the hub may keep this state once its green thread has
    /// finished, for the next spawn in its slot to reuse
    /// ([`Hub::take_kept`]): dropping it later runs no user code, and it is
    /// small.
    fn keepable(&self) -> bool;

    /// Itself, for the next spawn to tell whether its type fits.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The parts of a slot that must stay put while the slot table grows, in
/// one allocation per slot, reused by its tenants: the green thread's
/// [`Meta`] (the overflow handler reads it while it runs), its coroutine
/// (resumed in place by [`Hub::dispatch_next`], with no move out of the table
/// and back per switch and without holding the table borrowed). Only the
/// carrier reaches it; what the watchdog thread reads is apart
/// ([`Slot::published`]).
struct Fixed {
    meta: Meta,
    co: Option<RawGreen>,
    /// While the slot is free: its last tenant's stack, kept for the next
    /// spawn here (slot and stack reused as one unit; see
    /// [`StackPool::keep`]). Here rather than in [`Slot`], whose size every
    /// index into the table multiplies by.
    stack: Option<GreenStack>,
    /// While the slot is free: its last tenant's handle state, if
    /// [`Abandon::keepable`], for the next spawn here to reuse once nobody
    /// else holds it (no allocation per spawn: see [`Hub::take_kept`]).
    kept: Option<Arc<dyn Abandon>>,
}

/// Owns a slot's [`Fixed`] part through a raw pointer, so that a `&mut
/// Slot` asserts nothing about it: while `dispatch_next` resumes the coroutine
/// through a pointer to `co`, the running green thread may borrow the
/// table (waking itself) or its own `meta` (`current_thread`), which are
/// other places. Only the hub's carrier touches `meta` and `co`, and `co`
/// only through `dispatch_next` while it is resumed (only the root dispatches,
/// and a slot is emptied only after its resume returns).
struct FixedBox(std::ptr::NonNull<Fixed>);

impl FixedBox {
    fn new() -> FixedBox {
        let fixed = Box::new(Fixed {
            meta: Meta {
                id: 0,
                name: None,
                stack: (0, 0),
                thread: None,
                local_token: 0,
                timeouts: None,
                wait_slot: None,
            },
            co: None,
            stack: None,
            kept: None,
        });
        FixedBox(std::ptr::NonNull::from(Box::leak(fixed)))
    }

    fn meta(&self) -> &Meta {
        // SAFETY: our allocation; a field projection, so it does not
        // overlap the pointer `dispatch_next` may hold to `co`.
        unsafe { &(*self.0.as_ptr()).meta }
    }

    fn meta_mut(&mut self) -> &mut Meta {
        // SAFETY: as in `meta`; `&mut self` makes it the only one.
        unsafe { &mut (*self.0.as_ptr()).meta }
    }

    /// The stack kept while the slot is free.
    fn stack_mut(&mut self) -> &mut Option<GreenStack> {
        // SAFETY: as in `meta_mut`: a field of our allocation that
        // `dispatch_next` never points at.
        unsafe { &mut (*self.0.as_ptr()).stack }
    }

    /// The handle state kept while the slot is free.
    fn kept_mut(&mut self) -> &mut Option<Arc<dyn Abandon>> {
        // SAFETY: as in `meta_mut`: a field of our allocation that
        // `dispatch_next` never points at.
        unsafe { &mut (*self.0.as_ptr()).kept }
    }

    fn meta_ptr(&self) -> *const Meta {
        // SAFETY: a field address in our allocation.
        unsafe { &raw const (*self.0.as_ptr()).meta }
    }

    fn co_ptr(&self) -> *mut Option<RawGreen> {
        // SAFETY: a field address in our allocation.
        unsafe { &raw mut (*self.0.as_ptr()).co }
    }

    /// The coroutine, taken out (never while it is being resumed).
    fn take_co(&mut self) -> Option<RawGreen> {
        // SAFETY: our allocation; nothing else refers to `co` now (see the
        // type's docs).
        unsafe { (*self.co_ptr()).take() }
    }

    fn set_co(&mut self, co: RawGreen) {
        // SAFETY: as in `take_co`; the slot is free, so `co` is empty.
        unsafe { *self.co_ptr() = Some(co) }
    }
}

impl Drop for FixedBox {
    fn drop(&mut self) {
        // SAFETY: made by `Box::leak` in `new`, freed only here. Whoever
        // drops a slot has taken out (or leaked) its coroutine first.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

struct Slot {
    generation: u32,
    scheduled: bool,
    kill: bool,
    /// The earliest deadline of its open `with_timeout` scopes: past it,
    /// its waits end as if killed, and it unwinds with the timeout.
    timeout_at: Option<Instant>,
    /// Inside [`uninterruptible`]: kills and `with_timeout` expiries are
    /// held back (they stay pending in `kill` and `timeout_at`).
    shielded: bool,
    /// Whether a green thread (of `generation`) occupies the slot.
    alive: bool,
    /// Its meta and coroutine, which stay put.
    fixed: FixedBox,
    /// What the watchdog thread reads of it, shared with the hub's
    /// [`Watch`] (never replaced: see [`Hub::running`]).
    published: Arc<Published>,
    owner: Option<Arc<dyn Abandon>>,
    /// The locks it holds while switched out (lock-order checking).
    #[cfg(feature = "debug-locks")]
    held: crate::debug::lock_order::HeldStack,
}

impl Slot {
    /// Whether its next wait must end at once: killed, or past the
    /// deadline of a `with_timeout` scope, and not shielded from either.
    #[inline]
    fn interrupted(&self) -> bool {
        (self.kill || self.timeout_at.is_some_and(|at| Instant::now() >= at)) && !self.shielded
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("generation", &self.generation)
            .field("alive", &self.alive)
            .field("meta", self.fixed.meta())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Inner {
    slots: Vec<Slot>,
    free: Vec<u32>,
    ready: Ready,
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    stacks: StackPool,
}

/// How many times in a row the hub may run a green thread from the
/// hand-off slot ([`Ready::next`]) before it serves its queue again.
const HANDOFF_LIMIT: u32 = 16;

/// The green threads ready to run: a first-come, first-served queue, and
/// a hand-off slot in front of it (Go's `runnext`) for the green thread
/// that the running one woke first. A green thread that wakes another and
/// then waits (a queue ping-pong, a lock handed over) has it run next,
/// while its data is still in cache, rather than behind everything ready.
///
/// Fairness: only the first wake-up a running green thread makes goes to
/// the slot (the slot is empty then), later ones queue up behind the
/// others, so green threads woken together run in the order they were
/// woken, and the queue keeps its own order. The slot does not start a
/// new turn: after [`HANDOFF_LIMIT`] green threads run from it in a row,
/// wake-ups queue up until the hub has run one from the queue, so a pair
/// handing over to each other cannot starve the rest (Go's `runnext`
/// inherits the time slice for the same reason).
#[derive(Debug, Default)]
struct Ready {
    /// The hand-off slot.
    next: Option<u32>,
    queue: VecDeque<u32>,
    /// How many green threads in a row ran from `next`.
    handoffs: u32,
}

impl Ready {
    /// Queues `slot` at the back.
    #[inline]
    fn push_back(&mut self, slot: u32) {
        self.queue.push_back(slot);
    }

    /// Queues `slot`, woken by the running green thread: into the
    /// hand-off slot if it is free and the turn allows one more.
    #[inline]
    fn push_woken(&mut self, slot: u32) {
        if self.next.is_none() && self.handoffs < HANDOFF_LIMIT {
            self.next = Some(slot);
        } else {
            self.queue.push_back(slot);
        }
    }

    /// The green thread to run next.
    #[inline]
    fn pop_front(&mut self) -> Option<u32> {
        if let Some(slot) = self.next.take() {
            self.handoffs += 1;
            return Some(slot);
        }
        self.handoffs = 0;
        self.queue.pop_front()
    }

    /// Moves a green thread from the hand-off slot to the back of the
    /// queue: the one that woke it has finished rather than waiting for it
    /// (a joiner woken by the green thread it joined runs after the rest,
    /// most of which it would join next).
    #[inline]
    fn no_handoff(&mut self) {
        if let Some(slot) = self.next.take() {
            self.queue.push_back(slot);
        }
    }

    fn len(&self) -> usize {
        self.queue.len() + usize::from(self.next.is_some())
    }

    fn is_empty(&self) -> bool {
        self.next.is_none() && self.queue.is_empty()
    }
}

/// One carrier's hub (see the module docs).
#[derive(Debug)]
pub(crate) struct Hub {
    shared: &'static Shared,
    /// The generation of a new slot (see [`Shared`]).
    floor: u32,
    inner: RefCell<Inner>,
    /// The running green thread's slot, or [`ROOT`].
    current: Cell<u32>,
    /// Which of the root's nested waits were woken: one bit per depth
    /// ([`root_bit`]). A root wait can nest in another (a destructor the
    /// hub runs waits), and each keeps its own wake-up.
    root_woken: Cell<u64>,
    /// How many root waits are running the hub now, one inside another.
    root_depth: Cell<u32>,
    live: Cell<usize>,
    /// How many green threads have a `with_timeout` deadline set: while
    /// none has, a resumed wait skips the clock.
    timing: Cell<usize>,
    spare: RefCell<Vec<Remote>>,
    /// Switches so far, and what the watchdog samples.
    switches: Cell<u64>,
    watch: Arc<Watch>,
    /// The watchdog record of the green thread last switched in: the
    /// `published` of a slot, which the slot table holds while the hub
    /// lives (slots are never removed, nor their records replaced).
    running: Cell<*const Published>,
    /// What thread dumps see of this hub.
    board: Arc<HubBoard>,
    /// Green-thread ids for this hub's spawns: the next one and the end of
    /// the block taken from [`NEXT_ID`] (no atomic read-modify-write per
    /// spawn).
    ids: Cell<(u64, u64)>,
}

#[cfg(not(any(loom, miri)))]
thread_local! {
    static HUB: OnceCell<Owned> = const { OnceCell::new() };
    /// The same hub as a plain pointer (null while there is none): a
    /// const-initialised thread-local without destructor, so reading it is
    /// one load on the switch and wait paths (`HUB` has a destructor, whose
    /// registration state every access would check). Set when the hub is
    /// made, cleared first thing when it is dropped.
    static HUB_PTR: Cell<*const Hub> = const { Cell::new(std::ptr::null()) };
}
#[cfg(any(loom, miri))]
super::raw::carrier_local! {
    static HUB: OnceCell<Owned> = OnceCell::new();
}

/// The thread-local's hold on its hub, which closes the hub when the
/// carrier thread ends ([`Hub::close`]).
#[derive(Debug)]
struct Owned(Rc<Hub>);

impl Drop for Owned {
    fn drop(&mut self) {
        if self.0.close() {
            // Green threads left suspended on leaked stacks may be inside
            // a call on the hub, holding `&Hub` for good: the hub is
            // leaked with them, never freed under them (soundness rule 3).
            std::mem::forget(Rc::clone(&self.0));
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A new green-thread id, unique in the process.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// How many ids a hub takes from [`NEXT_ID`] at a time.
const ID_BLOCK: u64 = 1024;

/// The bit of [`Hub::root_woken`] for a root wait at `depth` (the
/// deepest levels share the last bit: past 63 nested waits, a wake-up of
/// one of those may end another's wait early, as a spurious one).
#[inline]
fn root_bit(depth: u32) -> u64 {
    1 << depth.min(63)
}

/// What ended a green park.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parked {
    /// Woken (perhaps spuriously).
    Woken,
    /// The deadline passed.
    TimedOut,
    /// The green thread was killed: the caller cleans up and unwinds
    /// ([`super::unwind_killed`]).
    Killed,
}

/// This thread's hub, if it has one.
pub(crate) fn get() -> Option<Rc<Hub>> {
    HUB.try_with(|h| h.get().map(|h| Rc::clone(&h.0)))
        .ok()
        .flatten()
}

/// Runs `f` on this thread's hub, if it has one (no reference count
/// touched: the fast path of yields and waits).
#[cfg(not(any(loom, miri)))]
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Hub) -> R) -> Option<R> {
    let hub = HUB_PTR.with(Cell::get);
    if hub.is_null() {
        return None;
    }
    // SAFETY: HUB_PTR points at this thread's hub from when `HUB` holds it
    // until the hub is closed (which clears it first thing), so the hub is
    // alive; a closed hub that may still be in use is leaked, not freed.
    Some(f(unsafe { &*hub }))
}

/// Runs `f` on this thread's hub, if it has one. (The baton backend's
/// `HUB` is read from the green threads' own OS threads too; no reference
/// into the thread-local is held while `f` runs, only one to the hub.)
#[cfg(any(loom, miri))]
pub(crate) fn with<R>(f: impl FnOnce(&Hub) -> R) -> Option<R> {
    let hub = HUB
        .try_with(|h| h.get().map(|h| Rc::as_ptr(&h.0)))
        .ok()
        .flatten()?;
    // SAFETY: the hub `HUB` holds; it is freed only by `HUB`'s destructor
    // on its carrier, and a hub that still has suspended green threads
    // (which may be inside `f`) is leaked instead (see `Owned`).
    Some(f(unsafe { &*hub }))
}

/// Runs `f` on this thread's hub, made on first use (no reference count
/// touched once it exists: the spawn path).
#[inline]
pub(crate) fn with_or_make<R>(f: impl FnOnce(&Hub) -> R) -> R {
    #[cfg(not(any(loom, miri)))]
    {
        let hub = HUB_PTR.with(Cell::get);
        if !hub.is_null() {
            // SAFETY: as in `with`: HUB_PTR points at this thread's live
            // hub while it is set.
            return f(unsafe { &*hub });
        }
    }
    f(&get_or_make())
}

/// Runs `f` with this thread's hub hidden from [`with`] (so from every
/// wait: the caller waits as a plain thread), for
/// [`on_carrier_stack`](super::on_carrier_stack).
#[cfg(not(any(loom, miri)))]
pub(crate) fn hidden<R>(f: impl FnOnce() -> R) -> R {
    /// Shows the hub again, also when `f` panics.
    struct Show(*const Hub);
    impl Drop for Show {
        fn drop(&mut self) {
            let _ = HUB_PTR.try_with(|p| p.set(self.0));
        }
    }
    let _show = Show(HUB_PTR.with(|p| p.replace(std::ptr::null())));
    f()
}

/// This thread's hub, made on first use.
pub(crate) fn get_or_make() -> Rc<Hub> {
    HUB.with(|h| {
        h.get_or_init(|| {
            overflow::install();
            let (shared, floor) = Shared::take_over();
            let hub = Rc::new(Hub {
                shared,
                floor,
                inner: RefCell::default(),
                current: Cell::new(ROOT),
                root_woken: Cell::new(0),
                root_depth: Cell::new(0),
                live: Cell::new(0),
                timing: Cell::new(0),
                spare: RefCell::default(),
                switches: Cell::new(0),
                watch: Watch::new(),
                running: Cell::new(std::ptr::null()),
                board: HubBoard::new(),
                ids: Cell::new((0, 0)),
            });
            #[cfg(not(any(loom, miri)))]
            HUB_PTR.with(|p| p.set(Rc::as_ptr(&hub)));
            Owned(hub)
        })
        .0
        .clone()
    })
}

/// The waker of the calling green thread, or of this thread's root if its
/// hub has green threads (its waits must run them); `None` for a plain
/// thread. The waiting core registers this instead of a parked thread.
#[inline]
pub(crate) fn sleeper() -> Option<GreenWaker> {
    with(|hub| {
        let slot = hub.current.get();
        if slot == ROOT && hub.live.get() == 0 {
            return None;
        }
        // The root's generation is the depth of the wait registering it.
        let generation = if slot == ROOT {
            hub.root_depth.get()
        } else {
            hub.inner.borrow().slots[slot as usize].generation
        };
        Some(GreenWaker {
            shared: hub.shared,
            slot,
            generation,
        })
    })
    .flatten()
}

/// Waits as the registered green sleeper (see [`sleeper`]) until woken or
/// `deadline`: suspends the calling green thread, or runs the hub from the
/// root.
pub(crate) fn park(deadline: Deadline) -> Parked {
    with(|hub| hub.park(deadline)).unwrap_or(Parked::TimedOut)
}

impl Hub {
    /// Starts a green thread running `body` on a stack of `stack_size`;
    /// its spawn site is the caller's. (`Builder` calls
    /// [`spawn_at`](Self::spawn_at) with its own caller's site.)
    #[track_caller]
    #[allow(dead_code)] // the entry point kept for placing green threads on a hub
    pub(crate) fn spawn(
        &self,
        id: u64,
        name: Option<Arc<str>>,
        stack_size: usize,
        owner: Arc<dyn Abandon>,
        body: impl FnOnce(Resume) + 'static,
    ) -> io::Result<GreenWaker> {
        self.spawn_at(
            id,
            name,
            stack_size,
            owner,
            std::panic::Location::caller(),
            body,
        )
    }

    /// [`spawn`](Self::spawn) with the spawn site the watchdog reports.
    pub(crate) fn spawn_at(
        &self,
        id: u64,
        name: Option<Arc<str>>,
        stack_size: usize,
        owner: Arc<dyn Abandon>,
        site: &'static std::panic::Location<'static>,
        body: impl FnOnce(Resume) + 'static,
    ) -> io::Result<GreenWaker> {
        let mut guard = self.inner.borrow_mut();
        let inner = &mut *guard;
        let slot = match inner.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = u32::try_from(inner.slots.len())
                    .ok()
                    .filter(|&s| s != ROOT)
                    .ok_or_else(|| io::Error::other("too many green threads on one hub"))?;
                inner.slots.push(Slot {
                    generation: self.floor,
                    scheduled: false,
                    kill: false,
                    timeout_at: None,
                    shielded: false,
                    alive: false,
                    fixed: FixedBox::new(),
                    published: self.watch.record(slot),
                    owner: None,
                    #[cfg(feature = "debug-locks")]
                    held: Default::default(),
                });
                slot
            }
        };
        let s = &mut inner.slots[slot as usize];
        let stack = match inner.stacks.take_for(stack_size, s.fixed.stack_mut()) {
            Ok(stack) => stack,
            Err(e) => {
                inner.free.push(slot);
                return Err(e);
            }
        };
        let published_name = name.clone();
        // The slot's meta was cleared by `finish` (or never used): set
        // field by field, with nothing to drop.
        let meta = s.fixed.meta_mut();
        meta.id = id;
        meta.name = name;
        meta.stack = stack.range();
        meta.local_token = 0;
        debug_assert!(meta.thread.is_none() && meta.timeouts.is_none());
        debug_assert!(meta.wait_slot.is_none());
        s.fixed.set_co(RawGreen::new(stack, body));
        s.scheduled = true;
        s.kill = false;
        s.timeout_at = None;
        s.alive = true;
        s.owner = Some(owner);
        s.published.spawned(id, site, &published_name);
        let generation = s.generation;
        inner.ready.push_back(slot);
        self.live.set(self.live.get() + 1);
        self.watch.set_live(self.live.get());
        self.board.set_live(self.live.get());
        Ok(GreenWaker {
            shared: self.shared,
            slot,
            generation,
        })
    }

    /// The handle state kept by the slot the next spawn here takes (its
    /// last tenant's, see [`Abandon::keepable`]), for that spawn to reuse
    /// if its type fits and nobody else holds it any more.
    #[inline]
    pub(crate) fn take_kept(&self) -> Option<Arc<dyn Abandon>> {
        let mut inner = self.inner.borrow_mut();
        let slot = *inner.free.last()?;
        inner.slots[slot as usize].fixed.kept_mut().take()
    }

    /// A new green-thread id, unique in the process ([`next_id`]), from
    /// this hub's block.
    #[inline]
    pub(crate) fn next_id(&self) -> u64 {
        let (next, end) = self.ids.get();
        if next < end {
            self.ids.set((next + 1, end));
            return next;
        }
        let first = NEXT_ID.fetch_add(ID_BLOCK, Ordering::Relaxed);
        self.ids.set((first + 1, first + ID_BLOCK));
        first
    }

    /// Schedules (and with `kill`, marks killed) a green thread of this hub:
    /// woken by a running green thread, into the hand-off slot ([`Ready`]).
    fn wake(&self, slot: u32, generation: u32, kill: bool) {
        if slot == ROOT {
            self.root_woken
                .set(self.root_woken.get() | root_bit(generation));
            return;
        }
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let Some(s) = inner.slots.get_mut(slot as usize) else {
            return;
        };
        if s.generation != generation || !s.alive {
            return;
        }
        s.kill |= kill;
        if !s.scheduled {
            s.scheduled = true;
            if self.current.get() == ROOT {
                inner.ready.push_back(slot);
            } else {
                // A green thread wakes it, and most likely waits next.
                inner.ready.push_woken(slot);
            }
        }
    }

    /// The running green thread's id and name; `None` in the root.
    pub(crate) fn current(&self) -> Option<(u64, Option<Arc<str>>)> {
        let slot = self.current.get();
        if slot == ROOT {
            return None;
        }
        let inner = self.inner.borrow();
        let s = &inner.slots[slot as usize];
        s.alive
            .then(|| (s.fixed.meta().id, s.fixed.meta().name.clone()))
    }

    /// Whether green thread `slot` holds kills back now ([`uninterruptible`]).
    #[cold]
    #[inline(never)]
    fn shielded(&self, slot: u32) -> bool {
        self.inner.borrow().slots[slot as usize].shielded
    }

    /// Whether green thread `slot`, just resumed, is past the deadline of
    /// one of its `with_timeout` scopes (out of line: rare).
    #[inline]
    fn timed_out(&self, slot: u32) -> bool {
        if self.timing.get() == 0 {
            return false;
        }
        let inner = self.inner.borrow();
        inner.slots[slot as usize]
            .timeout_at
            .is_some_and(|at| Instant::now() >= at)
    }

    /// How many green threads of this hub have not finished.
    pub(crate) fn live(&self) -> usize {
        self.live.get()
    }

    fn park(&self, deadline: Deadline) -> Parked {
        let slot = self.current.get();
        if slot == ROOT {
            return self.run_root(deadline);
        }
        if self.inner.borrow().slots[slot as usize].interrupted() {
            return Parked::Killed;
        }
        match deadline {
            Deadline::Now => return Parked::TimedOut,
            Deadline::Never => {}
            Deadline::At(at) => {
                let mut inner = self.inner.borrow_mut();
                let generation = inner.slots[slot as usize].generation;
                inner.timers.push(Reverse((at, slot, generation)));
            }
        }
        if (raw::suspend() == Resume::Kill || self.timed_out(slot)) && !self.shielded(slot) {
            return Parked::Killed;
        }
        match deadline {
            Deadline::At(at) if Instant::now() >= at => Parked::TimedOut,
            _ => Parked::Woken,
        }
    }

    /// Python's `sleep(0)` in a green thread: goes to the back of the ready
    /// queue. In the root: runs what is ready once.
    #[inline]
    pub(crate) fn yield_now(&self) -> Parked {
        let slot = self.current.get();
        if slot == ROOT {
            let n = self.inner.borrow().ready.len();
            for _ in 0..n {
                if !self.dispatch_next() {
                    break;
                }
            }
            self.idle();
            self.poll_events();
            return Parked::Woken;
        }
        {
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            let s = &mut inner.slots[slot as usize];
            if s.interrupted() {
                return Parked::Killed;
            }
            if !s.scheduled {
                s.scheduled = true;
                inner.ready.push_back(slot);
            }
        }
        match raw::suspend() {
            Resume::Kill if !self.shielded(slot) => Parked::Killed,
            Resume::Run if self.timed_out(slot) && !self.shielded(slot) => Parked::Killed,
            _ => Parked::Woken,
        }
    }

    /// Runs the next ready green thread until it suspends or finishes;
    /// `false` if none was ready. (Taken off the ready queue under the same
    /// borrow of the hub that switches it in.)
    #[inline]
    fn dispatch_next(&self) -> bool {
        #[cfg(feature = "debug-locks")]
        let mut held;
        let (slot, co, input, meta) = {
            let mut inner = self.inner.borrow_mut();
            let Some(slot) = inner.ready.pop_front() else {
                return false;
            };
            let s = &mut inner.slots[slot as usize];
            s.scheduled = false;
            let co = s.fixed.co_ptr();
            // SAFETY: the slot's own `co` (see `FixedBox`); only read here.
            if unsafe { (*co).is_none() } {
                return true;
            }
            #[cfg(feature = "debug-locks")]
            {
                held = std::mem::take(&mut s.held);
            }
            let input = if s.kill { Resume::Kill } else { Resume::Run };
            let meta = s.fixed.meta_ptr();
            self.running.set(Arc::as_ptr(&s.published));
            let switches = self.switches.get() + 1;
            self.switches.set(switches);
            // The root marks the hub idle for the watchdog once it stops
            // dispatching (`idle`), not after every switch.
            self.watch.switch_in(switches, slot);
            (slot, co, input, meta)
        };
        // The held-lock list is the green thread's while it runs.
        #[cfg(feature = "debug-locks")]
        crate::debug::lock_order::swap_held(&mut held);
        self.current.set(slot);
        let prev = overflow::enter(meta);
        // SAFETY: `co` stays put while the table grows and is not touched
        // by anyone else while its coroutine runs (see `FixedBox`): only
        // the root dispatches, and a slot is emptied only by `finish`
        // below, after this resume.
        let finished = unsafe { (*co).as_mut().is_some_and(|co| co.resume(input)) };
        overflow::enter(prev);
        self.current.set(ROOT);
        #[cfg(feature = "debug-locks")]
        crate::debug::lock_order::swap_held(&mut held);
        #[cfg(feature = "debug-locks")]
        if !finished {
            self.inner.borrow_mut().slots[slot as usize].held = held;
        }
        if finished {
            self.finish(slot);
        }
        true
    }

    /// Frees a finished green thread's slot and stack (out of line: the
    /// switch path stays small).
    #[inline(never)]
    fn finish(&self, slot: u32) {
        let mut guard = self.inner.borrow_mut();
        let inner = &mut *guard;
        inner.ready.no_handoff();
        let s = &mut inner.slots[slot as usize];
        if let Some(co) = s.fixed.take_co() {
            inner.stacks.keep(co.into_stack(), s.fixed.stack_mut());
        }
        s.generation = s.generation.wrapping_add(1);
        s.kill = false;
        s.shielded = false;
        if s.timeout_at.take().is_some() {
            self.timing.set(self.timing.get() - 1);
        }
        s.fixed.meta_mut().timeouts = None;
        s.alive = false;
        let meta = s.fixed.meta_mut();
        meta.name = None;
        let thread = meta.thread.take();
        let wait_slot = meta.wait_slot.take();
        // Dropped once the hub is no longer borrowed: the last
        // reference drops the green thread's value, which is user code.
        let owner = s.owner.take();
        inner.free.push(slot);
        self.live.set(self.live.get() - 1);
        self.watch.set_live(self.live.get());
        self.board.set_live(self.live.get());
        drop(guard);
        drop(wait_slot);
        if let Some(thread) = thread {
            thread.set_finished(None);
        }
        if let Some(owner) = owner.filter(|o| o.keepable()) {
            // Nothing of it runs user code when dropped: kept in the slot,
            // as its stack is (a tenant of the slot since dropped it).
            let old = self.inner.borrow_mut().slots[slot as usize]
                .fixed
                .kept_mut()
                .replace(owner);
            drop(old);
        }
    }

    /// Applies wake-ups from other threads and fires due timers.
    fn poll_events(&self) {
        if self.shared.pending.swap(false, Ordering::Acquire) {
            let mut batch = std::mem::take(&mut *self.spare.borrow_mut());
            std::mem::swap(&mut self.shared.remote.lock().list, &mut batch);
            for r in batch.drain(..) {
                self.wake(r.slot, r.generation, r.kill);
            }
            *self.spare.borrow_mut() = batch;
        }
        let due = {
            let inner = self.inner.borrow();
            inner.timers.peek().map(|Reverse((at, _, _))| *at)
        };
        if let Some(first) = due {
            let now = Instant::now();
            if first <= now {
                loop {
                    let next = {
                        let mut inner = self.inner.borrow_mut();
                        match inner.timers.peek() {
                            Some(Reverse((at, slot, generation))) if *at <= now => {
                                let (slot, generation) = (*slot, *generation);
                                inner.timers.pop();
                                Some((slot, generation))
                            }
                            _ => None,
                        }
                    };
                    match next {
                        Some((slot, generation)) => self.wake(slot, generation, false),
                        None => break,
                    }
                }
            }
        }
    }

    /// The hub loop, run by the root while it waits: runs green threads
    /// until the root is woken or `deadline` passes.
    fn run_root(&self, deadline: Deadline) -> Parked {
        /// Ends a root wait's level, also if a destructor run by the hub
        /// panics through it.
        struct Level<'a>(&'a Cell<u32>, u32);
        impl Drop for Level<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        let depth = self.root_depth.get();
        let _level = Level(&self.root_depth, depth);
        self.root_depth.set(depth.saturating_add(1));
        let parked = self.run_root_until(deadline, root_bit(depth));
        self.idle();
        parked
    }

    /// Tells the watchdog that the root no longer runs green threads (it
    /// returns to its own code, or sleeps until there is work).
    #[inline]
    fn idle(&self) {
        self.watch.switch_out();
    }

    fn run_root_until(&self, deadline: Deadline, bit: u64) -> Parked {
        let mut dispatched = 0u32;
        loop {
            let woken = self.root_woken.get();
            if woken & bit != 0 {
                self.root_woken.set(woken & !bit);
                return Parked::Woken;
            }
            if self.dispatch_next() {
                dispatched = dispatched.wrapping_add(1);
                if dispatched % 64 == 0 {
                    self.poll_events();
                }
                continue;
            }
            self.poll_events();
            if self.root_woken.get() & bit != 0 || !self.inner.borrow().ready.is_empty() {
                continue;
            }
            let timer = {
                let inner = self.inner.borrow();
                inner.timers.peek().map(|Reverse((at, _, _))| *at)
            };
            let until = match (deadline, timer) {
                (Deadline::Now, _) => return Parked::TimedOut,
                (Deadline::At(at), _) if Instant::now() >= at => return Parked::TimedOut,
                (Deadline::At(at), Some(t)) => Some(at.min(t)),
                (Deadline::At(at), None) => Some(at),
                (Deadline::Never, t) => t,
            };
            // A remote wake-up unparks the carrier; a token left from an
            // earlier one only costs a spurious turn of this loop.
            if !self.shared.pending.load(Ordering::Acquire) {
                self.idle();
                match until {
                    Some(at) => {
                        let now = Instant::now();
                        if at > now {
                            thread::park_timeout(at - now);
                        }
                    }
                    None => thread::park(),
                }
            }
        }
    }

    /// Kills every green thread of this hub and runs them until they have
    /// unwound. One that keeps waiting after its kill is given a few more
    /// turns, then leaked with its stack (never freed while suspended).
    pub(crate) fn kill_all(&self) {
        for _round in 0..8 {
            if self.live.get() == 0 {
                return;
            }
            let targets: Vec<(u32, u32)> = {
                let inner = self.inner.borrow();
                inner
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.alive)
                    .map(|(i, s)| (i as u32, s.generation))
                    .collect()
            };
            for (slot, generation) in targets {
                self.wake(slot, generation, true);
            }
            while self.dispatch_next() {}
            self.idle();
        }
    }
}

impl Hub {
    /// Closes the hub as its carrier's thread-locals are destroyed: a bare
    /// thread ending with green threads still suspended leaks their stacks
    /// rather than unwinding them then, and reports them killed. Whether
    /// any was left suspended: then the hub must be leaked too (see
    /// [`Owned`]). Only `&self`: a suspended green thread may hold one.
    fn close(&self) -> bool {
        // Gone for `with` before anything below can call back into it.
        #[cfg(not(any(loom, miri)))]
        let _ = HUB_PTR.try_with(|p| {
            if std::ptr::eq(p.get(), self) {
                p.set(std::ptr::null());
            }
        });
        self.watch.retire();
        let mut leaked = false;
        let mut floor = self.floor;
        let owners: Vec<Arc<dyn Abandon>> = {
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            let mut owners = Vec::new();
            for s in &mut inner.slots {
                floor = floor.max(s.generation.wrapping_add(1));
                if let Some(co) = s.fixed.take_co() {
                    leaked |= co.leak();
                }
                // A free slot's kept stack has nothing on it either, and
                // its kept handle state runs no user code when dropped.
                drop(s.fixed.stack_mut().take());
                drop(s.fixed.kept_mut().take());
                owners.extend(s.owner.take());
            }
            // Pooled stacks have nothing on them: freed even if the hub
            // is leaked.
            let _ = std::mem::take(&mut inner.stacks);
            owners
        };
        for owner in owners {
            owner.abandon();
        }
        // Last: the abandoned green threads' joiners may have woken one of
        // ours (into the list, which the next owner clears). The shared part
        // outlives a leaked hub too: its green threads' wakers may still
        // fire, and the next owner drops them by generation.
        self.shared.hand_back(floor);
        leaked
    }
}

/// Runs `f` on the running green thread's [`Meta`]; `None` outside green
/// threads (one thread-local read).
#[inline]
pub(crate) fn with_current_meta<R>(f: impl FnOnce(&mut Meta) -> R) -> Option<R> {
    if !raw::in_green() {
        return None;
    }
    with(|hub| {
        let slot = hub.current.get();
        if slot == ROOT {
            return None;
        }
        let mut inner = hub.inner.borrow_mut();
        let s = inner.slots.get_mut(slot as usize)?;
        s.alive.then(|| f(s.fixed.meta_mut()))
    })
    .flatten()
}

/// Notes `at` as where the running green thread waits, for the watchdog's
/// reports (nothing in the root or on a plain thread).
#[inline]
pub(crate) fn note_wait(at: &'static std::panic::Location<'static>) {
    with(|hub| hub.note_wait(at));
}

impl Hub {
    /// [`note_wait`] on this hub.
    #[inline]
    pub(crate) fn note_wait(&self, at: &'static std::panic::Location<'static>) {
        if self.current.get() != ROOT {
            // SAFETY: a green thread runs, so `running` was set when it was
            // switched in, to a record its slot holds while the hub lives.
            unsafe { (*self.running.get()).waits_at(at) };
        }
    }
}

/// Whether the caller is a green thread, or a root whose hub has green
/// threads to run while it waits.
pub(crate) fn active() -> bool {
    raw::in_green() || with(|h| h.live() > 0).unwrap_or(false)
}

/// Sets the running green thread's earliest `with_timeout` deadline (and a
/// timer that wakes it then); `false` outside green threads.
pub(crate) fn set_timeout_at(at: Option<Instant>) -> bool {
    if !raw::in_green() {
        return false;
    }
    with(|hub| {
        let slot = hub.current.get();
        if slot == ROOT {
            return false;
        }
        let mut inner = hub.inner.borrow_mut();
        let inner = &mut *inner;
        let s = &mut inner.slots[slot as usize];
        match (s.timeout_at.is_some(), at.is_some()) {
            (false, true) => hub.timing.set(hub.timing.get() + 1),
            (true, false) => hub.timing.set(hub.timing.get() - 1),
            _ => {}
        }
        s.timeout_at = at;
        if let Some(at) = at {
            let generation = s.generation;
            inner.timers.push(Reverse((at, slot, generation)));
        }
        true
    })
    .unwrap_or(false)
}

/// Runs `f` with the running green thread's kills and `with_timeout`
/// expiries held back: its waits in `f` end only when woken or at their
/// own deadline, and a kill (or expiry) stays pending for its first wait
/// after `f`. For what a killed green thread must finish before it unwinds
/// further (taking a lock back). Outside green threads it just runs `f`.
pub(crate) fn uninterruptible<R>(f: impl FnOnce() -> R) -> R {
    /// Puts the previous shield back, also when `f` unwinds.
    struct Restore(u32, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let Restore(slot, was) = *self;
            with(|hub| hub.inner.borrow_mut().slots[slot as usize].shielded = was);
        }
    }
    let shield = if raw::in_green() {
        with(|hub| {
            let slot = hub.current.get();
            (slot != ROOT).then(|| {
                let mut inner = hub.inner.borrow_mut();
                let was = std::mem::replace(&mut inner.slots[slot as usize].shielded, true);
                Restore(slot, was)
            })
        })
        .flatten()
    } else {
        None
    };
    let result = f();
    drop(shield);
    result
}

/// Whether the running green thread was killed (not merely timed out).
pub(crate) fn current_killed() -> bool {
    with(|hub| {
        let slot = hub.current.get();
        slot != ROOT && hub.inner.borrow().slots[slot as usize].kill
    })
    .unwrap_or(false)
}

/// The running green thread's wait record for thread dumps, made on first
/// use and listed on its hub's board; `None` outside green threads.
pub(crate) fn wait_slot() -> Option<Arc<crate::debug::waits::Slot>> {
    let (made, id, name) =
        with_current_meta(|meta| (meta.wait_slot.clone(), meta.id, meta.name.clone()))?;
    if made.is_some() {
        return made;
    }
    // Made outside the hub's borrow: it reads the green thread's ident.
    let board = with(|hub| Arc::clone(&hub.board))?;
    let slot = board.slot(id, name);
    with_current_meta(|meta| meta.wait_slot = Some(Arc::clone(&slot)));
    Some(slot)
}
