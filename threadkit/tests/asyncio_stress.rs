//! Load on the asyncio side: 100 000 sleepers in one `run`, and the
//! a queue's async face (`get_async`/`put_async`) under mixed thread and task
//! traffic with cancellations.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use threadkit::asyncio;
use threadkit::queue::Queue;

/// Hang guard: nothing in this file should take anywhere near this long.
const HANG_GUARD: Duration = Duration::from_secs(120);

#[test]
fn hundred_thousand_sleepers() {
    let n: usize = if cfg!(miri) { 10 } else { 100_000 };
    let start = Instant::now();
    let results = asyncio::run(async move {
        let sleepers = asyncio::gather((0..n).map(|i| async move {
            asyncio::sleep(Duration::from_millis(500)).await;
            i
        }));
        // A few seconds in a debug build; only a hang guard, never a figure.
        asyncio::wait_for(sleepers, HANG_GUARD)
            .await
            .expect("hang guard")
            .unwrap()
    })
    .unwrap();
    // Every sleeper finished, each once, in input order.
    assert!(results.into_iter().eq(0..n));
    // Sleeps are bounded from below only: they did sleep.
    assert!(start.elapsed() >= Duration::from_millis(500));
}

/// Producer threads put into a small bounded queue; consumer tasks take with
/// `get_async` under random short timeouts (each timeout cancels a
/// registered, perhaps already woken, await) while a consumer thread takes
/// with blocking `get`s; some tasks also put back through
/// `put_async` under timeouts. Every item arrives exactly once,
/// nothing hangs: a cancelled await neither loses an item nor swallows a
/// wake-up another consumer needs.
#[test]
fn bridges_under_mixed_load_with_cancellations() {
    const PRODUCERS: u64 = 3;
    const PER_PRODUCER: u64 = 3_000;
    const TOTAL: u64 = PRODUCERS * PER_PRODUCER;
    let start = Instant::now();
    let q = Arc::new(Queue::new(8));
    // Items bounced back by a task (`put_async`) come out again.
    let received = Arc::new((0..TOTAL).map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
    let taken = Arc::new(AtomicU64::new(0));
    let by_tasks = Arc::new(AtomicU64::new(0));
    let timeouts = Arc::new(AtomicU64::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = Arc::clone(&q);
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    q.put(p * PER_PRODUCER + i).unwrap();
                    if i % 8 == 0 {
                        // Pauses, so that consumers run dry and wait.
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            })
        })
        .collect();
    let thread_consumer = {
        let (q, received, taken) = (Arc::clone(&q), Arc::clone(&received), Arc::clone(&taken));
        std::thread::spawn(move || {
            while let Ok(item) = q.get() {
                received[item as usize].fetch_add(1, Ordering::SeqCst);
                taken.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let runner = asyncio::Runner::new().worker_threads(2);
    runner
        .run({
            let (q, received, taken) = (Arc::clone(&q), Arc::clone(&received), Arc::clone(&taken));
            let (by_tasks, timeouts) = (Arc::clone(&by_tasks), Arc::clone(&timeouts));
            async move {
                let tasks: Vec<_> = (0..4)
                    .map(|_| {
                        let (q, received, taken) =
                            (Arc::clone(&q), Arc::clone(&received), Arc::clone(&taken));
                        let (by_tasks, timeouts) = (Arc::clone(&by_tasks), Arc::clone(&timeouts));
                        asyncio::create_task(async move {
                            loop {
                                let wait =
                                    Duration::from_micros(rand::thread_rng().gen_range(0..300));
                                let Ok(got) = asyncio::wait_for(q.get_async(), wait).await else {
                                    timeouts.fetch_add(1, Ordering::SeqCst);
                                    continue; // cancelled by the timeout
                                };
                                let Ok(item) = got else { break }; // shut down
                                by_tasks.fetch_add(1, Ordering::SeqCst);
                                if rand::thread_rng().gen_ratio(1, 10) {
                                    // Hand it back; a cancelled put drops the item with
                                    // the future, so retry with a fresh copy until one
                                    // put goes through or the queue is shut down.
                                    loop {
                                        let wait = Duration::from_micros(
                                            rand::thread_rng().gen_range(0..300),
                                        );
                                        match asyncio::wait_for(q.put_async(item), wait).await {
                                            Ok(Ok(())) => break,
                                            Ok(Err(_shut_down)) => {
                                                received[item as usize]
                                                    .fetch_add(1, Ordering::SeqCst);
                                                taken.fetch_add(1, Ordering::SeqCst);
                                                break;
                                            }
                                            Err(_timeout) => {}
                                        }
                                    }
                                    continue;
                                }
                                received[item as usize].fetch_add(1, Ordering::SeqCst);
                                taken.fetch_add(1, Ordering::SeqCst);
                            }
                        })
                    })
                    .collect();
                while taken.load(Ordering::SeqCst) < TOTAL {
                    assert!(start.elapsed() < HANG_GUARD, "hang: {taken:?}");
                    asyncio::sleep(Duration::from_millis(5)).await;
                }
                q.shutdown(false);
                for t in tasks {
                    t.await.unwrap();
                }
            }
        })
        .unwrap();
    for p in producers {
        p.join().unwrap();
    }
    thread_consumer.join().unwrap();
    // The paths under test were taken: tasks got items, and awaits were
    // cancelled while waiting.
    assert!(by_tasks.load(Ordering::SeqCst) > 0);
    assert!(timeouts.load(Ordering::SeqCst) > 0);
    for (item, count) in received.iter().enumerate() {
        assert_eq!(count.load(Ordering::SeqCst), 1, "item {item}");
    }
}
