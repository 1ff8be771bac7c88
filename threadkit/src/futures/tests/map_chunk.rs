//! A map's chunk run, in place (results over items of the same layout) and
//! not: results and panics by position, every item dropped exactly once
//! whether it ran, panicked or was never reached. Run under Miri too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use crate::futures::map::{ChunkOut, run_chunk};

/// Counts its drops; the same layout as the results made of it.
struct Tracked(Arc<AtomicUsize>, usize);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn positions<T>(out: &ChunkOut<T>) -> Vec<usize> {
    out.errors.iter().map(|(at, _)| *at).collect()
}

/// A panic inside a quiet hook, so the test output stays readable.
fn quietly<R>(f: impl FnOnce() -> R) -> R {
    crate::util::unwind::install_panic_hook();
    f()
}

#[test]
fn in_place_keeps_results_and_panics_in_order() {
    let stop = AtomicBool::new(false);
    let out = quietly(|| {
        run_chunk(
            &|n: u64| {
                assert!(n % 4 != 3, "bad {n}");
                n * 10
            },
            (0..10).collect(),
            &stop,
        )
    });
    assert_eq!(out.values, [0, 10, 20, 40, 50, 60, 80, 90]);
    assert_eq!(positions(&out), [3, 7]);
}

#[test]
fn in_place_drops_each_item_once_even_when_stopped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let stop = AtomicBool::new(false);
    let items: Vec<Tracked> = (0..8).map(|n| Tracked(Arc::clone(&drops), n)).collect();
    let out = quietly(|| {
        run_chunk(
            &|t: Tracked| {
                if t.1 == 2 {
                    panic!("item 2");
                }
                if t.1 == 4 {
                    stop.store(true, SeqCst);
                }
                Tracked(Arc::clone(&t.0), t.1 + 100)
            },
            items,
            &stop,
        )
    });
    let results: Vec<usize> = out.values.iter().map(|t| t.1).collect();
    assert_eq!(results, [100, 101, 103, 104]);
    assert_eq!(positions(&out), [2]);
    // Items 0-4 were consumed by `f`, 5-7 dropped unrun when it stopped.
    assert_eq!(drops.load(SeqCst), 8);
    drop(out);
    assert_eq!(drops.load(SeqCst), 12);
}

#[test]
fn other_layouts_take_the_plain_path() {
    let stop = AtomicBool::new(false);
    let out = quietly(|| {
        run_chunk(
            &|n: u8| {
                assert!(n != 1, "one");
                u64::from(n) << 40
            },
            vec![0u8, 1, 2],
            &stop,
        )
    });
    assert_eq!(out.values, [0, 2 << 40]);
    assert_eq!(positions(&out), [1]);
    let units = run_chunk(&|()| (), vec![(); 3], &stop);
    assert_eq!(units.values.len(), 3);
}
