//! The one waiting core: a state behind a mutex, and the first-come,
//! first-served list of everybody waiting for that state to change.
//!
//! Every blocking call in threadkit, sync or async, ends up here: a thread
//! in [`Monitor::wait_until`], a task in [`Monitor::until`]. Both put an
//! entry on the same [`WaitList`]: a parked [`Thread`], a task's [`Waker`]
//! or (feature `green`) a green thread, which suspends to its hub instead
//! of parking its OS thread, and is unwound out of the wait when killed
//! under the same rule as a dropped task: it takes its entry off or hands a
//! wake-up it already got on.
//! A notifier takes entries off the front of the list under the lock and
//! wakes them once the lock is released. So a queue's `get` and
//! `get_async().await`, an event's `wait` and `wait_async().await` are the
//! same wait on the same object, served in arrival order whichever face
//! they use (tokio's `batch_semaphore` does the same for its locks).
//!
//! # The wake-up protocol
//!
//! A waiter never sleeps between a check of the condition and its
//! registration:
//!
//! 1. under the lock it checks the condition; if it holds, it is done;
//! 2. it puts itself on the list (and counts itself in `listed`, a SeqCst
//!    read-modify-write), issues a SeqCst fence, and checks again; if the
//!    condition holds now it takes itself off the list and is done. A task
//!    whose check reads SeqCst atomics only (the queue's store) leaves the
//!    fence out: the count's read-modify-write orders it already (see
//!    `registered_before_seqcst_check`);
//! 3. it releases the lock and sleeps (parks, or returns `Pending`) until a
//!    notifier takes it off the list or its deadline passes;
//! 4. woken, it takes the lock again and goes back to 1. A thread whose
//!    deadline passed while it was still on the list takes itself off and
//!    reports the condition as it finds it then.
//!
//! A notifier first makes the condition true, then takes waiters off the
//! list. If it changed the state under the lock, the lock orders it with
//! every check. If it changed something outside the lock (the queue's
//! lock-free store), it issues a SeqCst fence and reads `listed` before
//! taking the lock: a Dekker handshake with step 2. Either the waiter's
//! fence comes first, and the notifier sees `listed > 0` and wakes it, or
//! the notifier's comes first, and the waiter's second check sees the change.
//! A notifier that has just done a SeqCst read-modify-write on the changed
//! state may skip its fence ([`Monitor::notify_one_after_rmw`]).
//!
//! An entry leaves the list exactly once: taken by a notifier (the waiter
//! was woken) or removed by its waiter (timed out or cancelled). A waiter
//! tells which by its [`WaitId`]: notifiers take from the front and ids
//! only grow, so the monitor records the highest id taken, and an entry its
//! waiter did not remove was taken exactly when its id is at most that.
//! A woken task whose condition lives outside the lock (the queue's store)
//! reads that mark and tries again without the lock (step 4 without the
//! lock); only if the try fails does it lock and go back to 1. Such a task
//! also makes its first check (step 1) without the lock, and then starts
//! at step 2. A task dropped after it was
//! woken, before it could act on the wake-up, hands the wake-up on to the
//! next entry, so a cancelled `await` never swallows the only notification.
//! A woken thread always re-checks, so a wake-up it did not need costs a
//! spurious check, never a lost one.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::debug::WaitKind;
use crate::debug::waits::{self, Holder, WaitScope};
use crate::loom::sync::atomic::{
    AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
    Ordering::SeqCst, fence,
};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::loom::thread::{self, Thread};
use crate::util::Deadline;

/// Somebody to wake: a parked thread, a task or a green thread.
#[derive(Debug)]
enum Sleeper {
    Thread(Thread),
    Task(Waker),
    #[cfg(feature = "green")]
    Green(crate::green::GreenWaker),
}

impl Sleeper {
    fn wake(self) {
        match self {
            Sleeper::Thread(thread) => thread.unpark(),
            Sleeper::Task(waker) => waker.wake(),
            #[cfg(feature = "green")]
            Sleeper::Green(green) => green.wake(),
        }
    }

    /// The calling thread, or the calling green thread (or busy hub root),
    /// as a sleeper; whether it is green.
    #[inline]
    fn current() -> (Sleeper, bool) {
        #[cfg(feature = "green")]
        if let Some(green) = crate::green::sleeper() {
            return (Sleeper::Green(green), true);
        }
        (Sleeper::Thread(thread::current()), false)
    }
}

/// How a sleep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parked {
    Woken,
    TimedOut,
    /// A green thread was killed: it leaves the line and unwinds.
    Killed,
}

/// One registration on a [`WaitList`]. Ids only grow, so the list stays
/// sorted by id and a waiter finds its entry by binary search. Never zero,
/// so that an `Option<WaitId>` (kept in every awaitable handle) is a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct WaitId(std::num::NonZeroU64);

/// The waiters of one condition, first come first served.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    next: u64,
    entries: VecDeque<(WaitId, Sleeper)>,
}

impl WaitList {
    /// An empty list (`const`, for monitors made in a `static`).
    #[cfg_attr(not(feature = "green"), allow(dead_code))] // used by `util::raw_lock`
    pub(crate) const fn new() -> Self {
        WaitList {
            next: 0,
            entries: VecDeque::new(),
        }
    }

    /// How many waiters are on the list.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    fn push(&mut self, sleeper: Sleeper) -> WaitId {
        let id = WaitId(std::num::NonZeroU64::MIN.saturating_add(self.next));
        self.next += 1;
        self.entries.push_back((id, sleeper));
        id
    }

    fn position(&self, id: WaitId) -> Option<usize> {
        self.entries.binary_search_by_key(&id, |(i, _)| *i).ok()
    }

    fn contains(&self, id: WaitId) -> bool {
        self.position(id).is_some()
    }
}

/// The state of one primitive: anything that holds the [`WaitList`] of its
/// waiters. A primitive with several conditions (a queue's "not empty" and
/// "not full") uses one [`Monitor`] per condition.
pub(crate) trait HasWaiters {
    /// The list of waiters for changes to this state.
    fn waiters(&mut self) -> &mut WaitList;

