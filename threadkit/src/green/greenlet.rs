//! `Greenlet<T>`: the handle of a green thread, and `Builder`.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;

use super::hub::{self, GreenWaker};
use super::raw::Resume;
use super::{GreenletExit, unwind_killed};
use crate::futures::future::{Erased, Inner};
use crate::futures::{Future, FutureError, PanicReport};
use crate::util::unwind::panic_message;

/// Why a green thread has no value: it panicked or was killed.
///
/// # Differences from gevent
///
/// gevent's `Greenlet.get()` re-raises the greenlet's exception and returns
/// a `GreenletExit` instance for a killed one; here both are the `Err` side
/// of [`Greenlet::get`].
pub enum GreenletError {
    /// The green thread panicked; the panic's payload.
    Panicked(Box<dyn Any + Send>),
    /// The green thread was killed ([`Greenlet::kill`]) before it finished.
    Killed,
}

impl fmt::Debug for GreenletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GreenletError::Panicked(_) => f.write_str("Panicked(..)"),
            GreenletError::Killed => f.write_str("Killed"),
        }
    }
}

impl fmt::Display for GreenletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GreenletError::Panicked(_) => f.write_str("the green thread panicked"),
            GreenletError::Killed => f.write_str("the green thread was killed"),
        }
    }
}

impl std::error::Error for GreenletError {}

/// What a green thread's future carries besides its value (in the same
/// allocation, so a spawn allocates the future once and nothing else).
pub(crate) struct GreenJob {
    /// A panicked green thread's payload, for [`Greenlet::get`] (the
    /// future keeps only its message).
    payload: Mutex<Option<Box<dyn Any + Send>>>,
    /// Whether `payload` was ever set: read by the hub as the green thread
    /// finishes (on the same thread that set it) to tell, without the
    /// lock, whether the state may be kept ([`hub::Abandon::keepable`]).
    panicked: AtomicBool,
}

impl GreenJob {
    fn new() -> GreenJob {
        GreenJob {
            payload: Mutex::new(None),
            panicked: AtomicBool::new(false),
        }
    }
}

/// Killing is the way to stop a green thread: [`Future::cancel`] on its
/// future does nothing.
impl Erased for GreenJob {
    fn allows_cancel(&self) -> bool {
        false
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

type Shared<T> = Inner<T, GreenJob>;

/// Completes the future with how the green thread ended (once: a second
/// completion is ignored).
fn complete<T>(shared: &Shared<T>, result: Result<T, GreenletError>) {
    match result {
        Ok(value) => shared.finish(Ok(value)),
        Err(GreenletError::Killed) => shared.finish(Err(FutureError::Cancelled)),
        Err(GreenletError::Panicked(payload)) => {
            let report = PanicReport::new(panic_message(&*payload));
            *shared.job.payload.lock() = Some(payload);
            shared.job.panicked.store(true, Relaxed);
            shared.finish(Err(FutureError::Panicked(report)));
        }
    }
}

/// The root function of a green thread running `f`: runs it (or not, when
/// killed before its first switch-in), catches its panic, and completes
/// `shared` with the outcome.
fn root<F, T>(f: F, shared: Arc<Shared<T>>) -> impl FnOnce(Resume)
where
    F: FnOnce() -> T,
{
    move |first| {
        let result = match first {
            Resume::Kill => Err(GreenletError::Killed),
            Resume::Run => catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
                if payload.is::<GreenletExit>() {
                    GreenletError::Killed
                } else {
                    GreenletError::Panicked(payload)
                }
            }),
        };
        complete(&shared, result);
    }
}

/// The `GreenletError` for the error of a green thread's `future` (the
/// panic payload its state keeps, taken).
fn error<T>(future: &Future<T>, e: FutureError) -> GreenletError {
    match e {
        FutureError::Panicked(report) => GreenletError::Panicked(
            future
                .inner()
                .job
                .as_any()
                .and_then(|job| job.downcast_ref::<GreenJob>())
                .and_then(|job| job.payload.lock().take())
                .unwrap_or_else(|| Box::new(report.message().to_owned())),
        ),
        _ => GreenletError::Killed,
    }
}

