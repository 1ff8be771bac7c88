//! Lock acquire+release, uncontended and with 2 contending threads, beside its
//! anchors `std::sync::Mutex` and `parking_lot::Mutex` in the same run.
//!
//! Goal (issue 2): uncontended within 1.1x of the faster anchor, contended
//! within 1.5x.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// A lock under test: the three implementations behind one interface, named
/// as they appear in the report.
trait BenchLock: Send + Sync + 'static {
    const NAME: &'static str;
    fn new() -> Self;
    fn increment(&self);
}

impl BenchLock for threadkit::Lock<u64> {
    const NAME: &'static str = "threadkit::Lock";
    fn new() -> Self {
        threadkit::Lock::new(0)
    }
    fn increment(&self) {
        *self.acquire() += 1;
    }
}

impl BenchLock for std::sync::Mutex<u64> {
    const NAME: &'static str = "std::sync::Mutex";
    fn new() -> Self {
        std::sync::Mutex::new(0)
    }
    fn increment(&self) {
        *self.lock().unwrap() += 1;
    }
}

impl BenchLock for parking_lot::Mutex<u64> {
    const NAME: &'static str = "parking_lot::Mutex";
    fn new() -> Self {
        parking_lot::Mutex::new(0)
    }
    fn increment(&self) {
        *self.lock() += 1;
    }
}

fn uncontended<L: BenchLock>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
) {
    let lock = L::new();
    c.bench_function(L::NAME, |b| b.iter(|| black_box(&lock).increment()));
}

/// `iters` increments split between two threads hammering one lock.
fn contended_run<L: BenchLock>(iters: u64) -> Duration {
    let lock = Arc::new(L::new());
    let start = Arc::new(Barrier::new(3));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (lock, start) = (Arc::clone(&lock), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..iters / 2 {
                    lock.increment();
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for w in workers {
        w.join().unwrap();
    }
    t0.elapsed()
}

fn contended<L: BenchLock>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
) {
    c.bench_function(L::NAME, |b| b.iter_custom(contended_run::<L>));
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock_uncontended");
    uncontended::<threadkit::Lock<u64>>(&mut g);
    uncontended::<std::sync::Mutex<u64>>(&mut g);
    uncontended::<parking_lot::Mutex<u64>>(&mut g);
    g.finish();

    let mut g = c.benchmark_group("lock_contended_2threads");
    contended::<threadkit::Lock<u64>>(&mut g);
    contended::<std::sync::Mutex<u64>>(&mut g);
    contended::<parking_lot::Mutex<u64>>(&mut g);
    g.finish();
}

criterion_group!(lock, benches);
criterion_main!(lock);
