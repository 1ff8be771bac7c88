//! Stress tests for `threadkit::queue`: many producers and consumers, random
//! mixes of blocking, try and timed calls, and shutdown under load.
//!
//! The invariant checked everywhere: every item is received exactly once, or
//! handed back to its producer by an error, or (immediate shutdown only)
//! dropped by the queue; nothing is lost or duplicated. There are no timing
//! asserts, only hang guards with generous bounds.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use rand::Rng;
use threadkit::queue::{GetError, PriorityQueue, PutError, Queue, ShutDown};

const PRODUCERS: usize = 8;
const CONSUMERS: usize = 8;
const PER_PRODUCER: usize = 2_000;
const TOTAL: usize = PRODUCERS * PER_PRODUCER;
/// Each scenario runs this many times with fresh random choices.
const ROUNDS: usize = 4;
/// A hang guard, far above the expected run time.
const HANG: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and fails the test if it does not finish
/// within `HANG` (a deadlock), re-raising its panic otherwise.
fn with_hang_guard(name: &str, f: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let t = thread::spawn(move || {
        f();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(HANG) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // `f` panicked: surface its message.
            if let Err(panic) = t.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: hang (no progress in {HANG:?})"),
    }
}

fn small_timeout(rng: &mut impl Rng) -> Duration {
    Duration::from_micros(rng.gen_range(0..200))
}

/// Puts `item` with a random method, retrying with the handed-back item on
/// Full/Timeout. Returns the item if the queue was shut down.
fn put_random<T>(q: &Queue<T>, mut item: T, rng: &mut impl Rng) -> Result<(), T> {
    loop {
        item = match rng.gen_range(0..3) {
            0 => return q.put(item).map_err(ShutDown::into_inner),
            1 => match q.try_put(item) {
                Ok(()) => return Ok(()),
                Err(PutError::Full(item)) => {
                    thread::yield_now();
                    item
                }
                Err(PutError::ShutDown(item)) => return Err(item),
            },
            _ => match q.put_timeout(item, small_timeout(rng)) {
                Ok(()) => return Ok(()),
                Err(PutError::Full(item)) => item,
                Err(PutError::ShutDown(item)) => return Err(item),
            },
        };
    }
}

/// Gets an item with a random method, retrying on Empty/Timeout. Returns
/// `None` once the queue is shut down and empty.
fn get_random<T>(q: &Queue<T>, rng: &mut impl Rng) -> Option<T> {
    loop {
        match rng.gen_range(0..3) {
            0 => return q.get().ok(),
            1 => match q.try_get() {
                Ok(item) => return Some(item),
                Err(GetError::Empty) => thread::yield_now(),
                Err(GetError::ShutDown) => return None,
            },
            _ => match q.get_timeout(small_timeout(rng)) {
                Ok(item) => return Some(item),
                Err(GetError::Empty) => {}
                Err(GetError::ShutDown) => return None,
            },
        }
    }
}

/// Starts `CONSUMERS` threads that get (randomly), record and `task_done`
/// every item until the queue is shut down and empty.
fn spawn_consumers<T: Send + 'static>(
    q: &Arc<Queue<T>>,
    record: impl Fn(T) + Send + Sync + 'static,
) -> Vec<thread::JoinHandle<()>> {
    let record = Arc::new(record);
    (0..CONSUMERS)
        .map(|_| {
            let (q, record) = (Arc::clone(q), Arc::clone(&record));
            thread::spawn(move || {
                let mut rng = rand::thread_rng();
                while let Some(item) = get_random(&q, &mut rng) {
                    record(item);
                    q.task_done().unwrap();
                }
            })
        })
        .collect()
}

