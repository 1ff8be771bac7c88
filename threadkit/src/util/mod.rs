//! Internal helpers shared by every module: the one waiting/deadline core and
//! panic-payload handling.

pub(crate) mod unwind;
pub(crate) mod wait;

pub(crate) use wait::Deadline;