impl<T: 'static> hub::Abandon for Shared<T> {
    fn abandon(&self) {
        complete(self, Err(GreenletError::Killed));
    }

    /// A value that needs no drop, no panic payload (user values, whose
    /// drop must come when the last handle goes), and small enough to keep
    /// in a free slot.
    fn keepable(&self) -> bool {
        !std::mem::needs_drop::<T>()
            && std::mem::size_of::<Self>() <= KEPT_MAX
            && !self.job.panicked.load(Relaxed)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The largest handle state a hub keeps in a free slot for reuse.
const KEPT_MAX: usize = 256;

/// The state of a new green thread returning `T`: `kept` (the state its
/// slot kept from its last tenant, [`hub::Hub::take_kept`]) reset in place
/// if it has the right type and nobody holds it any more, else a new
/// allocation. A spawn then allocates nothing once its hub is warm (a
/// batch of spawns overflowed malloc's per-thread cache: a fifth of a
/// spawn).
fn new_state<T: 'static>(kept: Option<Arc<dyn hub::Abandon>>) -> Arc<Shared<T>> {
    let fresh = || Inner::new(GreenJob::new());
    if let Some(kept) = kept
        && kept.as_any().is::<Shared<T>>()
    {
        // SAFETY: the value behind the `dyn` is a `Shared<T>` (checked
        // just above), and `Arc::into_raw` of a `dyn` points at that value:
        // `from_raw` of the concrete type takes the same allocation back,
        // as `Arc::downcast` does.
        let mut shared = unsafe { Arc::from_raw(Arc::into_raw(kept).cast::<Shared<T>>()) };
        // Only when nobody else holds it (no strong or weak reference):
        // then its old contents drop here, which runs no user code
        // (`keepable`).
        if let Some(state) = Arc::get_mut(&mut shared) {
            *state = fresh();
            return shared;
        }
    }
    Arc::new(fresh())
}

/// The handle of a green thread: join it, get its value, kill it. gevent's
/// `Greenlet`.
///
/// Any thread, task or green thread may join a `Greenlet` (it is `Send` and
/// `Sync` when `T` is `Send`); joining from the thread that runs its hub
/// runs the hub meanwhile.
///
/// It is also a threadkit [`Future`] (its value is carried by one, see
/// [`future`](Greenlet::future)): it works with
/// [`futures::wait`](crate::futures::wait) and
/// [`as_completed`](crate::futures::as_completed) (through `AsRef`), and
/// `.await` gives what [`get`](Greenlet::get) gives.
///
/// # Examples
///
/// ```
/// use threadkit::green;
///
/// let got = green::run(|| {
///     let g = green::spawn(|| 6 * 7);
///     g.get().unwrap()
/// });
/// assert_eq!(got.unwrap(), 42);
/// ```
///
/// Waiting for the first of several, as with any threadkit futures:
///
/// ```
/// use std::time::Duration;
/// use threadkit::futures::{ReturnWhen, wait};
/// use threadkit::green;
///
/// green::run(|| {
///     let slow = green::spawn(|| threadkit::sleep(Duration::from_secs(5)));
///     let fast = green::spawn(|| threadkit::sleep(Duration::from_millis(1)));
///     let gs = [slow, fast];
///     let got = wait(&gs, None, ReturnWhen::FirstCompleted);
///     assert_eq!(got.done.len(), 1);
///     assert!(gs[1].is_ready());
/// })
/// .unwrap();
/// ```
///
/// # Differences from gevent's `Greenlet`
///
/// - `get()` consumes the handle and returns `Result<T, GreenletError>`
///   instead of raising.
/// - `kill()` always blocks until the green thread has unwound
///   (gevent's `kill(block=True)`); [`kill_timeout`](Greenlet::kill_timeout)
///   is `kill(block=True, timeout)`. Dropping the handle does not kill it.
/// - Seen as a [`Future`], a killed green thread is cancelled
///   ([`FutureError::Cancelled`]) and a panicked one has
///   [`FutureError::Panicked`] with the panic's message;
///   [`Future::cancel`] on it does nothing (kill it instead).
pub struct Greenlet<T> {
    /// Carries the value; its state is the green thread's (`Shared<T>`),
    /// reached through it for the panic payload: one reference count per
    /// handle, not two.
    future: Future<T>,
    id: u64,
    name: Option<Arc<str>>,
    waker: Killer,
}

