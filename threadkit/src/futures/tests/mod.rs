//! Tests of the `futures` internals: loom models (run with `ci/loom.sh`)
//! and the work item's ownership of its closure (run under Miri too).

#[cfg(loom)]
mod loom_future;
#[cfg(not(loom))]
mod work_item;
