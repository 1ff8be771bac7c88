//! [`Value`] and [`Array`]: plain data in shared memory, behind a
//! cross-process lock.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::region::{Kind, LockFailed, MAX_ALIGN, Region};
use super::{Shareable, SharedError};
use crate::util::wait::Deadline;

fn unsupported<T>() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "alignment {} is above the {MAX_ALIGN} shared memory supports",
            std::mem::align_of::<T>()
        ),
    )
}

/// Takes `region`'s lock for a guard: the shared part of every `lock()`.
fn take<G>(region: &Region, make: impl FnOnce() -> G) -> Result<G, SharedError<G>> {
    match region.lock(Deadline::Never) {
        Ok(l) if l.owner_died => Err(SharedError::OwnerDied(make())),
        Ok(_) => Ok(make()),
        Err(LockFailed::Deadlock) => Err(SharedError::WouldDeadlock),
        // A lock without a deadline only fails by deadlock; anything else
        // is reported the same way rather than as a wait without end.
        Err(LockFailed::Timeout) => Err(SharedError::WouldDeadlock),
    }
}

/// A `T` in shared memory with its lock: Python's
/// `multiprocessing.Value(typecode, value)`.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::Value;
///
/// let v = Value::new(1.5f64).unwrap();
/// v.set(2.5).unwrap();
/// assert_eq!(v.get().unwrap(), 2.5);
/// *v.lock().unwrap() *= 2.0;
/// assert_eq!(v.get().unwrap(), 5.0);
/// ```
///
/// # Differences from Python's `Value`
///
/// See [shared memory](crate::multiprocessing#shared-memory): the typecode
/// is the type `T`, the lock is always there (Python's `lock=True`), and a
/// holder that died is reported.
pub struct Value<T: Shareable> {
    region: Arc<Region>,
    _t: PhantomData<T>,
}

impl<T: Shareable> Value<T> {
    /// A new shared value.
    ///
    /// # Errors
    ///
    /// The operating system's error if shared memory cannot be made; an
    /// `InvalidInput` error for a `T` aligned above 64 bytes.
    pub fn new(value: T) -> io::Result<Self> {
        if std::mem::align_of::<T>() > MAX_ALIGN {
            return Err(unsupported::<T>());
        }
        let size = std::mem::size_of::<T>();
        let region = Region::create(Kind::Value, 0, size, size)?;
        // SAFETY: the fresh region holds `size` bytes of data, aligned for
        // T; nothing else sees it yet.
        unsafe { region.data().cast::<T>().write(value) };
        Ok(Value {
            region: Arc::new(region),
            _t: PhantomData,
        })
    }

    /// Takes the lock and gives access to the value until the guard drops:
    /// Python's `with v.get_lock(): v.value += 1`.
    ///
    /// # Errors
    ///
    /// [`SharedError::OwnerDied`] (with the guard: the lock is held) if the
    /// previous holder died holding it; [`SharedError::WouldDeadlock`] if
    /// this thread holds it already.
    #[doc(alias = "get_lock")]
    pub fn lock(&self) -> Result<ValueGuard<'_, T>, SharedError<ValueGuard<'_, T>>> {
        take(&self.region, || ValueGuard {
            region: &self.region,
            _t: PhantomData,
        })
    }

    /// A copy of the value, read under the lock (Python's `v.value`).
    ///
    /// # Errors
    ///
    /// As [`lock`](Value::lock); `OwnerDied` carries the value read.
    pub fn get(&self) -> Result<T, SharedError<T>> {
        self.lock().map(|g| *g).map_err(|e| e.map(|g| *g))
    }

    /// Replaces the value under the lock (Python's `v.value = x`).
    ///
    /// # Errors
    ///
    /// As [`lock`](Value::lock); after `OwnerDied` the value was still set.
    pub fn set(&self, value: T) -> Result<(), SharedError<()>> {
        let write = |mut g: ValueGuard<'_, T>| *g = value;
        match self.lock() {
            Ok(g) => {
                write(g);
                Ok(())
            }
            Err(e) => Err(e.map(write)),
        }
    }
}

