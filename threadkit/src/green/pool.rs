//! `Group` and `Pool`: gevent's `gevent.pool.Group` and `gevent.pool.Pool`,
//! sets of green threads to join or kill together; a `Pool` also bounds
//! how many run at once.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::greenlet::Killer;
use super::{Builder, Greenlet, GreenletError};
use crate::futures::BuildError;
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// The members of a group, and who waits for them to change.
struct Members {
    live: HashMap<u64, Killer>,
    /// Places a pool's spawns have taken but not yet filled.
    reserved: usize,
    waiters: WaitList,
}

impl HasWaiters for Members {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

/// What a `Group` (or `Pool`) and its members' done callbacks share.
struct Core {
    members: Monitor<Members>,
    /// A pool's size; `None` for a group.
    size: Option<usize>,
}

impl Core {
    fn new(size: Option<usize>) -> Arc<Core> {
        Arc::new(Core {
            members: Monitor::new(Members {
                live: HashMap::new(),
                reserved: 0,
                waiters: WaitList::default(),
            }),
            size,
        })
    }

    fn len(&self) -> usize {
        self.members.lock().live.len()
    }

    /// Takes green thread `id` out, waking whoever waits for a change.
    fn remove(&self, id: u64) -> bool {
        let mut st = self.members.lock();
        let was = st.live.remove(&id).is_some();
        let woken = self.members.take_all(&mut st);
        drop(st);
        woken.wake();
        was
    }

    /// Waits (yielding in a green thread) until a pool has a free place,
    /// and takes it; `false` if `deadline` passed first.
    fn reserve(&self, deadline: Deadline) -> bool {
        let Some(size) = self.size else {
            return true;
        };
        let mut st = self.members.lock();
        let free = self
            .members
            .wait_until(&mut st, deadline, |m| m.live.len() + m.reserved < size);
        if free {
            st.reserved += 1;
        }
        free
    }

    /// Gives back a place [`reserve`](Self::reserve) took.
    fn unreserve(&self) {
        if self.size.is_none() {
            return;
        }
        let mut st = self.members.lock();
        st.reserved -= 1;
        let woken = self.members.take_all(&mut st);
        drop(st);
        woken.wake();
    }

    /// Makes `g` a member until it finishes (`reserved`: in a place taken
    /// by [`reserve`](Self::reserve)).
    fn insert<T>(self: &Arc<Core>, g: &Greenlet<T>, reserved: bool) {
        let id = g.id();
        {
            let mut st = self.members.lock();
            st.live.insert(id, g.waker().clone());
            if reserved && self.size.is_some() {
                st.reserved -= 1;
            }
        }
        let core: Weak<Core> = Arc::downgrade(self);
        g.add_done_callback(move |_| {
            if let Some(core) = core.upgrade() {
                core.remove(id);
            }
        });
    }

    fn spawn<T>(
        self: &Arc<Core>,
        spawn: impl FnOnce() -> std::io::Result<Greenlet<T>>,
    ) -> std::io::Result<Greenlet<T>> {
        self.reserve(Deadline::Never);
        match spawn() {
            Ok(g) => {
                self.insert(&g, true);
                Ok(g)
            }
            Err(e) => {
                self.unreserve();
                Err(e)
            }
        }
    }

    fn join(&self, deadline: Deadline) -> bool {
        let mut st = self.members.lock();
        self.members
            .wait_until(&mut st, deadline, |m| m.live.is_empty())
    }

    /// Kills every member, then waits for them to unwind.
    fn kill(&self, deadline: Deadline) -> bool {
        let wakers: Vec<(u64, Killer)> = self
            .members
            .lock()
            .live
            .iter()
            .map(|(id, w)| (*id, w.clone()))
            .collect();
        let me = super::current().map(|g| g.id());
        let mut killed_me = false;
        for (id, w) in wakers {
            w.kill();
            killed_me |= Some(id) == me;
        }
        if killed_me {
            super::unwind_killed();
        }
        self.join(deadline)
    }
}

/// A set of green threads to join or kill together: gevent's
/// `gevent.pool.Group`. A member leaves the group when it finishes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::green::{self, Group};
///
/// green::run(|| {
///     let group = Group::new();
///     let quick = group.spawn(|| 1);
///     let slow = group.spawn(|| threadkit::sleep(Duration::from_secs(60)));
///     quick.join();
///     assert_eq!(group.len(), 1);
///     group.kill(); // the slow one unwinds from its sleep
///     assert!(group.is_empty() && slow.is_ready());
/// })
/// .unwrap();
/// ```
///
/// # Differences from gevent
///
/// - Members are green threads of any value type; the group keeps what it
///   needs to join and kill them, not their handles, so it is not iterable
///   and has no `map` (use [`Pool`]).
/// - `join` does not re-raise a member's panic (`raise_error`).
#[doc(alias("gevent.pool.Group"))]
#[derive(Clone)]
pub struct Group {
    core: Arc<Core>,
}

impl Default for Group {
    fn default() -> Self {
        Group::new()
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group").field("len", &self.len()).finish()
    }
}

impl Group {
    /// An empty group.
    pub fn new() -> Group {
        Group {
            core: Core::new(None),
        }
    }

