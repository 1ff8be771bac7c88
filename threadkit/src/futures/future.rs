//! `Future<T>`: Python's `concurrent.futures.Future`, the result of a task
//! that may not have run yet, and `Promise<T>`, the side that completes it.
//!
//! # States
//!
//! Every future moves through these phases (one atomic word), never
//! backwards (CPython's `_base.py` names in capitals):
//!
//! ```text
//! PENDING --set_running_or_notify_cancel()--> RUNNING --set_result/set_error--> (Completing) --> FINISHED
//!    |                                                                              ^
//!    +--- executor broke: set_error(BrokenExecutor) --------------------------------+
//!    |
//!    +--- cancel() --> (Cancelling) --> CANCELLED
//! ```
//!
//! `FINISHED` holds either the task's value or its error (a panic message,
//! `BrokenExecutor`). The two transient phases exist because done-callbacks
//! run *before* the future is published as done (see [`Future::add_done_callback`]):
//! while they run the future is no longer cancellable and not yet done.
//! Callbacks added meanwhile are run by the same completing thread.
//!
//! # Who holds what
//!
//! The shared state (`Inner`) is reference-counted: the user's [`Future`]
//! handle, the executor's [`Promise`] and the waiters installed by
//! [`wait`](super::wait) and [`as_completed`](super::as_completed) point at
//! it. It is a [`Monitor`]: threads blocked in [`Future::result`] and tasks
//! in `fut.await` wait on its one list, and completing the future wakes them
//! all, whichever face they use. The outcome sits in the shared state until
//! the handle takes it, either into its own `OnceLock` (for
//! [`Future::result`], which lends `&T`) or by value
//! ([`Future::into_result`], `.await`). Only the handle ever takes it, so no
//! other party can race for the value and `T` need not be `Clone`.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::error::FutureError;
use super::waiter::{Completion, Waiter};
use crate::debug::tasks::Whereabouts;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::Arc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
// The shared state's `Arc` is std's even under loom: loom's cannot be
// unsized (to `dyn Erased`, see `Inner`). Its counts are not what the
// models check; the phase, the cell and the monitor are.
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitId, WaitList};
use std::sync::Arc as StdArc;

/// Where a future is in its life; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Pending = 0,
    Running = 1,
    /// Finishing: done-callbacks are running, then `Finished`.
    Completing = 2,
    Finished = 3,
    /// Cancelled: done-callbacks are running, then `Cancelled`.
    Cancelling = 4,
    Cancelled = 5,
}

impl Phase {
    fn from_usize(n: usize) -> Phase {
        match n {
            0 => Phase::Pending,
            1 => Phase::Running,
            2 => Phase::Completing,
            3 => Phase::Finished,
            4 => Phase::Cancelling,
            _ => Phase::Cancelled,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Running | Phase::Completing => "running",
            Phase::Finished => "finished",
            Phase::Cancelling | Phase::Cancelled => "cancelled",
        }
    }

    fn is_done(self) -> bool {
        matches!(self, Phase::Finished | Phase::Cancelled)
    }
}

/// The phase word: the [`Phase`] in its low bits, then [`LISTENED`], then,
/// once done, how the future completed (see [`Inner`]).
const PHASE_MASK: usize = 0b111;
/// Set, under the state lock, by whoever adds a callback, installs a waiter
/// or waits: the completing thread must then take the lock to serve them.
const LISTENED: usize = 0b1000;
/// Where a done phase word keeps its [`Completion`].
const COMPLETION_SHIFT: u32 = 4;

fn completion_bits(completion: Completion) -> usize {
    let n = match completion {
        Completion::Result => 1,
        Completion::Error => 2,
        Completion::Cancelled => 3,
    };
    n << COMPLETION_SHIFT
}

/// How a future completed, from its done phase word.
fn completion_of(word: usize) -> Option<Completion> {
    match word >> COMPLETION_SHIFT {
        1 => Some(Completion::Result),
        2 => Some(Completion::Error),
        3 => Some(Completion::Cancelled),
        _ => None,
    }
}

/// A done-callback: gets the outcome by reference.
type Callback<T> = Box<dyn FnOnce(Result<&T, &FutureError>) + Send>;

/// What the state lock guards: everybody who wants to hear of the
/// completion. The phase and the outcome live outside it (see [`Inner`]).
struct State<T> {
    /// Done-callbacks, installed waiters and the wait list; boxed, and only
    /// by the first of them, since most futures have none (their result is
    /// asked for once they are done): a smaller shared state is a cheaper
    /// allocation, and a smaller footprint for a program holding many
    /// futures; dropping it costs a branch.
    listeners: Option<Box<Listeners<T>>>,
}

