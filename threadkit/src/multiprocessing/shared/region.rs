//! The kernel under every shared object: a region of shared memory (a
//! `memfd` mapped `MAP_SHARED`) that starts with a [`Header`] holding a
//! robust, process-shared pthread mutex and condition variable, one word of
//! state, and the data after it.
//!
//! A region is handed to a child as a passed descriptor (`fdpass.rs`); the
//! child maps the same pages, so the mutex and the data are the same
//! memory in both processes. The memory lives until the last process
//! unmaps it.
//!
//! # Robustness
//!
//! The mutex is `PTHREAD_MUTEX_ROBUST`: when a process dies holding it, the
//! next `lock` returns `EOWNERDEAD` with the mutex held; the region marks it
//! consistent at once and tells the caller ([`Locked::owner_died`]), who
//! reports it (a lock's `OwnerDied` error) or recovers (an event's flag,
//! which cannot be left half-written). It is also `PTHREAD_MUTEX_ERRORCHECK`:
//! locking it again from the thread that holds it is `EDEADLK`, reported
//! as an error instead of a hang.

use std::cell::UnsafeCell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use crate::util::wait::Deadline;

/// What kind of object a region holds, checked when a child maps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Kind {
    Value = 0x746b_0001,
    Array = 0x746b_0002,
    Lock = 0x746b_0003,
    Event = 0x746b_0004,
    Semaphore = 0x746b_0005,
}

/// The start of every region.
#[repr(C)]
pub(crate) struct Header {
    mutex: UnsafeCell<libc::pthread_mutex_t>,
    cond: UnsafeCell<libc::pthread_cond_t>,
    /// The [`Kind`], written last by the creator.
    kind: UnsafeCell<u64>,
    /// An event's flag, a semaphore's count, an array's length; read and
    /// written under the mutex only (an array's length never changes).
    word: UnsafeCell<u64>,
    /// The size of one element (values and arrays), for the child's check.
    elem: UnsafeCell<u64>,
}

/// Where the data starts: after the header, aligned for any element type
/// whose alignment is at most this.
pub(crate) const DATA: usize = {
    let h = std::mem::size_of::<Header>();
    h.div_ceil(64) * 64
};

/// The largest element alignment a region supports.
pub(crate) const MAX_ALIGN: usize = 64;

/// A mapped region.
pub(crate) struct Region {
    fd: OwnedFd,
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory: every access to the header
// goes through the process-shared mutex or happens before the region is
// shared (initialisation), and data access is under the mutex; the
// descriptor and the pointer may move to and be used from any thread.
unsafe impl Send for Region {}
// SAFETY: as above; `&Region` only hands out raw pointers whose use is
// serialised by the mutex.
unsafe impl Sync for Region {}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// The outcome of taking the mutex.
#[derive(Debug)]
pub(crate) struct Locked {
    /// The previous holder died holding it (the mutex was made consistent).
    pub(crate) owner_died: bool,
}

/// Why the mutex was not taken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LockFailed {
    /// Held elsewhere until the deadline.
    Timeout,
    /// The calling thread holds it already.
    Deadlock,
}