    /// Spawns `f` as a green thread ([`super::spawn`]) in this group.
    ///
    /// # Panics
    ///
    /// As [`super::spawn`], if its stack cannot be mapped.
    pub fn spawn<F, T>(&self, f: F) -> Greenlet<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core
            .spawn(|| Builder::new().spawn(f))
            .expect("failed to map a green thread's stack")
    }

    /// Spawns green threads from `builder` in this group; fails if a stack
    /// cannot be mapped. For closures that are not `Send`, use
    /// [`Builder::spawn_local`] and [`add`](Group::add).
    pub fn spawn_with<F, T>(&self, builder: Builder, f: F) -> std::io::Result<Greenlet<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core.spawn(|| builder.spawn(f))
    }

    /// Adds a running green thread to the group (gevent's `add`); one that
    /// has finished leaves at once.
    pub fn add<T>(&self, g: &Greenlet<T>) {
        self.core.insert(g, false);
    }

    /// Takes a green thread out of the group without killing it (gevent's
    /// `discard`); whether it was a member.
    pub fn discard<T>(&self, g: &Greenlet<T>) -> bool {
        self.core.remove(g.id())
    }

    /// Whether `g` is a member.
    pub fn contains<T>(&self, g: &Greenlet<T>) -> bool {
        self.core.members.lock().live.contains_key(&g.id())
    }

    /// How many members have not finished.
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether every member has finished.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every member has finished, including ones added
    /// meanwhile (gevent's `join()`). Must not be called by a member.
    pub fn join(&self) {
        self.core.join(Deadline::Never);
    }

    /// [`join`](Group::join), waiting at most `timeout`: whether the group
    /// is empty (gevent's `join(timeout)`).
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.core.join(Deadline::after(timeout))
    }

    /// Kills every member and waits until they have unwound (gevent's
    /// `kill()`). A member calling it unwinds too.
    pub fn kill(&self) {
        self.core.kill(Deadline::Never);
    }

    /// [`kill`](Group::kill), waiting at most `timeout`: whether the group
    /// is empty (gevent's `kill(timeout=timeout)`).
    pub fn kill_timeout(&self, timeout: Duration) -> bool {
        self.core.kill(Deadline::after(timeout))
    }
}

/// A [`Group`] of at most `size` running green threads: gevent's
/// `gevent.pool.Pool`. [`spawn`](Pool::spawn) waits (yielding, in a green
/// thread) while the pool is full; [`map`](Pool::map) and
/// [`imap`](Pool::imap) run a function over items with at most `size` at
/// once, giving the results in order.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::green::{self, Pool};
///
/// green::run(|| {
///     let pool = Pool::new(10).unwrap();
///     let squares = pool.map(|i: u64| {
///         threadkit::sleep(Duration::from_millis(1));
///         i * i
///     }, 0..100);
///     assert_eq!(squares.unwrap()[99], 99 * 99);
///     assert_eq!(pool.free_count(), 10);
/// })
/// .unwrap();
/// ```
///
/// # Differences from gevent
///
/// - `Pool(0)` is an error ([`BuildError`]) rather than a pool whose
///   spawns wait forever; an unbounded pool is a [`Group`].
/// - `map` returns `Err` with the first failed item's error (in order)
///   rather than raising; the other items still run. `imap` gives each
///   item's `Result`.
#[doc(alias("gevent.pool.Pool"))]
#[derive(Clone)]
pub struct Pool {
    group: Group,
    size: usize,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.size)
            .field("len", &self.len())
            .finish()
    }
}

impl Pool {
    /// A pool of at most `size` running green threads.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `size` is 0 (gevent's `Pool(0)` would make every
    /// spawn wait forever).
    pub fn new(size: usize) -> Result<Pool, BuildError> {
        if size == 0 {
            return Err(BuildError::zero_pool_size());
        }
        Ok(Pool {
            group: Group {
                core: Core::new(Some(size)),
            },
            size,
        })
    }

    /// The most green threads it runs at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many more it can run now (gevent's `free_count()`).
    pub fn free_count(&self) -> usize {
        let st = self.group.core.members.lock();
        self.size.saturating_sub(st.live.len() + st.reserved)
    }

    /// Whether it runs `size` green threads (gevent's `full()`).
    pub fn is_full(&self) -> bool {
        self.free_count() == 0
    }

    /// Waits until it has a free place, at most `timeout` (`None`: no
    /// limit); whether it has one (gevent's `wait_available`).
    pub fn wait_available(&self, timeout: Option<Duration>) -> bool {
        let core = &self.group.core;
        let mut st = core.members.lock();
        let size = self.size;
        core.members
            .wait_until(&mut st, Deadline::from_timeout(timeout), |m| {
                m.live.len() + m.reserved < size
            })
    }

