//! loom models of the `futures` internals (run with `ci/loom.sh`).

mod loom_future;
