//! Internal helpers shared by every module: the one waiting core
//! ([`monitor`]) and its deadlines, the lock word whose waiters wait in it
//! (`raw_lock`, feature `green`),
//! the one exit path and panic-payload handling.

pub(crate) mod exit;
pub(crate) mod monitor;
#[cfg(feature = "green")]
pub(crate) mod raw_lock;
pub(crate) mod unwind;
pub(crate) mod wait;

pub(crate) use wait::Deadline;