impl Region {
    /// A fresh region of `DATA + data_len` bytes holding `kind`, its mutex
    /// and condition variable initialised, `word` and `elem` set, the data
    /// zeroed.
    pub(crate) fn create(kind: Kind, word: u64, elem: usize, data_len: usize) -> io::Result<Self> {
        let len = DATA
            .checked_add(data_len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "region too large"))?;
        // SAFETY: the name is a NUL-terminated literal.
        let fd = unsafe { libc::memfd_create(c"threadkit-shared".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: memfd_create just returned this descriptor; we own it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let size = libc::off_t::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "region too large"))?;
        // SAFETY: `fd` is an open memfd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let region = Region::map(fd, len)?;
        // SAFETY: the region is fresh and not yet shared: nothing else
        // touches the header while it is initialised.
        unsafe { region.init(kind, word, elem as u64)? };
        Ok(region)
    }

    /// Maps `fd` (received from a parent) and checks that it holds `kind`
    /// with elements of `elem` bytes and at least `DATA + data_len(word)`
    /// bytes.
    pub(crate) fn open(
        fd: OwnedFd,
        kind: Kind,
        elem: usize,
        data_len: impl FnOnce(u64) -> Option<usize>,
    ) -> io::Result<Self> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        // SAFETY: an all-zero `stat` is a valid value to be overwritten.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open and `st` is a valid out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let len = usize::try_from(st.st_size).map_err(|_| bad("bad region size"))?;
        if len < DATA {
            return Err(bad("not a threadkit shared region"));
        }
        let region = Region::map(fd, len)?;
        let header = region.header();
        // SAFETY: the creator wrote these before sharing the region; they
        // never change afterwards (`word` may, but it is only read here to
        // size an array, whose length is fixed).
        let (k, w, e) = unsafe { (*header.kind.get(), *header.word.get(), *header.elem.get()) };
        if k != kind as u64 {
            return Err(bad("the shared region holds another kind of object"));
        }
        if e != elem as u64 {
            return Err(bad("the shared region holds another element type"));
        }
        match data_len(w) {
            Some(n) if DATA.checked_add(n).is_some_and(|need| need <= len) => Ok(region),
            _ => Err(bad("the shared region is shorter than its header says")),
        }
    }

    fn map(fd: OwnedFd, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh shared mapping of an open descriptor; the kernel
        // picks the address.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Region { fd, ptr, len })
    }

    /// # Safety
    ///
    /// Nothing else may use the header while this runs.
    unsafe fn init(&self, kind: Kind, word: u64, elem: u64) -> io::Result<()> {
        let h = self.header();
        // SAFETY: attribute objects live on this stack frame; the mutex
        // and condition variable are in our mapping, not yet in use
        // (caller's contract).
        unsafe {
            let mut ma: libc::pthread_mutexattr_t = std::mem::zeroed();
            check(libc::pthread_mutexattr_init(&mut ma))?;
            check(libc::pthread_mutexattr_setpshared(
                &mut ma,
                libc::PTHREAD_PROCESS_SHARED,
            ))?;
            check(libc::pthread_mutexattr_setrobust(
                &mut ma,
                libc::PTHREAD_MUTEX_ROBUST,
            ))?;
            check(libc::pthread_mutexattr_settype(
                &mut ma,
                libc::PTHREAD_MUTEX_ERRORCHECK,
            ))?;
            let rc = libc::pthread_mutex_init(h.mutex.get(), &ma);
            libc::pthread_mutexattr_destroy(&mut ma);
            check(rc)?;
            let mut ca: libc::pthread_condattr_t = std::mem::zeroed();
            check(libc::pthread_condattr_init(&mut ca))?;
            check(libc::pthread_condattr_setpshared(
                &mut ca,
                libc::PTHREAD_PROCESS_SHARED,
            ))?;
            check(libc::pthread_condattr_setclock(
                &mut ca,
                libc::CLOCK_MONOTONIC,
            ))?;
            let rc = libc::pthread_cond_init(h.cond.get(), &ca);
            libc::pthread_condattr_destroy(&mut ca);
            check(rc)?;
            *h.word.get() = word;
            *h.elem.get() = elem;
            *h.kind.get() = kind as u64;
        }
        Ok(())
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping is at least DATA bytes, page-aligned, and
        // lives as long as `self`; every field is an UnsafeCell, so shared
        // references to it allow the other process's writes.
        unsafe { self.ptr.cast::<Header>().as_ref() }
    }

    /// The data, after the header.
    pub(crate) fn data(&self) -> *mut u8 {
        // SAFETY: DATA <= len (checked by `create` and `open`).
        unsafe { self.ptr.as_ptr().add(DATA) }
    }

    /// The word of state.
    ///
    /// The caller holds the mutex (or the word never changes).
    pub(crate) fn word(&self) -> *mut u64 {
        self.header().word.get()
    }

    /// The descriptor, to pass to a child.
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Takes the mutex, giving up at `deadline`.
    pub(crate) fn lock(&self, deadline: Deadline) -> Result<Locked, LockFailed> {
        let m = self.header().mutex.get();
        let rc = match deadline {
            // SAFETY: `m` is an initialised process-shared mutex in our mapping.
            Deadline::Never => unsafe { libc::pthread_mutex_lock(m) },
            // SAFETY: as above.
            Deadline::Now => unsafe { libc::pthread_mutex_trylock(m) },
            Deadline::At(at) => {
                let ts = realtime_after(at.saturating_duration_since(Instant::now()));
                // SAFETY: as above; `ts` is a valid timespec.
                unsafe { libc::pthread_mutex_timedlock(m, &ts) }
            }
        };
        self.locked(rc)
    }

    fn locked(&self, rc: libc::c_int) -> Result<Locked, LockFailed> {
        match rc {
            0 => Ok(Locked { owner_died: false }),
            libc::EOWNERDEAD => {
                // SAFETY: we hold the mutex (EOWNERDEAD means acquired).
                unsafe { libc::pthread_mutex_consistent(self.header().mutex.get()) };
                Ok(Locked { owner_died: true })
            }
            libc::EDEADLK => Err(LockFailed::Deadlock),
            // EBUSY, ETIMEDOUT; ENOTRECOVERABLE cannot happen, as the mutex is
            // made consistent whenever an owner died, but would be a wait
            // without end if it did: reported as not acquired.
            _ => Err(LockFailed::Timeout),
        }
    }

    /// Releases the mutex.
    ///
    /// The calling thread holds it.
    pub(crate) fn unlock(&self) {
        // SAFETY: the caller holds the mutex (guards call this once, on the
        // thread that locked).
        unsafe { libc::pthread_mutex_unlock(self.header().mutex.get()) };
    }

    /// Waits on the condition variable (the mutex held) until woken or
    /// `deadline`; returns `false` on timeout. The mutex is held again on
    /// return; a holder that died meanwhile is recovered from silently, as
    /// the callers' state is one word.
    pub(crate) fn wait(&self, deadline: Deadline) -> bool {
        let h = self.header();
        let rc = match deadline {
            Deadline::Now => return false,
            // SAFETY: the caller holds the mutex; both are initialised and
            // process-shared.
            Deadline::Never => unsafe { libc::pthread_cond_wait(h.cond.get(), h.mutex.get()) },
            Deadline::At(at) => {
                let ts = monotonic_after(at.saturating_duration_since(Instant::now()));
                // SAFETY: as above; the condition variable's clock is
                // CLOCK_MONOTONIC, as `ts` is.
                unsafe { libc::pthread_cond_timedwait(h.cond.get(), h.mutex.get(), &ts) }
            }
        };
        if rc == libc::EOWNERDEAD {
            // SAFETY: EOWNERDEAD means the mutex is held again.
            unsafe { libc::pthread_mutex_consistent(h.mutex.get()) };
        }
        rc != libc::ETIMEDOUT
    }

    /// Wakes every waiter on the condition variable.
    pub(crate) fn notify_all(&self) {
        // SAFETY: an initialised process-shared condition variable.
        unsafe { libc::pthread_cond_broadcast(self.header().cond.get()) };
    }

    /// Wakes one waiter on the condition variable.
    pub(crate) fn notify_one(&self) {
        // SAFETY: an initialised process-shared condition variable.
        unsafe { libc::pthread_cond_signal(self.header().cond.get()) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are the mapping made in `map`, unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

fn clock_after(clock: libc::clockid_t, d: Duration) -> libc::timespec {
    // SAFETY: an all-zero timespec is valid; clock_gettime fills it.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `now` is a valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut now) };
    let nanos = now.tv_nsec as u64 + u64::from(d.subsec_nanos());
    let secs = (now.tv_sec as u64)
        .saturating_add(d.as_secs())
        .saturating_add(nanos / 1_000_000_000)
        .min(libc::time_t::MAX as u64);
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    }
}

fn realtime_after(d: Duration) -> libc::timespec {
    clock_after(libc::CLOCK_REALTIME, d)
}

fn monotonic_after(d: Duration) -> libc::timespec {
    clock_after(libc::CLOCK_MONOTONIC, d)
}