/// Who hears of the completion.
struct Listeners<T> {
    callbacks: Vec<Callback<T>>,
    /// Installed by `wait`/`as_completed`: (waiter, index of this future).
    /// Each is told how the future completed, as a callback would be.
    installed: Vec<(Arc<Waiter>, usize)>,
    /// Threads in `result()` and the task awaiting the handle.
    sleepers: WaitList,
}

impl<T> State<T> {
    fn listeners(&mut self) -> &mut Listeners<T> {
        self.listeners.get_or_insert_with(|| {
            Box::new(Listeners {
                callbacks: Vec::new(),
                installed: Vec::new(),
                sleepers: WaitList::default(),
            })
        })
    }

    /// Takes the callbacks added so far.
    fn take_callbacks(&mut self) -> Vec<Callback<T>> {
        self.listeners
            .as_mut()
            .map(|l| std::mem::take(&mut l.callbacks))
            .unwrap_or_default()
    }
}

impl<T> HasWaiters for State<T> {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.listeners().sleepers
    }

    fn wait_kind(&self) -> crate::debug::WaitKind {
        crate::debug::WaitKind::Future
    }
}

/// The state shared by a [`Future`] and its [`Promise`].
///
/// # Why the phase and the outcome are outside the lock
///
/// A pool task's future is started, finished and read once each, mostly
/// with nobody waiting: taking a lock for each step was a third of a
/// no-op task's cost. So the phase is an atomic, moved forward by
/// compare-and-swap, and the outcome a cell with one writer:
///
/// - only the thread whose swap moved the phase out of `Pending`/`Running`
///   (into `Completing` or `Cancelling`) writes the outcome, once, before
///   anyone else may read it;
/// - the outcome is published by storing `Finished`/`Cancelled` with
///   `Release`; a reader reads it only after loading a done phase with
///   `Acquire`, and never writes it;
/// - only the unique [`Future`] handle takes the value out, through
///   `&mut self` or `self`, so no `&T` it lent is alive then.
///
/// The lock still guards the callbacks, the installed waiters and the wait
/// list. Whoever adds to them does so under the lock, after setting
/// [`LISTENED`] in the phase word with a read-modify-write that also tells
/// it whether the future is done (then it adds nothing: the callback runs at
/// once, the waiter is told, the thread does not sleep).
///
/// The completing thread moves the phase word from the bare transient phase
/// to the done one (with the completion in its high bits) by one
/// compare-and-swap, without the lock: most futures have nobody listening.
/// The swap fails only if [`LISTENED`] was set; then it takes the lock,
/// runs the callbacks and stores the done phase under it, and wakes
/// whoever is listed. Both sides' read-modify-writes are on the one word,
/// so they are ordered: either the adder's comes first, and the completing
/// thread takes the lock (after the adder released it, so it finds the
/// addition), or the swap comes first, and the adder sees the future done.
/// The model is `loom_listener_races_lock_free_completion` (and the other
/// models in `futures/tests/loom_future.rs`).
///
/// # The task rides along
///
/// `J` is what else the allocation carries: a pool task's closure (see
/// `work.rs`), so that a submit allocates once, or [`NoJob`]. The handles
/// see it erased, as `dyn Erased`, so `Future<T>` does not name it.
pub(crate) struct Inner<T, J: ?Sized = dyn Erased> {
    phase: AtomicUsize,
    /// For thread dumps and `find_deadlocks`: the pool a task is queued
    /// in, then the worker running it (see `debug/tasks.rs`). Read only
    /// by dumps, through the record of a thread blocked in `result()`.
    pub(crate) whereabouts: Whereabouts,
    /// Feature `debug-locks`: the task as a pseudo-lock, held by the
    /// worker running it and waited for by `result()`, so that holding a
    /// lock the task takes while waiting for it is reported as a
    /// lock-order inversion (see `debug/lock_order.rs`).
    #[cfg(feature = "debug-locks")]
    pub(crate) pseudo: crate::debug::lock_order::PseudoLock,
    /// The error boxed: errors are rare, and a `FutureError` beside a small
    /// `T` would make every future's allocation bigger.
    outcome: UnsafeCell<Option<Result<T, Box<FutureError>>>>,
    state: Monitor<State<T>>,
    pub(crate) job: J,
}

/// The erased type of what an [`Inner`] carries besides the future: a pool
/// task's closure, which the handles never touch, or a cancel hook.
pub(crate) trait Erased: Send + Sync {
    /// Asked before a pending future is cancelled (see
    /// [`Future::with_cancel_hook`]); `false` means it can no longer be.
    fn allows_cancel(&self) -> bool {
        true
    }

