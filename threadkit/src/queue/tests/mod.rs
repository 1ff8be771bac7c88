//! loom models of the queue core (run with `RUSTFLAGS="--cfg loom"`).

mod loom_queue;