    /// What a thread blocked here waits for, for thread dumps
    /// ([`debug`](crate::debug)); asked only when a thread is about to sleep.
    fn wait_kind(&self) -> WaitKind {
        WaitKind::Other
    }

    /// A name for the object waited on, if it has one.
    fn wait_object(&self) -> Option<String> {
        None
    }

    /// The thread that alone can end the wait, if there is one.
    fn holder(&self) -> Holder {
        Holder::Unknown
    }

    /// Whether a thread sleeping here is recorded as waiting, for thread
    /// dumps and the watchdog. An idle pool worker waiting for work is not:
    /// it would count as asleep, and as stalled once idle long enough.
    fn recorded(&self) -> bool {
        true
    }

    /// Called under the lock when a task taken off the list by a notifier
    /// is dropped before acting on it and nobody is left to hand the
    /// wake-up to: a state that reserved something for the woken task
    /// (a lock handed over) takes the reservation back here.
    fn unclaimed_wakeup(&mut self) {}
}

impl HasWaiters for WaitList {
    fn waiters(&mut self) -> &mut WaitList {
        self
    }
}

/// Waiters taken off a list by a notifier, to be woken once the lock is
/// released (waking under the lock would make them wake into a held lock).
#[must_use = "the waiters taken off the list must be woken"]
#[derive(Debug)]
pub(crate) struct Wakeups(Taken);

/// What a [`Wakeups`] holds.
#[derive(Debug)]
enum Taken {
    None,
    /// A single waiter taken on its own: `take_one` moves it here rather
    /// than splitting the list, which would leave the list without its
    /// buffer and cost an allocation at the next registration (one per
    /// wait and wake-up on a queue). Nor is there an empty list to drop
    /// after waking it (the common case: a queue's put wakes one getter).
    One(Sleeper),
    Many(VecDeque<(WaitId, Sleeper)>),
}

impl Wakeups {
    /// Wakes every waiter taken.
    #[inline]
    pub(crate) fn wake(self) {
        match self.0 {
            Taken::None => {}
            Taken::One(sleeper) => sleeper.wake(),
            Taken::Many(rest) => rest.into_iter().for_each(|(_, sleeper)| sleeper.wake()),
        }
    }

    /// How many waiters were taken.
    pub(crate) fn len(&self) -> usize {
        match &self.0 {
            Taken::None => 0,
            Taken::One(_) => 1,
            Taken::Many(rest) => rest.len(),
        }
    }

    fn of(rest: VecDeque<(WaitId, Sleeper)>) -> Self {
        Wakeups(Taken::Many(rest))
    }
}

/// A state behind a mutex plus the list of who waits for it to change: the
/// waiting core under every threadkit primitive (see the module docs for the
/// protocol).
#[derive(Debug, Default)]
pub(crate) struct Monitor<S> {
    state: Mutex<S>,
    /// How many entries the list holds; changed only under the lock, read
    /// without it by notifiers that changed the condition lock-free.
    listed: AtomicUsize,
    /// The highest [`WaitId`] a notifier has taken off the list (0: none).
    /// Notifiers take from the front and ids only grow, so a waiter that
    /// did not take its own entry off was woken exactly when its id is at
    /// most this: a task learns it without the lock. Written under the lock.
    taken: AtomicU64,
}

impl<S: HasWaiters> Monitor<S> {
    /// A monitor over `state`, with nobody waiting (`const`: a lock made
    /// in a `static` holds one, see `util::raw_lock`).
    #[cfg(not(loom))]
    pub(crate) const fn new(state: S) -> Self {
        Monitor {
            state: Mutex::new(state),
            listed: AtomicUsize::new(0),
            taken: AtomicU64::new(0),
        }
    }

    /// A monitor over `state`, with nobody waiting.
    #[cfg(loom)]
    pub(crate) fn new(state: S) -> Self {
        Monitor {
            state: Mutex::new(state),
            listed: AtomicUsize::new(0),
            taken: AtomicU64::new(0),
        }
    }

