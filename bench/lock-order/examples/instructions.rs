//! A fixed number of rounds of nested acquires (released innermost first)
//! of one lock kind, for counting instructions under `valgrind
//! --tool=callgrind`: a count does not depend on how busy the machine is.
//! `instructions <std|threadkit|threadkit-off|tracing-mutex> <depth>`.

use std::hint::black_box;

const ROUNDS: u64 = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let depth: usize = args.get(2).and_then(|d| d.parse().ok()).unwrap_or(1);
    match args.get(1).map(String::as_str) {
        Some("std") => {
            let locks: Vec<_> = (0..depth).map(|_| std::sync::Mutex::new(0u64)).collect();
            for _ in 0..ROUNDS {
                let guards: Vec<_> = locks.iter().map(|l| l.lock().unwrap()).collect();
                release(black_box(guards));
            }
        }
        Some(kind @ ("threadkit" | "threadkit-off")) => {
            if kind == "threadkit-off" {
                threadkit::debug::set_mode(threadkit::debug::Mode::Off);
            }
            let locks: Vec<_> = (0..depth).map(|_| threadkit::Lock::new(0u64)).collect();
            for _ in 0..ROUNDS {
                let guards: Vec<_> = locks.iter().map(|l| l.acquire()).collect();
                release(black_box(guards));
            }
        }
        Some("tracing-mutex") => {
            let locks: Vec<_> = (0..depth)
                .map(|_| tracing_mutex::stdsync::tracing::Mutex::new(0u64))
                .collect();
            for _ in 0..ROUNDS {
                let guards: Vec<_> = locks.iter().map(|l| l.lock().unwrap()).collect();
                release(black_box(guards));
            }
        }
        _ => eprintln!("usage: instructions <std|threadkit|threadkit-off|tracing-mutex> <depth>"),
    }
}

/// Drops the guards innermost first, as nested scopes do.
fn release<G>(mut guards: Vec<G>) {
    while let Some(guard) = guards.pop() {
        drop(guard);
    }
}
