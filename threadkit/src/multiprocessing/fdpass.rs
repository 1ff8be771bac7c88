//! Handing a [`Connection`](super::Connection) or [`Queue`](super::Queue)
//! to a child as a [`Process`](super::Process) argument.
//!
//! While a process's argument is serialized, each endpoint it contains
//! duplicates its file descriptor into a collector and writes the index of
//! the duplicate instead. When the child is spawned, descriptor number `i`
//! of the collection is placed at `FIRST_PASSED_FD + i` (after fork, before
//! exec), where the child's side of the endpoint picks it up when the
//! argument is deserialized. Python does the same by pickling a
//! `multiprocessing.reduction.DupFd`.

use std::cell::RefCell;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::loom::sync::Mutex;

/// Where passed descriptors start in the child (0–2 are stdio, 3 is the
/// channel to the parent).
pub(crate) const FIRST_PASSED_FD: RawFd = 4;

/// The most descriptors one process argument may carry.
pub(crate) const MAX_PASSED_FDS: usize = 64;

thread_local! {
    static OUTGOING: RefCell<Option<Vec<OwnedFd>>> = const { RefCell::new(None) };
}

/// Set in a child whose parent passed descriptors.
static IN_CHILD: AtomicBool = AtomicBool::new(false);
/// Bit `i` is set once passed descriptor `i` was taken.
static TAKEN: Mutex<u64> = Mutex::new(0);

/// Marks this process as a child that may receive descriptors.
pub(crate) fn enter_child() {
    IN_CHILD.store(true, Ordering::Release);
}

/// Runs `f` (which serializes something) and collects the descriptors that
/// the serialized endpoints asked to pass.
pub(crate) fn collect<T>(f: impl FnOnce() -> T) -> (T, Vec<OwnedFd>) {
    let previous = OUTGOING.with(|o| o.borrow_mut().replace(Vec::new()));
    let out = f();
    let fds = OUTGOING.with(|o| std::mem::replace(&mut *o.borrow_mut(), previous));
    (out, fds.unwrap_or_default())
}

/// Serializes `fd` as a descriptor to pass to the child being started.
pub(crate) fn serialize_fd<S: Serializer>(fd: BorrowedFd<'_>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let index = OUTGOING.with(|o| -> Result<u32, String> {
        let mut o = o.borrow_mut();
        let list = o.as_mut().ok_or_else(|| {
            "a Connection or Queue can only be sent as the argument of a Process".to_owned()
        })?;
        if list.len() >= MAX_PASSED_FDS {
            return Err(format!("more than {MAX_PASSED_FDS} descriptors to pass"));
        }
        list.push(fd.try_clone_to_owned().map_err(|e| e.to_string())?);
        Ok(u32::try_from(list.len() - 1).expect("at most 64"))
    });
    index.map_err(S::Error::custom)?.serialize(s)
}

/// Takes the descriptor that the parent passed under the index being
/// deserialized.
pub(crate) fn deserialize_fd<'de, D: Deserializer<'de>>(d: D) -> Result<OwnedFd, D::Error> {
    use serde::de::Error;
    let index = u32::deserialize(d)? as usize;
    if !IN_CHILD.load(Ordering::Acquire) || index >= MAX_PASSED_FDS {
        return Err(D::Error::custom("no such passed descriptor"));
    }
    let mut taken = TAKEN.lock();
    if *taken & (1 << index) != 0 {
        return Err(D::Error::custom("passed descriptor taken twice"));
    }
    *taken |= 1 << index;
    let fd = FIRST_PASSED_FD + index as RawFd;
    // SAFETY: the parent placed its duplicate at this number just before
    // exec (spawn.rs), nothing else in this process uses it, and the TAKEN
    // bit makes this the only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A descriptor to pass, as a serde value (see [`serialize_fd`]).
pub(crate) struct Passed<'a>(pub(crate) BorrowedFd<'a>);

impl Serialize for Passed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_fd(self.0, s)
    }
}

/// A passed descriptor, as a serde value (see [`deserialize_fd`]).
pub(crate) struct Received(pub(crate) OwnedFd);

impl<'de> Deserialize<'de> for Received {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_fd(d).map(Received)
    }
}