/// What kills a green thread: its waker once it is on a hub, or, for one
/// that [`super::Hubs`] has queued but no carrier has taken yet, its
/// [`Placement`].
#[derive(Clone, Debug)]
pub(crate) enum Killer {
    /// On a hub.
    Placed(GreenWaker),
    /// Spawned through [`super::Hubs`]: on a hub once a carrier took it.
    #[cfg_attr(loom, allow(dead_code))] // no `Hubs` under loom
    Queued(Arc<Placement>),
}

impl Killer {
    /// Kills the green thread: it unwinds at its next (or current) wait;
    /// one still queued never runs.
    pub(crate) fn kill(&self) {
        match self {
            Killer::Placed(w) => w.kill(),
            Killer::Queued(p) => {
                let placed = {
                    let mut st = p.state.lock();
                    st.0 = true;
                    st.1.clone()
                };
                if let Some(w) = placed {
                    w.kill();
                }
            }
        }
    }
}

/// Where a green thread spawned through [`super::Hubs`] went: whether it
/// was killed, and its waker once a carrier put it on its hub.
#[derive(Debug, Default)]
pub(crate) struct Placement {
    state: Mutex<(bool, Option<GreenWaker>)>,
}

impl<T> fmt::Debug for Greenlet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Greenlet")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl<T> Greenlet<T> {
    /// Waits until the green thread has finished (returned, panicked or
    /// been killed): gevent's `join()`.
    #[track_caller]
    pub fn join(&self) {
        hub::note_wait(std::panic::Location::caller());
        let _ = self.future.result();
    }

    /// Waits at most `timeout`; whether the green thread has finished.
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        hub::note_wait(std::panic::Location::caller());
        let _ = self.future.result_timeout(timeout);
        self.future.done()
    }

    /// Waits for the green thread and returns its value, or why there is
    /// none: gevent's `get()`.
    #[track_caller]
    pub fn get(self) -> Result<T, GreenletError> {
        let Greenlet { future, .. } = self;
        // The error first, with the handle still there for the payload.
        if let Err(e) = future.result() {
            return Err(error(&future, e));
        }
        // Done and not an error: the value.
        future.into_result().map_err(|_| GreenletError::Killed)
    }

    /// Whether the green thread has finished: gevent's `ready()`.
    pub fn is_ready(&self) -> bool {
        self.future.done()
    }

    /// Kills the green thread and waits until it has unwound: it unwinds
    /// from the wait it is in (or its next one; one that has not started
    /// never runs), running its destructors, and its value becomes
    /// [`GreenletError::Killed`]. A green thread that has finished is left
    /// as it is. gevent's `kill()`.
    ///
    /// A green thread killing itself unwinds at once.
    #[track_caller]
    pub fn kill(&self) {
        if self.send_kill() {
            self.join();
        }
    }

    /// [`kill`](Greenlet::kill), waiting at most `timeout` for the green
    /// thread to unwind: whether it has finished. The kill stays pending
    /// when the time is up (it unwinds at its next wait). gevent's
    /// `kill(block=True, timeout=timeout)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadkit::green::{self, GreenletError};
    ///
    /// green::run(|| {
    ///     let g = green::spawn(|| threadkit::sleep(Duration::from_secs(60)));
    ///     green::yield_now(); // it sleeps now
    ///     assert!(g.kill_timeout(Duration::from_secs(10)));
    ///     assert!(matches!(g.get(), Err(GreenletError::Killed)));
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "kill")]
    pub fn kill_timeout(&self, timeout: Duration) -> bool {
        !self.send_kill() || self.join_timeout(timeout)
    }

    /// Sends the kill; `false` if it had finished already. A green thread
    /// killing itself unwinds here.
    fn send_kill(&self) -> bool {
        if self.is_ready() {
            return false;
        }
        self.waker.kill();
        if super::current().is_some_and(|me| me.id() == self.id) {
            unwind_killed();
        }
        true
    }

    /// Calls `f` once with how the green thread ended, when it ends: gevent's
    /// `link`. If it has ended already, `f` runs at once in the caller.
    /// Otherwise it runs on the green thread's stack as it finishes (or on
    /// its carrier, if the carrier ends first), in the order added, before
    /// its joiners wake. A panicking callback is reported like a panicking
    /// thread ([`set_excepthook`](crate::threading::set_excepthook)) and
    /// otherwise ignored: it affects neither the green thread's value nor
    /// its hub. A callback must not wait for its own green thread.
    ///
    /// A panicked green thread's error here is [`GreenletError::Panicked`]
    /// with the panic's message as a `String` (the payload itself is kept
    /// for [`get`](Greenlet::get)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicI32, Ordering};
    /// use threadkit::green;
    ///
    /// let seen = Arc::new(AtomicI32::new(0));
    /// green::run({
    ///     let seen = Arc::clone(&seen);
    ///     move || {
    ///         let g = green::spawn(|| 7);
    ///         g.add_done_callback(move |r| seen.store(*r.unwrap(), Ordering::SeqCst));
    ///         g.join();
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(seen.load(Ordering::SeqCst), 7);
    /// ```
    #[doc(alias("link", "rawlink", "link_value", "link_exception"))]
    pub fn add_done_callback<F>(&self, f: F)
    where
        F: FnOnce(Result<&T, &GreenletError>) + Send + 'static,
    {
        self.future.add_done_callback(move |outcome| match outcome {
            Ok(value) => f(Ok(value)),
            Err(FutureError::Panicked(report)) => f(Err(&GreenletError::Panicked(Box::new(
                report.message().to_owned(),
            )))),
            Err(_) => f(Err(&GreenletError::Killed)),
        });
    }

    /// The threadkit [`Future`] carrying the green thread's value, for
    /// code that takes futures ([`Greenlet`] is also `AsRef<Future<T>>`).
    pub fn future(&self) -> &Future<T> {
        &self.future
    }

    /// The green thread's name, if it was given one ([`Builder::name`]).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The green thread's id, unique in the process: gevent's
    /// `minimal_ident`.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A handle that can kill the green thread, for [`super::Group`].
    pub(crate) fn waker(&self) -> &Killer {
        &self.waker
    }
}