    /// Locks the state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock()
    }

    /// Locks the state if nobody holds the lock.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, S>> {
        self.state.try_lock()
    }

    /// Whether anybody may be waiting; no lock taken. Meaningful after a
    /// SeqCst fence or read-modify-write on the condition (see the protocol).
    pub(crate) fn has_waiters(&self) -> bool {
        self.listed.load(SeqCst) > 0
    }

    fn register(&self, state: &mut S, sleeper: Sleeper) -> WaitId {
        self.listed.fetch_add(1, SeqCst);
        state.waiters().push(sleeper)
    }

    /// Counts `n` entries off the list, under the lock. Only holders of
    /// the lock change `listed`, so a load and a store make an exact
    /// decrement, without the locked instruction of a read-modify-write (a
    /// notifier pays it for every waiter it wakes). The wake-up protocol
    /// needs no order here: its handshake is with the registration's
    /// increment, and a notifier's load that misses that increment misses
    /// it whatever it reads instead; a stale count read without the lock
    /// costs a needless lock at worst.
    #[inline]
    fn unlist(&self, n: usize) {
        self.listed.store(self.listed.load(Relaxed) - n, Release);
    }

    /// Takes `id` off the list if it is still on it; whether it was.
    fn deregister(&self, state: &mut S, id: WaitId) -> bool {
        let list = state.waiters();
        match list.position(id) {
            Some(at) => {
                list.entries.remove(at);
                self.unlist(1);
                true
            }
            None => false,
        }
    }

    /// Blocks the calling thread, with `guard` held around every check, until
    /// `ready(&mut state)` returns true or `deadline` passes. Returns what
    /// `ready` last returned: a condition that became true just as the
    /// deadline passed is still reported as met.
    pub(crate) fn wait_until(
        &self,
        guard: &mut MutexGuard<'_, S>,
        deadline: Deadline,
        ready: impl FnMut(&mut S) -> bool,
    ) -> bool {
        self.wait_until_held_by(guard, deadline, None, ready)
    }

    /// [`wait_until`](Self::wait_until), shown in thread dumps as a `kind`
    /// wait whatever the state says (`Thread::start` waits on the state
    /// that `join` waits on).
    pub(crate) fn wait_until_as(
        &self,
        guard: &mut MutexGuard<'_, S>,
        deadline: Deadline,
        kind: WaitKind,
        ready: impl FnMut(&mut S) -> bool,
    ) -> bool {
        self.wait_recorded(guard, deadline, Some(kind), None, ready)
    }

    /// [`wait_until`](Self::wait_until), naming for thread dumps who can end
    /// the wait when the state itself does not know (`None`: ask the state).
    // Inlined into its one caller per primitive: as a frame of its own it
    // cost every kill of a waiting green thread one more unwinding step
    // (about 4000 instructions in 50 000) and the queue ping-pong 60.
    #[inline(always)]
    pub(crate) fn wait_until_held_by(
        &self,
        guard: &mut MutexGuard<'_, S>,
        deadline: Deadline,
        holder: Option<Holder>,
        ready: impl FnMut(&mut S) -> bool,
    ) -> bool {
        self.wait_recorded(guard, deadline, None, holder, ready)
    }

    /// [`wait_until`](Self::wait_until), recorded for thread dumps as a
    /// `kind` wait ending with `holder` (`None`: ask the state).
    #[inline(always)]
    fn wait_recorded(
        &self,
        guard: &mut MutexGuard<'_, S>,
        deadline: Deadline,
        kind: Option<WaitKind>,
        holder: Option<Holder>,
        mut ready: impl FnMut(&mut S) -> bool,
    ) -> bool {
        if ready(guard) {
            return true;
        }
        if deadline == Deadline::Now {
            return false;
        }
        let (me, green) = Sleeper::current();
        let mut me = Some(me);
        let _record = record(&**guard, deadline, kind, holder, green);
        loop {
            // The first round registers `me` itself; a rare later one (a
            // spurious or stolen wake-up) a fresh copy.
            let sleeper = me.take().unwrap_or_else(|| Sleeper::current().0);
            let id = self.register(guard, sleeper);
            fence(SeqCst);
            if ready(guard) {
                self.deregister(guard, id);
                return true;
            }
            if !self.sleep(guard, id, deadline, green) {
                return ready(guard);
            }
            if ready(guard) {
                return true;
            }
        }
    }

    /// [`wait_until`](Self::wait_until) for a condition read without the
    /// lock (the queue's lock-free store): takes the locked guard and
    /// returns with the lock released. A waiter that a notifier took off
    /// the list learns it from the taken mark ([`was_taken`](Self::was_taken))
    /// and checks the condition without taking the lock back (step 4
    /// without the lock, as a woken task does): one lock, one search of the
    /// list and one unlock fewer per wake-up. A spurious wake-up, a timeout
    /// or a kill takes the lock as [`wait_until`](Self::wait_until) does.
    /// The caller has just found the condition false (it tried without
    /// the lock), so the wait starts at step 2: it registers, then checks.
    /// `ready` must read its condition as an [`Attempt::SEQCST`] check
    /// does (SeqCst loads only, every change a SeqCst read-modify-write or
    /// followed by a fence: the queue's store contract), so the
    /// registration needs no fence (see [`registered_before_seqcst_check`]):
    /// one fence fewer per wait.
    #[inline(always)]
    pub(crate) fn wait_lock_free<'a>(
        &'a self,
        mut guard: MutexGuard<'a, S>,
        deadline: Deadline,
        mut ready: impl FnMut() -> bool,
    ) -> bool {
        if deadline == Deadline::Now {
            return false;
        }
        let (me, green) = Sleeper::current();
        let mut me = Some(me);
        let _record = record(&*guard, deadline, None, None, green);
        loop {
            // The first round registers `me` itself; a rare later one (a
            // spurious or stolen wake-up) a fresh copy.
            let sleeper = me.take().unwrap_or_else(|| Sleeper::current().0);
            let id = self.register(&mut guard, sleeper);
            registered_before_seqcst_check();
            if ready() {
                self.deregister(&mut guard, id);
                return true;
            }
            // Sleeps until a notifier takes the entry off the list, the
            // deadline passes or (green) a kill.
            loop {
                drop(guard);
                let parked = park(deadline, green);
                if parked == Parked::Woken && self.was_taken(id) {
                    // Off the list for good: nothing to take back.
                    if ready() {
                        return true;
                    }
                    guard = self.lock();
                    break;
                }
                guard = self.lock();
                if parked == Parked::Killed {
                    self.killed(&mut guard, id);
                }
                if !guard.waiters().contains(id) {
                    break;
                }
                if parked == Parked::TimedOut {
                    self.deregister(&mut guard, id);
                    return ready();
                }
                // A spurious wake-up: still first in line where it was.
            }
            // Woken, yet the condition does not hold (another took it):
            // back in line.
            if ready() {
                return true;
            }
        }
    }

    /// Puts the calling thread on the list, runs `registered` (which may
    /// release another lock: Python's `Condition.wait` releases the user's
    /// lock only once it cannot miss a `notify`), and sleeps until a
    /// notifier takes it off the list or `deadline` passes. Returns whether
    /// it was woken by a notifier, as Python's `Condition.wait` does.
    pub(crate) fn wait_for_notify(
        &self,
        guard: &mut MutexGuard<'_, S>,
        deadline: Deadline,
        registered: impl FnOnce(),
    ) -> bool {
        let (me, green) = Sleeper::current();
        let id = self.register(guard, me);
        let _record = record(&**guard, deadline, None, None, green);
        registered();
        self.sleep(guard, id, deadline, green)
    }

    /// Parks until entry `id` is taken off the list (returns true) or the
    /// deadline passes with it still listed (takes it off, returns false).
    /// Inlined into its two callers for the same reason as
    /// [`wait_until_held_by`](Self::wait_until_held_by): one frame fewer
    /// for a killed green thread's unwinding to walk twice.
    #[inline(always)]
    fn sleep(
        &self,
        guard: &mut MutexGuard<'_, S>,
        id: WaitId,
        deadline: Deadline,
        green: bool,
    ) -> bool {
        loop {
            let parked = MutexGuard::unlocked(guard, || park(deadline, green));
            if parked == Parked::Killed {
                self.killed(guard, id);
            }
            if !guard.waiters().contains(id) {
                return true;
            }
            if parked == Parked::TimedOut {
                self.deregister(guard, id);
                return false;
            }
            // A spurious unpark: still first in line where it was.
        }
    }

    /// A killed green thread leaves the line as a dropped task does (takes
    /// its entry off, or hands the wake-up it got on), then unwinds.
    /// Inlined (into `sleep` alone): a frame fewer for the unwinder to walk
    /// twice, about a tenth of a kill.
    #[cold]
    #[inline(always)]
    fn killed(&self, guard: &mut MutexGuard<'_, S>, id: WaitId) -> ! {
        if !self.deregister(guard, id) {
            let next = self.take_one(guard);
            if next.len() == 0 {
                guard.unclaimed_wakeup();
            }
            MutexGuard::unlocked(guard, || next.wake());
        }
        // loom's mutex poisons itself, and fails its next lock, when its
        // guard drops during unwinding: give the lock up first there.
        #[cfg(all(feature = "green", loom))]
        MutexGuard::unlocked(guard, || -> ! { crate::green::unwind_killed() });
        #[cfg(all(feature = "green", not(loom)))]
        crate::green::unwind_killed();
        #[cfg(not(feature = "green"))]
        unreachable!("only green threads are killed")
    }

    /// Takes the longest-waiting entry off the list.
    #[inline]
    pub(crate) fn take_one(&self, state: &mut S) -> Wakeups {
        match state.waiters().entries.pop_front() {
            Some((id, sleeper)) => {
                self.taken.store(id.0.get(), Release);
                self.unlist(1);
                Wakeups(Taken::One(sleeper))
            }
            None => Wakeups(Taken::None),
        }
    }

    /// Takes up to `n` entries off the list, longest-waiting first.
    #[inline]
    pub(crate) fn take(&self, state: &mut S, n: usize) -> Wakeups {
        let list = state.waiters();
        let n = n.min(list.entries.len());
        if n == 0 {
            return Wakeups(Taken::None);
        }
        let taken = if n == 1 {
            match list.entries.pop_front() {
                Some((id, sleeper)) => {
                    self.taken.store(id.0.get(), Release);
                    Wakeups(Taken::One(sleeper))
                }
                None => Wakeups(Taken::None),
            }
        } else {
            let rest = list.entries.split_off(n);
            self.taken.store(list.entries[n - 1].0.0.get(), Release);
            Wakeups::of(std::mem::replace(&mut list.entries, rest))
        };
        self.unlist(n);
        taken
    }

    /// Takes every entry off the list.
    pub(crate) fn take_all(&self, state: &mut S) -> Wakeups {
        let taken = std::mem::take(&mut state.waiters().entries);
        if let Some((last, _)) = taken.back() {
            self.taken.store(last.0.get(), Release);
        }
        self.unlist(taken.len());
        Wakeups::of(taken)
    }

    /// Wakes the longest waiter, if any, after the condition was changed
    /// outside the lock (the primitives all notify after a read-modify-write
    /// or under the lock; the models and tests use this form).
    #[cfg(test)]
    pub(crate) fn notify_one(&self) {
        fence(SeqCst);
        self.notify_one_after_rmw();
    }

    /// [`notify_one`](Self::notify_one) without the fence, for a notifier
    /// whose change was itself a SeqCst read-modify-write: if this load
    /// misses a waiter's registration, the change comes before that
    /// registration in the SeqCst order, so the waiter's re-check sees it
    /// (crossbeam-channel wakes its receivers the same way). The fence would
    /// cost as much as the rest of a queue's `put`.
    ///
    /// loom models SeqCst loads and read-modify-writes more weakly than
    /// C++20 does (it has no single order over them, only over fences), so
    /// under `cfg(loom)` the fence is issued anyway.
    #[inline]
    pub(crate) fn notify_one_after_rmw(&self) {
        #[cfg(loom)]
        fence(SeqCst);
        if self.has_waiters() {
            self.wake_one_slow();
        }
    }

    #[cold]
    fn wake_one_slow(&self) {
        let mut guard = self.state.lock();
        let woken = self.take_one(&mut guard);
        drop(guard);
        woken.wake();
    }

    /// Wakes every waiter, if any, after the condition was changed outside
    /// the lock.
    pub(crate) fn notify_all(&self) {
        fence(SeqCst);
        if self.has_waiters() {
            let mut guard = self.state.lock();
            let woken = self.take_all(&mut guard);
            drop(guard);
            woken.wake();
        }
    }

    /// The async face of [`wait_until`](Self::wait_until): a future that
    /// runs `attempt` under the lock each time it is polled and resolves to
    /// its first `Some`. It waits on the same list as the threads, and
    /// dropping it is always safe (see the module docs).
    pub(crate) fn until<R, F>(&self, attempt: F) -> Until<'_, S, F>
    where
        F: FnMut(&mut S) -> Option<R>,
    {
        Until {
            monitor: self,
            attempt,
            id: None,
            start: Start::Locked,
        }
    }

    /// [`until`](Self::until) for an attempt that reads no state under the
    /// lock (the queue's lock-free store): the first poll tries without the
    /// lock and, failing, registers before it tries again (the protocol's
    /// step 1 without the lock), and a woken task tries before it takes the
    /// lock. A failing try must have read its condition through
    /// SeqCst atomics only (or under a lock its notifiers take), and every
    /// change to it must be a SeqCst read-modify-write or be followed by a
    /// SeqCst fence (the store's ordering contract): the registration then
    /// needs no fence of its own (see [`Attempt::SEQCST`]). `attempt` gets whether a notifier took
    /// this task off the list (its condition most likely holds now).
    pub(crate) fn until_free<R, F>(&self, attempt: F) -> Until<'_, S, Free<F>>
    where
        F: FnMut(bool) -> Option<R>,
    {
        Until {
            monitor: self,
            attempt: Free(attempt),
            id: None,
            start: Start::Unlocked,
        }
    }

    /// [`until_free`](Self::until_free) for a caller that has just made the
    /// unlocked try itself: the first poll registers before it tries (the
    /// protocol's step 2 without step 1).
    pub(crate) fn until_tried<R, F>(&self, attempt: F) -> Until<'_, S, Free<F>>
    where
        F: FnMut(bool) -> Option<R>,
    {
        Until {
            monitor: self,
            attempt: Free(attempt),
            id: None,
            start: Start::Registering,
        }
    }

    /// [`until`](Self::until) for a primitive that hands itself over:
    /// `attempt` also gets whether a notifier took this task off the list
    /// since its last poll (the wake-up was meant for it). A lock can then
    /// reserve itself for the waiter its release woke, so that newcomers do
    /// not barge (Python's `asyncio.Lock`); see
    /// [`HasWaiters::unclaimed_wakeup`] for a woken task dropped with nobody
    /// behind it.
    #[cfg_attr(not(feature = "asyncio"), allow(dead_code))]
    pub(crate) fn until_woken<R, F>(&self, attempt: F) -> Until<'_, S, Woken<F>>
    where
        F: FnMut(&mut S, bool) -> Option<R>,
    {
        Until {
            monitor: self,
            attempt: Woken(attempt),
            id: None,
            start: Start::Locked,
        }
    }

    /// The async face of [`wait_for_notify`](Self::wait_for_notify): puts
    /// the task on the list now, under the caller's lock of `state` (so that
    /// it cannot miss a notifier once the caller releases its own lock), and
    /// returns a future that resolves once a notifier has taken it off the
    /// list. Dropped before that, it takes its entry off; dropped after a
    /// notifier took it but before it resolved, it hands the wake-up on.
    #[cfg_attr(not(feature = "asyncio"), allow(dead_code))]
    pub(crate) fn notified(&self, state: &mut S) -> Notified<'_, S> {
        let id = self.register(state, Sleeper::Task(Waker::noop().clone()));
        Notified {
            monitor: self,
            id: Some(id),
        }
    }

    /// Drop of a task's registration `id`: takes it off the list, or, if a
    /// notifier took it first, hands the wake-up on (at worst a spurious one).
    fn cancel(&self, id: WaitId) {
        let mut guard = self.lock();
        if self.deregister(&mut guard, id) {
            return;
        }
        let next = self.take_one(&mut guard);
        if next.len() == 0 {
            guard.unclaimed_wakeup();
        }
        drop(guard);
        next.wake();
    }
}

