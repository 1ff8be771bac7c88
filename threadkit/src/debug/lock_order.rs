//! Potential deadlocks found from the order in which locks are taken
//! (cargo feature `debug-locks`), reported before anything blocks.
//!
//! Every thread keeps a short list of the locks it holds. A blocking acquire
//! of lock B while holding A records the order "A before B" as an edge of
//! one graph shared by all threads. The first acquire whose edge would close
//! a cycle (B already reaches A through edges other threads recorded) is a
//! lock-order inversion: two threads running those paths at the same time
//! can deadlock, even if this run never does. It is reported once per pair
//! of locks, before the thread blocks.
//!
//! The rules are Linux lockdep's:
//! - a successful try-acquire adds no edge *into* the lock (try-acquires can
//!   be taken in any order), but the lock is recorded as held, so a later
//!   blocking acquire gets an edge *from* it. A timed acquire counts as a
//!   try unless [`set_timed_acquires_block`] says otherwise, since "take the
//!   second lock with a timeout, else back off" is a legitimate idiom;
//! - an `RLock` taken again by its owner adds nothing;
//! - a lock's identity is an id given on first use, never its address, and
//!   a dropped lock leaves the graph, so memory reuse cannot invent an order.
//!
//! Each lock remembers the lock last checked as held (innermost) when it
//! was taken, and each thread caches the edges it has already checked, so
//! a nested acquire in an order already seen touches no shared state: the
//! usual case, inline, compares the innermost held entry's key with the
//! lock's hint. A lock dropped while a forgotten guard keeps it in some
//! thread's list is marked dead, and that thread drops the entry on its next
//! slow path or dump.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, Ordering, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};

pub(crate) use super::tracking::{Acquire, LockKind};
use super::waits::TRACKED;

/// The identity, name and creation site of one lock: a field of every
/// `Lock`, `RLock` and `Condition` when `debug-locks` is on.
#[derive(Debug)]
pub(crate) struct LockTag {
    /// 0 until first used; then an id no other lock ever gets.
    id: AtomicU64,
    /// The id of a lock known to be held (innermost) when this one is
    /// taken (an edge of the graph, checked by some thread), 0 (known to be
    /// taken with nothing held), or [`NO_HINT`] before the first check: a
    /// nested acquire in that order then costs one load and one compare
    /// with the innermost held entry, in any thread. Kept in the lock being
    /// taken, which is alive then, so no held entry ever points into a lock.
    /// Written on the slow path only (a new or cached order that differs
    /// from the hint), beside the lock word that the acquire writes anyway;
    /// ids are never reused, so a hint naming a dropped lock matches nothing.
    /// Stored (`Release`) after `id` and `desc` are set: a thread that reads
    /// a hint other than `NO_HINT` (`Acquire`) sees both, so the inline path
    /// needs no test of the id.
    before: AtomicU64,
    /// This lock's [`Desc`], interned when it gets its id (null before).
    desc: AtomicPtr<Desc>,
    name: Option<&'static str>,
    created: &'static Location<'static>,
    kind: LockKind,
}

/// What a report says of a lock besides its id: its name, kind and
/// creation site, all `'static`. Interned: a program has finitely many
/// (name, site, kind) triples, so the set stays bounded however many locks
/// come and go. A held entry points here, never into the lock, so that it
/// stays readable after the lock is gone (a guard can be `mem::forget`-ed).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Desc {
    name: Option<&'static str>,
    created: &'static Location<'static>,
    kind: LockKind,
}

impl Desc {
    fn info(&self, id: u64) -> LockInfo {
        LockInfo {
            id,
            name: self.name,
            kind: self.kind.as_str(),
            created: Site::from(self.created),
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The hint of a lock never checked: no held entry's key equals it (keys
/// are ids, far below, with at most the [`TRIED`] and [`PSEUDO`] bits), so
/// a lock's first blocking acquire takes the out-of-line path, which gives
/// it its id (and tests the switch).
const NO_HINT: u64 = u64::MAX;

impl LockTag {
    pub(crate) const fn new(
        kind: LockKind,
        name: Option<&'static str>,
        created: &'static Location<'static>,
    ) -> Self {
        LockTag {
            id: AtomicU64::new(0),
            before: AtomicU64::new(NO_HINT),
            desc: AtomicPtr::new(std::ptr::null_mut()),
            name,
            created,
            kind,
        }
    }

    /// The lock as a thread dump names it (formatted only when read).
    pub(crate) fn info(&self) -> LockInfo {
        self.describe()
    }

    /// This lock's id, given on first use (`new` stays `const`). Once it
    /// is seen, so is [`desc`](Self::desc) (`Acquire`, a plain load on
    /// x86-64 and no dearer than `Relaxed` elsewhere in practice).
    #[inline]
    fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        self.first_id()
    }

    /// Interns the description, then publishes a fresh id (`Release`):
    /// whoever sees the id sees `desc` set.
    #[cold]
    fn first_id(&self) -> u64 {
        self.intern();
        let fresh = NEXT_ID.fetch_add(1, Relaxed);
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Release, Ordering::Acquire)
        {
            Ok(_) => fresh,
            Err(existing) => existing,
        }
    }

    fn describe(&self) -> LockInfo {
        let id = self.id();
        self.desc().info(id)
    }

    /// This lock's interned description.
    fn desc(&self) -> &'static Desc {
        let desc = self.desc.load(Ordering::Acquire);
        if desc.is_null() {
            return self.intern();
        }
        // SAFETY: non-null only as stored by `intern`: a leaked, never
        // freed or written `Desc`, published by that `Release` store.
        unsafe { &*desc }
    }

    /// `desc` as an entry keeps it, with no test: set (not null) once the
    /// caller has this lock's id from [`id`](Self::id) (see `first_id`) or
    /// has read a hint other than [`NO_HINT`] (see [`before`](Self::before)).
    #[inline]
    fn desc_ptr(&self) -> *const Desc {
        self.desc.load(Relaxed)
    }

    /// Finds or makes this lock's `Desc` (once per lock, under one global
    /// mutex; the set grows only with new (name, site, kind) triples).
    #[cold]
    #[inline(never)]
    fn intern(&self) -> &'static Desc {
        static DESCS: Mutex<Option<HashSet<&'static Desc>>> = Mutex::new(None);
        let key = Desc {
            name: self.name,
            created: self.created,
            kind: self.kind,
        };
        let mut descs = DESCS.lock();
        let descs = descs.get_or_insert_with(HashSet::new);
        let desc = match descs.get(&key) {
            Some(&desc) => desc,
            None => {
                let desc: &'static Desc = Box::leak(Box::new(key));
                descs.insert(desc);
                desc
            }
        };
        self.desc
            .store(std::ptr::from_ref(desc).cast_mut(), Ordering::Release);
        desc
    }
}

