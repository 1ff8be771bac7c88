//! Threads and their lifecycle: the first lessons of every seed.

use std::time::{Duration, Instant};

use super::report::secs;
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/hello_thread.rs"]
mod hello_thread;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/without_vs_with_threads.rs"]
mod without_vs_with_threads;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/lifecycle.rs"]
mod lifecycle;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/arguments.rs"]
mod arguments;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/many_threads.rs"]
mod many_threads;

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/thread_subclass.rs"]
mod thread_subclass;

pub(crate) const LESSONS: [Lesson; 6] = [
    Lesson {
        name: "hello_thread",
        source: example_source!("hello_thread"),
        title: "create, start and join a thread",
        run: hello,
    },
    Lesson {
        name: "without_vs_with_threads",
        source: example_source!("without_vs_with_threads"),
        title: "without threads vs with threads",
        run: without_vs_with,
    },
    Lesson {
        name: "lifecycle",
        source: example_source!("lifecycle"),
        title: "start(), is_alive() and join()",
        run: lifecycle_lesson,
    },
    Lesson {
        name: "arguments",
        source: example_source!("arguments"),
        title: "passing arguments to threads",
        run: arguments_lesson,
    },
    Lesson {
        name: "many_threads",
        source: example_source!("many_threads"),
        title: "many threads started and joined in a loop",
        run: many,
    },
    Lesson {
        name: "thread_subclass",
        source: example_source!("thread_subclass"),
        title: "the Thread-subclass pattern",
        run: subclass,
    },
];

fn hello(r: &mut Report) {
    let got = hello_thread::hello();
    r.check(
        "the thread runs its target and join() waits for it",
        got == "greeted",
        format!("the thread returned {got:?}"),
    );
    let tick = Duration::from_millis(200);
    let start = Instant::now();
    let counts = hello_thread::two_printers(tick);
    let took = start.elapsed();
    r.check_timed(
        "two threads print their 5 numbers at the same time: ~5 ticks, not 10",
        counts == (5, 5),
        took < tick * 8,
        format!("{counts:?} numbers in {} (tick {})", secs(took), secs(tick)),
    );
}

fn without_vs_with(r: &mut Report) {
    let delay = Duration::from_secs(2);
    let sequential = without_vs_with_threads::sequential(delay);
    let threaded = without_vs_with_threads::threaded(delay);
    r.check_timed(
        "2 greetings of 2 s take ~4 s one after the other, ~2 s on two threads",
        sequential >= delay * 2,
        threaded < delay * 3 / 2,
        format!(
            "2 greetings in {} with threads, not {} ({:.2}x)",
            secs(threaded),
            secs(sequential),
            sequential.as_secs_f64() / threaded.as_secs_f64()
        ),
    );
}

fn lifecycle_lesson(r: &mut Report) {
    let seen = lifecycle::lifecycle(Duration::from_millis(500));
    r.check(
        "is_alive() is False before start, True while running, False after join",
        seen == [false, true, false],
        format!("{seen:?}"),
    );
}

fn arguments_lesson(r: &mut Report) {
    let unit = Duration::from_millis(500);
    let start = Instant::now();
    let order = arguments::greet_both(unit);
    let took = start.elapsed();
    // Who finishes first is decided by the sleeps: a matter of timing.
    let mut both = order.clone();
    both.sort_unstable();
    r.check_timed(
        "greet(\"Alice\", 2) and greet(\"Bob\", 1) run in parallel: Bob first, ~2 units in all",
        both == ["Alice", "Bob"],
        order == ["Bob", "Alice"] && took < unit * 3,
        format!(
            "finished in order {order:?}, {} for units of {}",
            secs(took),
            secs(unit)
        ),
    );
}

fn many(r: &mut Report) {
    let work = Duration::from_secs(1);
    let (ids, took) = many_threads::run_workers(5, work);
    r.check_timed(
        "5 workers of 1 s each take ~1 s in all, not 5",
        ids == [0, 1, 2, 3, 4],
        took < work * 2,
        format!("{} for 5 x {}", secs(took), secs(work)),
    );
}

fn subclass(r: &mut Report) {
    let unit = Duration::from_millis(300);
    let (names, order) = thread_subclass::run_workers(unit);
    r.check_timed(
        "workers named Alpha, Beta, Gamma (2, 1, 3 units) finish Beta, Alpha, Gamma",
        names == ["Alpha", "Beta", "Gamma"],
        order == ["Beta", "Alpha", "Gamma"],
        format!("names {names:?}, finished {order:?}"),
    );
}
