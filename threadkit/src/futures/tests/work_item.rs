//! The work item's ownership of its task's closure, which lives in the
//! future's allocation (see `work.rs`): every way an item can end drops the
//! closure exactly once, while the item is alive, and a future outliving
//! its item never touches the closure. Run under Miri by `ci/miri.sh`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::futures::{FutureError, WorkItem};

/// Counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn run_drops_the_closure_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let t = Tracked(Arc::clone(&drops));
    let (item, future) = WorkItem::new(move || {
        let _t = &t;
        7
    });
    item.run();
    assert_eq!(drops.load(SeqCst), 1);
    assert_eq!(future.result(), Ok(&7));
    drop(future);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn cancel_fail_and_drop_drop_the_closure_unrun() {
    let drops = Arc::new(AtomicUsize::new(0));
    let item_with = |drops: &Arc<AtomicUsize>| {
        let t = Tracked(Arc::clone(drops));
        WorkItem::new(move || -> u8 {
            let _t = &t;
            unreachable!("never runs")
        })
    };
    let (item, cancelled) = item_with(&drops);
    item.cancel();
    assert_eq!(drops.load(SeqCst), 1);
    assert_eq!(cancelled.result(), Err(FutureError::Cancelled));

    let (item, failed) = item_with(&drops);
    item.fail(FutureError::ShutDown);
    assert_eq!(drops.load(SeqCst), 2);
    assert_eq!(failed.result(), Err(FutureError::ShutDown));

    let (item, lost) = item_with(&drops);
    drop(item);
    assert_eq!(drops.load(SeqCst), 3);
    assert!(matches!(lost.result(), Err(FutureError::BrokenExecutor(_))));
}

#[test]
fn a_cancelled_future_drops_the_closure_when_its_item_comes_up() {
    let drops = Arc::new(AtomicUsize::new(0));
    let t = Tracked(Arc::clone(&drops));
    let (item, future) = WorkItem::new(move || {
        let _t = &t;
    });
    assert!(future.cancel());
    drop(future);
    assert_eq!(drops.load(SeqCst), 0, "the item still owns the closure");
    item.run();
    assert_eq!(drops.load(SeqCst), 1);
}

/// A future outlives the borrow its task's closure held: the closure was
/// run and dropped within the borrow, so dropping the future after it is
/// sound (Miri checks that nothing reads the dead borrow).
#[test]
fn a_future_outlives_its_borrowing_closure() {
    let future = {
        let local = String::from("borrowed");
        let (item, future) = WorkItem::new(|| local.len());
        item.run();
        future
    };
    assert_eq!(future.result(), Ok(&8));
}

/// A leaked work item leaks its closure: the future, dropped after the
/// closure's borrow ended, frees the allocation without dropping it.
#[test]
#[cfg_attr(miri, ignore = "Miri's leak check fails on the deliberate leak")]
fn a_leaked_item_leaks_its_closure_not_a_dangling_drop() {
    struct ReadsOnDrop<'a>(&'a String);
    impl Drop for ReadsOnDrop<'_> {
        fn drop(&mut self) {
            assert!(!self.0.is_empty());
        }
    }
    let future = {
        let local = String::from("borrowed");
        let guard = ReadsOnDrop(&local);
        let (item, future) = WorkItem::new(move || {
            let _guard = &guard;
            1
        });
        std::mem::forget(item);
        future
    };
    assert!(!future.done());
    drop(future);
}

/// A no-op task's shared state (with the `Arc`'s two counts) stays within
/// glibc's fast bins (chunks up to 128 bytes, 8 of them malloc's own):
/// allocating and freeing one per submit is then a list push and pop.
///
/// Not with feature `tracing`: the task then carries its span; nor with
/// `debug-locks`, which adds the task's pseudo-lock (a word).
#[test]
#[cfg(all(
    target_pointer_width = "64",
    not(feature = "tracing"),
    not(feature = "debug-locks")
))]
fn a_small_tasks_allocation_stays_in_the_fast_bins() {
    let n = 3u64;
    let (item, future) = WorkItem::new(move || n);
    let allocation = std::mem::size_of_val(&**future.inner()) + 2 * std::mem::size_of::<usize>();
    assert!(allocation <= 120, "{allocation} bytes");
    item.run();
}
