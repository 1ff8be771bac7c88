//! The storage behind a queue: CPython's `_init`, `_qsize`, `_put` and `_get`
//! hooks as a trait, with the FIFO, LIFO and priority orderings.
//!
//! Unlike CPython's hooks, a [`Store`] is itself thread-safe, enforces the
//! bound and can be *closed*, so that the shared [`Queue`](super::Queue)
//! calls it without holding any lock of its own (the way crossbeam-channel's
//! flavours work). Closing is Python 3.13's `shutdown`: a closed store refuses
//! every push, handing the item back, and pops what it still holds before it
//! reports `ShutDown`. Because the closed flag lives inside the store, in the
//! same atomic as the push position, a push and a close are ordered by one
//! read-modify-write and no push can slip in after the store reported closed
//! and empty.
//!
//! - FIFO is concurrent-queue's `ConcurrentQueue` (smol-rs; the design of
//!   crossbeam-queue's `ArrayQueue` and `SegQueue`, plus `close`): a
//!   preallocated ring for bounds up to [`ARRAY_MAX`], a list of blocks
//!   otherwise. It is lock-free but for one case: a bounded push to the list
//!   takes a short mutex that only such pushes share, so that "there is
//!   room" and the push are one step. The bound may then change at any time
//!   (Python's assignable `maxsize`); a ring whose bound changes is retired
//!   for the list (see [`FifoStore`]). Under `cfg(loom)` concurrent-queue runs on
//!   loom's atomics, so the loom models check the real store.
//!
//!   It meets the [`Store`] ordering contract by its own code, which we rely
//!   on as crossbeam-channel relies on the same code in its flavours (checked
//!   in concurrent-queue 2.5.0; the dependency is held to `~2.5` so that a
//!   new minor version gets checked again): every successful push and pop
//!   moves the tail or head index (the single flavour: its state word) with
//!   a SeqCst compare-exchange, and `len`/`is_empty` load those with SeqCst
//!   (for a retired ring and the list, one after the other). loom treats
//!   SeqCst accesses as acquire/release only, so under `cfg(loom)` an
//!   explicit fence follows each push and pop instead, and the models check
//!   that form of the handshake.
//! - LIFO and priority keep a `Vec`/binary heap behind a short mutex: there
//!   is no well-kept lock-free stack or heap to reuse, and those queues are
//!   rarely the bottleneck.

// The store types are `pub` only because the sealed `Order` trait names
// them (a public trait may not name crate-private types); the module is
// private, so none of them can be reached from outside the crate.
#![allow(unreachable_pub)]

use std::cmp::Ordering;

use concurrent_queue::{ConcurrentQueue, PopError, PushError};

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst, fence};

/// Why a store (or the queue above it) refused a push or a pop; the queue
/// facades map it onto the error type of each method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Full (push) or empty (pop).
    NotReady,
    /// Closed (push), or closed and empty (pop).
    ShutDown,
}

/// An ordering policy over thread-safe storage: where `try_push` puts an item
/// and which one `try_pop` returns.
///
/// Every method may be called from any thread at any time. A successful
/// `try_push` happens-before the `try_pop` that returns the item.
///
/// *Ordering contract* (what lets the queue wake sleepers without a fence,
/// see `Monitor::notify_one_after_rmw`): a successful `try_push` or
/// `try_pop` is, or ends with, a SeqCst read-modify-write (or fence) that
/// precedes, in the SeqCst order, every later SeqCst operation of the calling
/// thread; and `len`/`is_empty` read through SeqCst loads (or a fence) whose
/// result reflects every push and pop before them in that order. In short, a
/// push or pop and a later `len`/`is_empty` behave as if each were one SeqCst
/// operation.
pub trait Store {
    /// The element type.
    type Item;

    /// An empty, open store holding at most `maxsize` items, 0 = unbounded
    /// (CPython's `_init`).
    fn with_maxsize(maxsize: usize) -> Self;

    /// The bound now, 0 = unbounded.
    fn maxsize(&self) -> usize;

    /// Changes the bound (Python's `q.maxsize = n`). Items beyond a smaller
    /// bound stay; pushes are refused until there is room again. A push
    /// racing with the change may be checked against either bound, as in
    /// Python, where assigning `maxsize` does not take the queue's lock.
    fn set_maxsize(&self, maxsize: usize);

    /// The number of items held now (CPython's `_qsize`); a snapshot.
    fn len(&self) -> usize;

    /// Adds an item unless the store is full or closed (CPython's `_put`);
    /// hands it back otherwise. An open unbounded store never refuses.
    fn try_push(&self, item: Self::Item) -> Result<(), (Self::Item, Refused)>;

