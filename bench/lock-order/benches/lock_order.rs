//! Nanoseconds per acquire+release with lock-order checking: one lock, a
//! nested pair in a known order, four deep; threadkit's `Lock` with
//! `debug-locks` (checking on, and switched off at run time), tracing-mutex
//! (backtraces off) and `std::sync::Mutex` (no checking) in the same run.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use threadkit::debug::{self, Mode};

/// A lock under test.
trait Checked: Sized {
    const NAME: &'static str;
    fn new() -> Self;
    /// Takes `locks` in order, innermost last, and releases them.
    fn nest(locks: &[Self]);
}

impl Checked for threadkit::Lock<u64> {
    const NAME: &'static str = "threadkit::Lock (debug-locks)";
    fn new() -> Self {
        threadkit::Lock::new(0)
    }
    fn nest(locks: &[Self]) {
        match locks {
            [] => {}
            [first, rest @ ..] => {
                let mut g = first.acquire();
                *g += 1;
                Self::nest(rest);
            }
        }
    }
}

impl Checked for tracing_mutex::stdsync::tracing::Mutex<u64> {
    const NAME: &'static str = "tracing-mutex";
    fn new() -> Self {
        tracing_mutex::stdsync::tracing::Mutex::new(0)
    }
    fn nest(locks: &[Self]) {
        match locks {
            [] => {}
            [first, rest @ ..] => {
                let mut g = first.lock().unwrap();
                *g += 1;
                Self::nest(rest);
            }
        }
    }
}

impl Checked for std::sync::Mutex<u64> {
    const NAME: &'static str = "std::sync::Mutex";
    fn new() -> Self {
        std::sync::Mutex::new(0)
    }
    fn nest(locks: &[Self]) {
        match locks {
            [] => {}
            [first, rest @ ..] => {
                let mut g = first.lock().unwrap();
                *g += 1;
                Self::nest(rest);
            }
        }
    }
}

fn rows<L: Checked>(c: &mut Criterion, label: &str) {
    for depth in [1usize, 2, 4] {
        let locks: Vec<L> = (0..depth).map(|_| L::new()).collect();
        // The first round records the order; the measured ones re-check it.
        L::nest(&locks);
        c.bench_function(&format!("depth {depth}/{label}"), |b| {
            b.iter(|| L::nest(black_box(&locks)))
        });
    }
}

fn lock_order(c: &mut Criterion) {
    rows::<std::sync::Mutex<u64>>(c, <std::sync::Mutex<u64>>::NAME);
    rows::<tracing_mutex::stdsync::tracing::Mutex<u64>>(
        c,
        <tracing_mutex::stdsync::tracing::Mutex<u64>>::NAME,
    );
    debug::set_mode(Mode::Report);
    rows::<threadkit::Lock<u64>>(c, <threadkit::Lock<u64>>::NAME);
    debug::set_mode(Mode::Off);
    rows::<threadkit::Lock<u64>>(c, "threadkit::Lock (debug-locks, switched off)");
}

criterion_group!(benches, lock_order);
criterion_main!(benches);