    /// Itself, for an owner that knows its concrete type and reaches it
    /// through a [`Future`] alone (a green thread's handle, for the panic
    /// payload it keeps); `None` for the others.
    #[cfg(feature = "green")]
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// What a future not made for a pool task carries.
pub(crate) struct NoJob;

impl Erased for NoJob {}

/// What a future made by [`Future::with_cancel_hook`] carries.
struct CancelHook<H>(H);

impl<H: Fn() -> bool + Send + Sync> Erased for CancelHook<H> {
    fn allows_cancel(&self) -> bool {
        (self.0)()
    }
}

// SAFETY: `Inner` owns a `T` and moves it between threads (the promise
// writes it, the handle takes it): that needs `T: Send`. Sharing `&Inner`
// lends `&T` only to the completing thread's callbacks before the outcome
// is published and, after, through `&Future`, which is `Sync` only when
// `T: Sync` (see its `lend` marker); the writes follow the protocol in the
// type's docs, so no access races.
unsafe impl<T: Send, J: ?Sized + Sync> Sync for Inner<T, J> {}

impl<T, J> Inner<T, J> {
    pub(crate) fn new(job: J) -> Self {
        Inner {
            phase: AtomicUsize::new(Phase::Pending as usize),
            whereabouts: Whereabouts::new(),
            #[cfg(feature = "debug-locks")]
            pseudo: crate::debug::lock_order::PseudoLock::new(),
            outcome: UnsafeCell::new(None),
            state: Monitor::new(State { listeners: None }),
            job,
        }
    }
}

impl<T, J: ?Sized> Inner<T, J> {
    fn phase(&self) -> Phase {
        Phase::from_usize(self.phase.load(Ordering::Acquire) & PHASE_MASK)
    }

    /// Called under the state lock by whoever is about to add a callback,
    /// install a waiter or wait: sets [`LISTENED`] (so that a completion
    /// from now on takes the lock) and returns the phase word as it was,
    /// done or not.
    fn listen(&self) -> usize {
        self.phase.fetch_or(LISTENED, Ordering::AcqRel)
    }

    /// [`listen`](Self::listen), as "is it done?", for wait conditions.
    fn listen_done(&self) -> bool {
        Phase::from_usize(self.listen() & PHASE_MASK).is_done()
    }

    fn is_done(&self) -> bool {
        self.phase().is_done()
    }

    /// Waits until done; `false` if the deadline passed first.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn wait_done(&self, deadline: Deadline) -> bool {
        // Before the fast path: the order "locks held, then this task"
        // counts even when the task is done already.
        #[cfg(feature = "debug-locks")]
        if deadline == Deadline::Never {
            crate::debug::lock_order::wait_for(
                &self.pseudo,
                crate::debug::lock_order::PseudoKind::Task,
                std::panic::Location::caller(),
            );
        }
        // Mostly done already (a result asked for after the fact): answer
        // without the lock.
        if self.is_done() {
            return true;
        }
        let mut st = self.state.lock();
        self.state
            .wait_until_held_by(&mut st, deadline, Some(self.whereabouts.holder()), |_| {
                self.listen_done()
            })
    }

    /// The outcome of a done future; `None` once the handle took it.
    fn outcome(&self) -> Option<&Result<T, Box<FutureError>>> {
        // SAFETY: called once the phase was seen done (Acquire) or by the
        // completing thread before it publishes; nobody writes the cell
        // then except the unique handle, through `&mut`, which it cannot
        // hold while this borrow of it (or of the promise) lives.
        self.outcome.with(|p| unsafe { (*p).as_ref() })
    }

