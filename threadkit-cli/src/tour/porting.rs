//! Porting Python programs line by line: a producer/consumer, a thread pool
//! with failures, and asyncio — each with Python's names.

use std::time::Duration;

use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/port_producer_consumer.rs"]
mod port_producer_consumer;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/port_pool.rs"]
mod port_pool;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/port_asyncio.rs"]
mod port_asyncio;

pub(crate) const LESSONS: [Lesson; 3] = [
    Lesson {
        name: "port_producer_consumer",
        source: example_source!("port_producer_consumer"),
        title: "porting: bounded queue, task_done/join and a stop Event",
        run: producer_consumer,
    },
    Lesson {
        name: "port_pool",
        source: example_source!("port_pool"),
        title: "porting: submit + as_completed with a failing and a slow task",
        run: pool,
    },
    Lesson {
        name: "port_asyncio",
        source: example_source!("port_asyncio"),
        title: "porting: gather, wait_for, TaskGroup and to_thread",
        run: asyncio,
    },
];

fn producer_consumer(r: &mut Report) {
    let outcome = port_producer_consumer::produce_and_consume(10);
    let squares: Vec<u64> = (0..10u64).map(|n| n * n).collect();
    r.check(
        "two scoped consumers borrow the queue, event and lock: every item processed once before join() returns",
        outcome.processed == squares
            && outcome.unfinished_after_join == 0
            && outcome.names == ["consumer-0", "consumer-1"],
        format!(
            "sorted(processed) = {:?}; {} unfinished after join; threads {:?}",
            outcome.processed, outcome.unfinished_after_join, outcome.names
        ),
    );
}

fn pool(r: &mut Report) {
    use port_pool::Seen;
    let seen = port_pool::submit_and_collect(Duration::from_millis(500));
    let mut done: Vec<(u64, u64)> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Done(i, v) => Some((*i, *v)),
            _ => None,
        })
        .collect();
    done.sort_unstable();
    let failed = seen.iter().find_map(|s| match s {
        Seen::Failed(i, message, location) => Some((*i, message.clone(), location.clone())),
        _ => None,
    });
    let located = failed
        .as_ref()
        .and_then(|f| f.2.as_deref())
        .is_some_and(|l| l.contains("port_pool.rs:"));
    r.check(
        "results as they finish; the failing task's error names its message and line; the slow one times out",
        done == [(0, 0), (1, 1), (2, 4)]
            && failed.as_ref().is_some_and(|f| f.0 == 3 && f.1 == "bad input 3")
            && located
            && seen.last() == Some(&Seen::TimedOut(vec![4])),
        format!("{seen:?}"),
    );
}

fn asyncio(r: &mut Report) {
    let outcome = port_asyncio::run_main();
    r.check(
        "gather! of two types, wait_for timing out, a TaskGroup with a to_thread task",
        outcome.name == "ada"
            && outcome.items == [1, 2, 3]
            && outcome.timed_out
            && outcome.posts == 3
            && outcome.sum == 499_500,
        format!("{outcome:?}"),
    );
}
