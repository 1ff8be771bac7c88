//! loom models of the `threading` primitives (run with `ci/loom.sh`).

mod loom_sync;