impl Drop for LockTag {
    fn drop(&mut self) {
        let id = *self.id.get_mut();
        if id != 0 {
            forget(id);
        }
    }
}

/// A place in the source: where a lock was created or acquired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    /// The file, as the compiler names it.
    pub file: &'static str,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

impl From<&'static Location<'static>> for Site {
    fn from(at: &'static Location<'static>) -> Self {
        Site {
            file: at.file(),
            line: at.line(),
            column: at.column(),
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A lock as a report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockInfo {
    /// Its id (unique for the life of the process).
    pub id: u64,
    /// The name given with `named`, if any.
    pub name: Option<&'static str>,
    /// `"Lock"`, `"RLock"` or `"Condition"`.
    pub kind: &'static str,
    /// Where it was created.
    pub created: Site,
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => f.write_str(name),
            None => write!(f, "{}#{}", self.kind, self.id),
        }
    }
}

/// One recorded order: `after` was acquired (at `after_site`) while
/// `before` was held (acquired at `before_site`), by `thread`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockOrder {
    /// The lock that was held.
    pub before: LockInfo,
    /// Where it had been acquired.
    pub before_site: Site,
    /// The lock acquired while holding it.
    pub after: LockInfo,
    /// Where that acquire was.
    pub after_site: Site,
    /// The name of the thread that did it.
    pub thread: String,
    /// Where the order was first seen, as a backtrace: only with
    /// [`set_backtraces`] or `THREADKIT_LOCKDEP_BACKTRACE=1`, since
    /// capturing one costs microseconds (once per new order, never on an
    /// order already seen).
    pub backtrace: Option<OrderBacktrace>,
}

/// A backtrace captured when a lock order was first seen; prints like
/// [`std::backtrace::Backtrace`] (symbols are resolved when first printed).
#[derive(Clone)]
pub struct OrderBacktrace(Arc<std::backtrace::Backtrace>);

impl OrderBacktrace {
    fn capture() -> Self {
        OrderBacktrace(Arc::new(std::backtrace::Backtrace::force_capture()))
    }

    /// The captured backtrace.
    pub fn backtrace(&self) -> &std::backtrace::Backtrace {
        &self.0
    }
}

impl fmt::Debug for OrderBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OrderBacktrace(..)")
    }
}

impl fmt::Display for OrderBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Two captures are equal only if they are the same capture.
impl PartialEq for OrderBacktrace {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OrderBacktrace {}

/// Writes `backtrace`, indented, under a line of a report.
fn indented(f: &mut fmt::Formatter<'_>, backtrace: &Option<OrderBacktrace>) -> fmt::Result {
    if let Some(backtrace) = backtrace {
        writeln!(f, "      backtrace of that order:")?;
        for line in backtrace.to_string().lines() {
            writeln!(f, "        {line}")?;
        }
    }
    Ok(())
}

/// A lock-order inversion: the acquire in [`attempted`](Self::attempted)
/// would close a cycle with the orders in [`seen`](Self::seen). Nothing is
/// blocked yet; two threads running these paths at once could deadlock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PotentialDeadlock {
    /// The acquire being made now (its `before` is the lock held).
    pub attempted: LockOrder,
    /// The orders recorded earlier that lead from the lock being acquired
    /// back to the lock held, in order.
    pub seen: Vec<LockOrder>,
}

impl fmt::Display for PotentialDeadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let now = &self.attempted;
        writeln!(
            f,
            "threadkit: POTENTIAL DEADLOCK (lock-order inversion): nothing is blocked yet"
        )?;
        writeln!(
            f,
            "  thread \"{}\" is acquiring {} [{} created at {}]",
            now.thread, now.after, now.after.kind, now.after.created
        )?;
        writeln!(
            f,
            "      at {}, while holding {} (acquired at {})",
            now.after_site, now.before, now.before_site
        )?;
        indented(f, &now.backtrace)?;
        for order in &self.seen {
            writeln!(
                f,
                "  opposite order seen in thread \"{}\": {} at {}, then {} at {}",
                order.thread, order.before, order.before_site, order.after, order.after_site
            )?;
            indented(f, &order.backtrace)?;
        }
        if let [back] = self.seen.as_slice() {
            scenario(f, back, now)?;
        }
        write!(
            f,
            "  fix: take the locks in one global order (THREADKIT_LOCKDEP=panic stops at this point)"
        )
    }
}

/// lockdep's "possible unsafe locking scenario" table for a two-lock cycle.
fn scenario(f: &mut fmt::Formatter<'_>, first: &LockOrder, second: &LockOrder) -> fmt::Result {
    let (a, b) = (&first.thread, &second.thread);
    let (a, b) = if a == b {
        (format!("{a} (earlier)"), format!("{b} (now)"))
    } else {
        (a.clone(), b.clone())
    };
    let w = a.len().max(22);
    let rows = [
        (format!("lock({})", first.before), String::new()),
        (String::new(), format!("lock({})", second.before)),
        (format!("lock({}) waits", first.after), String::new()),
        (
            String::new(),
            format!("lock({}) waits   *** DEADLOCK ***", second.after),
        ),
    ];
    writeln!(f, "  scenario:  {a:<w$}  {b}")?;
    for (left, right) in rows {
        writeln!(f, "             {left:<w$}  {right}")?;
    }
    Ok(())
}

/// What to do on a potential deadlock.
#[derive(Clone, Default)]
pub enum Mode {
    /// Check no order and report nothing. Acquires record nothing either,
    /// except those in an order checked before switching off, which cost
    /// no more than with checking on (they record the lock as held, for
    /// thread dumps; the switch is not tested on that path).
    Off,
    /// Print the report to stderr, once per pair of locks (the default).
    #[default]
    Report,
    /// Panic with the report, before the thread blocks (for tests).
    Panic,
    /// Hand the report to a function, once per pair of locks.
    Callback(Arc<dyn Fn(&PotentialDeadlock) + Send + Sync>),
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Off => "Off",
            Mode::Report => "Report",
            Mode::Panic => "Panic",
            Mode::Callback(_) => "Callback(..)",
        })
    }
}