    /// Moves the phase from `from` to `to`, keeping [`LISTENED`]; `false`
    /// if it was elsewhere.
    fn advance(&self, from: Phase, to: Phase) -> bool {
        // Mostly unlistened: one swap.
        let mut word = from as usize;
        loop {
            match self.phase.compare_exchange(
                word,
                word & !PHASE_MASK | to as usize,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) if now & PHASE_MASK == from as usize => word = now,
                Err(_) => return false,
            }
        }
    }

    /// PENDING → RUNNING; `false` if the future was cancelled (Python's
    /// `set_running_or_notify_cancel`). Anything else is left alone.
    pub(crate) fn set_running(&self) -> bool {
        self.advance(Phase::Pending, Phase::Running)
    }

    /// PENDING → CANCELLED; `true` if cancelled now or before.
    pub(crate) fn cancel(&self) -> bool
    where
        J: Erased,
    {
        // The hook may block (a round trip to wherever the task waits), so
        // it runs before anything is decided here.
        if self.phase() == Phase::Pending
            && !self.job.allows_cancel()
            && self.phase() == Phase::Pending
        {
            return false;
        }
        if self.advance(Phase::Pending, Phase::Cancelling) {
            self.settle(Err(FutureError::Cancelled), Phase::Cancelling);
            return true;
        }
        matches!(self.phase(), Phase::Cancelling | Phase::Cancelled)
    }

    /// PENDING/RUNNING → FINISHED with `outcome`; ignored once done or
    /// cancelled.
    pub(crate) fn finish(&self, outcome: Result<T, FutureError>) {
        if self.advance(Phase::Running, Phase::Completing)
            || self.advance(Phase::Pending, Phase::Completing)
        {
            self.settle(outcome, Phase::Completing);
        }
    }

    /// RUNNING → FINISHED with `outcome`, by the thread that moved the
    /// future to RUNNING and is its only completer: a pool task's work
    /// item, which took its closure out of the one shared state (see
    /// `work.rs`). Nothing else can complete a running future (`cancel`
    /// refuses it, and the item is consumed), so the outcome is stored
    /// while the phase still says RUNNING and published by one swap
    /// RUNNING → FINISHED, one read-modify-write fewer than
    /// [`finish`](Self::finish)'s way through COMPLETING. If somebody
    /// listens, the phase moves to COMPLETING and [`publish`](Self::publish)
    /// serves them as it does every completion.
    #[inline]
    pub(crate) fn finish_running(&self, outcome: Result<T, FutureError>) {
        let completion = self.store(outcome, Phase::Completing);
        let done = Phase::Finished as usize | completion_bits(completion);
        // Nobody listening (see `Inner`): publish without the lock.
        if self
            .phase
            .compare_exchange(
                Phase::Running as usize,
                done,
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            return;
        }
        // Listened (the only other word it can hold: nobody else moves a
        // running future), so the swap below keeps LISTENED and succeeds.
        if self.advance(Phase::Running, Phase::Completing) {
            self.publish(completion, Phase::Completing);
        }
    }

    /// The one completion path, run by the thread that moved the phase to
    /// `transient`: store the outcome, run the done-callbacks (including
    /// any added while they run), then publish the outcome and wake
    /// everyone waiting.
    fn settle(&self, outcome: Result<T, FutureError>, transient: Phase) {
        let completion = self.store(outcome, transient);
        self.publish(completion, transient);
    }

    /// Stores the outcome of a completion that goes through `transient`
    /// (COMPLETING or CANCELLING); returns how the future completed.
    #[inline(always)]
    fn store(&self, outcome: Result<T, FutureError>, transient: Phase) -> Completion {
        let completion = match &outcome {
            Ok(_) => Completion::Result,
            Err(FutureError::Cancelled) if transient == Phase::Cancelling => Completion::Cancelled,
            Err(_) => Completion::Error,
        };
        let outcome = outcome.map_err(Box::new);
        // SAFETY: the caller is the future's only completer (it won the
        // move to `transient`, or is the running work item, see
        // `finish_running`), so the only writer, and nobody reads the cell
        // before the done phase is published.
        self.outcome.with_mut(|p| unsafe { *p = Some(outcome) });
        completion
    }

    /// Publishes the stored outcome, the phase being `transient`: one swap
    /// to the done phase if nobody listens, else the callbacks, then the
    /// done phase under the lock, then the wake-ups.
    fn publish(&self, completion: Completion, transient: Phase) {
        let done = if transient == Phase::Cancelling {
            Phase::Cancelled
        } else {
            Phase::Finished
        };
        let done = done as usize | completion_bits(completion);
        // Nobody listening (see `Inner`): publish without the lock.
        if self
            .phase
            .compare_exchange(
                transient as usize,
                done,
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            return;
        }
        let mut st = self.state.lock();
        loop {
            let callbacks = st.take_callbacks();
            if callbacks.is_empty() {
                break;
            }
            drop(st);
            let outcome = self.outcome().expect("stored above");
            for callback in callbacks {
                run_callback(callback, outcome.as_ref().map_err(|e| &**e));
            }
            st = self.state.lock();
        }
        // Under the lock: an adder that takes it after this sees it done.
        self.phase.store(done | LISTENED, Ordering::Release);
        let (installed, waited) = match st.listeners.as_mut() {
            Some(l) => (std::mem::take(&mut l.installed), l.sleepers.len() > 0),
            None => (Vec::new(), false),
        };
        let woken = waited.then(|| self.state.take_all(&mut st));
        drop(st);
        for (waiter, index) in installed {
            waiter.notify(index, completion);
        }
        if let Some(woken) = woken {
            woken.wake();
        }
    }

    /// Installs `waiter` unless the future is already done; then returns how
    /// it completed instead.
    pub(crate) fn install(&self, waiter: &Arc<Waiter>, index: usize) -> Option<Completion> {
        let mut st = self.state.lock();
        let word = self.listen();
        if !Phase::from_usize(word & PHASE_MASK).is_done() {
            st.listeners().installed.push((Arc::clone(waiter), index));
            return None;
        }
        completion_of(word)
    }

    /// Removes `waiter` if still installed.
    pub(crate) fn uninstall(&self, waiter: &Arc<Waiter>) {
        if let Some(listeners) = &mut self.state.lock().listeners {
            listeners.installed.retain(|(w, _)| !Arc::ptr_eq(w, waiter));
        }
    }
}