    /// Removes the next item (CPython's `_get`); `ShutDown` only once the
    /// store is closed and empty, and then for good.
    fn try_pop(&self) -> Result<Self::Item, Refused>;

    /// Refuses every later push. Items held stay poppable.
    fn close(&self);

    /// Whether [`close`](Store::close) was called.
    fn is_closed(&self) -> bool;

    /// Whether the store is empty now.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the store is empty now, if that is cheaper to tell than a
    /// failing pop (no fence, no lock); `false` (try the pop) otherwise.
    /// Only the async get asks: a failing pop costs the thread paths less
    /// than this check.
    fn looks_empty(&self) -> bool {
        false
    }
}

/// The largest bound served by a preallocated ring; larger bounds, and
/// bounds set later, use the list of blocks, whose memory follows the items
/// held.
pub(crate) const ARRAY_MAX: usize = 1 << 16;

/// First in, first out: `queue.Queue` and `SimpleQueue`.
///
/// A queue created with a bound up to [`ARRAY_MAX`] pushes into a
/// preallocated ring, which enforces the bound itself, lock-free. When
/// `set_maxsize` changes that bound the ring is *retired*: closed for good,
/// so that every later push goes to the list, and emptied by pops before
/// the list (whose items are all younger: a push goes to the list only once
/// the ring refused it as closed). A shutdown closes the ring, then the
/// list; the list's closed flag is the store's.
#[derive(Debug)]
pub struct FifoStore<T> {
    ring: Option<ConcurrentQueue<T>>,
    list: ConcurrentQueue<T>,
    /// 0 = unbounded.
    maxsize: AtomicUsize,
    /// Taken by bounded pushes to the list only, so that the room check
    /// and the push are one step for them; pops never take it (they only
    /// make room). It holds a lower bound on the free slots, so that a push
    /// need not read the length (the consumers' index, a cache miss) every
    /// time: pops only add room, so the bound stays true until pushes use
    /// it up, and then the length is read again.
    room: Mutex<usize>,
}

fn from_push_error<T>(error: PushError<T>) -> (T, Refused) {
    match error {
        PushError::Full(item) => (item, Refused::NotReady),
        PushError::Closed(item) => (item, Refused::ShutDown),
    }
}

fn from_pop_error(error: PopError) -> Refused {
    match error {
        PopError::Empty => Refused::NotReady,
        PopError::Closed => Refused::ShutDown,
    }
}

impl<T> Store for FifoStore<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        FifoStore {
            ring: (1..=ARRAY_MAX)
                .contains(&maxsize)
                .then(|| ConcurrentQueue::bounded(maxsize)),
            list: ConcurrentQueue::unbounded(),
            maxsize: AtomicUsize::new(maxsize),
            room: Mutex::new(0),
        }
    }

    fn maxsize(&self) -> usize {
        self.maxsize.load(SeqCst)
    }

    fn set_maxsize(&self, maxsize: usize) {
        let mut room = self.room.lock();
        self.maxsize.store(maxsize, SeqCst);
        // Known room under the old bound says nothing about the new one.
        *room = 0;
        if let Some(ring) = &self.ring {
            if ring.capacity() != Some(maxsize) {
                ring.close();
            }
        }
    }

    fn len(&self) -> usize {
        self.ring.as_ref().map_or(0, ConcurrentQueue::len) + self.list.len()
    }

    fn is_empty(&self) -> bool {
        self.ring.as_ref().is_none_or(ConcurrentQueue::is_empty) && self.list.is_empty()
    }

    #[inline]
    fn looks_empty(&self) -> bool {
        self.is_empty()
    }

    #[inline]
    fn try_push(&self, item: T) -> Result<(), (T, Refused)> {
        let item = match &self.ring {
            Some(ring) => match ring.push(item) {
                Ok(()) => {
                    loom_fence();
                    return Ok(());
                }
                Err(PushError::Full(item)) => return Err((item, Refused::NotReady)),
                // Retired, or shut down: the list knows which.
                Err(PushError::Closed(item)) => item,
            },
            None => item,
        };
        if self.maxsize.load(SeqCst) == 0 {
            return self.push_list(item);
        }
        let mut room = self.room.lock();
        if *room == 0 {
            // Read again under the lock: the bound may have changed.
            *room = match self.maxsize.load(SeqCst) {
                0 => usize::MAX,
                maxsize => maxsize.saturating_sub(self.len()),
            };
            if *room == 0 {
                // Closed wins over full, as for every other store.
                if self.list.is_closed() {
                    return Err((item, Refused::ShutDown));
                }
                return Err((item, Refused::NotReady));
            }
        }
        let pushed = self.push_list(item);
        if pushed.is_ok() {
            *room -= 1;
        }
        pushed
    }

    #[inline]
    fn try_pop(&self) -> Result<T, Refused> {
        if let Some(ring) = &self.ring {
            match ring.pop() {
                Ok(item) => {
                    loom_fence();
                    return Ok(item);
                }
                // Open: nothing was pushed to the list yet.
                Err(PopError::Empty) => return Err(Refused::NotReady),
                // Retired or shut down, and empty for good: the list
                // holds the rest.
                Err(PopError::Closed) => {}
            }
        }
        let item = self.list.pop().map_err(from_pop_error)?;
        loom_fence();
        Ok(item)
    }

    fn close(&self) {
        // The ring first: once the list is closed, neither takes a push.
        if let Some(ring) = &self.ring {
            ring.close();
        }
        self.list.close();
    }

    fn is_closed(&self) -> bool {
        self.list.is_closed()
    }
}

