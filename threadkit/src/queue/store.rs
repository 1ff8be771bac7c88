//! The storage behind a queue: CPython's `_init`, `_qsize`, `_put` and `_get`
//! hooks as a trait, with the FIFO, LIFO and priority orderings.
//!
//! Unlike CPython's hooks, a [`Store`] is itself thread-safe and enforces the
//! bound, so that the shared [`Core`](super::core::Core) can call it without
//! holding any lock of its own (the way crossbeam-channel's flavours work):
//!
//! - FIFO is lock-free: crossbeam-queue's `ArrayQueue` for bounds up to
//!   [`ARRAY_MAX`], `SegQueue` otherwise. Under `cfg(loom)` it is a
//!   `VecDeque` behind the facade mutex instead, because crossbeam-queue is
//!   not loom-aware; the loom models then check the core's protocol over that
//!   store, not crossbeam-queue itself.
//! - LIFO and priority keep a `Vec`/`BinaryHeap` behind a short mutex: there
//!   is no well-kept lock-free stack or heap to reuse, and those queues are
//!   rarely the bottleneck.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::loom::sync::Mutex;

/// The largest capacity reserved up front, so that `Queue::new(usize::MAX)`
/// does not try to allocate the whole address space.
const MAX_PREALLOC: usize = 4096;

/// How many slots to reserve for a queue of `maxsize` (0 = unbounded).
fn initial_capacity(maxsize: usize) -> usize {
    if maxsize == 0 {
        64
    } else {
        maxsize.min(MAX_PREALLOC)
    }
}

/// An ordering policy over thread-safe storage: where `try_push` puts an item
/// and which one `try_pop` returns.
///
/// Every method may be called from any thread at any time. A successful
/// `try_push` happens-before the `try_pop` that returns the item.
pub(crate) trait Store {
    /// The element type.
    type Item;

    /// An empty store holding at most `maxsize` items, 0 = unbounded
    /// (CPython's `_init`).
    fn with_maxsize(maxsize: usize) -> Self;

    /// The number of items held now (CPython's `_qsize`); a snapshot.
    fn len(&self) -> usize;

    /// Adds an item unless the store holds `maxsize` items (CPython's `_put`).
    /// An unbounded store never fails.
    fn try_push(&self, item: Self::Item) -> Result<(), Self::Item>;

    /// Removes the next item, if any (CPython's `_get`).
    fn try_pop(&self) -> Option<Self::Item>;

    /// Whether the store is empty now.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes items, in `pop` order, into `out` until the store is empty.
    fn drain_into(&self, out: &mut Vec<Self::Item>) {
        while let Some(item) = self.try_pop() {
            out.push(item);
        }
    }
}

/// The largest bound served by a preallocated `ArrayQueue`; larger bounds use
/// a `SegQueue` plus a counter, so that memory follows the items held.
#[cfg(not(loom))]
pub(crate) const ARRAY_MAX: usize = 1 << 16;

/// First in, first out: `queue.Queue` and `SimpleQueue`.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) enum Fifo<T> {
    /// Bounded by at most [`ARRAY_MAX`]: a ring buffer, allocated once.
    Array(crossbeam_queue::ArrayQueue<T>),
    /// Unbounded: a linked list of blocks.
    Unbounded(crossbeam_queue::SegQueue<T>),
    /// Bounded above [`ARRAY_MAX`]. `reserved` counts pushes begun minus pops
    /// finished, so it is never below the number of items held: a push
    /// reserves a slot before pushing and a pop frees its slot after popping,
    /// which keeps the bound without a lock.
    Large {
        queue: crossbeam_queue::SegQueue<T>,
        reserved: std::sync::atomic::AtomicUsize,
        maxsize: usize,
    },
}

#[cfg(not(loom))]
impl<T> Store for Fifo<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        use crossbeam_queue::{ArrayQueue, SegQueue};
        match maxsize {
            0 => Fifo::Unbounded(SegQueue::new()),
            1..=ARRAY_MAX => Fifo::Array(ArrayQueue::new(maxsize)),
            _ => Fifo::Large {
                queue: SegQueue::new(),
                reserved: std::sync::atomic::AtomicUsize::new(0),
                maxsize,
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Fifo::Array(q) => q.len(),
            Fifo::Unbounded(q) => q.len(),
            // The count `try_push` checks, so that "has room" means the same
            // to a sleeping putter as to its next attempt.
            Fifo::Large {
                reserved, maxsize, ..
            } => reserved
                .load(std::sync::atomic::Ordering::SeqCst)
                .min(*maxsize),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Fifo::Array(q) => q.is_empty(),
            Fifo::Unbounded(q) => q.is_empty(),
            Fifo::Large { queue, .. } => queue.is_empty(),
        }
    }

    fn try_push(&self, item: T) -> Result<(), T> {
        use std::sync::atomic::Ordering::SeqCst;
        match self {
            Fifo::Array(q) => q.push(item),
            Fifo::Unbounded(q) => {
                q.push(item);
                Ok(())
            }
            Fifo::Large {
                queue,
                reserved,
                maxsize,
            } => {
                if reserved.fetch_add(1, SeqCst) >= *maxsize {
                    reserved.fetch_sub(1, SeqCst);
                    return Err(item);
                }
                queue.push(item);
                Ok(())
            }
        }
    }

    fn try_pop(&self) -> Option<T> {
        use std::sync::atomic::Ordering::SeqCst;
        match self {
            Fifo::Array(q) => q.pop(),
            Fifo::Unbounded(q) => q.pop(),
            Fifo::Large {
                queue, reserved, ..
            } => {
                let item = queue.pop()?;
                reserved.fetch_sub(1, SeqCst);
                Some(item)
            }
        }
    }
}

