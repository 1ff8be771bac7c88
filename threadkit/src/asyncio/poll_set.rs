//! [`PollSet`]: many futures polled inside the one task that owns them, each
//! with its own waker, so that a wake-up re-polls only the future it names.
//!
//! This is what lets [`gather`](super::gather) cost one slot per awaitable
//! instead of one tokio task (plus a `JoinSet` entry) per awaitable.
//!
//! # Layout
//!
//! The futures sit in one boxed slice of [`Slot`]s, never reallocated, so a
//! running future is pinned where it is. Their wakers share one [`Wakers`]
//! (behind an `Arc`): slot `i`'s waker is a pointer to `Wakers::entries[i]`,
//! an [`Entry`] holding a pointer back to its `Wakers`, whose strong count
//! every such waker owns. No allocation per future, 9 bytes of waker state
//! per future (the entry and a `queued` flag).
//!
//! # Protocol
//!
//! - Waking slot `i`: if `queued[i]` flips false → true, push `i` on `woken`
//!   and wake the owning task's waker (taken, so a burst wakes it once).
//! - Polling the set: under the lock, store the owner's waker and take the
//!   `woken` batch; then poll each batched slot once (clearing `queued[i]`
//!   first, so a wake during its poll queues it again for the next round),
//!   then the never-polled slots. A slot woken during the round waits for the
//!   next poll of the set, which the round's end schedules if `woken` is not
//!   empty: a future that wakes itself cannot starve the loop.
//! - Tokio's cooperative budget is respected: once it is spent the set wakes
//!   its owner and returns `Pending`, resuming where it stopped.

use std::mem::{self, ManuallyDrop};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use parking_lot::Mutex;

use super::error::TaskError;
use crate::util::unwind::run_captured;

/// One future's place. Transitions: `Running` → `Done` (when it finishes or
/// panics; the future is dropped in place) → `Taken` (outcome moved out).
enum Slot<F: Future> {
    Running(F),
    Done(Result<F::Output, TaskError>),
    Taken,
}

/// Futures polled by whichever task polls the set.
pub(super) struct PollSet<F: Future> {
    slots: Box<[Slot<F>]>,
    wakers: Arc<Wakers>,
    /// Slots `unpolled..` were never polled: ready without being queued.
    unpolled: usize,
    /// Woken slots taken from `wakers`, to poll from `batch_pos` on.
    batch: Vec<u32>,
    batch_pos: usize,
    /// Slots still `Running`.
    running: usize,
}

/// The wakers of a set's slots, shared with every waker handed out.
struct Wakers {
    entries: Box<[Entry]>,
    /// Whether slot `i` is already in `woken` (or about to be polled).
    queued: Box<[AtomicBool]>,
    state: Mutex<WakeState>,
}

struct WakeState {
    woken: Vec<u32>,
    /// The task polling the set, woken (and taken) by the first wake-up.
    owner: Option<Waker>,
}

/// What a slot's waker points at; the slot index is its offset in `entries`.
struct Entry {
    wakers: *const Wakers,
}

// SAFETY: the pointer is only ever turned into a shared `&Wakers` while a
// strong count is held (see the vtable), and `Wakers` without its entries is
// `Send + Sync` (atomics and a mutex), so entries may cross threads.
unsafe impl Send for Entry {}
// SAFETY: as for `Send`: entries are read-only and only give out `&Wakers`.
unsafe impl Sync for Entry {}

impl<F: Future> PollSet<F> {
    /// A set of the futures of `futures`, none polled yet.
    ///
    /// # Panics
    ///
    /// With more than `u32::MAX` futures.
    pub(super) fn new(futures: impl IntoIterator<Item = F>) -> Self {
        // A panic's location is stashed by threadkit's hook (see `poll_slot`).
        crate::util::unwind::install_panic_hook();
        let slots: Box<[Slot<F>]> = futures.into_iter().map(Slot::Running).collect();
        let n = slots.len();
        assert!(u32::try_from(n).is_ok(), "more than u32::MAX futures");
        let wakers = Arc::new_cyclic(|weak: &Weak<Wakers>| Wakers {
            entries: (0..n)
                .map(|_| Entry {
                    wakers: weak.as_ptr(),
                })
                .collect(),
            queued: (0..n).map(|_| AtomicBool::new(false)).collect(),
            state: Mutex::new(WakeState {
                woken: Vec::new(),
                owner: None,
            }),
        });
        PollSet {
            slots,
            wakers,
            unpolled: 0,
            batch: Vec::new(),
            batch_pos: 0,
            running: n,
        }
    }