/// 8 producers, 8 consumers, random methods, a small bound: every item
/// arrives exactly once, `join` returns, then shutdown ends the consumers.
#[test]
fn mpmc_random_methods_every_item_once() {
    with_hang_guard("mpmc", || {
        for _round in 0..ROUNDS {
            let q = Arc::new(Queue::new(16));
            let received = Arc::new(Mutex::new(Vec::with_capacity(TOTAL)));
            let consumers = {
                let received = Arc::clone(&received);
                spawn_consumers(&q, move |id: usize| received.lock().unwrap().push(id))
            };
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || {
                        let mut rng = rand::thread_rng();
                        for i in 0..PER_PRODUCER {
                            assert!(put_random(&q, p * PER_PRODUCER + i, &mut rng).is_ok());
                        }
                    })
                })
                .collect();
            for t in producers {
                t.join().unwrap();
            }
            q.join();
            assert_eq!(q.unfinished_tasks(), 0);
            q.shutdown(false);
            for t in consumers {
                t.join().unwrap();
            }
            let mut got = std::mem::take(&mut *received.lock().unwrap());
            got.sort_unstable();
            assert_eq!(got, (0..TOTAL).collect::<Vec<_>>());
        }
    });
}

/// A plain shutdown in the middle of the traffic: each item is either
/// received exactly once or handed back to its producer, never both.
#[test]
fn shutdown_under_load_hands_items_back() {
    with_hang_guard("shutdown", || {
        for _round in 0..ROUNDS {
            let q = Arc::new(Queue::new(8));
            let received = Arc::new(Mutex::new(Vec::new()));
            let consumers = {
                let received = Arc::clone(&received);
                spawn_consumers(&q, move |id: usize| received.lock().unwrap().push(id))
            };
            let handed_back = Arc::new(Mutex::new(Vec::new()));
            let attempted = Arc::new(AtomicUsize::new(0));
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let (q, back, attempted) = (
                        Arc::clone(&q),
                        Arc::clone(&handed_back),
                        Arc::clone(&attempted),
                    );
                    thread::spawn(move || {
                        let mut rng = rand::thread_rng();
                        // Unbounded attempts: only the shutdown stops a producer.
                        for i in 0.. {
                            let id = p * 1_000_000 + i;
                            attempted.fetch_add(1, Ordering::SeqCst);
                            if let Err(item) = put_random(&q, id, &mut rng) {
                                assert_eq!(item, id);
                                back.lock().unwrap().push(item);
                                return i + 1; // items attempted by this producer
                            }
                        }
                        unreachable!()
                    })
                })
                .collect();
            thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(20..80)));
            q.shutdown(false);
            let per_producer: Vec<usize> =
                producers.into_iter().map(|t| t.join().unwrap()).collect();
            for t in consumers {
                t.join().unwrap();
            }
            let mut all: Vec<usize> = received.lock().unwrap().clone();
            let back = handed_back.lock().unwrap().clone();
            assert_eq!(
                back.len(),
                PRODUCERS,
                "each producer got its last item back"
            );
            all.extend(&back);
            all.sort_unstable();
            let expected: Vec<usize> = per_producer
                .iter()
                .enumerate()
                .flat_map(|(p, &n)| (0..n).map(move |i| p * 1_000_000 + i))
                .collect();
            assert_eq!(all, expected, "lost or duplicated items");
            assert_eq!(attempted.load(Ordering::SeqCst), expected.len());
            assert_eq!(q.unfinished_tasks(), 0);
            assert!(q.join_timeout(HANG));
        }
    });
}