/// Runs one done-callback, reporting a panic the way `threading` reports a
/// panicking thread, so it breaks neither the future nor the executor.
fn run_callback<T>(callback: Callback<T>, outcome: Result<&T, &FutureError>) {
    if let Err(report) = crate::threading::run_captured(move || callback(outcome)) {
        crate::threading::report_exception(&crate::threading::current_thread(), &report);
    }
}

/// The result of a task that may not have finished yet: Python's
/// `concurrent.futures.Future`.
///
/// Executors hand one out per submitted task ([`Executor::submit`](super::Executor::submit)).
/// The handle is unique (not `Clone`): it alone can take the value out, with
/// [`into_result`](Future::into_result) or `.await`, so `T` need not be
/// `Clone`. To share it, lend it: `&Future<T>` is what [`wait`](super::wait),
/// [`as_completed`](super::as_completed) and other threads use (`Future<T>`
/// is `Sync` when `T` is `Send + Sync`), and [`result`](Future::result)
/// returns `&T` on every call, as Python returns the same object.
///
/// # Examples
///
/// ```
/// use threadkit::futures::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// let f = pool.submit(|| "hello".repeat(2)).unwrap();
/// assert_eq!(f.result().unwrap(), "hellohello");
/// assert!(f.done() && !f.cancelled());
/// assert_eq!(f.into_result().unwrap(), "hellohello");
/// ```
///
/// Awaiting it from async code (any executor; no runtime is needed by threadkit):
///
/// ```
/// # use threadkit::futures::ThreadPoolExecutor;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::sync::Arc;
/// #     use std::task::{Context, Poll, Wake};
/// #     struct Unpark(std::thread::Thread);
/// #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// #     let waker = Arc::new(Unpark(std::thread::current())).into();
/// #     let mut cx = Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
/// #         std::thread::park();
/// #     }
/// # }
/// let pool = ThreadPoolExecutor::new(1).unwrap();
/// let f = pool.submit(|| 6 * 7).unwrap();
/// assert_eq!(block_on(async { f.await }), Ok(42));
/// ```
///
/// # Differences from Python's `Future`
///
/// - `result(timeout)` is [`result`](Future::result) and
///   [`result_timeout`](Future::result_timeout); `exception(timeout)` is
///   [`exception`](Future::exception) and [`exception_timeout`](Future::exception_timeout).
/// - A task's panic is its exception: [`FutureError::Panicked`].
/// - Done-callbacks receive the outcome (`Result<&T, &FutureError>`), not the
///   future, and run just *before* waiters wake rather than just after.
/// - The executor side (`set_result`, `set_exception`,
///   `set_running_or_notify_cancel`) lives on a separate [`Promise`].
/// - It is also awaitable, with no runtime or feature needed (Python needs
///   `asyncio.wrap_future`): `fut.await` takes the value,
///   [`result_async`](Future::result_async) lends it. Threads in `result()`
///   and tasks awaiting wait on the same list and wake together.
pub struct Future<T> {
    inner: StdArc<Inner<T>>,
    /// This handle's place on the future's wait list while it is awaited.
    awaiting: Option<WaitId>,
    /// `result(&self)` lends `&T` to every thread holding `&Future`: the
    /// handle is `Sync` only when `T` is `Send + Sync`, as a `OnceLock<T>`
    /// holding the value would be (`Inner` alone is `Sync` for `T: Send`).
    lend: PhantomData<std::sync::OnceLock<T>>,
}

// The handle is never pinned structurally: `poll` only touches its fields
// through `&mut`, and the wait list names it by id, not by address, so
// moving it after polling is fine.
impl<T> Unpin for Future<T> {}