impl<T: Shareable> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            region: Arc::clone(&self.region),
            _t: PhantomData,
        }
    }
}

impl<T: Shareable> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T: Shareable> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::serialize_region(&self.region, s)
    }
}

impl<'de, T: Shareable> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let size = std::mem::size_of::<T>();
        let region = super::deserialize_region(d, Kind::Value, size, |_| Some(size))?;
        Ok(Value {
            region: Arc::new(region),
            _t: PhantomData,
        })
    }
}

/// Access to a [`Value`] while its lock is held; releases it on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ValueGuard<'a, T: Shareable> {
    region: &'a Region,
    /// Not `Send`: a pthread mutex is released by the thread that took it.
    _t: PhantomData<(&'a mut T, *const ())>,
}

impl<T: Shareable> Deref for ValueGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the lock is held, so no other process or thread writes;
        // the data is a valid, aligned T (written by `new` or through a
        // guard, and checked for size when mapped).
        unsafe { &*self.region.data().cast::<T>() }
    }
}

impl<T: Shareable> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; the guard is the only access while held.
        unsafe { &mut *self.region.data().cast::<T>() }
    }
}

impl<T: Shareable> Drop for ValueGuard<'_, T> {
    fn drop(&mut self) {
        self.region.unlock();
    }
}

impl<T: Shareable + fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValueGuard").field(&**self).finish()
    }
}

/// A fixed-length array of `T` in shared memory with its lock: Python's
/// `multiprocessing.Array(typecode, size_or_initializer)`.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::{Array, SharedError};
///
/// let a = Array::from_slice(&[1i32, 2, 3]).unwrap();
/// assert_eq!(a.len(), 3);
/// a.set(0, 10).unwrap();
/// assert_eq!(a.to_vec().unwrap(), [10, 2, 3]);
/// assert_eq!(a.get(3), Err(SharedError::IndexOutOfRange { index: 3, len: 3 }));
/// a.lock().unwrap().reverse();
/// assert_eq!(a.to_vec().unwrap(), [3, 2, 10]);
/// ```
///
/// # Differences from Python's `Array`
///
/// See [shared memory](crate::multiprocessing#shared-memory). An index out
/// of range is
/// [`SharedError::IndexOutOfRange`]; through the guard, the array is a
/// slice, with Rust's slice methods.
pub struct Array<T: Shareable> {
    region: Arc<Region>,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Shareable> Array<T> {
    /// An array of `len` zeroed elements (Python's `Array('i', 10)`).
    ///
    /// # Errors
    ///
    /// As [`Value::new`]; `InvalidInput` if the size overflows.
    pub fn zeroed(len: usize) -> io::Result<Self> {
        if std::mem::align_of::<T>() > MAX_ALIGN {
            return Err(unsupported::<T>());
        }
        let size = std::mem::size_of::<T>();
        let bytes = size
            .checked_mul(len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "array too large"))?;
        // The memfd's pages start zeroed, which is a valid T (`Shareable`).
        let region = Region::create(Kind::Array, len as u64, size, bytes)?;
        Ok(Array {
            region: Arc::new(region),
            len,
            _t: PhantomData,
        })
    }

    /// An array holding a copy of `items` (Python's `Array('i', [1, 2])`).
    ///
    /// # Errors
    ///
    /// As [`zeroed`](Array::zeroed).
    pub fn from_slice(items: &[T]) -> io::Result<Self> {
        let a = Array::zeroed(items.len())?;
        // SAFETY: the fresh region holds `len` elements, aligned; nothing
        // else sees it yet.
        unsafe {
            std::ptr::copy_nonoverlapping(items.as_ptr(), a.region.data().cast::<T>(), a.len);
        }
        Ok(a)
    }