/// What an [`Until`] runs under the lock at each poll: a closure over the
/// state ([`Monitor::until`]) or one that also learns whether it was woken
/// by a notifier ([`Monitor::until_woken`]).
pub(crate) trait Attempt<S> {
    /// What the future resolves to.
    type Output;

    /// One try; `woken`: a notifier took this task off the list since its
    /// last poll.
    fn attempt(&mut self, state: &mut S, woken: bool) -> Option<Self::Output>;

    /// One try without the lock, made by a woken task before it takes the
    /// lock (`woken`), or by [`Monitor::until_free`]'s first poll; `None`
    /// if this attempt needs the state (the default).
    fn attempt_unlocked(&mut self, woken: bool) -> Option<Option<Self::Output>> {
        let _ = woken;
        None
    }

    /// Whether a failing try has read its whole condition through SeqCst
    /// loads or read-modify-writes (or under a lock its notifiers take to
    /// change it), and every notifier changes it with a SeqCst
    /// read-modify-write (or fences) before it reads `listed`. The
    /// registration's own SeqCst read-modify-write on `listed` then orders
    /// it with that read, and no fence is needed between the registration
    /// and the check (see [`registered_before_seqcst_check`]).
    const SEQCST: bool = false;
}

/// The protocol's step 2 for a waiter whose check reads only SeqCst
/// atomics ([`Attempt::SEQCST`]): the fence after the registration is
/// left out.
///
/// Why that is enough (C++20's memory model, which Rust's follows): the
/// registration is a SeqCst read-modify-write `R` of `listed`, followed by
/// the check's SeqCst loads `C`; the notifier makes its change with a
/// SeqCst read-modify-write `W` (the store's push or pop), then loads
/// `listed` with SeqCst (`L`, in `has_waiters`). All four are in the one
/// total order `S` of SeqCst operations, which agrees with each thread's
/// program order (`R < C`, `W < L`), and a SeqCst load reads the last write
/// before it in `S` (or a later one). Suppose the waiter sleeps unseen:
/// `C` misses `W`, so `C < W`; `L` misses `R`, so `L < R`. Then
/// `R < C < W < L < R`, a cycle: impossible. So either the notifier sees
/// `listed > 0` and takes the lock to wake the waiter (which it can do only
/// once the waiter released it, after registering), or the check sees the
/// change. (On x86 the read-modify-write is a full barrier already, and
/// the fence after it a second one.) A notifier that makes any change and
/// then fences (`F`) before `L`, as `notify_all` does, is covered the same
/// way: a SeqCst load that misses a write made before a SeqCst fence comes
/// before that fence in `S` (C++20 [atomics.order]), so `C < F < L < R`.
/// A check made under a lock that the notifier also holds to make its
/// change (the LIFO and priority stores) needs no fence either: if the
/// check's critical section comes first, its unlock synchronizes with the
/// notifier's lock, so `R` happens before `L` and `L` reads `R`'s count;
/// otherwise the check sees the change.
///
/// loom cannot check this: it has no single order over SeqCst loads and
/// read-modify-writes (it treats them as acquire/release; only fences are
/// totally ordered), so under `cfg(loom)` the fence stays, and the models
/// check the handshake in that form. A model in `queue::tests` leaves the
/// fence out under loom too and expects loom to find the lost wake-up:
/// proof that the models do reach this handshake. Another leaves it out
/// over the LIFO store, whose lock loom models exactly, and expects the
/// getter to be woken: that checks the argument for a check under a lock.
#[inline(always)]
fn registered_before_seqcst_check() {
    #[cfg(loom)]
    if !loom_break::fence_left_out() {
        fence(SeqCst);
    }
}