impl<T> FifoStore<T> {
    #[inline]
    fn push_list(&self, item: T) -> Result<(), (T, Refused)> {
        let pushed = self.list.push(item).map_err(from_push_error);
        loom_fence();
        pushed
    }
}

/// The fence that stands for concurrent-queue's SeqCst read-modify-writes
/// under loom (see the module docs); nothing otherwise.
#[inline(always)]
fn loom_fence() {
    #[cfg(loom)]
    fence(SeqCst);
}

/// A collection that a [`Locked`] store keeps behind its mutex: the order in
/// which items come out.
pub trait Pile: Default {
    /// The element type.
    type Item;
    /// Reserves room for `capacity` items up front.
    fn reserve(&mut self, capacity: usize);
    /// The number of items held.
    fn len(&self) -> usize;
    /// Adds an item.
    fn push(&mut self, item: Self::Item);
    /// Removes the next item, if any.
    fn pop(&mut self) -> Option<Self::Item>;
}

/// A store behind a short mutex: `LifoQueue` and `PriorityQueue`.
#[derive(Debug)]
pub struct Locked<P> {
    state: Mutex<LockedState<P>>,
    /// 0 = unbounded. Written under `state`'s lock, so that a push under
    /// it sees one bound throughout.
    maxsize: AtomicUsize,
}

/// The data behind `Locked`'s mutex.
#[derive(Debug)]
struct LockedState<P> {
    items: P,
    closed: bool,
}

/// The largest capacity reserved up front, so that `LifoQueue::new(usize::MAX)`
/// does not try to allocate the whole address space.
const MAX_PREALLOC: usize = 4096;

impl<P: Pile> Store for Locked<P> {
    type Item = P::Item;

    fn with_maxsize(maxsize: usize) -> Self {
        let mut items = P::default();
        items.reserve(if maxsize == 0 {
            64
        } else {
            maxsize.min(MAX_PREALLOC)
        });
        Locked {
            state: Mutex::new(LockedState {
                items,
                closed: false,
            }),
            maxsize: AtomicUsize::new(maxsize),
        }
    }

    fn maxsize(&self) -> usize {
        self.maxsize.load(SeqCst)
    }

    fn set_maxsize(&self, maxsize: usize) {
        let _state = self.state.lock();
        self.maxsize.store(maxsize, SeqCst);
    }

    fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    fn try_push(&self, item: P::Item) -> Result<(), (P::Item, Refused)> {
        let mut state = self.state.lock();
        if state.closed {
            return Err((item, Refused::ShutDown));
        }
        let maxsize = self.maxsize.load(SeqCst);
        if maxsize != 0 && state.items.len() >= maxsize {
            return Err((item, Refused::NotReady));
        }
        state.items.push(item);
        drop(state);
        // The ordering contract: unlocking is only a release.
        fence(SeqCst);
        Ok(())
    }

    fn try_pop(&self) -> Result<P::Item, Refused> {
        let mut state = self.state.lock();
        let item = match state.items.pop() {
            Some(item) => item,
            None if state.closed => return Err(Refused::ShutDown),
            None => return Err(Refused::NotReady),
        };
        drop(state);
        fence(SeqCst);
        Ok(item)
    }

    fn close(&self) {
        self.state.lock().closed = true;
    }

    fn is_closed(&self) -> bool {
        self.state.lock().closed
    }
}

/// Last in, first out: `queue.LifoQueue`.
pub type LifoStore<T> = Locked<Vec<T>>;