// On is 0: the test on every acquire is against zero.
const ON: u8 = 0;
const OFF: u8 = 1;
const UNSET: u8 = 2;

/// Off is one relaxed load and a branch.
static ENABLED: AtomicU8 = AtomicU8::new(UNSET);
static MODE: RwLock<Mode> = RwLock::new(Mode::Report);
static TIMED_BLOCKS: AtomicBool = AtomicBool::new(false);

static BACKTRACES: AtomicU8 = AtomicU8::new(UNSET);

/// Whether each new lock order captures a backtrace, shown in reports
/// ([`LockOrder::backtrace`]); overrides `THREADKIT_LOCKDEP_BACKTRACE=1`.
/// Off by default: a capture costs microseconds, paid once per new order.
pub fn set_backtraces(on: bool) {
    BACKTRACES.store(if on { ON } else { OFF }, Relaxed);
}

/// Whether to capture a backtrace for a new order (asked on that cold path
/// only, so reading the environment here costs nothing per acquire).
fn backtraces() -> bool {
    match BACKTRACES.load(Relaxed) {
        ON => true,
        OFF => false,
        _ => {
            let on = matches!(
                std::env::var("THREADKIT_LOCKDEP_BACKTRACE").as_deref(),
                Ok("1" | "on" | "full")
            );
            let _ = BACKTRACES.compare_exchange(UNSET, if on { ON } else { OFF }, Relaxed, Relaxed);
            BACKTRACES.load(Relaxed) == ON
        }
    }
}

/// Chooses what a potential deadlock does; overrides `THREADKIT_LOCKDEP`.
pub fn set_mode(mode: Mode) {
    let on = !matches!(mode, Mode::Off);
    // Both under the lock, so that a first reading of the environment
    // (`init_from_env`) cannot come between them.
    let mut current = MODE.write();
    *current = mode;
    ENABLED.store(if on { ON } else { OFF }, Relaxed);
}

/// Whether a timed acquire (`acquire_timeout`) counts as blocking, and so
/// adds an order edge into the lock (Abseil's rule). Off by default: a timed
/// acquire is treated as a try, as lockdep treats trylocks.
pub fn set_timed_acquires_block(block: bool) {
    TIMED_BLOCKS.store(block, Relaxed);
}

#[inline]
fn enabled() -> bool {
    let state = ENABLED.load(Relaxed);
    if state == ON {
        return true;
    }
    state == UNSET && init_from_env()
}

#[cold]
fn init_from_env() -> bool {
    let mode = match std::env::var("THREADKIT_LOCKDEP").as_deref() {
        Ok("off" | "0") => Mode::Off,
        Ok("panic") => Mode::Panic,
        _ => Mode::Report,
    };
    let on = !matches!(mode, Mode::Off);
    // Under the lock `set_mode` takes: one that came first wins (setting
    // the mode after a concurrent `set_mode` had stored its own lost it).
    let mut current = MODE.write();
    match ENABLED.load(Relaxed) {
        UNSET => {
            *current = mode;
            ENABLED.store(if on { ON } else { OFF }, Relaxed);
            on
        }
        state => state == ON,
    }
}

/// A lock this thread holds: three words.
///
/// Nothing in an entry of a real lock points into the lock: a guard can be
/// `mem::forget`-ed (safe Rust), leaving its entry in the list after the
/// lock is dropped, on any thread. The entry is then stale but every read
/// of it stays valid (its id matches nothing, ids are never reused), and
/// the lock's drop marks its id dead ([`dropped_while_held`]) so that the
/// thread's next slow path or dump removes it.
#[derive(Clone, Copy, Debug)]
struct Held {
    /// The lock's id, with [`TRIED`] and [`PSEUDO`] folded in: the fast
    /// path compares the whole key with the acquired lock's hint, so an
    /// entry taken by a try never matches one (a blocking acquire under it
    /// must also look past it) and costs no test of its own.
    key: u64,
    /// A real lock's interned [`Desc`] (`'static`, never the lock's
    /// memory), or, for a pseudo entry, its [`PseudoLock`].
    what: *const (),
    site: Option<&'static Location<'static>>,
}

/// Set in [`Held::key`] for an entry taken by a try (or timed) acquire: it
/// gives edges from it, but the search for edges goes past it.
const TRIED: u64 = 1 << 63;
/// Set in [`Held::key`] for a [`PseudoLock`] (always with [`TRIED`]).
const PSEUDO: u64 = 1 << 62;
/// The id in a [`Held::key`] (ids stay far below `PSEUDO`).
const ID: u64 = PSEUDO - 1;

impl Held {
    /// The sentinel below the innermost entry (its key matches no lock,
    /// and equals the hint of a lock never taken under another).
    const EMPTY: Held = Held {
        key: 0,
        what: std::ptr::null(),
        site: None,
    };

    /// The sentinel of a thread whose ident is not cached yet: its key
    /// matches no hint (hints never carry `TRIED`) and no id.
    const NO_IDENT: Held = Held {
        key: TRIED,
        what: std::ptr::null(),
        site: None,
    };

    #[inline]
    fn id(&self) -> u64 {
        self.key & ID
    }

    #[inline]
    fn tried(&self) -> bool {
        self.key & TRIED != 0
    }

    fn pseudo(&self) -> Option<PseudoKind> {
        (self.key & PSEUDO != 0).then_some(PseudoKind::Task)
    }

    fn info(&self) -> LockInfo {
        if let Some(kind) = self.pseudo() {
            return kind.describe(self.id(), self.site());
        }
        let desc = self.what.cast::<Desc>();
        if desc.is_null() {
            // Not reached (see `LockTag::desc_ptr`); named by id alone.
            return LockInfo {
                id: self.id(),
                name: None,
                kind: "Lock",
                created: self.site(),
            };
        }
        // SAFETY: a real lock's `what` is its `Desc` (see `push_held` and
        // `acquire_fast`), leaked by `LockTag::intern` and never freed or
        // written: valid whether or not the lock still exists. The pushing
        // thread saw it published: `intern` stored it before `first_id`
        // published the id (`Release`), which the pusher read (`Acquire`,
        // in `LockTag::id`) or read a hint stored after it (`Acquire`, in
        // `acquire_fast`).
        unsafe { &*desc }.info(self.id())
    }