/// A switch for one model that breaks the protocol on purpose (see
/// [`registered_before_seqcst_check`]). loom runs every thread of a model
/// on the thread that called `loom::model`, so a thread-local switch
/// reaches only that model.
#[cfg(loom)]
pub(crate) mod loom_break {
    use std::cell::Cell;

    std::thread_local! {
        static LEAVE_OUT_FENCE: Cell<bool> = const { Cell::new(false) };
    }

    /// Leaves out the fence after an async registration, as non-loom
    /// builds do, while `f` runs.
    #[cfg(test)]
    pub(crate) fn without_register_fence<R>(f: impl FnOnce() -> R) -> R {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                LEAVE_OUT_FENCE.with(|on| on.set(false));
            }
        }
        LEAVE_OUT_FENCE.with(|on| on.set(true));
        let _reset = Reset;
        f()
    }

    pub(super) fn fence_left_out() -> bool {
        LEAVE_OUT_FENCE.with(Cell::get)
    }
}

impl<S, R, F: FnMut(&mut S) -> Option<R>> Attempt<S> for F {
    type Output = R;

    fn attempt(&mut self, state: &mut S, _woken: bool) -> Option<R> {
        self(state)
    }
}

/// The attempt of [`Monitor::until_woken`].
#[cfg_attr(not(feature = "asyncio"), allow(dead_code))]
pub(crate) struct Woken<F>(F);