/// First in, first out under loom: a `VecDeque` behind the facade mutex
/// (crossbeam-queue is not loom-aware).
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Fifo<T> {
    items: Mutex<std::collections::VecDeque<T>>,
    maxsize: usize,
}

#[cfg(loom)]
impl<T> Store for Fifo<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        Fifo {
            items: Mutex::new(std::collections::VecDeque::new()),
            maxsize,
        }
    }

    fn len(&self) -> usize {
        self.items.lock().len()
    }

    fn try_push(&self, item: T) -> Result<(), T> {
        let mut items = self.items.lock();
        if self.maxsize != 0 && items.len() >= self.maxsize {
            return Err(item);
        }
        items.push_back(item);
        Ok(())
    }

    fn try_pop(&self) -> Option<T> {
        self.items.lock().pop_front()
    }
}

/// Last in, first out: `queue.LifoQueue`.
#[derive(Debug)]
pub(crate) struct Lifo<T> {
    items: Mutex<Vec<T>>,
    maxsize: usize,
}

impl<T> Store for Lifo<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        Lifo {
            items: Mutex::new(Vec::with_capacity(initial_capacity(maxsize))),
            maxsize,
        }
    }

    fn len(&self) -> usize {
        self.items.lock().len()
    }

    fn try_push(&self, item: T) -> Result<(), T> {
        let mut items = self.items.lock();
        if self.maxsize != 0 && items.len() >= self.maxsize {
            return Err(item);
        }
        items.push(item);
        Ok(())
    }

    fn try_pop(&self) -> Option<T> {
        self.items.lock().pop()
    }
}

/// Lowest first, first in first out among equals: `queue.PriorityQueue`.
///
/// CPython's `heapq` gives no order among equal entries; a sequence number
/// breaks ties here so that equal items come out in insertion order.
#[derive(Debug)]
pub(crate) struct Priority<T> {
    heap: Mutex<Heap<T>>,
    maxsize: usize,
}

/// The data behind `Priority`'s mutex.
#[derive(Debug)]
struct Heap<T> {
    entries: BinaryHeap<Entry<T>>,
    next_seq: u64,
}

/// A heap entry ordered so that `BinaryHeap` (a max-heap) pops the smallest
/// item, and among equal items the earliest pushed.
#[derive(Debug)]
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .item
            .cmp(&self.item)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<T: Ord> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}

impl<T: Ord> Store for Priority<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        Priority {
            heap: Mutex::new(Heap {
                entries: BinaryHeap::with_capacity(initial_capacity(maxsize)),
                next_seq: 0,
            }),
            maxsize,
        }
    }

    fn len(&self) -> usize {
        self.heap.lock().entries.len()
    }

    fn try_push(&self, item: T) -> Result<(), T> {
        let mut heap = self.heap.lock();
        if self.maxsize != 0 && heap.entries.len() >= self.maxsize {
            return Err(item);
        }
        let seq = heap.next_seq;
        heap.next_seq = seq.wrapping_add(1);
        heap.entries.push(Entry { item, seq });
        Ok(())
    }

    fn try_pop(&self) -> Option<T> {
        self.heap.lock().entries.pop().map(|entry| entry.item)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drain<S: Store>(s: S) -> Vec<S::Item> {
        let mut out = Vec::new();
        s.drain_into(&mut out);
        out
    }

    #[test]
    fn orderings() {
        let f = Fifo::with_maxsize(0);
        let l = Lifo::with_maxsize(0);
        let p = Priority::with_maxsize(0);
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
        let p = Priority::with_maxsize(0);
        for (prio, name) in [(1, "a"), (0, "b"), (1, "c"), (0, "d"), (1, "e")] {
            assert!(p.try_push(Job(prio, Ignored(name))).is_ok());
        }
        let names: Vec<_> = drain(p).into_iter().map(|j| (j.1).0).collect();
        assert_eq!(names, ["b", "d", "a", "c", "e"]);
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
            let f = Fifo::with_maxsize(maxsize);
            let l = Lifo::with_maxsize(maxsize);
            let p = Priority::with_maxsize(maxsize);
            for n in 0..maxsize {
                f.try_push(n).unwrap();
                l.try_push(n).unwrap();
                p.try_push(n).unwrap();
            }
            assert_eq!(f.try_push(maxsize), Err(maxsize));
            assert_eq!(l.try_push(maxsize), Err(maxsize));
            assert_eq!(p.try_push(maxsize), Err(maxsize));
            assert_eq!((f.len(), l.len(), p.len()), (maxsize, maxsize, maxsize));
            assert_eq!(f.try_pop(), Some(0));
            f.try_push(maxsize).unwrap();
            let all = drain(f);
            assert_eq!(all.len(), maxsize);
            assert_eq!(all.last(), Some(&maxsize));
        }
    }
}