    /// The pseudo-lock of a pseudo entry.
    fn pseudo_lock(&self) -> Option<&PseudoLock> {
        // SAFETY: a pseudo entry's `what` is its `PseudoLock` (see `PSEUDO`),
        // alive while the entry is: the entry is pushed by `hold` and popped
        // when its `PseudoHeld` drops, a crate-internal guard kept in a
        // scope that borrows the `PseudoLock` and is never forgotten (unlike
        // a user's lock guard, which safe code can `mem::forget`).
        self.pseudo()
            .map(|_| unsafe { &*self.what.cast::<PseudoLock>() })
    }

    fn site(&self) -> Site {
        self.site.map(Site::from).unwrap_or(Site {
            file: "?",
            line: 0,
            column: 0,
        })
    }
}

const CACHE_SLOTS: usize = 256;

/// Slots of the held list: the sentinel and [`MAX_HELD`] entries. A power
/// of two, so that indexing by a masked length needs no bounds check.
const SLOTS: usize = 64;

/// How many held locks a thread tracks (Abseil keeps 40, lockdep 48);
/// deeper nesting is counted but not checked.
const MAX_HELD: usize = SLOTS - 1;

/// Per-thread state: the locks held, and the orders already checked.
///
/// Nothing in it needs dropping (fixed arrays, not a `Vec`), so the
/// thread-local needs no destructor: reaching it is an offset from the
/// thread pointer, with no "registered yet?" check. One thread-local for
/// everything an acquire touches.
///
/// Every field is a `Cell` of `Copy` values: no borrow flag to check and
/// set, and nothing can be borrowed across a call that might come back here.
struct ThreadLocks {
    /// `held[0]` is the sentinel: [`Held::EMPTY`] once `ident` is cached,
    /// [`Held::NO_IDENT`] before (so that the inline path, which compares
    /// its key with a hint, sends a thread's first acquire out of line,
    /// where the ident is asked for: the inline path then needs no test
    /// of `ident`). The
    /// entries are `held[1..=len]`, innermost last, so `held[len]` is the
    /// innermost entry or the sentinel, with no test of `len`.
    held: [Cell<Held>; SLOTS],
    len: Cell<usize>,
    /// Locks held beyond `MAX_HELD`, untracked.
    overflow: Cell<usize>,
    /// Orders checked, in the slot [`slot`] gives.
    checked: [Cell<(u64, u64)>; CACHE_SLOTS],
    /// This thread's ident once asked for (0 before), with [`TRACKED`]
    /// set: what the owner word of every lock it takes records
    /// ([`owner_word`]). Kept here, beside the held list, so that an
    /// acquire reaches one thread-local, not two.
    ident: Cell<u64>,
    /// The [`DEAD_EPOCH`] up to which the held list was pruned.
    dead_seen: Cell<u64>,
}

impl ThreadLocks {
    /// The held entries, innermost last.
    #[inline]
    fn held(&self) -> &[Cell<Held>] {
        &self.held[1..=self.len.get()]
    }

    /// The innermost entry's key, or 0 when nothing is held.
    #[inline]
    fn top_key(&self) -> u64 {
        let len = self.len.get();
        debug_assert!(len <= MAX_HELD);
        // SAFETY: `len <= MAX_HELD < SLOTS`: every store to `len` keeps it
        // so (`push` stores at most `MAX_HELD`, a pop one less than a
        // nonzero `len`, `prune_dead` at most `len`, `swap_held` at most
        // `MAX_HELD`). Unchecked: a bounds test (or mask) here is two of
        // the dozen instructions of a nested acquire's fast path.
        unsafe { self.held.get_unchecked(len) }.get().key
    }
}

thread_local! {
    static THREAD: ThreadLocks = const {
        ThreadLocks {
            held: {
                let mut held = [const { Cell::new(Held::EMPTY) }; SLOTS];
                held[0] = Cell::new(Held::NO_IDENT);
                held
            },
            len: Cell::new(0),
            overflow: Cell::new(0),
            checked: [const { Cell::new((0, 0)) }; CACHE_SLOTS],
            ident: Cell::new(0),
            dead_seen: Cell::new(0),
        }
    };
}

/// What an acquire by the calling thread stores in the lock's owner word:
/// its ident, with [`TRACKED`] if `tracked` (see
/// [`Owner`](super::waits::Owner)). Cached with the bit set (`get_ident`
/// takes a lock), so that the usual case, tracked, is one load.
#[inline]
pub(crate) fn owner_word(tracked: bool) -> u64 {
    if cfg!(loom) {
        // No idents under loom (the registry's statics outlive a model);
        // the bit still says whether to pop the entry at release.
        return if tracked { TRACKED } else { 0 };
    }
    let word = THREAD.with(|t| {
        let word = t.ident.get();
        if word != 0 {
            return word;
        }
        first_ident(t)
    });
    if tracked { word } else { word & !TRACKED }
}

#[cold]
#[inline(never)]
fn first_ident(t: &ThreadLocks) -> u64 {
    let word = crate::threading::get_ident() | TRACKED;
    t.ident.set(word);
    t.held[0].set(Held::EMPTY);
    word
}

/// A green thread's held locks while it is switched out (feature `green`):
/// the held list is the running code's, so a hub swaps it on every switch
/// ([`swap_held`]) and green threads sharing a carrier never see each
/// other's locks as held before their own. The cached ident is swapped
/// with it, so that a lock taken in a green thread names the green thread
/// as its holder (in dumps and `find_deadlocks`), not its carrier.
#[cfg(feature = "green")]
#[derive(Debug, Default)]
pub(crate) struct HeldStack {
    held: Vec<Held>,
    overflow: usize,
    /// The green thread's ident (as [`ThreadLocks::ident`] keeps it) once
    /// its first acquire asked for it (0 before: [`owner_word`] asks
    /// `get_ident`, which knows it).
    ident: u64,
}

/// Exchanges this thread's held list and cached ident with `saved`: called
/// by a hub before and after it runs a green thread. The lists are copied
/// only when one is not empty.
#[cfg(feature = "green")]
#[inline]
pub(crate) fn swap_held(saved: &mut HeldStack) {
    let _ = THREAD.try_with(|t| {
        saved.ident = t.ident.replace(saved.ident);
        t.held[0].set(if t.ident.get() == 0 {
            Held::NO_IDENT
        } else {
            Held::EMPTY
        });
        if t.len.get() == 0 && t.overflow.get() == 0 && saved.held.is_empty() && saved.overflow == 0
        {
            return;
        }
        let mine: Vec<Held> = t.held().iter().map(Cell::get).collect();
        let mine_overflow = t.overflow.get();
        for (cell, h) in t.held[1..].iter().zip(&saved.held) {
            cell.set(*h);
        }
        t.len.set(saved.held.len().min(MAX_HELD));
        t.overflow.set(saved.overflow);
        // The list swapped in may hold entries of locks dropped since it
        // was last pruned: prune again on its next slow path.
        t.dead_seen.set(0);
        saved.held = mine;
        saved.overflow = mine_overflow;
    });
}