    /// Polls the woken futures. `Ready(None)` once every future finished;
    /// with `stop_at_failure`, `Ready(Some(i))` as soon as future `i` panics
    /// (the others stay as they are, and may be polled again later).
    pub(super) fn poll_run(
        &mut self,
        cx: &mut Context<'_>,
        stop_at_failure: bool,
    ) -> Poll<Option<usize>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        {
            let mut state = self.wakers.state.lock();
            match &mut state.owner {
                Some(owner) if owner.will_wake(cx.waker()) => {}
                owner => *owner = Some(cx.waker().clone()),
            }
            if self.batch_pos == self.batch.len() {
                self.batch.clear();
                self.batch_pos = 0;
                mem::swap(&mut self.batch, &mut state.woken);
            }
        }
        loop {
            if !tokio::task::coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let index = if let Some(&i) = self.batch.get(self.batch_pos) {
                self.batch_pos += 1;
                i as usize
            } else if self.unpolled < self.slots.len() {
                self.unpolled += 1;
                self.unpolled - 1
            } else {
                // Slots woken since the batch was taken (while the owner's
                // waker was taken by an earlier wake-up) wait for the next
                // poll, which this schedules.
                if !self.wakers.state.lock().woken.is_empty() {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            };
            let failed = match self.poll_slot(index) {
                Poll::Pending => continue,
                Poll::Ready(failed) => failed,
            };
            self.running -= 1;
            if failed && stop_at_failure {
                return Poll::Ready(Some(index));
            }
            if self.running == 0 {
                return Poll::Ready(None);
            }
        }
    }

    /// Polls slot `index` if it is running; `Ready(panicked)` when it finished.
    fn poll_slot(&mut self, index: usize) -> Poll<bool> {
        self.wakers.queued[index].store(false, Ordering::SeqCst);
        let slot = &mut self.slots[index];
        let Slot::Running(future) = slot else {
            return Poll::Pending; // a late wake-up of a finished future
        };
        // SAFETY: `slots` is a boxed slice that is never reallocated or moved
        // out of while a slot is `Running`: a running future is only ever
        // overwritten in place (which drops it), so it stays pinned.
        let future = unsafe { Pin::new_unchecked(future) };
        let waker = self.wakers.waker(index);
        let mut cx = Context::from_waker(&waker);
        // A panic is the future's exception: captured with its location
        // (not printed), and returned, as Python's gather raises it.
        let outcome = match run_captured(|| future.poll(&mut cx)) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(report) => Err(TaskError::Panicked(report.into())),
        };
        let failed = outcome.is_err();
        *slot = Slot::Done(outcome);
        Poll::Ready(failed)
    }

    /// Takes the outcome of a finished future.
    ///
    /// # Panics
    ///
    /// If future `index` is still running or its outcome was taken.
    pub(super) fn take(&mut self, index: usize) -> Result<F::Output, TaskError> {
        match mem::replace(&mut self.slots[index], Slot::Taken) {
            Slot::Done(outcome) => outcome,
            _ => panic!("PollSet::take: slot {index} has no outcome"),
        }
    }

    /// Every outcome in input order, once [`poll_run`](Self::poll_run)
    /// returned `Ready(None)`.
    pub(super) fn into_outcomes(mut self) -> impl Iterator<Item = Result<F::Output, TaskError>> {
        (0..self.slots.len()).map(move |i| self.take(i))
    }

    /// Lets the futures still running finish on their own, as a detached
    /// tokio task; drops (cancels) them when no runtime is running.
    pub(super) fn detach(self)
    where
        F: Send + 'static,
        F::Output: Send + 'static,
    {
        if self.running == 0 {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            drop(handle.spawn(Detached(self)));
        }
    }
}

/// The rest of a set, finishing with nobody waiting for the outcomes.
struct Detached<F: Future>(PollSet<F>);

impl<F: Future> Future for Detached<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_run(cx, false).map(drop)
    }
}