impl<S, R, F: FnMut(&mut S, bool) -> Option<R>> Attempt<S> for Woken<F> {
    type Output = R;

    fn attempt(&mut self, state: &mut S, woken: bool) -> Option<R> {
        (self.0)(state, woken)
    }
}

/// The attempt of [`Monitor::until_free`] and [`Monitor::until_tried`]: a
/// closure that needs no state.
pub(crate) struct Free<F>(F);

impl<S, R, F: FnMut(bool) -> Option<R>> Attempt<S> for Free<F> {
    type Output = R;

    fn attempt(&mut self, _state: &mut S, woken: bool) -> Option<R> {
        (self.0)(woken)
    }

    #[inline]
    fn attempt_unlocked(&mut self, woken: bool) -> Option<Option<R>> {
        Some((self.0)(woken))
    }

    // `until_free`'s contract.
    const SEQCST: bool = true;
}

/// Notes for thread dumps what the calling thread is about to sleep on
/// (nothing under loom: see `waits::enter`); a green thread in its own
/// record, which its hub's board lists, once dumps are armed. `kind` and
/// `holder`, if given, override what the state says.
fn record<S: HasWaiters>(
    state: &S,
    deadline: Deadline,
    kind: Option<WaitKind>,
    holder: Option<Holder>,
    green: bool,
) -> Option<WaitScope> {
    if !state.recorded() {
        return None;
    }
    #[cfg(feature = "green")]
    if green && !crate::green::dumps_armed() && crate::green::in_green() {
        return None;
    }
    let _ = green;
    Some(waits::enter(
        kind.unwrap_or_else(|| state.wait_kind()),
        waits::WaitObject::Text(state.wait_object()),
        deadline,
        holder.unwrap_or_else(|| state.holder()),
    ))
}

impl<S: HasWaiters> Monitor<S> {
    /// One poll of the async face, for a waiter that keeps its entry id
    /// itself: [`Until`] does, and so does a handle that is itself a
    /// `std::future::Future` (a pool's `Future`) and so cannot hold an
    /// `Until` borrowing from its own monitor. Runs `attempt` under the lock;
    /// if it gives `None`, keeps (or takes) a place in line under `id` with
    /// `cx`'s waker. The owner of `id` calls [`abandon`](Self::abandon) when
    /// it is dropped.
    pub(crate) fn poll_until<A: Attempt<S>>(
        &self,
        id: &mut Option<WaitId>,
        cx: &mut Context<'_>,
        attempt: &mut A,
    ) -> Poll<A::Output> {
        self.poll_attempt(id, cx, attempt, Start::Locked)
    }

    /// Whether a notifier took entry `id` off the list, for a waiter that
    /// did not take it off itself. Exact under the lock; without it, a
    /// `false` may be stale (and is then checked again under the lock).
    #[inline]
    fn was_taken(&self, id: WaitId) -> bool {
        id.0.get() <= self.taken.load(Acquire)
    }

    /// [`poll_until`](Self::poll_until); `start`: how a first poll starts.
    #[inline]
    fn poll_attempt<A: Attempt<S>>(
        &self,
        id: &mut Option<WaitId>,
        cx: &mut Context<'_>,
        attempt: &mut A,
        start: Start,
    ) -> Poll<A::Output> {
        // Woken, an attempt that needs no state tries without the lock:
        // the entry is off the list already, nothing to take back.
        if let Some(listed) = *id
            && self.was_taken(listed)
            && let Some(Some(done)) = attempt.attempt_unlocked(true)
        {
            *id = None;
            return Poll::Ready(done);
        }
        let tried = match start {
            Start::Locked => false,
            Start::Registering => true,
            // The common case without the lock; if it fails, the task
            // registers before it tries again.
            Start::Unlocked => match attempt.attempt_unlocked(false) {
                Some(Some(done)) => return Poll::Ready(done),
                Some(None) => true,
                None => false,
            },
        };
        let mut guard = self.lock();
        let woken = id.is_some_and(|listed| self.was_taken(listed));
        if !(tried && id.is_none())
            && let Some(done) = attempt.attempt(&mut guard, woken)
        {
            if let Some(listed) = id.take()
                && !woken
            {
                self.deregister(&mut guard, listed);
            }
            return Poll::Ready(done);
        }
        if let Some(listed) = *id
            && !woken
        {
            let list = guard.waiters();
            if let Some(at) = list.position(listed) {
                // Still waiting: keep the place in line, refresh the waker.
                if let (_, Sleeper::Task(waker)) = &mut list.entries[at] {
                    waker.clone_from(cx.waker());
                }
                return Poll::Pending;
            }
        }
        let listed = self.register(&mut guard, Sleeper::Task(cx.waker().clone()));
        if A::SEQCST {
            registered_before_seqcst_check();
        } else {
            fence(SeqCst);
        }
        if let Some(done) = attempt.attempt(&mut guard, false) {
            self.deregister(&mut guard, listed);
            *id = None;
            return Poll::Ready(done);
        }
        *id = Some(listed);
        Poll::Pending
    }