/// The shared order graph.
#[derive(Default)]
struct Graph {
    /// `after` locks for each lock, with the order that was seen.
    edges: HashMap<u64, HashMap<u64, LockOrder>>,
    /// The same edges backwards (`before` locks for each lock), so that a
    /// dropped lock leaves in time proportional to its own edges.
    into: HashMap<u64, HashSet<u64>>,
    /// Pairs already reported (smaller id first).
    reported: HashSet<(u64, u64)>,
}

static GRAPH: OnceLock<Mutex<Graph>> = OnceLock::new();

fn graph() -> &'static Mutex<Graph> {
    GRAPH.get_or_init(Mutex::default)
}

fn slot(from: u64, to: u64) -> usize {
    (from.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ to) as usize % CACHE_SLOTS
}

/// Whether `from → to` is in this thread's cache.
#[inline]
fn cached(t: &ThreadLocks, from: u64, to: u64) -> bool {
    t.checked[slot(from, to)].get() == (from, to)
}

/// `tag`'s id if checking is on, else 0: what [`before_acquire`] returns,
/// for acquires that skip it (tries).
#[inline]
pub(crate) fn checked_id(tag: &LockTag) -> u64 {
    if enabled() { tag.id() } else { 0 }
}

/// Called before acquiring `tag` (every form but the inline one,
/// [`acquire_fast`]: the check itself applies only to blocking acquires).
/// Reports, or panics in `Mode::Panic`, if this acquire would close a
/// cycle. Returns what [`acquired`] takes: the lock's id, or 0 when
/// checking is off (one test of the switch and one load of the id for both
/// calls).
///
/// A known order costs two loads and a compare: the innermost held entry's
/// key against the lock's hint ([`LockTag::before`]).
#[inline]
pub(crate) fn before_acquire(tag: &LockTag, how: Acquire, site: &'static Location<'static>) -> u64 {
    let id = checked_id(tag);
    if id == 0 {
        return 0;
    }
    let blocking = match how {
        Acquire::Blocking => true,
        Acquire::Timed => TIMED_BLOCKS.load(Relaxed),
        Acquire::Try => false,
    };
    if blocking {
        let hint = tag.before.load(Relaxed);
        // Nothing held is the sentinel's key 0, the hint of a lock taken
        // alone; a lock with another hint taken alone goes out of line
        // once, which sets its hint to 0 (the hint follows the last checked
        // order).
        if THREAD.with(ThreadLocks::top_key) != hint {
            check_order_slow(Target::Lock(tag), id, site);
        }
    }
    id
}

/// The whole of a blocking acquire of `tag` in the usual case, inline: the
/// innermost held entry is the lock's hint (the order is known: nothing to
/// check), the held list has room and `try_lock` takes the lock. Records
/// the hold and returns the guard with the owner word ([`owner_word`]);
/// `None` when any of that fails, having done nothing (the caller then
/// takes the whole path). The list and its length are read once, before
/// `try_lock`, and the lock's id and description after it, when the lock
/// is held. The thread's ident is cached: its first acquire went out of
/// line (see [`ThreadLocks::held`]). Checking switched off does not matter
/// here: a known order needs no check (see [`Mode::Off`]).
#[inline]
pub(crate) fn acquire_fast<G>(
    tag: &LockTag,
    site: &'static Location<'static>,
    try_lock: impl FnOnce() -> Option<G>,
) -> Option<(G, u64)> {
    // Under loom no ident is cached: the whole path, always.
    if cfg!(loom) {
        return None;
    }
    // `Acquire`: a hint other than `NO_HINT` was stored after the id and
    // the description (see `LockTag::before`); a plain load on x86-64.
    let hint = tag.before.load(Ordering::Acquire);
    THREAD.with(|t| {
        let len = t.len.get();
        // `len < MAX_HELD` also proves both indexes below in bounds.
        if len >= MAX_HELD || t.held[len].get().key != hint {
            return None;
        }
        let guard = try_lock()?;
        t.held[len + 1].set(Held {
            key: tag.id.load(Relaxed),
            what: tag.desc_ptr().cast(),
            site: Some(site),
        });
        t.len.set(len + 1);
        Some((guard, t.ident.get()))
    })
}

/// Whether every edge a blocking acquire of `id` would add is in the
/// cache (lockdep: from the nearest blocking entry and the tries above it).
fn all_checked(t: &ThreadLocks, id: u64) -> bool {
    for before in t.held().iter().rev() {
        let before = before.get();
        if before.id() != id && !cached(t, before.id(), id) {
            return false;
        }
        if !before.tried() {
            break;
        }
    }
    true
}

/// An acquire whose order is not the lock's hint, with checking on: the
/// cache, else the shared graph. Learns the innermost entry as the lock's
/// new hint.
#[cold]
#[inline(never)]
fn check_order_slow(tag: Target<'_>, id: u64, site: &'static Location<'static>) {
    let found = THREAD.with(|t| {
        prune_dead(t);
        if !all_checked(t, id) {
            check_edges(t, &tag, id, site)
        } else {
            None
        }
    });
    match found {
        Some(report) => deliver(report),
        None => {
            // Checked: the innermost entry, if blocking-acquired (a key
            // without `TRIED`), becomes the hint (`Release`: after the id
            // and description, see `LockTag::before`).
            if let Target::Lock(tag) = tag {
                let top = THREAD.with(ThreadLocks::top_key);
                if top & TRIED == 0 && top != id && tag.before.load(Relaxed) != top {
                    tag.before.store(top, Ordering::Release);
                }
            }
        }
    }
}