impl<T> Future<T> {
    /// A pending future and the promise that completes it, for executor
    /// implementations and tests (Python's bare `Future()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Future;
    ///
    /// let (f, promise) = Future::new();
    /// assert!(!f.done());
    /// promise.set_result(5);
    /// assert_eq!(f.result(), Ok(&5));
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (Future<T>, Promise<T>) {
        let inner: StdArc<Inner<T>> = StdArc::new(Inner::new(NoJob));
        let promise = Promise {
            inner: Some(StdArc::clone(&inner)),
        };
        (Future::from_inner(inner), promise)
    }

    /// The handle of a future whose shared state was made elsewhere (a pool
    /// task's, which carries the task: see `work.rs`).
    pub(crate) fn from_inner(inner: StdArc<Inner<T>>) -> Self {
        Future {
            inner,
            awaiting: None,
            lend: PhantomData,
        }
    }

    /// Like [`Future::new`], for executors whose tasks wait somewhere
    /// else (another machine): [`cancel`](Future::cancel) on the pending
    /// future first calls `hook`, outside any lock, and cancels only if it
    /// returns `true`, meaning the task can no longer start. It is not
    /// called once the future is running or done.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Future;
    ///
    /// let (f, _promise) = Future::<u8>::with_cancel_hook(|| false);
    /// assert!(!f.cancel(), "the hook said the task already started");
    /// assert!(!f.done());
    ///
    /// let (g, _promise) = Future::<u8>::with_cancel_hook(|| true);
    /// assert!(g.cancel() && g.cancelled());
    /// ```
    pub fn with_cancel_hook<H>(hook: H) -> (Future<T>, Promise<T>)
    where
        H: Fn() -> bool + Send + Sync + 'static,
    {
        let inner: StdArc<Inner<T>> = StdArc::new(Inner::new(CancelHook(hook)));
        let promise = Promise {
            inner: Some(StdArc::clone(&inner)),
        };
        (Future::from_inner(inner), promise)
    }

    pub(crate) fn inner(&self) -> &StdArc<Inner<T>> {
        &self.inner
    }

    /// Attempts to cancel the task (Python's `cancel()`). Returns `true` if
    /// the future is cancelled now or was before; `false` if it is running or
    /// finished, which cannot be undone.
    pub fn cancel(&self) -> bool {
        self.inner.cancel()
    }

    /// Whether the future was cancelled (Python's `cancelled()`).
    pub fn cancelled(&self) -> bool {
        matches!(self.inner.phase(), Phase::Cancelling | Phase::Cancelled)
    }

    /// Whether the task is running now (Python's `running()`).
    pub fn running(&self) -> bool {
        matches!(self.inner.phase(), Phase::Running | Phase::Completing)
    }

    /// Whether the future finished or was cancelled (Python's `done()`).
    pub fn done(&self) -> bool {
        self.inner.phase().is_done()
    }

    /// Blocks until the task finishes and lends its value (Python's
    /// `result()`); every call returns the same value.
    ///
    /// # Errors
    ///
    /// [`FutureError::Cancelled`], [`FutureError::Panicked`] with the task's
    /// panic message, [`FutureError::BrokenExecutor`], or
    /// [`FutureError::Consumed`] once `.await` took the value.
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn result(&self) -> Result<&T, FutureError> {
        self.result_until(Deadline::Never)
    }

    /// As [`result`](Future::result), giving up after `timeout` with
    /// [`FutureError::Timeout`] (Python's `result(timeout)`).
    ///
    /// # Errors
    ///
    /// As [`result`](Future::result), plus [`FutureError::Timeout`].
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn result_timeout(&self, timeout: Duration) -> Result<&T, FutureError> {
        self.result_until(Deadline::after(timeout))
    }

    /// As [`result`](Future::result), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// As [`result_timeout`](Future::result_timeout).
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn result_deadline(&self, deadline: Instant) -> Result<&T, FutureError> {
        self.result_until(Deadline::At(deadline))
    }

    /// [`result`](Future::result) for async code: the same wait on the same
    /// future, lending the same `&T`, so threads in `result()` and tasks
    /// awaiting this are woken together when the task finishes. Unlike
    /// `fut.await`, it leaves the value in the handle, so any number of
    /// threads and tasks can wait on one `&Future`. Needs no runtime;
    /// dropping it before it resolves is safe.
    ///
    /// # Errors
    ///
    /// As [`result`](Future::result).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::futures::Future;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::sync::Arc;
    /// #     use std::task::{Context, Poll, Wake};
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
    /// #     let waker = Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         if let Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
    /// #         std::thread::park();
    /// #     }
    /// # }
    ///
    /// let (f, promise) = Future::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(f.result(), Ok(&"done")));
    ///     s.spawn(move || promise.set_result("done"));
    ///     assert_eq!(block_on(f.result_async()), Ok(&"done"));
    /// });
    /// ```
    pub async fn result_async(&self) -> Result<&T, FutureError> {
        if !self.inner.is_done() {
            let inner = &*self.inner;
            inner
                .state
                .until(|_| inner.listen_done().then_some(()))
                .await;
        }
        self.lend()
    }

