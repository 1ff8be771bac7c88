//! The one switch between the real synchronization kernel and loom's model of it.
//!
//! Every primitive in threadkit is built on [`sync::Mutex`] (or, for `RLock`,
//! `sync::ReentrantMutex`), its atomics and [`thread`]'s parking from here,
//! never on `parking_lot` or `std` directly, so that the whole crate can be
//! model-checked with `RUSTFLAGS="--cfg loom" cargo test --lib --release`.
//! (All waiting goes through `util::monitor`, which parks threads itself.)
//!
//! In normal builds these are `parking_lot`'s and std's types (fast, no
//! poisoning, timed waits). Under `cfg(loom)` they are thin adapters over
//! `loom::sync` that expose the same subset of the `parking_lot` API. loom does
//! not model time: a timed wait there behaves like an untimed one, so models
//! only use untimed and `try_` forms.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use parking_lot::{Mutex, MutexGuard};
    #[cfg(not(feature = "green"))]
    pub(crate) use parking_lot::{
        Mutex as LockMutex, MutexGuard as LockMutexGuard, ReentrantMutex, ReentrantMutexGuard,
    };

    // With green threads, `threading`'s `Lock`, `RLock` and `Condition`
    // sit on `RawLock`, whose waiters wait in the waiting core (a green
    // thread there suspends to its hub, and a release wakes it): the same
    // lock word and fast paths as parking_lot's, another slow path.
    #[cfg(feature = "green")]
    use crate::util::raw_lock::RawLock;

    /// The mutex under `threading::Lock` and `Condition`: parking_lot's,
    /// or with green threads one on [`RawLock`].
    #[cfg(feature = "green")]
    pub(crate) type LockMutex<T> = parking_lot::lock_api::Mutex<RawLock, T>;
    /// The guard of [`LockMutex`].
    #[cfg(feature = "green")]
    pub(crate) type LockMutexGuard<'a, T> = parking_lot::lock_api::MutexGuard<'a, RawLock, T>;

    /// With green threads, an `RLock` is owned by a green thread, not by its
    /// carrier: a re-entrant mutex on [`RawLock`] keyed by [`GreenThreadId`].
    #[cfg(all(feature = "green", not(miri)))]
    pub(crate) type ReentrantMutex<T> =
        parking_lot::lock_api::ReentrantMutex<RawLock, GreenThreadId, T>;
    /// The guard of [`ReentrantMutex`].
    #[cfg(all(feature = "green", not(miri)))]
    pub(crate) type ReentrantMutexGuard<'a, T> =
        parking_lot::lock_api::ReentrantMutexGuard<'a, RawLock, GreenThreadId, T>;
    /// Under Miri (the baton backend: a green thread is an OS thread of
    /// its own), keyed by the OS thread.
    #[cfg(all(feature = "green", miri))]
    pub(crate) type ReentrantMutex<T> =
        parking_lot::lock_api::ReentrantMutex<RawLock, parking_lot::RawThreadId, T>;
    /// The guard of [`ReentrantMutex`].
    #[cfg(all(feature = "green", miri))]
    pub(crate) type ReentrantMutexGuard<'a, T> =
        parking_lot::lock_api::ReentrantMutexGuard<'a, RawLock, parking_lot::RawThreadId, T>;

    /// The owner id of a re-entrant lock: the running green thread, else
    /// the OS thread (parking_lot's own id).
    #[cfg(all(feature = "green", not(miri)))]
    #[derive(Debug)]
    pub(crate) struct GreenThreadId;

    // SAFETY: two threads, or two green threads, never get the same id at
    // the same time: a green thread's id is the address of its hub record,
    // a heap block live as long as the green thread; a thread's id is
    // parking_lot's (the address of a thread-local), and the two kinds of
    // address never overlap.
    #[cfg(all(feature = "green", not(miri)))]
    unsafe impl parking_lot::lock_api::GetThreadId for GreenThreadId {
        #[allow(clippy::declare_interior_mutable_const)]
        const INIT: Self = GreenThreadId;

        fn nonzero_thread_id(&self) -> std::num::NonZeroUsize {
            crate::green::owner_id().unwrap_or_else(|| {
                parking_lot::lock_api::GetThreadId::nonzero_thread_id(
                    &parking_lot::RawThreadId::INIT,
                )
            })
        }
    }
    // Used by the loom models and by modules that share state across threads.
    #[allow(unused_imports)]
    pub(crate) use std::sync::Arc;

    /// Atomics, for counters that need no lock.
    pub(crate) mod atomic {
        // `AtomicBool` and `AtomicU8` are used by features (green) and tests only.
        #[allow(unused_imports)]
        pub(crate) use std::sync::atomic::{
            AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
        };
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    use std::ops::{Deref, DerefMut};
    use std::time::Instant;

    #[allow(unused_imports)]
    pub(crate) use loom::sync::Arc;

    /// Atomics, for counters that need no lock.
    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};
        // For the green hub and `RawLock`, which exist with green threads only.
        #[cfg(feature = "green")]
        pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8};
    }

    // loom models the waiting core and (with green threads) `RawLock`
    // itself; `threading`'s locks stay on loom's mutex.
    pub(crate) use self::{Mutex as LockMutex, MutexGuard as LockMutexGuard};

    /// `parking_lot::Mutex` shape over `loom::sync::Mutex`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// Holds the loom guard in an `Option` so that `unlocked` can move it out
    /// and back through a `&mut` borrow, as `parking_lot` allows.
    #[derive(Debug)]
    pub(crate) struct MutexGuard<'a, T>(
        Option<loom::sync::MutexGuard<'a, T>>,
        &'a loom::sync::Mutex<T>,
    );

    impl<T> MutexGuard<'_, T> {
        /// `parking_lot::MutexGuard::unlocked`: runs `f` with the mutex
        /// released, then takes it again.
        pub(crate) fn unlocked<U>(guard: &mut Self, f: impl FnOnce() -> U) -> U {
            drop(guard.0.take());
            let result = f();
            guard.0 = Some(guard.1.lock().unwrap_or_else(|e| e.into_inner()));
            result
        }
    }

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner().unwrap_or_else(|e| e.into_inner())
        }
    }

    impl<T> Mutex<T> {
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(
                Some(self.0.lock().unwrap_or_else(|e| e.into_inner())),
                &self.0,
            )
        }

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok().map(|g| MutexGuard(Some(g), &self.0))
        }

        pub(crate) fn try_lock_until(&self, _deadline: Instant) -> Option<MutexGuard<'_, T>> {
            self.try_lock()
        }

        pub(crate) fn is_locked(&self) -> bool {
            match self.0.try_lock() {
                Ok(_) => false,
                Err(_) => true,
            }
        }

        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap_or_else(|e| e.into_inner())
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex::new(T::default())
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard present outside a wait")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard present outside a wait")
        }
    }

    /// `parking_lot::ReentrantMutex` shape over loom's mutex and condition
    /// variable: an owner and a depth. It hands out `&T` only, as
    /// `parking_lot`'s does, so the value needs no cell.
    #[derive(Debug)]
    pub(crate) struct ReentrantMutex<T> {
        owner: loom::sync::Mutex<(Option<loom::thread::ThreadId>, usize)>,
        freed: loom::sync::Condvar,
        value: T,
    }

    /// One level of ownership of a [`ReentrantMutex`]; `!Send`, as
    /// `parking_lot`'s.
    #[derive(Debug)]
    pub(crate) struct ReentrantMutexGuard<'a, T> {
        mutex: &'a ReentrantMutex<T>,
        not_send: std::marker::PhantomData<*const ()>,
    }

    impl<T> ReentrantMutex<T> {
        pub(crate) fn new(value: T) -> Self {
            ReentrantMutex {
                owner: loom::sync::Mutex::new((None, 0)),
                freed: loom::sync::Condvar::new(),
                value,
            }
        }

        fn owners(&self) -> loom::sync::MutexGuard<'_, (Option<loom::thread::ThreadId>, usize)> {
            self.owner.lock().unwrap_or_else(|e| e.into_inner())
        }

        fn enter(&self, block: bool) -> Option<ReentrantMutexGuard<'_, T>> {
            let me = loom::thread::current().id();
            let mut owner = self.owners();
            loop {
                match owner.0 {
                    Some(id) if id != me => {
                        if !block {
                            return None;
                        }
                        owner = self.freed.wait(owner).unwrap_or_else(|e| e.into_inner());
                    }
                    _ => break,
                }
            }
            *owner = (Some(me), owner.1 + 1);
            Some(ReentrantMutexGuard {
                mutex: self,
                not_send: std::marker::PhantomData,
            })
        }

        pub(crate) fn lock(&self) -> ReentrantMutexGuard<'_, T> {
            self.enter(true).expect("a blocking enter always succeeds")
        }

        pub(crate) fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, T>> {
            self.enter(false)
        }

        pub(crate) fn try_lock_until(
            &self,
            _deadline: Instant,
        ) -> Option<ReentrantMutexGuard<'_, T>> {
            self.try_lock()
        }

        pub(crate) fn is_locked(&self) -> bool {
            self.owners().0.is_some()
        }

        pub(crate) fn is_owned_by_current_thread(&self) -> bool {
            self.owners().0 == Some(loom::thread::current().id())
        }

        pub(crate) fn get_mut(&mut self) -> &mut T {
            &mut self.value
        }

        pub(crate) fn into_inner(self) -> T {
            self.value
        }
    }

    impl<T> Deref for ReentrantMutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.mutex.value
        }
    }

    impl<T> Drop for ReentrantMutexGuard<'_, T> {
        fn drop(&mut self) {
            let mut owner = self.mutex.owners();
            owner.1 -= 1;
            if owner.1 == 0 {
                owner.0 = None;
                drop(owner);
                self.mutex.freed.notify_all();
            }
        }
    }
}

/// A cell written and read under a protocol the type system cannot see
/// (the [`Future`](crate::futures::Future)'s outcome): std's `UnsafeCell` in
/// normal builds, loom's under `cfg(loom)`, which checks that the protocol
/// never lets a write race with another access. Both take closures, loom's
/// shape, so the code is the same under both.
pub(crate) mod cell {
    #[cfg(loom)]
    pub(crate) use loom::cell::UnsafeCell;

    /// std's `UnsafeCell` with loom's closure-shaped accessors.
    #[cfg(not(loom))]
    #[derive(Debug, Default)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a pointer for reading.
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a pointer for writing.
        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Parking a thread: `std::thread` in normal builds, loom's model under
/// `cfg(loom)` (where, as for condition variables, time is not modelled and
/// a timed park is an untimed one).
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{Thread, current, park, park_timeout};

    #[cfg(loom)]
    pub(crate) use loom::thread::{Thread, current, park};

    #[cfg(loom)]
    pub(crate) fn park_timeout(_timeout: std::time::Duration) {
        park();
    }
}