impl Wakers {
    /// A borrowed waker for slot `index`, valid while `self` is alive; not
    /// dropped (it holds no count), while its clones each take one.
    fn waker(self: &Arc<Self>, index: usize) -> ManuallyDrop<Waker> {
        let data: *const () = (&raw const self.entries[index]).cast();
        // SAFETY: `data` points at an entry of a live `Wakers` (we hold an
        // `Arc`, and the borrow outlives the waker's use), which is what the
        // vtable requires; `ManuallyDrop` keeps this uncounted waker from
        // releasing a count it never took.
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) })
    }

    /// Queues slot `entry` (if not already queued) and wakes the owner.
    fn wake(&self, entry: &Entry) {
        let offset = (entry as *const Entry).addr() - self.entries.as_ptr().addr();
        let index = offset / mem::size_of::<Entry>();
        if self.queued[index].swap(true, Ordering::SeqCst) {
            return;
        }
        let owner = {
            let mut state = self.state.lock();
            state.woken.push(index as u32);
            state.owner.take()
        };
        if let Some(owner) = owner {
            owner.wake();
        }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

// The vtable's invariant: `data` points at an `Entry` inside a `Wakers` that
// is alive, because the waker owns a strong count of it (or, for the
// borrowed waker of `Wakers::waker`, its caller holds one).

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: by the vtable's invariant the entry and its `Wakers` are alive;
    // the new waker takes its own strong count.
    unsafe { Arc::increment_strong_count((*data.cast::<Entry>()).wakers) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: the vtable's invariant; `wake` consumes the waker's count.
    unsafe {
        wake_by_ref(data);
        drop_waker(data);
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: by the vtable's invariant the entry and its `Wakers` are alive
    // for the duration of this call.
    let entry = unsafe { &*data.cast::<Entry>() };
    // SAFETY: as above.
    unsafe { &*entry.wakers }.wake(entry);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: by the vtable's invariant the entry is alive until the count
    // this waker owns is released; the pointer is read before releasing it.
    unsafe {
        let wakers = (*data.cast::<Entry>()).wakers;
        Arc::decrement_strong_count(wakers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_sizes() {
        // The per-future overhead the module docs promise.
        assert_eq!(mem::size_of::<Entry>() + mem::size_of::<AtomicBool>(), 9);
    }

    #[test]
    fn the_last_future_failing_is_an_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let one = rt.block_on(crate::asyncio::gather([async { panic!("alone") }]));
        assert_eq!(one, Err::<Vec<()>, _>(TaskError::Panicked("alone".into())));
        let last = rt.block_on(crate::asyncio::gather((0..3).map(|i| async move {
            assert!(i != 2, "last");
            i
        })));
        assert_eq!(last, Err(TaskError::Panicked("last".into())));
    }

    #[test]
    fn gather_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let sleepers = || (0..3).map(|_| crate::asyncio::sleep(std::time::Duration::ZERO));
        assert_send(&crate::asyncio::gather(sleepers()));
        assert_send(&crate::asyncio::gather_return_exceptions(sleepers()));
    }

    #[test]
    fn a_failure_returns_at_once_and_the_rest_finish_detached() {
        use std::sync::atomic::AtomicUsize;
        let finished = Arc::new(AtomicUsize::new(0));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let seen = Arc::clone(&finished);
        let err = rt.block_on(async move {
            let err = crate::asyncio::gather((0..300u64).map(|i| {
                let seen = Arc::clone(&seen);
                async move {
                    assert!(i != 7, "seven");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }))
            .await
            .unwrap_err();
            assert_eq!(seen.load(Ordering::SeqCst), 0, "returned at once");
            // The others finish detached; the timeout is only a hang guard.
            let rest = async {
                while seen.load(Ordering::SeqCst) < 299 {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(30), rest)
                .await
                .expect("the others finished");
            err
        });
        assert_eq!(err, TaskError::Panicked("seven".into()));
        assert_eq!(finished.load(Ordering::SeqCst), 299);
    }

    #[test]
    fn wakes_only_the_woken_and_keeps_order() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt.block_on(async {
            // More than tokio's budget of 128 finish at each of 20 instants.
            let mut set = PollSet::new((0..5000u64).map(|i| async move {
                tokio::time::sleep(std::time::Duration::from_millis(1 + i % 20)).await;
                i
            }));
            std::future::poll_fn(|cx| set.poll_run(cx, true)).await;
            set.into_outcomes().collect::<Result<Vec<_>, _>>().unwrap()
        });
        assert_eq!(out, (0..5000).collect::<Vec<_>>());
    }
}
