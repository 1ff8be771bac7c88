//! Tests of the `futures` internals: loom models (run with `ci/loom.sh`)
//! and the work item's and a map chunk's ownership of what they run (run
//! under Miri too).

#[cfg(loom)]
mod loom_future;
#[cfg(loom)]
mod loom_pool;
#[cfg(not(loom))]
mod map_chunk;
#[cfg(not(loom))]
mod work_item;
