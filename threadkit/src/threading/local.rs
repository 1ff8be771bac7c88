//! `Local<T>`: Python's `threading.local`, one value per thread per instance.
//!
//! Values live in a [`thread_local::ThreadLocal`]. That crate recycles its
//! per-thread slots once a thread exits, so a later thread could find an exited
//! thread's value; to give every thread a fresh value, as Python does, each
//! slot holds a chain of `(owner, value)` entries keyed by a process-unique
//! per-thread token, and a thread only ever uses the entry it owns.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use thread_local::ThreadLocal;

/// A token identifying the calling thread, unique for the process's life.
fn token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // A green thread has its own value: its own token, kept by its hub.
    #[cfg(feature = "green")]
    if let Some(green) = crate::green::local_token(|| NEXT.fetch_add(1, Ordering::Relaxed)) {
        return green;
    }
    thread_local! {
        static TOKEN: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    // During thread-local destruction the thread is about to vanish: a fresh
    // token gives it a fresh value, never another thread's.
    TOKEN
        .try_with(|t| *t)
        .unwrap_or_else(|_| NEXT.fetch_add(1, Ordering::Relaxed))
}

/// One thread's value, and the values of later threads that reused the slot.
struct Entry<T> {
    owner: u64,
    value: T,
    next: Chain<T>,
}

impl<T> Entry<T> {
    fn new(owner: u64, value: T) -> Self {
        Entry {
            owner,
            value,
            next: Chain(OnceLock::new()),
        }
    }
}

/// The rest of a slot's chain.
struct Chain<T>(OnceLock<Box<Entry<T>>>);

impl<T> Drop for Chain<T> {
    // Iterative, so that a long chain cannot overflow the stack.
    fn drop(&mut self) {
        let mut next = self.0.take();
        while let Some(mut entry) = next {
            next = entry.next.0.take();
        }
    }
}

type Init<T> = Box<dyn Fn() -> T + Send + Sync>;

/// Per-thread values owned by one object: Python's `threading.local`.
///
/// Each thread that calls [`get`](Local::get) sees its own value, created by
/// the `init` function on that thread's first call. With `&mut self` (when no
/// thread can be using it) the values of all threads can be visited or
/// collected, e.g. to sum per-thread counters.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::sync::Arc;
/// use threadkit::threading::{Local, Thread};
///
/// let hits = Arc::new(Local::new(|| Cell::new(0u32)));
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let hits = Arc::clone(&hits);
///         Thread::spawn(move || {
///             for _ in 0..10 {
///                 hits.get().set(hits.get().get() + 1);
///             }
///             hits.get().get()
///         })
///         .unwrap()
///     })
///     .collect();
/// for w in workers {
///     assert_eq!(w.into_result(), Ok(10)); // each thread counted alone
/// }
/// assert_eq!(hits.get().get(), 0); // and this thread has its own fresh value
/// let mut hits = Arc::try_unwrap(hits).ok().unwrap();
/// assert_eq!(hits.iter_mut().map(|c| c.get()).sum::<u32>(), 40);
/// ```
///
/// # Differences from Python's `threading.local`
///
/// - A `Local<T>` holds one value of one type, not arbitrary attributes; use a
///   struct for several. `Local::new(init)` plays the role of a subclass's
///   `__init__`, run once per thread.
/// - `get` hands out `&T`: mutate through `Cell`, `RefCell` or atomics. Values
///   must be `Send`, because the `Local` (and so the values) may be dropped or
///   iterated on another thread.
/// - A thread's value is not dropped when the thread exits, but when the
///   `Local` is dropped or [`clear`](Local::clear)ed, and it can still be seen
///   through [`iter_mut`](Local::iter_mut) and [`into_values`](Local::into_values).
/// - `init` must not use the same `Local` (Python would recurse too).
/// - In a green thread (feature `green`) `get` gives the green thread its
///   own value, as gevent's patched `local` does; it too lives until the
///   `Local` is dropped or cleared.
#[doc(alias = "local")]
pub struct Local<T: Send> {
    slots: ThreadLocal<Entry<T>>,
    init: Init<T>,
}

impl<T: Send> Local<T> {
    /// A `Local` whose value on each thread is `init()`, run lazily on that
    /// thread's first [`get`](Local::get).
    pub fn new<F>(init: F) -> Self
    where
        F: Fn() -> T + Send + Sync + 'static,
    {
        Local {
            slots: ThreadLocal::new(),
            init: Box::new(init),
        }
    }

    /// The calling thread's value, created by `init` on first use.
    pub fn get(&self) -> &T {
        let me = token();
        let mut entry = self.slots.get_or(|| Entry::new(me, (self.init)()));
        loop {
            if entry.owner == me {
                return &entry.value;
            }
            entry = entry
                .next
                .0
                .get_or_init(|| Box::new(Entry::new(me, (self.init)())));
        }
    }

    /// The calling thread's value if it has one already (never runs `init`).
    pub fn try_get(&self) -> Option<&T> {
        let me = token();
        let mut entry = self.slots.get()?;
        loop {
            if entry.owner == me {
                return Some(&entry.value);
            }
            entry = entry.next.0.get()?;
        }
    }

    /// Every value created so far, on any thread, in no particular order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        let mut values = Vec::new();
        for head in self.slots.iter_mut() {
            let mut cursor = Some(head);
            while let Some(Entry { value, next, .. }) = cursor {
                values.push(value);
                cursor = next.0.get_mut().map(|b| &mut **b);
            }
        }
        values.into_iter()
    }

    /// Consumes the `Local`, returning every value created on any thread.
    pub fn into_values(self) -> Vec<T> {
        let mut values = Vec::new();
        for head in self.slots {
            let mut cursor = Some(head);
            while let Some(Entry {
                value, mut next, ..
            }) = cursor
            {
                cursor = next.0.take().map(|b| *b);
                values.push(value);
            }
        }
        values
    }

    /// Drops every thread's value; each thread gets a fresh one on its next
    /// [`get`](Local::get).
    pub fn clear(&mut self) {
        self.slots.clear();
    }
}

impl<T: Send + Default + 'static> Default for Local<T> {
    /// A `Local` whose value on each thread starts as `T::default()`.
    fn default() -> Self {
        Local::new(T::default)
    }
}

impl<T: Send> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}
