//! Internal helpers shared by every module: the one waiting core
//! ([`monitor`]) and its deadlines,
//! the one exit path and panic-payload handling.

pub(crate) mod exit;
pub(crate) mod monitor;
pub(crate) mod unwind;
pub(crate) mod wait;

pub(crate) use wait::Deadline;