    /// [`exception`](Future::exception) for async code; see
    /// [`result_async`](Future::result_async).
    pub async fn exception_async(&self) -> Option<FutureError> {
        self.result_async().await.err()
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    fn result_until(&self, deadline: Deadline) -> Result<&T, FutureError> {
        if !self.inner.wait_done(deadline) {
            return Err(FutureError::Timeout);
        }
        self.lend()
    }

    /// Lends the outcome of a done future.
    fn lend(&self) -> Result<&T, FutureError> {
        match self.inner.outcome() {
            Some(outcome) => outcome.as_ref().map_err(|e| FutureError::clone(e)),
            None => Err(FutureError::Consumed),
        }
    }

    /// Takes the outcome of a done future out of the shared state.
    fn take(&mut self) -> Result<T, FutureError> {
        debug_assert!(self.inner.is_done());
        // SAFETY: the future is done, so the completing thread no longer
        // touches the cell (see `Inner`); `&mut self` on the unique handle
        // means no `&T` lent by `result` is alive.
        let taken = self.inner.outcome.with_mut(|p| unsafe { (*p).take() });
        taken.map_or(Err(FutureError::Consumed), |outcome| {
            outcome.map_err(|e| *e)
        })
    }

    /// Blocks until the task finishes and returns its value by move.
    ///
    /// # Errors
    ///
    /// As [`result`](Future::result).
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn into_result(self) -> Result<T, FutureError> {
        self.into_result_until(Deadline::Never)
            .unwrap_or(Err(FutureError::Timeout))
    }

    /// As [`into_result`](Future::into_result), giving the future back in
    /// `Err` if `timeout` passes first.
    ///
    /// # Errors
    ///
    /// The outer `Err` is the unfinished future; the inner result is as in
    /// [`result`](Future::result).
    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub fn into_result_timeout(self, timeout: Duration) -> Result<Result<T, FutureError>, Self> {
        self.into_result_until(Deadline::after(timeout))
    }

    #[cfg_attr(feature = "debug-locks", track_caller)]
    pub(crate) fn into_result_until(
        mut self,
        deadline: Deadline,
    ) -> Result<Result<T, FutureError>, Self> {
        if !self.inner.wait_done(deadline) {
            return Err(self);
        }
        Ok(self.take())
    }

    /// Blocks until the future is done and returns its error, `None` if the
    /// task returned a value (Python's `exception()`; a cancelled future
    /// gives `Some(Cancelled)` rather than raising).
    pub fn exception(&self) -> Option<FutureError> {
        self.result().err()
    }

    /// As [`exception`](Future::exception), giving up after `timeout` with
    /// `Some(FutureError::Timeout)`.
    pub fn exception_timeout(&self, timeout: Duration) -> Option<FutureError> {
        self.result_timeout(timeout).err()
    }

    /// Calls `f` with the outcome when the future is done (Python's
    /// `add_done_callback`).
    ///
    /// If the future is already done, `f` runs at once in the calling thread;
    /// otherwise it runs in the thread that completes the future (a worker, or
    /// the thread calling [`cancel`](Future::cancel)), in the order added,
    /// before threads blocked in [`result`](Future::result), `wait` or
    /// `as_completed` wake up. A callback must therefore not block waiting for
    /// its own future. A panicking callback is reported like a panicking
    /// thread (the [excepthook](crate::threading::set_excepthook)) and
    /// otherwise ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use threadkit::futures::Future;
    ///
    /// let (f, promise) = Future::new();
    /// let (tx, rx) = mpsc::channel();
    /// f.add_done_callback(move |outcome| tx.send(outcome.copied().map_err(Clone::clone)).unwrap());
    /// promise.set_result(3);
    /// assert_eq!(rx.recv().unwrap(), Ok(3));
    /// ```
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: FnOnce(Result<&T, &FutureError>) + Send + 'static,
    {
        let mut st = self.inner.state.lock();
        if !self.inner.listen_done() {
            st.listeners().callbacks.push(Box::new(f));
            return;
        }
        drop(st);
        let outcome = self.result();
        match outcome {
            Ok(value) => run_callback(Box::new(f), Ok(value)),
            Err(e) => run_callback(Box::new(f), Err(&e)),
        }
    }
}

/// Identity: a future equals only itself, as Python's futures compare by
/// `id()`. (A `Future` is the unique handle to its task, so two handles are
/// never the same future.) With [`Hash`], futures can key a map, as in
/// Python's `{pool.submit(work, i): i for i in ...}`.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use threadkit::futures::{ThreadPoolExecutor, as_completed};
///
/// let pool = ThreadPoolExecutor::new(2).unwrap();
/// // futs = {pool.submit(work, i): i for i in range(3)}
/// #[allow(clippy::mutable_key_type)] // identity hash: its state may change
/// let futs: HashMap<_, _> = (0..3u32).map(|i| (pool.submit(move || i * 10).unwrap(), i)).collect();
/// for f in as_completed(futs.keys(), None) {
///     let f = f.unwrap();
///     assert_eq!(*f.result().unwrap(), futs[f] * 10);
/// }
/// ```
impl<T> PartialEq for Future<T> {
    fn eq(&self, other: &Self) -> bool {
        StdArc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T> Eq for Future<T> {}

/// Hashes the future's identity (its shared state's address), never its
/// value or state, so it stays stable while the task runs.
impl<T> std::hash::Hash for Future<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(StdArc::as_ptr(&self.inner), state);
    }
}

impl<T> AsRef<Future<T>> for Future<T> {
    fn as_ref(&self) -> &Future<T> {
        self
    }
}

/// Awaiting a `Future<T>` moves its value out, like [`Future::into_result`].
/// It is the same wait as [`Future::result`]'s: the task's waker goes on the
/// future's wait list, next to any threads blocked in `result()`, and the
/// completing thread wakes them all. Needs no runtime and no feature.
///
/// Cancel safe: dropping the handle while it is awaited takes its waker off
/// the list.
impl<T> std::future::Future for Future<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.inner.is_done() {
            let inner = &*this.inner;
            let done = inner
                .state
                .poll_until(&mut this.awaiting, cx, &mut |_: &mut State<T>| {
                    inner.listen_done().then_some(())
                });
            if done.is_pending() {
                return Poll::Pending;
            }
        }
        // Done: completing the future took every entry off the list, this
        // handle's included.
        this.awaiting = None;
        Poll::Ready(this.take())
    }
}

