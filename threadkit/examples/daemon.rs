//! Lesson: join vs no join vs daemon — what happens to a thread when `main`
//! returns.
//!
//! Tutorials: "What Happens If We Don't join() a Thread?" and "Daemon Threads":
//!
//! | Scenario | Behaviour |
//! | --- | --- |
//! | non-daemon, joined | main waits at `join()` |
//! | non-daemon, not joined | main returns, the process waits for the thread |
//! | daemon, not joined | the process exits, the thread is abandoned |
//!
//! As in Python, no wrapper is needed: when a plain `fn main` returns, the
//! process waits for every live non-daemon threadkit thread.
//!
//! Run: `cargo run --example daemon -- join|no_join|daemon`

use std::time::Duration;

use threadkit::threading::Thread;

/// The tutorial's `counter()`: prints 0..5, one per tick.
pub fn counter(tick: Duration) {
    for i in 0..5 {
        println!("{i}");
        std::thread::sleep(tick);
    }
}

/// Plays one scenario of the tutorial; `main` returns right after.
/// Returns false for an unknown scenario.
pub fn scenario(name: &str, tick: Duration) -> bool {
    let (daemon, join) = match name {
        "join" => (false, true),
        "no_join" => (false, false),
        "daemon" => (true, false),
        _ => return false,
    };
    let t1 = Thread::builder()
        .daemon(daemon)
        .build(move || counter(tick));
    t1.start().expect("start the counter");
    println!("main starts");
    if join {
        t1.join().expect("the counter finishes");
    }
    println!("main Ends");
    true
}

#[allow(dead_code)]
fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "no_join".into());
    if !scenario(&name, Duration::from_secs(1)) {
        eprintln!("usage: daemon join|no_join|daemon");
        std::process::exit(2);
    }
}