impl<T> Pile for Vec<T> {
    type Item = T;
    fn reserve(&mut self, capacity: usize) {
        Vec::reserve(self, capacity);
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
}

/// Lowest first, first in first out among equals: `queue.PriorityQueue`.
///
/// CPython's `heapq` gives no order among equal entries; a sequence number
/// breaks ties here so that equal items come out in insertion order.
pub type PriorityStore<T> = Locked<Heap<T>>;

/// A binary min-heap that is first in, first out among equal items.
///
/// Hand-written rather than `BinaryHeap` for panic safety: the item's `Ord`
/// is user code, and `BinaryHeap` compares while it moves entries, so a
/// panicking `cmp` inside `pop` loses the item it was returning. Here every
/// push and pop first finds its path with comparisons only, then moves
/// entries with swaps, which cannot panic: a panicking `cmp` leaves the
/// heap exactly as it was (Python's rule for a failing `_put`/`_get`).
#[derive(Debug)]
pub struct Heap<T> {
    entries: Vec<Entry<T>>,
    next_seq: u64,
}

impl<T: Ord> Default for Heap<T> {
    fn default() -> Self {
        Heap {
            entries: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<T: Ord> Pile for Heap<T> {
    type Item = T;
    fn reserve(&mut self, capacity: usize) {
        self.entries.reserve(capacity);
    }
    fn len(&self) -> usize {
        self.entries.len()
    }
    fn push(&mut self, item: T) {
        let entry = Entry {
            item,
            seq: self.next_seq,
        };
        // Compare first: how many levels the new entry rises.
        let mut pos = self.entries.len();
        let mut rises = 0;
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !entry.before(&self.entries[parent]) {
                break;
            }
            pos = parent;
            rises += 1;
        }
        // Then move, without comparing.
        self.next_seq = self.next_seq.wrapping_add(1);
        let mut pos = self.entries.len();
        self.entries.push(entry);
        for _ in 0..rises {
            let parent = (pos - 1) / 2;
            self.entries.swap(pos, parent);
            pos = parent;
        }
    }
    fn pop(&mut self) -> Option<T> {
        let last = self.entries.len().checked_sub(1)?;
        // Compare first: the path down which the last entry sinks once it
        // replaces the root, one bit per level (1 = right child). A heap of
        // `usize` entries is fewer than 64 levels deep.
        let (mut pos, mut depth, mut path) = (0, 0, 0u64);
        loop {
            let left = 2 * pos + 1;
            if left >= last {
                break;
            }
            let right = left + 1;
            let child = if right < last && self.entries[right].before(&self.entries[left]) {
                right
            } else {
                left
            };
            if !self.entries[child].before(&self.entries[last]) {
                break;
            }
            path |= ((child - left) as u64) << depth;
            depth += 1;
            pos = child;
        }
        // Then move, without comparing.
        let top = self.entries.swap_remove(0);
        let mut pos = 0;
        for level in 0..depth {
            let child = 2 * pos + 1 + ((path >> level) & 1) as usize;
            self.entries.swap(pos, child);
            pos = child;
        }
        Some(top.item)
    }
}

/// A heap entry: the item and its insertion number, which breaks ties.
#[derive(Debug)]
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> Entry<T> {
    /// Whether `self` comes out before `other`: the smaller item, and among
    /// equal items the earlier pushed.
    fn before(&self, other: &Self) -> bool {
        self.item.cmp(&other.item).then(self.seq.cmp(&other.seq)) == Ordering::Less
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drain<S: Store>(s: S) -> Vec<S::Item> {
        let mut out = Vec::new();
        while let Ok(item) = s.try_pop() {
            out.push(item);
        }
        out
    }

    #[test]
    fn orderings() {
        let f = FifoStore::with_maxsize(0);
        let l = LifoStore::with_maxsize(0);
        let p = PriorityStore::with_maxsize(0);
        for n in [3, 1, 2] {
            f.try_push(n).unwrap();
            l.try_push(n).unwrap();
            p.try_push(n).unwrap();
        }
        assert_eq!(drain(f), [3, 1, 2]);
        assert_eq!(drain(l), [2, 1, 3]);
        assert_eq!(drain(p), [1, 2, 3]);
    }

    #[test]
    fn priority_is_fifo_among_equals() {
        #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
        struct Job(u8, #[allow(dead_code)] Ignored);
        #[derive(Debug)]
        struct Ignored(&'static str);
        impl PartialEq for Ignored {
            fn eq(&self, _: &Self) -> bool {
                true
            }
        }
        impl Eq for Ignored {}
        impl PartialOrd for Ignored {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Ignored {
            fn cmp(&self, _: &Self) -> Ordering {
                Ordering::Equal
            }
        }
        let p = PriorityStore::with_maxsize(0);
        for (prio, name) in [(1, "a"), (0, "b"), (1, "c"), (0, "d"), (1, "e")] {
            assert!(p.try_push(Job(prio, Ignored(name))).is_ok());
        }
        let names: Vec<_> = drain(p).into_iter().map(|j| (j.1).0).collect();
        assert_eq!(names, ["b", "d", "a", "c", "e"]);
    }

    /// The hand-written heap pops in sorted order, first in first out among
    /// equals, through any mix of pushes and pops.
    #[test]
    fn heap_matches_a_sorted_reference() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let mut heap = Heap::default();
        let mut reference: Vec<(u8, usize)> = Vec::new();
        let rounds = if cfg!(miri) { 200 } else { 20_000 };
        for n in 0..rounds {
            if rng.gen_bool(0.55) {
                let key = rng.gen_range(0..16u8);
                heap.push((key, n));
                reference.push((key, n));
            } else {
                reference.sort_by(|a, b| b.cmp(a));
                assert_eq!(heap.pop(), reference.pop());
            }
            assert_eq!(Pile::len(&heap), reference.len());
        }
    }

    /// A ring retired by `set_maxsize` hands out its items before the
    /// list's, in order; the new bound holds; a shutdown then drains both.
    #[test]
    fn retired_ring_drains_first_in_order() {
        let f = FifoStore::with_maxsize(2);
        f.try_push(1).unwrap();
        f.try_push(2).unwrap();
        f.set_maxsize(4);
        f.try_push(3).unwrap();
        f.try_push(4).unwrap();
        assert_eq!(f.try_push(5), Err((5, Refused::NotReady)));
        assert_eq!(f.try_pop(), Ok(1));
        f.try_push(5).unwrap();
        assert_eq!(f.len(), 4);
        f.close();
        assert_eq!(f.try_push(6), Err((6, Refused::ShutDown)));
        assert_eq!(drain(f), [2, 3, 4, 5]);
        let f = FifoStore::with_maxsize(2);
        f.set_maxsize(1);
        f.try_push(1).unwrap();
        assert_eq!(f.try_push(2), Err((2, Refused::NotReady)));
        assert!(f.try_pop().is_ok());
        assert_eq!(f.try_pop(), Err(Refused::NotReady));
    }

    /// Every FIFO flavour keeps its bound and its order.
    #[test]
    fn bounds() {
        // The large bounds take minutes under Miri's interpreter.
        let sizes: &[usize] = if cfg!(miri) {
            &[1, 3]
        } else {
            &[1, 3, ARRAY_MAX, ARRAY_MAX + 1]
        };
        for &maxsize in sizes {
            let f = FifoStore::with_maxsize(maxsize);
            let l = LifoStore::with_maxsize(maxsize);
            let p = PriorityStore::with_maxsize(maxsize);
            for n in 0..maxsize {
                f.try_push(n).unwrap();
                l.try_push(n).unwrap();
                p.try_push(n).unwrap();
            }
            let full = Err((maxsize, Refused::NotReady));
            assert_eq!(f.try_push(maxsize), full);
            assert_eq!(l.try_push(maxsize), full);
            assert_eq!(p.try_push(maxsize), full);
            assert_eq!((f.len(), l.len(), p.len()), (maxsize, maxsize, maxsize));
            assert_eq!(f.try_pop(), Ok(0));
            f.try_push(maxsize).unwrap();
            let all = drain(f);
            assert_eq!(all.len(), maxsize);
            assert_eq!(all.last(), Some(&maxsize));
        }
    }

    /// A closed store of every kind hands pushes back, still pops what it
    /// holds, and reports `ShutDown` once empty, for good.
    #[test]
    fn close_refuses_pushes_then_drains() {
        fn check<S: Store<Item = usize>>(maxsize: usize) {
            let s = S::with_maxsize(maxsize);
            s.try_push(1).unwrap();
            assert!(!s.is_closed());
            s.close();
            assert!(s.is_closed());
            assert_eq!(s.try_push(2), Err((2, Refused::ShutDown)));
            assert_eq!(s.try_pop(), Ok(1));
            assert_eq!(s.try_pop(), Err(Refused::ShutDown));
            assert_eq!(s.try_pop(), Err(Refused::ShutDown));
        }
        let sizes: &[usize] = if cfg!(miri) {
            &[0, 1, 3]
        } else {
            &[0, 1, 3, ARRAY_MAX + 1]
        };
        for &maxsize in sizes {
            check::<FifoStore<usize>>(maxsize);
            check::<LifoStore<usize>>(maxsize);
            check::<PriorityStore<usize>>(maxsize);
        }
    }
}
