//! Placeholder: the process pool benchmark lands with the pool.
fn main() {}
