//! The rounds of `../lock-order/examples/instructions.rs` for parking_lot
//! with `deadlock_detection` and for std (the common baseline).
//! `instructions <std|parking_lot-dd> <depth> [ns]`.

use std::hint::black_box;

const ROUNDS: u64 = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map(String::as_str).unwrap_or("");
    let depth: usize = args.get(2).and_then(|d| d.parse().ok()).unwrap_or(1);
    if args.get(3).map(String::as_str) == Some("ns") {
        // Wall time in ns per round: the best of 600 short runs, the ones
        // least disturbed by other work on the machine (each a fifth of the
        // counted rounds, about a millisecond: short enough that some run
        // between two preemptions on a busy machine).
        let best = (0..600)
            .map(|_| {
                let start = std::time::Instant::now();
                run(kind, depth, ROUNDS / 5);
                start.elapsed().as_nanos() as f64 / (ROUNDS / 5) as f64
            })
            .fold(f64::INFINITY, f64::min);
        println!("{best:.1}");
    } else {
        run(kind, depth, ROUNDS);
    }
}

fn run(kind: &str, depth: usize, rounds: u64) {
    match kind {
        "std" => {
            let locks: Vec<_> = (0..depth).map(|_| std::sync::Mutex::new(0u64)).collect();
            for _ in 0..rounds {
                let guards: Vec<_> = locks.iter().map(|l| l.lock().unwrap()).collect();
                release(black_box(guards));
            }
        }
        "parking_lot-dd" => {
            let locks: Vec<_> = (0..depth).map(|_| parking_lot::Mutex::new(0u64)).collect();
            for _ in 0..rounds {
                let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
                release(black_box(guards));
            }
        }
        _ => eprintln!("usage: instructions <std|parking_lot-dd> <depth> [ns]"),
    }
}

/// Drops the guards innermost first, as nested scopes do.
fn release<G>(mut guards: Vec<G>) {
    while let Some(guard) = guards.pop() {
        drop(guard);
    }
}
