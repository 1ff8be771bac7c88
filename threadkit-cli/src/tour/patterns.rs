//! Patterns built on the primitives: queues between producers and consumers,
//! stoppable workers, thread-local data, and looking at live threads.

use std::time::Duration;

use super::report::secs;
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/producer_consumer.rs"]
mod producer_consumer;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/stoppable_worker.rs"]
mod stoppable_worker;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/thread_local.rs"]
mod thread_local;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/enumerate_threads.rs"]
mod enumerate_threads;

pub(crate) const LESSONS: [Lesson; 4] = [
    Lesson {
        name: "producer_consumer",
        source: example_source!("producer_consumer"),
        title: "Queue: producer, consumers, sentinel, task_done/join",
        run: queue_lesson,
    },
    Lesson {
        name: "stoppable_worker",
        source: example_source!("stoppable_worker"),
        title: "a worker stopped with an Event",
        run: stoppable,
    },
    Lesson {
        name: "thread_local",
        source: example_source!("thread_local"),
        title: "thread-local data",
        run: local,
    },
    Lesson {
        name: "enumerate_threads",
        source: example_source!("enumerate_threads"),
        title: "debugging: enumerate, active_count, start/exit hooks",
        run: enumerate,
    },
];

fn queue_lesson(r: &mut Report) {
    use producer_consumer::Stopping;
    let pause = Duration::from_millis(50);
    let patience = Duration::from_secs(1);
    println!("  -- the tutorial as written (the sentinel is re-queued, never marked done):");
    let seed = producer_consumer::run(10, 3, pause, Stopping::SeedAsWritten, patience);
    r.check(
        "as written, the tutorial's work_queue.join() never returns (shown with a timeout)",
        !seed.joined && seed.processed.len() == 10,
        format!(
            "join() still waiting after {}; all 10 items processed",
            secs(patience)
        ),
    );
    println!("  -- Python's docs: join() the work, then one sentinel per consumer:");
    let fixed = producer_consumer::run(
        10,
        3,
        pause,
        Stopping::JoinThenSentinels,
        Duration::from_secs(60),
    );
    let total: usize = fixed.per_consumer.iter().sum();
    r.check(
        "3 consumers process each of the 10 items exactly once, and join() returns",
        fixed.joined && fixed.processed == (0..10).collect::<Vec<_>>() && total == 10,
        format!(
            "joined: {}, items {:?}, per consumer {:?}",
            fixed.joined, fixed.processed, fixed.per_consumer
        ),
    );
}

fn stoppable(r: &mut Report) {
    let tick = Duration::from_millis(100);
    let worker = stoppable_worker::StoppableWorker::new(tick);
    worker.start();
    std::thread::sleep(tick * 4);
    let alive = worker.is_alive();
    let (rounds, took) = worker.stop();
    r.check_timed(
        "the worker runs until stop() sets the Event, then stop() joins it promptly",
        alive && rounds >= 1,
        took < Duration::from_secs(1),
        format!(
            "{rounds} rounds; stop() returned after {:.1} ms",
            took.as_secs_f64() * 1e3
        ),
    );
}

fn local(r: &mut Report) {
    let rounds = [1000, 2000, 3000];
    let (own, all) = thread_local::per_thread_counts(&rounds);
    r.check(
        "each thread sees only its own value: no lock, no lost updates",
        own == rounds && all == rounds,
        format!("threads counted {own:?}; the Local held {all:?}"),
    );
}

fn enumerate(r: &mut Report) {
    let seen = enumerate_threads::watch(3);
    let [before, during, after] = seen.counts;
    let workers = seen
        .names
        .iter()
        .filter(|n| n.starts_with("worker-"))
        .count();
    r.check(
        "enumerate() lists the 3 workers and the main thread; active_count() goes up by 3 and back",
        workers == 3
            && seen.names.contains(&seen.main_name)
            && during == before + 3
            && after == before,
        format!(
            "active_count {before} -> {during} -> {after}; names {:?}",
            seen.names
        ),
    );
    r.check(
        "the start/exit hooks (settrace's role) see every worker start and finish",
        seen.hooked == (3, 3),
        format!("{} starts, {} exits", seen.hooked.0, seen.hooked.1),
    );
}