    /// Gives up the async wait under `id` (its future is dropped): takes the
    /// entry off the list or, if a notifier took it already, hands that
    /// wake-up on to the next in line (at worst a spurious one), so a
    /// cancelled `await` never swallows the only notification.
    pub(crate) fn abandon(&self, id: &mut Option<WaitId>) {
        if let Some(listed) = id.take() {
            self.cancel(listed);
        }
    }
}

/// Parks the calling thread (or, `green`, suspends the calling green
/// thread) until woken or `deadline`.
#[inline]
fn park(deadline: Deadline, green: bool) -> Parked {
    #[cfg(feature = "green")]
    if green {
        return match crate::green::park(deadline) {
            crate::green::Parked::Woken => Parked::Woken,
            crate::green::Parked::TimedOut => Parked::TimedOut,
            crate::green::Parked::Killed => Parked::Killed,
        };
    }
    let _ = green;
    let timed_out = match deadline {
        Deadline::Never => {
            thread::park();
            false
        }
        Deadline::Now => true,
        Deadline::At(at) => {
            let now = Instant::now();
            if now >= at {
                true
            } else {
                thread::park_timeout(at - now);
                Instant::now() >= at
            }
        }
    };
    if timed_out {
        Parked::TimedOut
    } else {
        Parked::Woken
    }
}

/// How the first poll of an [`Until`] starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// At step 1, under the lock.
    Locked,
    /// At step 2: the caller has just tried without the lock.
    Registering,
    /// With a try without the lock, then at step 2.
    Unlocked,
}

/// The future returned by [`Monitor::until`].
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Until<'a, S: HasWaiters, F> {
    monitor: &'a Monitor<S>,
    attempt: F,
    /// This task's entry, from the moment it registers until it resolves
    /// or is dropped (the entry may have been taken by a notifier since).
    id: Option<WaitId>,
    /// How the first poll starts; [`Start::Locked`] after it.
    start: Start,
}

// `attempt` is only ever called through `&mut`, never pinned.
impl<S: HasWaiters, F> Unpin for Until<'_, S, F> {}

impl<S: HasWaiters, F: Attempt<S>> Future for Until<'_, S, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let start = std::mem::replace(&mut this.start, Start::Locked);
        this.monitor
            .poll_attempt(&mut this.id, cx, &mut this.attempt, start)
    }
}

impl<S: HasWaiters, F> Drop for Until<'_, S, F> {
    fn drop(&mut self) {
        // Leave the line; woken and cancelled before acting on it, hand
        // the wake-up on.
        self.monitor.abandon(&mut self.id);
    }
}

/// The future returned by [`Monitor::notified`].
#[must_use = "futures do nothing unless awaited"]
#[cfg_attr(not(feature = "asyncio"), allow(dead_code))]
pub(crate) struct Notified<'a, S: HasWaiters> {
    monitor: &'a Monitor<S>,
    /// The entry, until the future resolves.
    id: Option<WaitId>,
}

impl<S: HasWaiters> Future for Notified<'_, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(id) = this.id else {
            return Poll::Ready(());
        };
        // Only a notifier takes the entry off (a drop ends the future): the
        // mark tells it without the lock.
        if this.monitor.was_taken(id) {
            this.id = None;
            return Poll::Ready(());
        }
        let mut guard = this.monitor.lock();
        let list = guard.waiters();
        match list.position(id) {
            Some(at) => {
                if let (_, Sleeper::Task(waker)) = &mut list.entries[at] {
                    waker.clone_from(cx.waker());
                }
                Poll::Pending
            }
            None => {
                this.id = None;
                Poll::Ready(())
            }
        }
    }
}

impl<S: HasWaiters> Drop for Notified<'_, S> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.monitor.cancel(id);
        }
    }
}

impl<S: HasWaiters> std::fmt::Debug for Notified<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notified").field("id", &self.id).finish()
    }
}

