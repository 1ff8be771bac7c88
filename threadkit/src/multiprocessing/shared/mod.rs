//! Shared memory between processes: [`Value`], [`Array`], and the
//! cross-process [`Lock`], [`Event`] and [`Semaphore`] (Python's
//! `multiprocessing.Value`, `Array`, `Lock`, `Event`, `Semaphore`).
//!
//! Each object is a small region of shared memory (a `memfd`). Pass it to
//! a child as (part of) a [`Process`](super::Process) argument: the child
//! maps the same memory, so both see the same value, the same lock.
//! `clone()` gives another handle in the same process (for threads).
//!
//! ```
//! use threadkit::multiprocessing::{Process, Value};
//!
//! fn add_one(v: Value<u64>) {
//!     let mut n = v.lock().unwrap();
//!     *n += 1;
//! }
//!
//! let v = Value::new(41u64).unwrap();
//! let p = Process::new(add_one, v.clone());
//! p.start().unwrap();
//! assert_eq!(p.join().unwrap(), 0);
//! assert_eq!(v.get().unwrap(), 42);
//! ```
//!
//! # A lock held by a process that died
//!
//! The locks are robust pthread mutexes: if a process dies holding one
//! (killed in the middle of an update), the next acquirer gets
//! [`SharedError::OwnerDied`] holding the guard: it has the lock, and is
//! told that the data may be half-updated. Later acquirers see nothing
//! unusual. Python's `multiprocessing.Lock` would stay locked for ever.
//! [`Event`] and [`Semaphore`] recover silently: their state is one word,
//! which a dying process cannot leave half-written (a semaphore permit held
//! by a dead process stays taken, as in Python).
//!
//! # Differences from Python's `multiprocessing`
//!
//! - `Value(typecode, v)` is `Value::<T>::new(v)` for a [`Shareable`] `T`
//!   (integers, floats, `bool`, `char`, arrays of them); the typecode is the
//!   type.
//! - The value's lock is always there (Python's `lock=True`);
//!   [`Value::lock`] is `get_lock()` and the `with` block in one.
//! - Indexing outside an [`Array`] is [`SharedError::IndexOutOfRange`],
//!   Python's `IndexError`.
//! - Acquiring a [`Lock`] again from the thread that holds it is
//!   [`SharedError::WouldDeadlock`] instead of a deadlock.
//! - Objects are passed to children only as [`Process`](super::Process)
//!   arguments (Python also allows inheritance through `fork`).

mod region;
mod sync;
mod value;

use std::fmt;

pub use sync::{Event, Lock, LockGuard, Permit, Semaphore};
pub use value::{Array, ArrayGuard, Value, ValueGuard};

/// Plain data that can live in shared memory: Python's ctypes typecodes.
///
/// # Safety
///
/// An implementor must be plain data: no pointers, references, file
/// descriptors or handles (they mean nothing in another process), no
/// `Drop`, and the all-zero bit pattern must be a valid value (a fresh
/// [`Array`] is zeroed). Values are copied in and out bytewise by processes
/// running the same executable.
pub unsafe trait Shareable: Copy + Send + Sync + 'static {}

macro_rules! shareable {
    ($($t:ty),*) => {
        $(
            // SAFETY: a primitive without pointers, valid when all-zero.
            unsafe impl Shareable for $t {}
        )*
    };
}
shareable!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char
);

// SAFETY: an array of plain data is plain data; all-zero elements are valid.
unsafe impl<T: Shareable, const N: usize> Shareable for [T; N] {}

/// Why an operation on a shared object did not go as asked.
///
/// Which variants an operation can return is in its `# Errors` section.
pub enum SharedError<T> {
    /// The process that held the lock died holding it. The caller now holds
    /// the lock (or got the value), carried here: the data may be
    /// half-updated. Only the next acquirer is told.
    OwnerDied(T),
    /// The calling thread already holds this lock: waiting for it would
    /// never end.
    WouldDeadlock,
    /// An index outside an [`Array`] (Python's `IndexError`).
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The array's length.
        len: usize,
    },
}

impl<T> SharedError<T> {
    /// What [`OwnerDied`](SharedError::OwnerDied) carries, to go on despite
    /// the dead owner; `None` for the other variants.
    pub fn into_inner(self) -> Option<T> {
        match self {
            SharedError::OwnerDied(t) => Some(t),
            _ => None,
        }
    }

    fn map<U>(self, f: impl FnOnce(T) -> U) -> SharedError<U> {
        match self {
            SharedError::OwnerDied(t) => SharedError::OwnerDied(f(t)),
            SharedError::WouldDeadlock => SharedError::WouldDeadlock,
            SharedError::IndexOutOfRange { index, len } => {
                SharedError::IndexOutOfRange { index, len }
            }
        }
    }
}

impl<T> fmt::Debug for SharedError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedError::OwnerDied(_) => f.write_str("OwnerDied(..)"),
            SharedError::WouldDeadlock => f.write_str("WouldDeadlock"),
            SharedError::IndexOutOfRange { index, len } => f
                .debug_struct("IndexOutOfRange")
                .field("index", index)
                .field("len", len)
                .finish(),
        }
    }
}

impl<T> fmt::Display for SharedError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedError::OwnerDied(_) => {
                f.write_str("the process holding the lock died; the data may be half-updated")
            }
            SharedError::WouldDeadlock => f.write_str("the calling thread already holds this lock"),
            SharedError::IndexOutOfRange { index, len } => {
                write!(f, "array index {index} out of range (length {len})")
            }
        }
    }
}

impl<T> std::error::Error for SharedError<T> {}

impl<T: PartialEq> PartialEq for SharedError<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SharedError::OwnerDied(a), SharedError::OwnerDied(b)) => a == b,
            (SharedError::WouldDeadlock, SharedError::WouldDeadlock) => true,
            (
                SharedError::IndexOutOfRange { index: a, len: l },
                SharedError::IndexOutOfRange { index: b, len: m },
            ) => a == b && l == m,
            _ => false,
        }
    }
}

/// Serializes a region as a descriptor passed to the child being started.
fn serialize_region<S: serde::Serializer>(r: &region::Region, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    super::fdpass::Passed(r.fd()).serialize(s)
}

/// Maps the region passed under the index being deserialized.
fn deserialize_region<'de, D: serde::Deserializer<'de>>(
    d: D,
    kind: region::Kind,
    elem: usize,
    data_len: impl FnOnce(u64) -> Option<usize>,
) -> Result<region::Region, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    let super::fdpass::Received(fd) = super::fdpass::Received::deserialize(d)?;
    region::Region::open(fd, kind, elem, data_len).map_err(D::Error::custom)
}
