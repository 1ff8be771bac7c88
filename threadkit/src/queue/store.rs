//! The storage behind a queue: CPython's `_init`, `_qsize`, `_put` and `_get`
//! hooks as a trait, with the FIFO, LIFO and priority orderings.
//!
//! A [`Store`] is plain, unsynchronized data: the shared
//! [`Core`](super::core::Core) always calls it with its mutex held, exactly as
//! CPython's `Queue` calls its underscore hooks inside `with self.mutex`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

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

/// An ordering policy: where `push` puts an item and which one `pop` returns.
pub(crate) trait Store {
    /// The element type.
    type Item;

    /// An empty store for a queue of `maxsize` (CPython's `_init`).
    fn with_maxsize(maxsize: usize) -> Self;

    /// The number of items held (CPython's `_qsize`).
    fn len(&self) -> usize;

    /// Adds an item (CPython's `_put`).
    fn push(&mut self, item: Self::Item);

    /// Removes the next item, if any (CPython's `_get`).
    fn pop(&mut self) -> Option<Self::Item>;

    /// Removes every item, in `pop` order, into `out`.
    fn drain_into(&mut self, out: &mut Vec<Self::Item>) {
        out.reserve(self.len());
        while let Some(item) = self.pop() {
            out.push(item);
        }
    }
}

/// First in, first out: `queue.Queue`.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);

impl<T> Store for Fifo<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        Fifo(VecDeque::with_capacity(initial_capacity(maxsize)))
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
}

/// Last in, first out: `queue.LifoQueue`.
#[derive(Debug)]
pub(crate) struct Lifo<T>(Vec<T>);

impl<T> Store for Lifo<T> {
    type Item = T;

    fn with_maxsize(maxsize: usize) -> Self {
        Lifo(Vec::with_capacity(initial_capacity(maxsize)))
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        self.0.push(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
}

/// Lowest first, first in first out among equals: `queue.PriorityQueue`.
///
/// CPython's `heapq` gives no order among equal entries; a sequence number
/// breaks ties here so that equal items come out in insertion order.
#[derive(Debug)]
pub(crate) struct Priority<T> {
    heap: BinaryHeap<Entry<T>>,
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
            heap: BinaryHeap::with_capacity(initial_capacity(maxsize)),
            next_seq: 0,
        }
    }

    fn len(&self) -> usize {
        self.heap.len()
    }

    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.heap.push(Entry { item, seq });
    }

    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|entry| entry.item)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drain<S: Store>(mut s: S) -> Vec<S::Item> {
        let mut out = Vec::new();
        s.drain_into(&mut out);
        out
    }

    #[test]
    fn orderings() {
        let mut f = Fifo::with_maxsize(0);
        let mut l = Lifo::with_maxsize(0);
        let mut p = Priority::with_maxsize(0);
        for n in [3, 1, 2] {
            f.push(n);
            l.push(n);
            p.push(n);
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
        let mut p = Priority::with_maxsize(0);
        for (prio, name) in [(1, "a"), (0, "b"), (1, "c"), (0, "d"), (1, "e")] {
            p.push(Job(prio, Ignored(name)));
        }
        let names: Vec<_> = drain(p).into_iter().map(|j| (j.1).0).collect();
        assert_eq!(names, ["b", "d", "a", "c", "e"]);
    }
}