/// Adds the edges into `id` from the nearest blocking entry and the tries
/// above it; returns the first report, if any.
fn check_edges(
    t: &ThreadLocks,
    tag: &Target<'_>,
    id: u64,
    site: &'static Location<'static>,
) -> Option<Box<PotentialDeadlock>> {
    let mut found = None;
    for entry in t.held().iter().rev() {
        let before = entry.get();
        if before.id() != id {
            let key = slot(before.id(), id);
            if t.checked[key].get() != (before.id(), id) {
                match add_edge(&before, tag, id, site) {
                    // Boxed: an `Option` of the whole report would be
                    // copied out of this closure even when empty.
                    Some(report) => found = found.or(Some(Box::new(report))),
                    None => t.checked[key].set((before.id(), id)),
                }
            }
        }
        if !before.tried() {
            break;
        }
    }
    found
}

/// Records `before → tag`; returns the report if it would close a cycle
/// not reported yet.
#[cold]
fn add_edge(
    before: &Held,
    tag: &Target<'_>,
    id: u64,
    site: &'static Location<'static>,
) -> Option<PotentialDeadlock> {
    let mut graph = graph().lock();
    if graph
        .edges
        .get(&before.id())
        .is_some_and(|after| after.contains_key(&id))
    {
        return None;
    }
    // A new order: the only place a backtrace is taken, if asked for.
    let order = LockOrder {
        before: before.info(),
        before_site: before.site(),
        after: tag.describe(id, site),
        after_site: Site::from(site),
        thread: thread_name(),
        backtrace: backtraces().then(OrderBacktrace::capture),
    };
    if let Some(path) = graph.path(id, before.id()) {
        let pair = (id.min(before.id()), id.max(before.id()));
        if !graph.reported.insert(pair) {
            // Reported already: say nothing, and keep the cycle out.
            return None;
        }
        return Some(PotentialDeadlock {
            attempted: order,
            seen: path,
        });
    }
    graph
        .edges
        .entry(before.id())
        .or_default()
        .insert(id, order);
    graph.into.entry(id).or_default().insert(before.id());
    // A pseudo-lock in the graph leaves it when dropped.
    if let Some(p) = before.pseudo_lock() {
        p.entered_graph();
    }
    if let Target::Pseudo(p, _) = tag {
        p.entered_graph();
    }
    None
}

/// What an acquire being checked takes: a lock, or a pseudo-lock.
#[derive(Clone, Copy)]
enum Target<'a> {
    Lock(&'a LockTag),
    Pseudo(&'a PseudoLock, PseudoKind),
}

impl Target<'_> {
    fn describe(&self, id: u64, site: &'static Location<'static>) -> LockInfo {
        match self {
            Target::Lock(tag) => tag.describe(),
            Target::Pseudo(_, kind) => kind.describe(id, Site::from(site)),
        }
    }
}

