//! The rounds of `../lock-order/examples/instructions.rs` for parking_lot
//! with `deadlock_detection` and for std (the common baseline).
//! `instructions <std|parking_lot-dd> <depth>`.

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
        Some("parking_lot-dd") => {
            let locks: Vec<_> = (0..depth).map(|_| parking_lot::Mutex::new(0u64)).collect();
            for _ in 0..ROUNDS {
                let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
                release(black_box(guards));
            }
        }
        _ => eprintln!("usage: instructions <std|parking_lot-dd> <depth>"),
    }
}

/// Drops the guards innermost first, as nested scopes do.
fn release<G>(mut guards: Vec<G>) {
    while let Some(guard) = guards.pop() {
        drop(guard);
    }
}