impl<T> Drop for Future<T> {
    #[inline]
    fn drop(&mut self) {
        // An `.await` cancelled while pending leaves its entry on the list.
        // Checked here so that dropping a handle never awaited stays a branch.
        if self.awaiting.is_some() {
            self.inner.state.abandon(&mut self.awaiting);
        }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("state", &self.inner.phase().name())
            .finish()
    }
}

/// The completing side of a [`Future`]: what an executor holds while the
/// task waits and runs (Python's `set_running_or_notify_cancel`,
/// `set_result`, `set_exception`).
///
/// Dropping a promise that never completed its future finishes the future
/// with [`FutureError::BrokenExecutor`], so nobody waits forever for a task
/// that was lost.
pub struct Promise<T> {
    inner: Option<StdArc<Inner<T>>>,
}

impl<T> Promise<T> {
    /// Marks the future running, unless it was cancelled: then returns
    /// `false` and the task must not run (Python's
    /// `set_running_or_notify_cancel`).
    pub fn set_running_or_notify_cancel(&self) -> bool {
        self.inner.as_ref().is_some_and(|inner| inner.set_running())
    }

    /// Finishes the future with `value` (ignored if it was cancelled).
    pub fn set_result(self, value: T) {
        self.complete(Ok(value));
    }

    /// Finishes the future with `error` (Python's `set_exception`; ignored if
    /// it was cancelled).
    pub fn set_error(self, error: FutureError) {
        self.complete(Err(error));
    }

    /// Cancels the future if it is still pending; see [`Future::cancel`].
    pub fn cancel(self) -> bool {
        self.inner.as_ref().is_some_and(|inner| inner.cancel())
    }

    /// Finishes the future with `outcome`.
    pub fn complete(mut self, outcome: Result<T, FutureError>) {
        if let Some(inner) = self.inner.take() {
            inner.finish(outcome);
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.finish(Err(FutureError::BrokenExecutor(
                "the task was dropped without running".to_owned(),
            )));
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self
            .inner
            .as_ref()
            .map_or("completed", |i| i.phase().name());
        f.debug_struct("Promise").field("state", &state).finish()
    }
}