impl Graph {
    /// The orders leading from `from` to `to`, if any (depth-first).
    fn path(&self, from: u64, to: u64) -> Option<Vec<LockOrder>> {
        let mut seen = HashSet::new();
        let mut stack = vec![(from, Vec::<u64>::new())];
        while let Some((at, trail)) = stack.pop() {
            if at == to {
                let mut path = Vec::with_capacity(trail.len());
                let mut prev = from;
                for &next in &trail {
                    path.push(self.edges[&prev][&next].clone());
                    prev = next;
                }
                return Some(path);
            }
            if !seen.insert(at) {
                continue;
            }
            if let Some(after) = self.edges.get(&at) {
                for &next in after.keys() {
                    let mut longer = trail.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
        None
    }
}

fn deliver(report: Box<PotentialDeadlock>) {
    let mode = MODE.read().clone();
    #[cfg(feature = "tracing")]
    if !matches!(mode, Mode::Off) {
        super::trace::report("lock-order inversion", &report);
        if matches!(mode, Mode::Report) && super::trace::has_subscriber() {
            return;
        }
    }
    match mode {
        Mode::Off => {}
        Mode::Report => eprintln!("{report}"),
        Mode::Panic => panic!("{report}"),
        Mode::Callback(f) => f(&report),
    }
}

/// Called once `tag` is held by this thread; returns whether it was
/// recorded, so that [`released`] is called only then. An `RLock`
/// re-entered by its owner must not call this.
/// `id` is what [`before_acquire`] or [`checked_id`] returned (0: not
/// recorded).
#[must_use]
#[inline]
pub(crate) fn acquired(
    tag: &LockTag,
    id: u64,
    how: Acquire,
    site: &'static Location<'static>,
) -> bool {
    id != 0 && push_held(tag, id, how, site)
}

#[inline]
fn push_held(tag: &LockTag, id: u64, how: Acquire, site: &'static Location<'static>) -> bool {
    let tried = match how {
        Acquire::Blocking => false,
        Acquire::Timed => !TIMED_BLOCKS.load(Relaxed),
        Acquire::Try => true,
    };
    push(Held {
        key: if tried { id | TRIED } else { id },
        what: tag.desc_ptr().cast(),
        site: Some(site),
    });
    true
}

#[inline]
fn push(held: Held) {
    THREAD.with(|t| {
        let len = t.len.get() + 1;
        if len <= MAX_HELD {
            t.held[len].set(held);
            t.len.set(len);
        } else {
            push_full(t, held);
        }
    });
}

/// A push onto a full list: entries of dropped locks go first (with
/// checking off no check prunes them), then it is counted untracked.
#[cold]
#[inline(never)]
fn push_full(t: &ThreadLocks, held: Held) {
    prune_dead(t);
    let len = t.len.get() + 1;
    if len <= MAX_HELD {
        t.held[len].set(held);
        t.len.set(len);
    } else {
        t.overflow.set(t.overflow.get() + 1);
    }
}

/// Called when this thread releases `tag`, if [`acquired`] or
/// [`acquire_fast`] recorded it (guards may drop in any order; the
/// innermost is the usual case).
#[inline]
pub(crate) fn released(tag: &LockTag) {
    released_id(tag.id.load(Relaxed));
}

/// Removes the entry of `id` (a pseudo-lock's too).
#[inline]
fn released_id(id: u64) {
    // The innermost lock, the usual case, inline (the sentinel's key
    // matches no id); any other out of line.
    // An entry taken by a try has `TRIED` in its key: out of line too.
    let popped = THREAD.with(|t| {
        let len = t.len.get();
        if t.top_key() == id {
            t.len.set(len - 1);
            true
        } else {
            false
        }
    });
    if !popped {
        released_out_of_order(id);
    }
}

#[cold]
#[inline(never)]
fn released_out_of_order(id: u64) {
    THREAD.with(|t| {
        let len = t.len.get();
        if let Some(at) = t.held().iter().rposition(|h| h.get().id() == id) {
            // `held()` starts at `held[1]`.
            for i in at + 1..len {
                t.held[i].set(t.held[i + 1].get());
            }
            t.len.set(len - 1);
        } else {
            t.overflow.set(t.overflow.get().saturating_sub(1));
        }
    });
}

/// Ids of locks dropped while this or that thread's list still held them
/// (a forgotten guard), not yet pruned; bounded: past [`MAX_DEAD`], more
/// are not recorded and their stale entries stay (harmless, see `Held`).
static DEAD: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// Bumped with each id added to [`DEAD`]: a thread prunes its list when
/// this moved since it last did ([`ThreadLocks::dead_seen`]), on a slow
/// path or a dump, never on a fast path.
static DEAD_EPOCH: AtomicU64 = AtomicU64::new(0);
const MAX_DEAD: usize = 4096;

/// `tag` is being dropped while a thread still has it in its held list (a
/// guard was `mem::forget`-ed): that thread drops the entry at its next
/// slow path or dump. Called by the lock's tracking, which knows it is
/// held (its owner is set).
pub(crate) fn dropped_while_held(tag: &mut LockTag) {
    let id = *tag.id.get_mut();
    if id == 0 {
        return;
    }
    let mut dead = DEAD.lock();
    if dead.len() < MAX_DEAD {
        dead.push(id);
        DEAD_EPOCH.fetch_add(1, Relaxed);
    }
}

/// Removes the entries of dead locks from this thread's list (and their
/// ids from [`DEAD`]: a lock is in one thread's list at most).
#[cold]
fn prune_dead(t: &ThreadLocks) {
    let epoch = DEAD_EPOCH.load(Relaxed);
    if epoch == t.dead_seen.get() {
        return;
    }
    let mut dead = DEAD.lock();
    let mut kept = 0;
    for i in 1..=t.len.get() {
        let entry = t.held[i].get();
        let gone = entry.pseudo().is_none() && {
            match dead.iter().position(|&d| d == entry.id()) {
                Some(at) => {
                    dead.swap_remove(at);
                    true
                }
                None => false,
            }
        };
        if !gone {
            kept += 1;
            t.held[kept].set(entry);
        }
    }
    t.len.set(kept);
    t.dead_seen.set(epoch);
}

/// A dropped lock leaves the graph.
fn forget(id: u64) {
    // A program that never nested two locks has no graph to clean.
    let Some(graph) = GRAPH.get() else {
        return;
    };
    let mut graph = graph.lock();
    if let Some(after) = graph.edges.remove(&id) {
        for next in after.keys() {
            if let Some(into) = graph.into.get_mut(next) {
                into.remove(&id);
            }
        }
    }
    if let Some(into) = graph.into.remove(&id) {
        for prev in into {
            if let Some(after) = graph.edges.get_mut(&prev) {
                after.remove(&id);
            }
        }
    }
}

/// The locks the calling thread holds, innermost last, for thread dumps
/// (without locks dropped since, see [`dropped_while_held`]).
pub(crate) fn held_by_current_thread() -> Vec<(LockInfo, Site)> {
    THREAD
        .try_with(|t| {
            prune_dead(t);
            t.held()
                .iter()
                .map(Cell::get)
                .filter(|h| h.pseudo().is_none())
                .map(|h| (h.info(), h.site()))
                .collect()
        })
        .unwrap_or_default()
}

/// What a pseudo-lock stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PseudoKind {
    /// A pool task: held by the worker while it runs the task, waited for
    /// by `Future::result`.
    Task,
}

impl PseudoKind {
    fn describe(self, id: u64, site: Site) -> LockInfo {
        LockInfo {
            id,
            name: None,
            kind: match self {
                PseudoKind::Task => "task",
            },
            created: site,
        }
    }
}

/// A wait whose waker is known, as a lock in the order graph (lockdep's
/// trick for `flush_work`): whoever will end the wait *holds* the
/// pseudo-lock meanwhile (the worker running a pool task), and the waiter
/// *acquires and releases* it (`Future::result`, untimed). So "hold L, wait
/// for a task that takes L" is the order L → task beside task → L: an
/// ordinary inversion, reported on the first run whether or not it hangs.
///
/// Not for `join` or `shutdown(wait)`: a thread's (or a worker's) whole
/// life would sit under its pseudo-lock, so every first lock it takes
/// would be an order to check, slowing the "nothing held" acquire of
/// every thread for a rarer mistake. Those waits are still in the
/// wait-for graph (`find_deadlocks`) once they block.
///
/// One word: an id (taken when first needed) and whether the id is in the
/// graph, so that dropping a pseudo-lock that never met a lock costs
/// nothing.
#[derive(Debug, Default)]
pub(crate) struct PseudoLock(AtomicU64);

const IN_GRAPH: u64 = 1 << 63;

impl PseudoLock {
    pub(crate) const fn new() -> Self {
        PseudoLock(AtomicU64::new(0))
    }

    /// Its id, taken on first use, from this thread's batch of ids (no
    /// shared counter per task).
    fn id(&self) -> u64 {
        let word = self.0.load(Relaxed);
        if word != 0 {
            return word & !IN_GRAPH;
        }
        let fresh = local_id();
        match self.0.compare_exchange(0, fresh, Relaxed, Relaxed) {
            Ok(_) => fresh,
            Err(word) => word & !IN_GRAPH,
        }
    }

    /// Called under the graph's lock when an edge names it.
    fn entered_graph(&self) {
        self.0.fetch_or(IN_GRAPH, Relaxed);
    }
}

impl Drop for PseudoLock {
    fn drop(&mut self) {
        let word = *self.0.get_mut();
        if word & IN_GRAPH != 0 {
            forget(word & !IN_GRAPH);
        }
    }
}

/// A fresh id from this thread's batch, taken from the shared counter 1024
/// at a time.
fn local_id() -> u64 {
    const BATCH: u64 = 1024;
    thread_local! {
        static NEXT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    NEXT.try_with(|next| {
        let (mut at, mut end) = next.get();
        if at == end {
            at = NEXT_ID.fetch_add(BATCH, Relaxed);
            end = at + BATCH;
        }
        next.set((at + 1, end));
        at
    })
    .unwrap_or_else(|_| NEXT_ID.fetch_add(1, Relaxed))
}

/// The calling thread will wait for what `p` stands for: checked as a
/// blocking acquire of `p` (and a release at once), so that each lock held
/// now gets the order "lock before `p`". Nothing held, the usual case: a
/// test of the switch and of the held list.
#[inline]
pub(crate) fn wait_for(p: &PseudoLock, kind: PseudoKind, site: &'static Location<'static>) {
    if enabled() && THREAD.try_with(|t| t.len.get() != 0).unwrap_or(false) {
        wait_for_slow(p, kind, site);
    }
}

#[cold]
#[inline(never)]
fn wait_for_slow(p: &PseudoLock, kind: PseudoKind, site: &'static Location<'static>) {
    check_order_slow(Target::Pseudo(p, kind), p.id(), site);
}

/// The calling thread holds `p` until the returned guard is dropped (on
/// this thread): what it acquires meanwhile is ordered after `p`. Entered
/// as a try-acquire (lockdep's rule for the search): a lock taken under it
/// also gets the orders from the locks under it, if any.
#[inline]
pub(crate) fn hold<'a>(
    p: &'a PseudoLock,
    kind: PseudoKind,
    site: &'static Location<'static>,
) -> PseudoHeld<'a> {
    if !enabled() {
        return PseudoHeld(None, std::marker::PhantomData);
    }
    let id = p.id();
    let PseudoKind::Task = kind;
    push(Held {
        key: id | TRIED | PSEUDO,
        what: std::ptr::from_ref(p).cast(),
        site: Some(site),
    });
    PseudoHeld(Some(id), std::marker::PhantomData)
}

/// A [`hold`] of a pseudo-lock: released when dropped.
#[derive(Debug)]
#[must_use]
pub(crate) struct PseudoHeld<'a>(Option<u64>, std::marker::PhantomData<&'a PseudoLock>);