    /// The number of elements (Python's `len(a)`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes the lock and gives the elements as a slice until the guard
    /// drops (Python's `with a.get_lock():`).
    ///
    /// # Errors
    ///
    /// As [`Value::lock`].
    #[doc(alias = "get_lock")]
    pub fn lock(&self) -> Result<ArrayGuard<'_, T>, SharedError<ArrayGuard<'_, T>>> {
        take(&self.region, || ArrayGuard {
            region: &self.region,
            len: self.len,
            _t: PhantomData,
        })
    }

    /// Element `index`, read under the lock (Python's `a[i]`).
    ///
    /// # Errors
    ///
    /// [`SharedError::IndexOutOfRange`] outside the array; else as
    /// [`lock`](Array::lock), `OwnerDied` carrying the element read.
    pub fn get(&self, index: usize) -> Result<T, SharedError<T>> {
        self.check(index)?;
        self.lock()
            .map(|g| g[index])
            .map_err(|e| e.map(|g| g[index]))
    }

    /// Sets element `index` under the lock (Python's `a[i] = x`).
    ///
    /// # Errors
    ///
    /// As [`get`](Array::get); after `OwnerDied` the element was still set.
    pub fn set(&self, index: usize, value: T) -> Result<(), SharedError<()>> {
        self.check(index)?;
        let write = |mut g: ArrayGuard<'_, T>| g[index] = value;
        match self.lock() {
            Ok(g) => {
                write(g);
                Ok(())
            }
            Err(e) => Err(e.map(write)),
        }
    }

    /// A copy of every element, read under the lock (Python's `a[:]`).
    ///
    /// # Errors
    ///
    /// As [`lock`](Array::lock), `OwnerDied` carrying the copy.
    pub fn to_vec(&self) -> Result<Vec<T>, SharedError<Vec<T>>> {
        self.lock()
            .map(|g| g.to_vec())
            .map_err(|e| e.map(|g| g.to_vec()))
    }

    fn check<U>(&self, index: usize) -> Result<(), SharedError<U>> {
        if index < self.len {
            Ok(())
        } else {
            Err(SharedError::IndexOutOfRange {
                index,
                len: self.len,
            })
        }
    }
}

impl<T: Shareable> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            region: Arc::clone(&self.region),
            len: self.len,
            _t: PhantomData,
        }
    }
}

impl<T: Shareable> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("type", &std::any::type_name::<T>())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl<T: Shareable> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::serialize_region(&self.region, s)
    }
}

impl<'de, T: Shareable> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let size = std::mem::size_of::<T>();
        let mut len = 0;
        let region = super::deserialize_region(d, Kind::Array, size, |n| {
            len = usize::try_from(n).ok()?;
            size.checked_mul(len)
        })?;
        Ok(Array {
            region: Arc::new(region),
            len,
            _t: PhantomData,
        })
    }
}

/// Access to an [`Array`]'s elements while its lock is held; releases it on
/// drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ArrayGuard<'a, T: Shareable> {
    region: &'a Region,
    len: usize,
    /// Not `Send`: a pthread mutex is released by the thread that took it.
    _t: PhantomData<(&'a mut [T], *const ())>,
}

impl<T: Shareable> Deref for ArrayGuard<'_, T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: the lock is held; the region holds `len` valid, aligned
        // elements (checked when it was mapped).
        unsafe { std::slice::from_raw_parts(self.region.data().cast::<T>(), self.len) }
    }
}

impl<T: Shareable> DerefMut for ArrayGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`; the guard is the only access while held.
        unsafe { std::slice::from_raw_parts_mut(self.region.data().cast::<T>(), self.len) }
    }
}

impl<T: Shareable> Drop for ArrayGuard<'_, T> {
    fn drop(&mut self) {
        self.region.unlock();
    }
}

impl<T: Shareable + fmt::Debug> fmt::Debug for ArrayGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ArrayGuard").field(&&**self).finish()
    }
}