/// An item that records its own drop, so an item that is neither received,
/// handed back nor dropped by the queue (a leak) shows up as a count of 0.
struct Tracked {
    id: usize,
    drops: Arc<Vec<AtomicU8>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// An immediate shutdown under load, with joiners waiting: items still queued
/// are dropped (exactly once), joiners are released, nothing leaks.
#[test]
fn immediate_shutdown_under_load_drops_each_item_once() {
    with_hang_guard("immediate", || {
        for _round in 0..ROUNDS {
            const MAX_PER_PRODUCER: usize = 20_000;
            let drops: Arc<Vec<AtomicU8>> = Arc::new(
                (0..PRODUCERS * MAX_PER_PRODUCER)
                    .map(|_| AtomicU8::new(0))
                    .collect(),
            );
            let q = Arc::new(Queue::new(64));
            let consumers = spawn_consumers(&q, drop::<Tracked>);
            let joiners: Vec<_> = (0..2)
                .map(|_| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || assert!(q.join_timeout(HANG)))
                })
                .collect();
            let stop = Arc::new(AtomicBool::new(false));
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let (q, drops, stop) = (Arc::clone(&q), Arc::clone(&drops), Arc::clone(&stop));
                    thread::spawn(move || {
                        let mut rng = rand::thread_rng();
                        for i in 0..MAX_PER_PRODUCER {
                            if stop.load(Ordering::Relaxed) && i > 0 && rng.gen_bool(0.01) {
                                // Some producers stop by themselves before shutdown.
                                return i;
                            }
                            let item = Tracked {
                                id: p * MAX_PER_PRODUCER + i,
                                drops: Arc::clone(&drops),
                            };
                            if let Err(item) = put_random(&q, item, &mut rng) {
                                assert_eq!(item.id, p * MAX_PER_PRODUCER + i);
                                return i + 1; // `item` is dropped here: handed back
                            }
                        }
                        MAX_PER_PRODUCER
                    })
                })
                .collect();
            thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(10..50)));
            q.shutdown(true);
            stop.store(true, Ordering::Relaxed);
            let attempted: Vec<usize> = producers.into_iter().map(|t| t.join().unwrap()).collect();
            for t in consumers.into_iter().chain(joiners) {
                t.join().unwrap();
            }
            assert!(q.empty());
            assert_eq!(q.unfinished_tasks(), 0);
            drop(q);
            for (p, &n) in attempted.iter().enumerate() {
                for i in 0..MAX_PER_PRODUCER {
                    let count = drops[p * MAX_PER_PRODUCER + i].load(Ordering::SeqCst);
                    let expected = u8::from(i < n);
                    assert_eq!(count, expected, "item {p}/{i}: dropped {count} times");
                }
            }
        }
    });
}

/// Priority queue under 4x4 load: every item once, and a single consumer
/// draining a pre-filled queue sees ascending order.
#[test]
fn priority_queue_stress() {
    with_hang_guard("priority", || {
        let q = Arc::new(PriorityQueue::new(32));
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    for i in 0..2_000usize {
                        q.put(i * 4 + p).unwrap();
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(v) = q.get() {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        for t in producers {
            t.join().unwrap();
        }
        q.shutdown(false);
        let mut all: Vec<usize> = consumers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..8_000).collect::<Vec<_>>());

        let q = PriorityQueue::new(0);
        let mut rng = rand::thread_rng();
        for _ in 0..1_000 {
            q.put(rng.gen_range(0..100u32)).unwrap();
        }
        let drained: Vec<u32> = std::iter::from_fn(|| q.try_get().ok()).collect();
        assert_eq!(drained.len(), 1_000);
        assert!(drained.windows(2).all(|w| w[0] <= w[1]));
    });
}

/// A waker that counts its wake-ups.
struct CountWakes(AtomicUsize);

impl std::task::Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Threads and tasks wait in one line, first come first served: a put wakes
/// the thread that was waiting before the task (the old queue always woke a
/// task first), and the next put wakes the task. A thread descheduled for
/// the whole grace period may register after the task, so a few attempts
/// are allowed; an unfair queue fails them all.
#[test]
fn threads_and_tasks_are_woken_in_arrival_order() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    with_hang_guard("arrival order", || {
        for _attempt in 0..5 {
            let q = Arc::new(Queue::new(0));
            let getter = {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get())
            };
            // Long enough for the getter to finish spinning and park.
            thread::sleep(Duration::from_millis(200));
            let counter = Arc::new(CountWakes(AtomicUsize::new(0)));
            let waker = Waker::from(Arc::clone(&counter));
            let mut cx = Context::from_waker(&waker);
            let mut task = Box::pin(q.get_async());
            assert!(task.as_mut().poll(&mut cx).is_pending());
            q.put(1).unwrap();
            if counter.0.load(Ordering::SeqCst) != 0 {
                // The getter came late: clean up and try again.
                q.shutdown(true);
                let _ = getter.join().unwrap();
                continue;
            }
            assert_eq!(getter.join().unwrap(), Ok(1));
            assert_eq!(counter.0.load(Ordering::SeqCst), 0);
            q.put(2).unwrap();
            assert_eq!(counter.0.load(Ordering::SeqCst), 1);
            assert_eq!(task.as_mut().poll(&mut cx), Poll::Ready(Ok(2)));
            return;
        }
        panic!("the task was woken before the thread that waited first, every time");
    });
}
