//! Event set/wait round trip and Semaphore acquire/release, beside the
//! nearest anchor: the same primitive written on `std::sync::{Mutex, Condvar}`,
//! measured in the same run.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn.

use std::hint::black_box;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// The textbook event on std's Mutex + Condvar: the anchor.
#[derive(Default)]
struct StdEvent {
    flag: Mutex<bool>,
    cv: Condvar,
}

/// The textbook counting semaphore on std's Mutex + Condvar: the anchor.
struct StdSemaphore {
    value: Mutex<usize>,
    cv: Condvar,
}

trait BenchEvent: Default + Send + Sync + 'static {
    const NAME: &'static str;
    fn set(&self);
    fn clear(&self);
    fn wait(&self);
}

impl BenchEvent for threadkit::Event {
    const NAME: &'static str = "threadkit::Event";
    fn set(&self) {
        threadkit::Event::set(self)
    }
    fn clear(&self) {
        threadkit::Event::clear(self)
    }
    fn wait(&self) {
        threadkit::Event::wait(self)
    }
}

impl BenchEvent for StdEvent {
    const NAME: &'static str = "std Mutex+Condvar event";
    fn set(&self) {
        *self.flag.lock().unwrap() = true;
        self.cv.notify_all();
    }
    fn clear(&self) {
        *self.flag.lock().unwrap() = false;
    }
    fn wait(&self) {
        let mut flag = self.flag.lock().unwrap();
        while !*flag {
            flag = self.cv.wait(flag).unwrap();
        }
    }
}

/// `iters` ping-pong round trips between two threads through two events.
fn round_trips<E: BenchEvent>(iters: u64) -> Duration {
    let ping = Arc::new(E::default());
    let pong = Arc::new(E::default());
    let peer = {
        let (ping, pong) = (Arc::clone(&ping), Arc::clone(&pong));
        std::thread::spawn(move || {
            for _ in 0..iters {
                ping.wait();
                ping.clear();
                pong.set();
            }
        })
    };
    let t0 = Instant::now();
    for _ in 0..iters {
        ping.set();
        pong.wait();
        pong.clear();
    }
    let elapsed = t0.elapsed();
    peer.join().unwrap();
    elapsed
}

trait BenchSemaphore: Send + Sync + 'static {
    const NAME: &'static str;
    fn new(value: usize) -> Self;
    fn acquire_release(&self);
}

impl BenchSemaphore for threadkit::Semaphore {
    const NAME: &'static str = "threadkit::Semaphore";
    fn new(value: usize) -> Self {
        threadkit::Semaphore::new(value)
    }
    fn acquire_release(&self) {
        drop(black_box(self.acquire()));
    }
}

impl BenchSemaphore for StdSemaphore {
    const NAME: &'static str = "std Mutex+Condvar semaphore";
    fn new(value: usize) -> Self {
        StdSemaphore {
            value: Mutex::new(value),
            cv: Condvar::new(),
        }
    }
    fn acquire_release(&self) {
        let mut v = self.value.lock().unwrap();
        while *v == 0 {
            v = self.cv.wait(v).unwrap();
        }
        *v -= 1;
        drop(v);
        *self.value.lock().unwrap() += 1;
        self.cv.notify_one();
    }
}

/// `iters` acquire+release pairs split between two threads on a semaphore of 1.
fn contended_semaphore<S: BenchSemaphore>(iters: u64) -> Duration {
    let sem = Arc::new(S::new(1));
    let other = {
        let sem = Arc::clone(&sem);
        std::thread::spawn(move || {
            for _ in 0..iters / 2 {
                sem.acquire_release();
            }
        })
    };
    let t0 = Instant::now();
    for _ in 0..iters / 2 {
        sem.acquire_release();
    }
    other.join().unwrap();
    t0.elapsed()
}

fn event(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_round_trip");
    g.bench_function(threadkit::Event::NAME, |b| {
        b.iter_custom(round_trips::<threadkit::Event>)
    });
    g.bench_function(StdEvent::NAME, |b| b.iter_custom(round_trips::<StdEvent>));
    g.finish();
}

fn semaphore(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore_uncontended");
    let tk = threadkit::Semaphore::new(1);
    g.bench_function(threadkit::Semaphore::NAME, |b| {
        b.iter(|| tk.acquire_release())
    });
    let std_sem = StdSemaphore::new(1);
    g.bench_function(StdSemaphore::NAME, |b| b.iter(|| std_sem.acquire_release()));
    g.finish();

    let mut g = c.benchmark_group("semaphore_contended_2threads");
    g.bench_function(threadkit::Semaphore::NAME, |b| {
        b.iter_custom(contended_semaphore::<threadkit::Semaphore>)
    });
    g.bench_function(StdSemaphore::NAME, |b| {
        b.iter_custom(contended_semaphore::<StdSemaphore>)
    });
    g.finish();
}

criterion_group!(event_semaphore, event, semaphore);
criterion_main!(event_semaphore);
