//! Which tasks a [`Timeout`](super::Timeout) must cancel when it expires:
//! the [`Task`](super::Task)s awaited under it.
//!
//! Python's `wait_for(task, t)` cancels the task on timeout, and cancelling
//! the task running `async with timeout(t)` cancels the task it awaits; in
//! both cases `wait_for` returns only once that task is done. A Rust future
//! cannot be asked what it awaits, so a timeout asks while it polls: it
//! pushes a frame on a thread-local stack, and every `Task` polled inside
//! (by value, by `&mut`, or deep inside an `async` block) records itself in
//! the top frame. Nested timeouts pass their records up, so an outer timeout
//! cancels what an inner one awaits too.
//!
//! A record is weak: a task whose handle was dropped (detached) is no longer
//! awaited by anyone and is left running, as in Python.
//!
//! "Done" means the task's future has been dropped inside the runtime
//! ([`Tracked`]'s drop), so its destructors, its cleanup, have run.

use std::cell::RefCell;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;
use tokio::task::AbortHandle;

/// What a timeout knows of a task it may cancel: held strongly by the task's
/// handle, weakly by the timeouts that saw it polled.
#[derive(Debug)]
pub(crate) struct Awaited {
    abort: AbortHandle,
    done: Arc<Done>,
}

impl Awaited {
    pub(crate) fn new(abort: AbortHandle, done: Arc<Done>) -> Arc<Self> {
        Arc::new(Awaited { abort, done })
    }

    /// A handle that cancels the task.
    pub(crate) fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }

    /// Records `this` as awaited by the innermost timeout now polling.
    pub(crate) fn record(this: &Arc<Self>) {
        let _ = FRAMES.try_with(|frames| {
            if let Some(top) = frames.borrow_mut().last_mut() {
                push_frame(top, Arc::downgrade(this));
            }
        });
    }
}

/// Set once a task's future has been dropped, finished or cancelled.
#[derive(Debug, Default)]
pub(crate) struct Done {
    state: Mutex<DoneState>,
}

#[derive(Debug, Default)]
struct DoneState {
    done: bool,
    wakers: Vec<Waker>,
}

impl Done {
    fn set(&self) {
        let wakers = {
            let mut st = self.state.lock();
            st.done = true;
            std::mem::take(&mut st.wakers)
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether done; if not, `cx` is woken once it is.
    fn poll_done(&self, cx: &mut Context<'_>) -> bool {
        let mut st = self.state.lock();
        if !st.done && !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        st.done
    }
}

/// A task's future as spawned: sets its [`Done`] once the future has been
/// dropped, which tokio does right after it finishes or once it is
/// cancelled.
pub(crate) struct Tracked<F> {
    future: F,
    /// Declared after `future`, so dropped after it: `done` means the
    /// future's destructors have run (even if one of them panicked).
    _done: SetOnDrop,
}

impl<F> Tracked<F> {
    pub(crate) fn new(future: F, done: Arc<Done>) -> Self {
        crate::util::unwind::install_panic_hook();
        Tracked {
            future,
            _done: SetOnDrop(done),
        }
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: `Tracked` has no `Drop`
        // impl, is `Unpin` only when `F` is, and never moves `future` out.
        let future = unsafe { self.map_unchecked_mut(|t| &mut t.future) };
        match crate::util::unwind::run_captured_printed(|| future.poll(cx)) {
            Ok(poll) => poll,
            // The report (message, location, backtrace) rides to the task's
            // awaiter as the panic's payload: tokio hands it back in its
            // `JoinError` (see `TaskError::from_join`). The hook printed the
            // panic, as tokio's would have; `resume_unwind` calls no hook,
            // so it is printed once.
            Err(report) => {
                std::panic::resume_unwind(Box::new(crate::futures::PanicReport::from(report)))
            }
        }
    }
}

/// Sets a [`Done`] when dropped.
struct SetOnDrop(Arc<Done>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

thread_local! {
    /// One frame per timeout being polled on this thread, innermost last.
    static FRAMES: RefCell<Vec<Vec<Weak<Awaited>>>> = const { RefCell::new(Vec::new()) };
}

/// Adds `record` to a frame unless it is the last one there: a task polled
/// again and again under one poll records itself once. Frames are short
/// lived; [`Records`] removes the remaining duplicates.
fn push_frame(frame: &mut Vec<Weak<Awaited>>, record: Weak<Awaited>) {
    if !frame.last().is_some_and(|last| last.ptr_eq(&record)) {
        frame.push(record);
    }
}

/// The tasks a timeout saw awaited, each once; tasks whose handle is gone
/// are pruned as the list grows, so that a long timeout around a loop of
/// short tasks stays small.
#[derive(Debug, Default)]
struct Records {
    list: Vec<Weak<Awaited>>,
    /// The addresses in `list`, as keys only; a `Weak` keeps its
    /// allocation, so an address is not reused while it is here.
    seen: HashSet<usize>,
    /// `list`'s length after the last pruning.
    kept: usize,
}

fn key(record: &Weak<Awaited>) -> usize {
    record.as_ptr() as usize
}

impl Records {
    fn add(&mut self, record: Weak<Awaited>) {
        if !self.seen.insert(key(&record)) {
            return;
        }
        self.list.push(record);
        if self.list.len() > 2 * self.kept.max(16) {
            let seen = &mut self.seen;
            self.list.retain(|w| {
                let live = w.strong_count() > 0;
                if !live {
                    seen.remove(&key(w));
                }
                live
            });
            self.kept = self.list.len();
        }
    }
}

/// The tasks one timeout saw awaited, and those it cancelled.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    awaited: Records,
    cancelled: Vec<Arc<Done>>,
}

impl Scope {
    /// Runs `poll` (the timeout polling its future) with a frame of its own,
    /// then keeps what was recorded, and hands it up to an enclosing frame.
    pub(crate) fn polling<R>(&mut self, poll: impl FnOnce() -> R) -> R {
        // `try_with`: while the thread's locals are being destroyed there
        // is no stack, and nothing is recorded.
        let _ = FRAMES.try_with(|frames| frames.borrow_mut().push(Vec::new()));
        // Popped even if `poll` panics, so the stack stays balanced.
        struct Pop<'a>(&'a mut Records);
        impl Drop for Pop<'_> {
            fn drop(&mut self) {
                let _ = FRAMES.try_with(|frames| {
                    let mut frames = frames.borrow_mut();
                    let frame = frames.pop().unwrap_or_default();
                    if let Some(parent) = frames.last_mut() {
                        for record in &frame {
                            push_frame(parent, record.clone());
                        }
                    }
                    for record in frame {
                        self.0.add(record);
                    }
                });
            }
        }
        let _pop = Pop(&mut self.awaited);
        poll()
    }

    /// Cancels every task recorded whose handle still exists; call
    /// [`poll_cancelled`](Self::poll_cancelled) until they are done.
    pub(crate) fn cancel(&mut self) {
        self.awaited.seen.clear();
        for record in self.awaited.list.drain(..) {
            if let Some(task) = record.upgrade() {
                task.abort.abort();
                self.cancelled.push(Arc::clone(&task.done));
            }
        }
    }

    /// Whether every task cancelled is done; if not, `cx` is woken later.
    pub(crate) fn poll_cancelled(&mut self, cx: &mut Context<'_>) -> bool {
        self.cancelled.retain(|done| !done.poll_done(cx));
        self.cancelled.is_empty()
    }
}