impl<T> AsRef<Future<T>> for Greenlet<T> {
    fn as_ref(&self) -> &Future<T> {
        &self.future
    }
}

/// Awaiting a `Greenlet` gives what [`Greenlet::get`] gives, from async
/// code or [`block_on`](super::block_on). Cancel safe, as awaiting a
/// [`Future`] is: dropping it leaves the green thread running.
impl<T> std::future::Future for Greenlet<T> {
    type Output = Result<T, GreenletError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut this.future)
            .poll(cx)
            .map(|r| r.map_err(|e| error(&this.future, e)))
    }
}

/// Default usable stack size of a green thread: 64 KiB.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// Configures a green thread before spawning it: name and stack size.
///
/// # Examples
///
/// ```
/// use threadkit::green;
///
/// green::run(|| {
///     let g = green::Builder::new()
///         .name("worker")
///         .stack_size(256 * 1024)
///         .spawn(|| green::current().unwrap().name().map(String::from))
///         .unwrap();
///     assert_eq!(g.get().unwrap().as_deref(), Some("worker"));
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    name: Option<Arc<str>>,
    stack_size: Option<usize>,
}

impl Builder {
    /// A builder with no name and the default stack size
    /// ([`DEFAULT_STACK_SIZE`]).
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the green thread (shown in overflow reports).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(Arc::from(name.into()));
        self
    }

    /// Usable stack size in bytes, rounded up to whole pages; one guard page
    /// is added below it. Stacks are not grown: a green thread that needs
    /// more aborts the process with a message naming it.
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Spawns a green thread on the calling thread's hub; fails if its stack
    /// cannot be mapped (the error names `vm.max_map_count`).
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<Greenlet<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_local(f)
    }

    /// [`spawn`](Self::spawn) for a closure that is not `Send`: it runs on
    /// the calling thread's hub like every green thread.
    #[track_caller]
    pub fn spawn_local<F, T>(self, f: F) -> io::Result<Greenlet<T>>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        // Taken here: the closure below does not pass `track_caller` on.
        let site = std::panic::Location::caller();
        hub::with_or_make(|hub| self.spawn_on(hub, site, f))
    }

    /// [`spawn_local`](Self::spawn_local) on `hub`, the caller's; `site`
    /// is the spawn site the watchdog reports.
    fn spawn_on<F, T>(
        self,
        hub: &hub::Hub,
        site: &'static std::panic::Location<'static>,
        f: F,
    ) -> io::Result<Greenlet<T>>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let id = hub.next_id();
        let shared = new_state::<T>(hub.take_kept());
        let erased: Arc<Inner<T>> = shared.clone();
        let future = Future::from_inner(erased);
        let stack_size = self.stack_size.unwrap_or(DEFAULT_STACK_SIZE);
        let owner: Arc<dyn hub::Abandon> = Arc::clone(&shared) as _;
        let name = self.name.clone();
        let waker = hub.spawn_at(id, self.name, stack_size, owner, site, root(f, shared))?;
        Ok(Greenlet {
            future,
            id,
            name,
            waker: Killer::Placed(waker),
        })
    }

    /// For [`super::Hubs`]: the handle of a green thread running `f` that
    /// is on no hub yet, and the job that puts it on the hub of the thread
    /// that runs the job (or ends it killed, if it was killed meanwhile, or
    /// panicked, if its stack cannot be mapped there).
    #[track_caller]
    #[cfg_attr(loom, allow(dead_code))] // no `Hubs` under loom
    pub(crate) fn unplaced<F, T>(self, f: F) -> (Greenlet<T>, Box<dyn FnOnce() + Send>)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let site = std::panic::Location::caller();
        let id = hub::next_id();
        let shared = Arc::new(Inner::new(GreenJob::new()));
        let erased: Arc<Inner<T>> = shared.clone();
        let future = Future::from_inner(erased);
        let stack_size = self.stack_size.unwrap_or(DEFAULT_STACK_SIZE);
        let placement = Arc::new(Placement::default());
        let name = self.name.clone();
        let job = {
            let placement = Arc::clone(&placement);
            let name = self.name;
            move || {
                if placement.state.lock().0 {
                    complete(&shared, Err(GreenletError::Killed));
                    return;
                }
                let mine = Arc::clone(&shared);
                let owner: Arc<dyn hub::Abandon> = Arc::clone(&shared) as _;
                let body = root(f, mine);
                // A panic here (a stack size that overflows) must neither
                // end the carrier nor leave the green thread unfinished.
                let spawned = catch_unwind(AssertUnwindSafe(move || {
                    hub::get_or_make().spawn_at(id, name, stack_size, owner, site, body)
                }));
                let spawned = match spawned {
                    Ok(spawned) => spawned,
                    Err(payload) => {
                        complete(&shared, Err(GreenletError::Panicked(payload)));
                        return;
                    }
                };
                match spawned {
                    Ok(waker) => {
                        // A kill that came meanwhile found no waker: send it.
                        let killed = {
                            let mut st = placement.state.lock();
                            st.1 = Some(waker.clone());
                            st.0
                        };
                        if killed {
                            waker.kill();
                        }
                    }
                    Err(e) => complete(
                        &shared,
                        Err(GreenletError::Panicked(Box::new(format!(
                            "failed to map a green thread's stack: {e}"
                        )))),
                    ),
                }
            }
        };
        let greenlet = Greenlet {
            future,
            id,
            name,
            waker: Killer::Queued(placement),
        };
        (greenlet, Box::new(job))
    }
}