    /// Spawns `f` as a green thread in the pool, first waiting (yielding
    /// in a green thread) until there is a free place (gevent's `spawn`).
    ///
    /// # Panics
    ///
    /// As [`super::spawn`], if its stack cannot be mapped.
    pub fn spawn<F, T>(&self, f: F) -> Greenlet<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.group.spawn(f)
    }

    /// [`spawn`](Pool::spawn) from `builder`; fails if a stack cannot be
    /// mapped.
    pub fn spawn_with<F, T>(&self, builder: Builder, f: F) -> std::io::Result<Greenlet<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.group.spawn_with(builder, f)
    }

    /// Adds a running green thread, first waiting for a free place
    /// (gevent's `add(blocking=True)`).
    pub fn add<T>(&self, g: &Greenlet<T>) {
        let core = &self.group.core;
        core.reserve(Deadline::Never);
        core.insert(g, true);
    }

    /// See [`Group::discard`].
    pub fn discard<T>(&self, g: &Greenlet<T>) -> bool {
        self.group.discard(g)
    }

    /// See [`Group::contains`].
    pub fn contains<T>(&self, g: &Greenlet<T>) -> bool {
        self.group.contains(g)
    }

    /// How many members have not finished.
    pub fn len(&self) -> usize {
        self.group.len()
    }

    /// Whether every member has finished.
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }

    /// See [`Group::join`].
    pub fn join(&self) {
        self.group.join();
    }

    /// See [`Group::join_timeout`].
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.group.join_timeout(timeout)
    }

    /// See [`Group::kill`].
    pub fn kill(&self) {
        self.group.kill();
    }

    /// See [`Group::kill_timeout`].
    pub fn kill_timeout(&self, timeout: Duration) -> bool {
        self.group.kill_timeout(timeout)
    }

    /// Runs `f` on every item, at most `size` at once, and returns the
    /// values in the items' order (gevent's `map`).
    ///
    /// # Errors
    ///
    /// The first item's (in order) [`GreenletError`], if any panicked or
    /// was killed; the others still ran.
    pub fn map<A, T, F, I>(&self, f: F, items: I) -> Result<Vec<T>, GreenletError>
    where
        F: Fn(A) -> T + Send + Sync + 'static,
        A: Send + 'static,
        T: Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let f = Arc::new(f);
        let started: Vec<Greenlet<T>> = items
            .into_iter()
            .map(|item| {
                let f = Arc::clone(&f);
                self.spawn(move || f(item))
            })
            .collect();
        let mut values = Vec::with_capacity(started.len());
        let mut first_error = None;
        for g in started {
            match g.get() {
                Ok(v) => values.push(v),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(values),
        }
    }

    /// Runs `f` on the items, at most `size` at once, starting them as the
    /// results are taken, and gives each item's result in the items' order
    /// (gevent's `imap`). Green threads it started keep running if the
    /// iterator is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::green::{self, Pool};
    ///
    /// green::run(|| {
    ///     let pool = Pool::new(4).unwrap();
    ///     let firsts: Vec<u32> = pool.imap(|i: u32| i + 1, 0..).take(3).map(Result::unwrap).collect();
    ///     assert_eq!(firsts, [1, 2, 3]);
    /// })
    /// .unwrap();
    /// ```
    pub fn imap<A, T, F, I>(&self, f: F, items: I) -> Imap<A, T, I::IntoIter>
    where
        F: Fn(A) -> T + Send + Sync + 'static,
        A: Send + 'static,
        T: Send + 'static,
        I: IntoIterator<Item = A>,
    {
        Imap {
            pool: self.clone(),
            f: Arc::new(f),
            items: items.into_iter(),
            started: VecDeque::new(),
        }
    }
}

/// The iterator of [`Pool::imap`]: each item's result, in order.
pub struct Imap<A, T, I> {
    pool: Pool,
    #[allow(clippy::type_complexity)]
    f: Arc<dyn Fn(A) -> T + Send + Sync>,
    items: I,
    started: VecDeque<Greenlet<T>>,
}

impl<A, T, I> fmt::Debug for Imap<A, T, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap")
            .field("pool", &self.pool)
            .field("started", &self.started.len())
            .finish_non_exhaustive()
    }
}

impl<A, T, I> Iterator for Imap<A, T, I>
where
    A: Send + 'static,
    T: Send + 'static,
    I: Iterator<Item = A>,
{
    type Item = Result<T, GreenletError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Keep up to `size` running ahead of the one taken.
        while self.started.len() < self.pool.size {
            let Some(item) = self.items.next() else {
                break;
            };
            let f = Arc::clone(&self.f);
            self.started.push_back(self.pool.spawn(move || f(item)));
        }
        self.started.pop_front().map(Greenlet::get)
    }
}
