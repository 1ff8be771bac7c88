//! CPU-bound green threads on `green::Hubs`: 2 carriers against 1, in the
//! same run, with two bare std threads against one beside it as the
//! reference for what this machine gives two loops at once (a shared
//! 2-vCPU VM often cannot run two loops in parallel; then neither side
//! reaches 2x, and the green ratio is to be read against the bare one).
//!
//! Each case runs the same total work: 256 green threads (or the threads'
//! share of the same loop), each 200 rounds of a short arithmetic loop
//! with a `yield_now` between rounds (so carriers switch, as real green
//! code does). Median of 5 rounds, interleaved.
//!
//! Run: `cargo bench -p threadkit --features green --bench green_hubs`
//! (`-- --test` for a tiny smoke run).
//!
//! Last numbers (2026-12-03, 2-vCPU VM shared with other builds, load
//! average 5-8; three runs a few seconds apart, each ratio from one run):
//!
//! | run | 2 carriers vs 1 | 2 bare threads vs 1 | 1 hub / 1 bare thread |
//! | --- | --- | --- | --- |
//! | 1 | 1.07x | 1.39x | 0.98x |
//! | 2 | 1.00x | 1.03x | 1.00x |
//! | 3 | 1.82x | 1.97x | 1.03x |

use std::time::Instant;

use threadkit::green::{self, Hubs};

/// One round of work: a short dependent arithmetic loop.
fn work(seed: u64, steps: u64) -> u64 {
    (0..steps).fold(seed, |a, x| {
        std::hint::black_box(a.wrapping_mul(6364136223846793005).wrapping_add(x))
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds for `jobs` green threads of `rounds` x `steps` on `carriers` hubs.
fn on_hubs(carriers: usize, jobs: u64, rounds: u64, steps: u64) -> f64 {
    let hubs = Hubs::new(carriers).expect("carriers");
    let start = Instant::now();
    let gs: Vec<_> = (0..jobs)
        .map(|j| {
            hubs.spawn(move || {
                let mut acc = j;
                for _ in 0..rounds {
                    acc = work(acc, steps);
                    green::yield_now();
                }
                acc
            })
        })
        .collect();
    let mut sum = 0u64;
    for g in gs {
        sum = sum.wrapping_add(g.get().expect("green thread"));
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(sum);
    hubs.shutdown();
    secs
}

/// Seconds for the same total work on `threads` bare std threads.
fn on_threads(threads: u64, jobs: u64, rounds: u64, steps: u64) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                let mut sum = 0u64;
                for j in (t..jobs).step_by(threads as usize) {
                    let mut acc = j;
                    for _ in 0..rounds {
                        acc = work(acc, steps);
                    }
                    sum = sum.wrapping_add(acc);
                }
                sum
            })
        })
        .collect();
    let sum = handles
        .into_iter()
        .fold(0u64, |s, h| s.wrapping_add(h.join().expect("thread")));
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(sum);
    secs
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    let (jobs, rounds, steps, reps) = if smoke {
        (8, 4, 1000, 1)
    } else {
        (256, 200, 2000, 5)
    };
    let mut cases: [Vec<f64>; 4] = Default::default();
    for _ in 0..reps {
        cases[0].push(on_hubs(1, jobs, rounds, steps));
        cases[1].push(on_hubs(2, jobs, rounds, steps));
        cases[2].push(on_threads(1, jobs, rounds, steps));
        cases[3].push(on_threads(2, jobs, rounds, steps));
    }
    let [h1, h2, t1, t2] = cases.map(median);
    println!("CPU-bound green work, {jobs} green threads x {rounds} rounds, median of {reps}:");
    println!("| case | 1 | 2 | 1 / 2 (speed-up) |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| green::Hubs, carriers | {:.1} ms | {:.1} ms | {:.2}x |",
        h1 * 1e3,
        h2 * 1e3,
        h1 / h2
    );
    println!(
        "| bare std threads (reference) | {:.1} ms | {:.1} ms | {:.2}x |",
        t1 * 1e3,
        t2 * 1e3,
        t1 / t2
    );
    println!(
        "green on 1 hub / 1 bare thread: {:.2}x (the hub's switching and yields)",
        h1 / t1
    );
}