impl Drop for PseudoHeld<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            // Popped at once when innermost (its key has both bits).
            if !THREAD.with(|t| {
                let len = t.len.get();
                let top = t.top_key() == id | TRIED | PSEUDO;
                if top {
                    t.len.set(len - 1);
                }
                top
            }) {
                released_out_of_order(id);
            }
        }
    }
}

fn thread_name() -> String {
    crate::threading::current_thread().name().to_string()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Every report of this test binary, in order (the mode is global, and
    /// tests run at once, so each test looks only at reports naming its
    /// own locks).
    fn collecting() -> &'static Mutex<Vec<PotentialDeadlock>> {
        static REPORTS: Mutex<Vec<PotentialDeadlock>> = Mutex::new(Vec::new());
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            set_mode(Mode::Callback(Arc::new(|r| REPORTS.lock().push(r.clone()))));
        });
        &REPORTS
    }

    #[track_caller]
    fn tag(name: &'static str) -> LockTag {
        LockTag::new(LockKind::Lock, Some(name), Location::caller())
    }

    #[track_caller]
    fn lock(t: &LockTag) {
        let id = before_acquire(t, Acquire::Blocking, Location::caller());
        assert!(acquired(t, id, Acquire::Blocking, Location::caller()));
    }

    #[test]
    fn inversion_reported_once_with_both_orders() {
        let reports = collecting();
        let (a, b) = (tag("order_a"), tag("order_b"));
        lock(&a);
        lock(&b);
        released(&b);
        released(&a);
        lock(&b);
        lock(&a);
        released(&a);
        released(&b);
        // The same inversion again: once per pair.
        lock(&b);
        lock(&a);
        released(&a);
        released(&b);
        let mine: Vec<_> = reports
            .lock()
            .iter()
            .filter(|r| r.attempted.after.name == Some("order_a"))
            .cloned()
            .collect();
        assert_eq!(mine.len(), 1);
        let text = mine[0].to_string();
        assert!(text.contains("is acquiring order_a"), "{text}");
        assert!(text.contains("while holding order_b"), "{text}");
        assert!(text.contains("*** DEADLOCK ***"), "{text}");
        assert_eq!(mine[0].seen.len(), 1);
        assert_eq!(mine[0].seen[0].before.name, Some("order_a"));
    }

    #[test]
    fn known_order_hint_hides_no_inversion() {
        let reports = collecting();
        let (a, b) = (tag("hint_a"), tag("hint_b"));
        lock(&a);
        lock(&b);
        released(&b);
        released(&a);
        // The order is now known to every thread through `a`'s hint.
        assert_eq!(b.before.load(Relaxed), a.id());
        std::thread::scope(|s| {
            s.spawn(|| {
                // Known: no check, no report.
                lock(&a);
                lock(&b);
                released(&b);
                released(&a);
                // The reverse is still an inversion.
                lock(&b);
                lock(&a);
                released(&a);
                released(&b);
            });
        });
        let mine = reports
            .lock()
            .iter()
            .filter(|r| r.attempted.after.name == Some("hint_a"))
            .count();
        assert_eq!(mine, 1);
    }

    #[test]
    fn a_lock_dropped_while_held_leaves_the_held_list() {
        let (a, b) = (tag("dead_a"), tag("dead_b"));
        // Held, never released: a forgotten guard.
        lock(&a);
        let mut a = a;
        dropped_while_held(&mut a);
        drop(a);
        // The next slow path (`b` has no hint yet) prunes the entry.
        lock(&b);
        let names: Vec<_> = held_by_current_thread()
            .into_iter()
            .map(|(lock, _)| lock.name)
            .collect();
        assert_eq!(names, [Some("dead_b")]);
        released(&b);
        assert_eq!(THREAD.with(|t| t.len.get()), 0);
    }

    #[test]
    fn three_lock_cycle_and_trylock_rule() {
        let reports = collecting();
        let (a, b, c) = (tag("cyc_a"), tag("cyc_b"), tag("cyc_c"));
        for (x, y) in [(&a, &b), (&b, &c)] {
            lock(x);
            lock(y);
            released(y);
            released(x);
        }
        // A try-acquire of `a` while holding `c` adds no edge into `a`.
        lock(&c);
        let id = before_acquire(&a, Acquire::Try, Location::caller());
        assert!(acquired(&a, id, Acquire::Try, Location::caller()));
        released(&a);
        released(&c);
        assert!(
            !reports
                .lock()
                .iter()
                .any(|r| r.attempted.after.name == Some("cyc_a"))
        );
        lock(&c);
        lock(&a);
        released(&a);
        released(&c);
        let found: Vec<_> = reports
            .lock()
            .iter()
            .filter(|r| r.attempted.after.name == Some("cyc_a"))
            .cloned()
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].seen.len(), 2);
    }
}
