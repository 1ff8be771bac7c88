//! `Greenlet<T>`: the handle of a green thread, and `Builder`.

use std::any::Any;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use super::hub::{self, GreenWaker};
use super::raw::Resume;
use super::{GreenletExit, unwind_killed};
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

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

struct Done<T> {
    result: Option<Result<T, GreenletError>>,
    finished: bool,
    waiters: WaitList,
}

impl<T> HasWaiters for Done<T> {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

struct Shared<T> {
    done: Monitor<Done<T>>,
    id: u64,
    name: Option<Arc<str>>,
}

impl<T> hub::Abandon for Shared<T> {
    fn abandon(&self) {
        let mut st = self.done.lock();
        if st.finished {
            return;
        }
        st.result = Some(Err(GreenletError::Killed));
        st.finished = true;
        let woken = self.done.take_all(&mut st);
        drop(st);
        woken.wake();
    }
}

/// The handle of a green thread: join it, get its value, kill it. gevent's
/// `Greenlet`.
///
/// Any thread, task or green thread may join a `Greenlet` (it is `Send` and
/// `Sync` when `T` is `Send`); joining from the thread that runs its hub
/// runs the hub meanwhile.
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
/// # Differences from gevent's `Greenlet`
///
/// - `get()` consumes the handle and returns `Result<T, GreenletError>`
///   instead of raising.
/// - `kill()` always blocks until the green thread has unwound
///   (gevent's `kill(block=True)`); dropping the handle does not kill it.
pub struct Greenlet<T> {
    shared: Arc<Shared<T>>,
    waker: GreenWaker,
}

impl<T> fmt::Debug for Greenlet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Greenlet")
            .field("id", &self.shared.id)
            .field("name", &self.shared.name)
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
        let mut st = self.shared.done.lock();
        self.shared
            .done
            .wait_until(&mut st, Deadline::Never, |s| s.finished);
    }

    /// Waits at most `timeout`; whether the green thread has finished.
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        hub::note_wait(std::panic::Location::caller());
        let mut st = self.shared.done.lock();
        self.shared
            .done
            .wait_until(&mut st, Deadline::after(timeout), |s| s.finished)
    }

    /// Waits for the green thread and returns its value, or why there is
    /// none: gevent's `get()`.
    #[track_caller]
    pub fn get(self) -> Result<T, GreenletError> {
        self.join();
        let mut st = self.shared.done.lock();
        st.result.take().unwrap_or(Err(GreenletError::Killed))
    }

    /// Whether the green thread has finished: gevent's `ready()`.
    pub fn is_ready(&self) -> bool {
        self.shared.done.lock().finished
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
        if self.is_ready() {
            return;
        }
        self.waker.kill();
        if super::current().is_some_and(|me| me.id() == self.shared.id) {
            unwind_killed();
        }
        self.join();
    }

    /// The green thread's name, if it was given one ([`Builder::name`]).
    pub fn name(&self) -> Option<&str> {
        self.shared.name.as_deref()
    }

    /// The green thread's id, unique in the process: gevent's
    /// `minimal_ident`.
    pub fn id(&self) -> u64 {
        self.shared.id
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
        let hub = hub::get_or_make();
        let id = hub::next_id();
        let shared = Arc::new(Shared {
            done: Monitor::new(Done {
                result: None,
                finished: false,
                waiters: WaitList::default(),
            }),
            id,
            name: self.name.clone(),
        });
        let stack_size = self.stack_size.unwrap_or(DEFAULT_STACK_SIZE);
        let mine = Arc::clone(&shared);
        let owner: Arc<dyn hub::Abandon> = Arc::clone(&shared) as _;
        let waker = hub.spawn(id, self.name, stack_size, owner, move |first| {
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
            let mut st = mine.done.lock();
            st.result = Some(result);
            st.finished = true;
            let woken = mine.done.take_all(&mut st);
            drop(st);
            woken.wake();
        })?;
        Ok(Greenlet { shared, waker })
    }
}