impl<S, F> std::fmt::Debug for Until<'_, S, F>
where
    S: HasWaiters,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Until").field("id", &self.id).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    /// A flag under a monitor, the smallest primitive built on it.
    #[derive(Default)]
    struct Flag {
        set: bool,
        waiters: WaitList,
    }

    impl HasWaiters for Flag {
        fn waiters(&mut self) -> &mut WaitList {
            &mut self.waiters
        }
    }

    fn set(flag: &Monitor<Flag>) {
        let mut state = flag.lock();
        state.set = true;
        let woken = flag.take_all(&mut state);
        drop(state);
        woken.wake();
    }

    #[test]
    fn thread_waits_until_set_and_times_out_otherwise() {
        let flag = Arc::new(Monitor::new(Flag::default()));
        let mut state = flag.lock();
        assert!(!flag.wait_until(&mut state, Deadline::Now, |s| s.set));
        assert!(
            !flag.wait_until(&mut state, Deadline::after(Duration::from_millis(5)), |s| s
                .set)
        );
        assert_eq!(state.waiters.len(), 0);
        drop(state);
        assert!(!flag.has_waiters());

        let setter = Arc::clone(&flag);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            set(&setter);
        });
        let mut state = flag.lock();
        assert!(flag.wait_until(&mut state, Deadline::Never, |s| s.set));
        drop(state);
        t.join().unwrap();
        assert!(!flag.has_waiters());
    }

    #[test]
    fn threads_and_tasks_are_served_in_arrival_order() {
        let list = Monitor::new(WaitList::default());
        let mut cx = Context::from_waker(Waker::noop());
        let mut first = Box::pin(list.until(|_| None::<()>));
        let mut second = Box::pin(list.until(|_| None::<()>));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        // Polling again keeps the place in line.
        assert!(first.as_mut().poll(&mut cx).is_pending());
        let mut state = list.lock();
        assert_eq!(state.len(), 2);
        let woken = list.take_one(&mut state);
        assert_eq!(woken.len(), 1);
        // The first one was taken: the second is still listed.
        assert_eq!(state.entries[0].0, second.id.unwrap());
        drop(state);
        woken.wake();
        drop(second);
        assert_eq!(list.lock().len(), 0);
        // `first` was woken and dropped without acting: nobody to hand on to.
        drop(first);
        assert!(!list.has_waiters());
    }

    #[test]
    fn a_cancelled_woken_task_hands_the_wake_up_on() {
        let list = Arc::new(Monitor::new(WaitList::default()));
        let mut cx = Context::from_waker(Waker::noop());
        let mut cancelled = Box::pin(list.until(|_| None::<()>));
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        let woke = Arc::new(AtomicBool::new(false));
        let waiter = {
            let list = Arc::clone(&list);
            let woke = Arc::clone(&woke);
            std::thread::spawn(move || {
                let mut state = list.lock();
                list.wait_for_notify(&mut state, Deadline::Never, || {});
                woke.store(true, SeqCst);
            })
        };
        while list.lock().len() < 2 {
            std::thread::yield_now();
        }
        list.notify_one();
        assert!(!woke.load(SeqCst));
        drop(cancelled);
        waiter.join().unwrap();
        assert!(woke.load(SeqCst));
        assert!(!list.has_waiters());
    }

    #[test]
    fn until_resolves_on_its_first_some() {
        let flag = Monitor::new(Flag::default());
        let mut cx = Context::from_waker(Waker::noop());
        let mut wait = Box::pin(flag.until(|s| s.set.then_some(7)));
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        set(&flag);
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(7));
        drop(wait);
        assert!(!flag.has_waiters());
    }

    #[test]
    fn notify_for_condition_reports_timeouts() {
        let list = Monitor::new(WaitList::default());
        let mut state = list.lock();
        let woken =
            list.wait_for_notify(&mut state, Deadline::after(Duration::from_millis(5)), || {});
        assert!(!woken);
        assert_eq!(state.len(), 0);
    }
}

/// Models of the wake-up protocol: `RUSTFLAGS="--cfg loom" cargo test --lib
/// --release loom`.
#[cfg(all(test, loom))]
mod loom_monitor {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::loom::sync::atomic::AtomicUsize;
    use loom::sync::atomic::AtomicBool;

    /// A thread waiting on a condition changed outside the lock is never
    /// left asleep (the Dekker handshake).
    #[test]
    fn loom_thread_wakes_on_lock_free_change() {
        loom::model(|| {
            let list = Arc::new(Monitor::new(WaitList::default()));
            let flag = Arc::new(AtomicBool::new(false));
            let waiter = {
                let (list, flag) = (Arc::clone(&list), Arc::clone(&flag));
                loom::thread::spawn(move || {
                    let mut state = list.lock();
                    assert!(list.wait_until(&mut state, Deadline::Never, |_| flag.load(SeqCst)));
                })
            };
            flag.store(true, SeqCst);
            list.notify_one();
            waiter.join().unwrap();
            assert!(!list.has_waiters());
        });
    }

    /// A task and a thread each wait for one of two units; two
    /// `notify_one`s after two changes release both, whoever is first.
    #[test]
    fn loom_task_and_thread_share_one_list() {
        loom::model(|| {
            let list = Arc::new(Monitor::new(WaitList::default()));
            let units = Arc::new(AtomicUsize::new(0));
            let take = |units: &AtomicUsize| {
                let mut n = units.load(SeqCst);
                while n > 0 {
                    match units.compare_exchange(n, n - 1, SeqCst, SeqCst) {
                        Ok(_) => return true,
                        Err(now) => n = now,
                    }
                }
                false
            };
            let task = {
                let (list, units) = (Arc::clone(&list), Arc::clone(&units));
                loom::thread::spawn(move || {
                    loom::future::block_on(list.until(|_| take(&units).then_some(())));
                })
            };
            let thread = {
                let (list, units) = (Arc::clone(&list), Arc::clone(&units));
                loom::thread::spawn(move || {
                    let mut state = list.lock();
                    list.wait_until(&mut state, Deadline::Never, |_| take(&units));
                })
            };
            for _ in 0..2 {
                units.fetch_add(1, SeqCst);
                list.notify_one_after_rmw();
            }
            task.join().unwrap();
            thread.join().unwrap();
            assert_eq!(units.load(SeqCst), 0);
        });
    }

    /// A task woken by `notify_one` and then dropped before acting hands
    /// the wake-up on to the thread behind it.
    #[test]
    fn loom_cancelled_task_hands_its_wake_up_on() {
        loom::model(|| {
            let list = Arc::new(Monitor::new(WaitList::default()));
            let flag = Arc::new(AtomicBool::new(false));
            let task = {
                let (list, flag) = (Arc::clone(&list), Arc::clone(&flag));
                loom::thread::spawn(move || {
                    let mut wait = list.until(|_| flag.load(SeqCst).then_some(()));
                    let mut cx = Context::from_waker(Waker::noop());
                    let _ = Pin::new(&mut wait).poll(&mut cx);
                    drop(wait);
                })
            };
            let thread = {
                let (list, flag) = (Arc::clone(&list), Arc::clone(&flag));
                loom::thread::spawn(move || {
                    let mut state = list.lock();
                    list.wait_until(&mut state, Deadline::Never, |_| flag.load(SeqCst));
                })
            };
            flag.store(true, SeqCst);
            list.notify_one();
            task.join().unwrap();
            thread.join().unwrap();
        });
    }
}
