//! Internal helpers shared by every module: the one waiting/deadline core and
//! panic-payload handling.

// Parts of these helpers serve only modules being written in parallel
// (queue, thread); drop the allows once those land.
#[allow(dead_code)]
pub(crate) mod unwind;
#[allow(dead_code)]
pub(crate) mod wait;

#[allow(unused_imports)]
pub(crate) use wait::Deadline;
