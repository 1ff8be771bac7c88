//! Green-thread benches against gevent.

fn main() {}
