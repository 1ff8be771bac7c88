//! Cross-process [`Lock`], [`Event`] and [`Semaphore`]: Python's
//! `multiprocessing.Lock`, `Event` and `Semaphore`.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::SharedError;
use super::region::{Kind, LockFailed, Region};
use crate::util::wait::Deadline;

macro_rules! shared_handle {
    ($name:ident, $kind:expr) => {
        impl Clone for $name {
            fn clone(&self) -> Self {
                $name {
                    region: Arc::clone(&self.region),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::serialize_region(&self.region, s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let region = super::deserialize_region(d, $kind, 0, |_| Some(0))?;
                Ok($name {
                    region: Arc::new(region),
                })
            }
        }
    };
}

/// A lock shared between processes: Python's `multiprocessing.Lock()`.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::{Lock, SharedError};
///
/// let lock = Lock::new().unwrap();
/// let guard = lock.acquire().unwrap();
/// assert!(matches!(lock.try_acquire(), Err(SharedError::WouldDeadlock)));
/// drop(guard);
/// assert!(lock.try_acquire().unwrap().is_some());
/// ```
///
/// # Differences from Python's `multiprocessing.Lock`
///
/// - A guard releases it (Python's `with lock:`); it is released by the
///   thread that took it.
/// - A process that dies holding it is reported to the next acquirer
///   ([`SharedError::OwnerDied`]) instead of leaving it locked for ever.
/// - Acquiring it again on the thread that holds it is
///   [`SharedError::WouldDeadlock`] instead of a deadlock.
pub struct Lock {
    region: Arc<Region>,
}

shared_handle!(Lock, Kind::Lock);

impl Lock {
    /// A new, unlocked lock.
    ///
    /// # Errors
    ///
    /// The operating system's error if shared memory cannot be made.
    pub fn new() -> io::Result<Self> {
        Ok(Lock {
            region: Arc::new(Region::create(Kind::Lock, 0, 0, 0)?),
        })
    }

    fn acquire_until(
        &self,
        deadline: Deadline,
    ) -> Result<Option<LockGuard<'_>>, SharedError<LockGuard<'_>>> {
        let guard = || LockGuard {
            region: &self.region,
            _not_send: PhantomData,
        };
        match self.region.lock(deadline) {
            Ok(l) if l.owner_died => Err(SharedError::OwnerDied(guard())),
            Ok(_) => Ok(Some(guard())),
            Err(LockFailed::Deadlock) => Err(SharedError::WouldDeadlock),
            Err(LockFailed::Timeout) => Ok(None),
        }
    }

    /// Waits for the lock and takes it (Python's `acquire()`).
    ///
    /// # Errors
    ///
    /// [`SharedError::OwnerDied`] (with the guard: the lock is held) if the
    /// previous holder died holding it; [`SharedError::WouldDeadlock`] if
    /// this thread holds it already.
    pub fn acquire(&self) -> Result<LockGuard<'_>, SharedError<LockGuard<'_>>> {
        match self.acquire_until(Deadline::Never) {
            Ok(Some(g)) => Ok(g),
            Ok(None) => Err(SharedError::WouldDeadlock),
            Err(e) => Err(e),
        }
    }

    /// Takes the lock if it is free (Python's `acquire(block=False)`):
    /// `Ok(None)` if it is held elsewhere.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Lock::acquire).
    pub fn try_acquire(&self) -> Result<Option<LockGuard<'_>>, SharedError<LockGuard<'_>>> {
        self.acquire_until(Deadline::Now)
    }

    /// Waits at most `timeout` for the lock (Python's
    /// `acquire(timeout=t)`): `Ok(None)` if it was not free in time.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Lock::acquire).
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<LockGuard<'_>>, SharedError<LockGuard<'_>>> {
        self.acquire_until(Deadline::after(timeout))
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").finish_non_exhaustive()
    }
}

/// A held [`Lock`]; releases it on drop (Python's `release()`).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    region: &'a Region,
    /// Not `Send`: a pthread mutex is released by the thread that took it.
    _not_send: PhantomData<*const ()>,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.region.unlock();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// Runs `f` on the state word with the region's mutex held; a holder that
/// died is recovered from silently (the state is one word).
fn with_word<R>(region: &Region, f: impl FnOnce(&mut u64) -> R) -> R {
    // The internal lock is never held across user code, so it cannot be
    // held by this thread already: `Never` does not fail.
    let _ = region.lock(Deadline::Never);
    // SAFETY: the mutex is held; the word is in the mapping.
    let out = f(unsafe { &mut *region.word() });
    region.unlock();
    out
}

/// Waits (the mutex held by the caller of `with_word`'s pattern) until
/// `ready` holds or `deadline`; returns whether it holds.
fn wait_until(
    region: &Region,
    deadline: Deadline,
    mut ready: impl FnMut(&mut u64) -> bool,
) -> bool {
    let _ = region.lock(Deadline::Never);
    let ok = loop {
        // SAFETY: the mutex is held.
        if ready(unsafe { &mut *region.word() }) {
            break true;
        }
        if !region.wait(deadline) {
            // One last look after the timeout, as `Monitor` does.
            // SAFETY: the mutex is held again after a timed-out wait.
            break ready(unsafe { &mut *region.word() });
        }
    };
    region.unlock();
    ok
}

/// An event shared between processes: Python's `multiprocessing.Event()`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::multiprocessing::Event;
///
/// let ev = Event::new().unwrap();
/// assert!(!ev.wait_timeout(Duration::from_millis(1)));
/// ev.set();
/// assert!(ev.is_set());
/// ev.wait();
/// ev.clear();
/// assert!(!ev.is_set());
/// ```
pub struct Event {
    region: Arc<Region>,
}

shared_handle!(Event, Kind::Event);

impl Event {
    /// A new event, not set.
    ///
    /// # Errors
    ///
    /// The operating system's error if shared memory cannot be made.
    pub fn new() -> io::Result<Self> {
        Ok(Event {
            region: Arc::new(Region::create(Kind::Event, 0, 0, 0)?),
        })
    }

    /// Sets the flag and wakes every waiter, in every process.
    pub fn set(&self) {
        with_word(&self.region, |w| *w = 1);
        self.region.notify_all();
    }

    /// Clears the flag.
    pub fn clear(&self) {
        with_word(&self.region, |w| *w = 0);
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        with_word(&self.region, |w| *w != 0)
    }

    /// Waits until the flag is set.
    pub fn wait(&self) {
        wait_until(&self.region, Deadline::Never, |w| *w != 0);
    }

    /// Waits at most `timeout` for the flag; returns whether it is set
    /// (Python's `wait(timeout)`).
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        wait_until(&self.region, Deadline::after(timeout), |w| *w != 0)
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

/// A counting semaphore shared between processes: Python's
/// `multiprocessing.Semaphore(value)`.
///
/// # Examples
///
/// ```
/// use threadkit::multiprocessing::Semaphore;
///
/// let sem = Semaphore::new(1).unwrap();
/// let permit = sem.acquire();
/// assert!(sem.try_acquire().is_none());
/// drop(permit);
/// assert_eq!(sem.get_value(), 1);
/// ```
///
/// # Differences from Python's `multiprocessing.Semaphore`
///
/// `acquire` gives a [`Permit`] that releases on drop (Python's `with
/// sem:`); [`Permit::forget`] and [`Semaphore::release`] are Python's
/// explicit `acquire()`/`release()` pair, across processes too.
pub struct Semaphore {
    region: Arc<Region>,
}

shared_handle!(Semaphore, Kind::Semaphore);

impl Semaphore {
    /// A semaphore with `value` permits.
    ///
    /// # Errors
    ///
    /// The operating system's error if shared memory cannot be made.
    pub fn new(value: u32) -> io::Result<Self> {
        Ok(Semaphore {
            region: Arc::new(Region::create(Kind::Semaphore, u64::from(value), 0, 0)?),
        })
    }

    fn take(&self, deadline: Deadline) -> Option<Permit<'_>> {
        let got = wait_until(&self.region, deadline, |w| {
            if *w > 0 {
                *w -= 1;
                true
            } else {
                false
            }
        });
        // Not `then_some`: a permit made and dropped would release.
        if got {
            Some(Permit { sem: Some(self) })
        } else {
            None
        }
    }

    /// Waits for a permit and takes it.
    pub fn acquire(&self) -> Permit<'_> {
        // A wait without a deadline ends only with a permit.
        loop {
            if let Some(p) = self.take(Deadline::Never) {
                return p;
            }
        }
    }

    /// Takes a permit if one is free (Python's `acquire(block=False)`).
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.take(Deadline::Now)
    }

    /// Waits at most `timeout` for a permit (Python's `acquire(timeout=t)`).
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Permit<'_>> {
        self.take(Deadline::after(timeout))
    }

    /// Adds a permit and wakes one waiter (Python's `release()`), in any
    /// process; saturates at `u64::MAX`.
    pub fn release(&self) {
        with_word(&self.region, |w| *w = w.saturating_add(1));
        self.region.notify_one();
    }

    /// The number of free permits (Python's `get_value()`).
    pub fn get_value(&self) -> u64 {
        with_word(&self.region, |w| *w)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.get_value())
            .finish()
    }
}

/// A permit of a [`Semaphore`]; gives it back on drop.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct Permit<'a> {
    sem: Option<&'a Semaphore>,
}

impl Permit<'_> {
    /// Keeps the permit taken: a later [`Semaphore::release`], from any
    /// process, gives it back (Python's bare `acquire()`).
    pub fn forget(mut self) {
        self.sem = None;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(sem) = self.sem {
            sem.release();
        }
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}
