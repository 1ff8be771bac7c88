//! Tests that start real worker processes.

mod worker_trust;
