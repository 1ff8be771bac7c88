//! Lesson: debugging threads — list the live threads, count them, name them,
//! and watch them start and finish through the start/exit hooks (the role of
//! `threading.settrace`).
//!
//! Tutorial: "Debugging Threads":
//!
//! ```python
//! threading.enumerate()        # Lists active threads
//! threading.settrace(func)     # Hooks into thread execution
//! ```
//!
//! Run: `cargo run --example enumerate_threads`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use threadkit::threading::{self, Event, Thread};

/// What the lesson saw.
#[derive(Debug)]
pub struct Seen {
    /// `active_count()` before, while the workers wait, and after they finish.
    pub counts: [usize; 3],
    /// The names `enumerate()` listed while the workers waited.
    pub names: Vec<String>,
    /// How many thread starts and exits the hooks observed.
    pub hooked: (usize, usize),
    /// The main thread's name, as `main_thread()` reports it.
    pub main_name: String,
}

/// Starts `n` named workers that wait on an event, lists them, releases them.
pub fn watch(n: usize) -> Seen {
    let starts = Arc::new(AtomicUsize::new(0));
    let exits = Arc::new(AtomicUsize::new(0));
    {
        let (starts, exits) = (Arc::clone(&starts), Arc::clone(&exits));
        threading::set_start_hook(move |t| {
            if t.name().starts_with("worker-") {
                println!("[trace] start {}", t.name());
                starts.fetch_add(1, Ordering::SeqCst);
            }
        });
        threading::set_exit_hook(move |t| {
            if t.name().starts_with("worker-") {
                println!("[trace] exit  {}", t.name());
                exits.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    let before = threading::active_count();
    let go = Arc::new(Event::new());
    let workers: Vec<_> = (0..n)
        .map(|i| {
            let go = Arc::clone(&go);
            Thread::builder()
                .name(format!("worker-{i}"))
                .spawn(move || go.wait())
                .expect("spawn a worker")
        })
        .collect();
    let during = threading::active_count();
    let names: Vec<String> = threading::enumerate()
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    for t in threading::enumerate() {
        println!(
            "  {:<12} ident={:?} daemon={} alive={}",
            t.name(),
            t.ident(),
            t.is_daemon(),
            t.is_alive()
        );
    }
    go.set();
    for w in workers {
        w.join().expect("a worker finishes");
    }
    let after = threading::active_count();
    threading::clear_start_hook();
    threading::clear_exit_hook();
    Seen {
        counts: [before, during, after],
        names,
        hooked: (starts.load(Ordering::SeqCst), exits.load(Ordering::SeqCst)),
        main_name: threading::main_thread().name().to_owned(),
    }
}

#[allow(dead_code)]
fn main() {
    let seen = watch(3);
    println!(
        "active_count: before {}, during {}, after {}",
        seen.counts[0], seen.counts[1], seen.counts[2]
    );
    println!("current thread: {}", threading::current_thread().name());
}
