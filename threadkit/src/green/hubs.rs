//! [`Hubs`]: green threads over several carrier OS threads (multi-core),
//! with placement at spawn and stealing of green threads that have not
//! started.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::time::Duration;

use crossbeam_deque::{Injector, Steal};
use parking_lot::Mutex;

use super::{Builder, Greenlet};
use crate::threading::{Event, Thread, ThreadError};

/// A green thread queued for a carrier: it puts the green thread on the
/// hub of the carrier that runs it.
type Job = Box<dyn FnOnce() + Send>;

/// How many queued green threads a carrier takes at a time before it runs
/// its hub once more.
const BATCH: usize = 32;

thread_local! {
    /// On a carrier: the address of its [`Shared`] (0 elsewhere).
    static CARRIER_OF: Cell<usize> = const { Cell::new(0) };
}

/// What the carriers and the [`Hubs`] handle share.
struct Shared {
    /// One queue per carrier of the green threads placed there that no
    /// carrier has taken yet.
    queues: Vec<Injector<Job>>,
    /// One per carrier: set when there may be something for it to do.
    signals: Vec<Event>,
    /// Whether each carrier waits on its signal (so a spawn wakes it to
    /// steal).
    waiting: Vec<AtomicBool>,
    /// Round robin: the carrier of the next spawn.
    next: AtomicUsize,
    /// Green threads spawned through the handle that have not finished.
    pending: AtomicUsize,
    /// Set by [`Hubs::shutdown`].
    closing: AtomicBool,
}

impl Shared {
    /// The next queued green thread for carrier `me`: from its own queue,
    /// else (with `steal`) taken from another carrier's; whether it was
    /// stolen.
    fn take(&self, me: usize, steal: bool) -> Option<(Job, bool)> {
        let n = self.queues.len();
        let tries = if steal { n } else { 1 };
        (0..tries).find_map(|k| {
            let queue = &self.queues[(me + k) % n];
            loop {
                match queue.steal() {
                    Steal::Success(job) => return Some((job, k > 0)),
                    Steal::Empty => return None,
                    Steal::Retry => {}
                }
            }
        })
    }

    /// Whether a carrier may exit: closing, and nothing spawned through the
    /// handle is left.
    fn drained(&self) -> bool {
        self.closing.load(Ordering::SeqCst) && self.pending.load(Ordering::SeqCst) == 0
    }

    fn wake_all(&self) {
        self.signals.iter().for_each(Event::set);
    }
}

/// Counts a green thread spawned through the handle until it has finished
/// (or was dropped without running); the last one of a closing `Hubs`
/// wakes the carriers.
struct Pending(Arc<Shared>);

impl Drop for Pending {
    fn drop(&mut self) {
        if self.0.pending.fetch_sub(1, Ordering::SeqCst) == 1
            && self.0.closing.load(Ordering::SeqCst)
        {
            self.0.wake_all();
        }
    }
}

/// Several hubs, one per carrier OS thread, sharing the green threads
/// spawned through it: green threads on every core.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use threadkit::green::Hubs;
///
/// let hubs = Hubs::new(2).unwrap();
/// let sum = Arc::new(AtomicU64::new(0));
/// let gs: Vec<_> = (0..100u64)
///     .map(|i| {
///         let sum = Arc::clone(&sum);
///         hubs.spawn(move || {
///             threadkit::sleep(std::time::Duration::from_millis(1)); // yields
///             sum.fetch_add(i, Ordering::Relaxed);
///             i * 2
///         })
///     })
///     .collect();
/// let doubled: u64 = gs.into_iter().map(|g| g.get().unwrap()).sum();
/// hubs.shutdown(); // waits for every green thread, then joins the carriers
/// assert_eq!(sum.load(Ordering::Relaxed), 4950);
/// assert_eq!(doubled, 9900);
/// ```
///
/// **Placement.** [`spawn`](Hubs::spawn) queues the green thread for the
/// next carrier in turn (round robin) and wakes that carrier and one other
/// that waits. A carrier takes the green threads queued for it whenever
/// its hub lets it (between two green threads, up to 32 at a time), and
/// when none are queued for it, one of those queued for another: it
/// *steals* it. Only green threads that have not started are ever queued, so
/// stealing moves no started one: a green thread runs to its end on the
/// carrier that took it (soundness rule 1). A carrier kept busy by a green
/// thread that does not yield (a loop with no threadkit wait) takes
/// nothing more meanwhile, and the others take what was queued for it.
///
/// Green threads that a green thread of a carrier spawns with
/// [`spawn`](super::spawn) go to that carrier's own hub, as on any thread.
/// `Hubs::spawn` works from any thread, green or not.
///
/// **Shutdown.** [`shutdown`](Hubs::shutdown), and dropping the `Hubs`,
/// wait: every green thread spawned through it runs to its end (nothing
/// is killed, unlike [`run`](super::run), which kills the green threads
/// left when its function returns), then the carriers finish the green
/// threads those spawned and exit, and are joined. Kill the green threads
/// first ([`killall`](super::killall), a [`Group`](super::Group)) to end
/// sooner. A green thread spawned once the shutdown has begun never runs:
/// its [`Greenlet`] reports [`Killed`](super::GreenletError::Killed).
///
/// # Differences from gevent
///
/// gevent has one hub per OS thread and nothing that shares green threads
/// between hubs: a program runs a gevent loop in each of several threads
/// or processes and divides the work itself. `Hubs` is that division done
/// for it, with carriers that take what another carrier has not started
/// (Go's scheduler and Java's virtual-thread carriers move started ones
/// too, which Rust cannot do soundly).
pub struct Hubs {
    shared: Arc<Shared>,
    carriers: Mutex<Vec<Thread<()>>>,
}

impl fmt::Debug for Hubs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hubs")
            .field("carriers", &self.shared.queues.len())
            .field("pending", &self.shared.pending.load(Ordering::Relaxed))
            .field("closing", &self.shared.closing.load(Ordering::Relaxed))
            .finish()
    }
}

/// Settings for new [`Hubs`]: how many carriers, their names and their
/// stack size.
///
/// # Examples
///
/// ```
/// use threadkit::green::Hubs;
///
/// let hubs = Hubs::builder()
///     .carriers(2)
///     .name("worker-hub")
///     .stack_size(8 << 20)
///     .build()
///     .unwrap();
/// let name = hubs.spawn(|| threadkit::green::on_carrier_stack(|| {
///     std::thread::current().name().map(String::from)
/// }));
/// assert!(name.get().unwrap().unwrap().starts_with("worker-hub-"));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a HubsBuilder does nothing until build()"]
pub struct HubsBuilder {
    carriers: Option<usize>,
    name: Option<String>,
    stack_size: Option<usize>,
}

impl HubsBuilder {
    /// Default settings: one carrier per core
    /// (`std::thread::available_parallelism`), named `green-hub-N`, with
    /// threadkit's default thread stack size.
    pub fn new() -> HubsBuilder {
        HubsBuilder::default()
    }

    /// How many carrier OS threads (hubs).
    pub fn carriers(mut self, n: usize) -> HubsBuilder {
        self.carriers = Some(n);
        self
    }

    /// The carriers' names: `name-0`, `name-1`, ...
    pub fn name(mut self, name: impl Into<String>) -> HubsBuilder {
        self.name = Some(name.into());
        self
    }

    /// The carriers' own stack size in bytes: what
    /// [`on_carrier_stack`](super::on_carrier_stack) runs on. (Green
    /// threads have their own stacks: [`Builder::stack_size`].)
    pub fn stack_size(mut self, bytes: usize) -> HubsBuilder {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts the carriers.
    ///
    /// # Errors
    ///
    /// [`ThreadError::Spawn`] if no carrier was asked for or the operating
    /// system refuses a thread (the carriers started are stopped again).
    pub fn build(self) -> Result<Hubs, ThreadError> {
        let n = self.carriers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        if n == 0 {
            return Err(ThreadError::Spawn(
                "green::Hubs needs at least one carrier".into(),
            ));
        }
        let shared = Arc::new(Shared {
            queues: (0..n).map(|_| Injector::new()).collect(),
            signals: (0..n).map(|_| Event::new()).collect(),
            waiting: (0..n).map(|_| AtomicBool::new(false)).collect(),
            next: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
        });
        let hubs = Hubs {
            shared: Arc::clone(&shared),
            carriers: Mutex::new(Vec::with_capacity(n)),
        };
        let prefix = self.name.as_deref().unwrap_or("green-hub");
        for me in 0..n {
            let mut builder = Thread::builder()
                .name(format!("{prefix}-{me}"))
                .daemon(true);
            if let Some(bytes) = self.stack_size {
                builder = builder.stack_size(bytes);
            }
            let shared = Arc::clone(&shared);
            // On failure `hubs` drops here, which stops the ones started.
            let carrier = builder.spawn(move || carrier(&shared, me))?;
            hubs.carriers.lock().push(carrier);
        }
        Ok(hubs)
    }
}

impl Hubs {
    /// Starts `n` carriers with the default names and stack size (see
    /// [`HubsBuilder`]).
    ///
    /// # Errors
    ///
    /// As [`HubsBuilder::build`].
    pub fn new(n: usize) -> Result<Hubs, ThreadError> {
        HubsBuilder::new().carriers(n).build()
    }

    /// Settings for new `Hubs`.
    pub fn builder() -> HubsBuilder {
        HubsBuilder::new()
    }

    /// How many carriers (hubs) it has.
    pub fn carriers(&self) -> usize {
        self.shared.queues.len()
    }

    /// Spawns a green thread on one of the hubs (see the type's docs for
    /// which): gevent's `spawn`, from any thread.
    #[track_caller]
    pub fn spawn<F, T>(&self, f: F) -> Greenlet<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_with(Builder::new(), f)
    }

    /// [`spawn`](Hubs::spawn) with a name and stack size. A stack that
    /// cannot be mapped on the carrier ends the green thread as panicked,
    /// with the error as its message.
    #[track_caller]
    pub fn spawn_with<F, T>(&self, builder: Builder, f: F) -> Greenlet<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = &self.shared;
        shared.pending.fetch_add(1, Ordering::SeqCst);
        let pending = Pending(Arc::clone(shared));
        let (greenlet, job) = builder.unplaced(move || {
            let _pending = pending;
            f()
        });
        if shared.closing.load(Ordering::SeqCst) {
            // Never runs: the job sees the kill and ends it killed.
            greenlet.waker().kill();
            job();
            return greenlet;
        }
        let n = shared.queues.len();
        let to = shared.next.fetch_add(1, Ordering::Relaxed) % n;
        shared.queues[to].push(job);
        // Pairs with the carriers' fence between `waiting` and their last
        // look at the queues: either one sees the job or we see it waiting.
        fence(Ordering::SeqCst);
        shared.signals[to].set();
        if let Some(other) = (1..n)
            .map(|k| (to + k) % n)
            .find(|&c| shared.waiting[c].load(Ordering::SeqCst))
        {
            shared.signals[other].set();
        }
        greenlet
    }

    /// Waits until every green thread spawned through it has finished,
    /// then until the carriers have finished the green threads those
    /// spawned, and joins the carriers. Later spawns never run (their
    /// green threads report killed). Called again, or by `Drop`, it does
    /// nothing more.
    ///
    /// Called from a green thread on one of its own carriers, it begins
    /// the shutdown and returns without waiting (a carrier cannot join
    /// itself); the carriers exit once their work is done.
    pub fn shutdown(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.wake_all();
        let carriers = std::mem::take(&mut *self.carriers.lock());
        let mine = Arc::as_ptr(&self.shared) as usize;
        if CARRIER_OF.with(Cell::get) == mine {
            return;
        }
        for carrier in carriers {
            // A carrier runs no user code outside green threads, whose
            // panics their greenlets keep: nothing to report here.
            let _ = carrier.handle().join();
        }
    }

    /// Whether [`shutdown`](Hubs::shutdown) has begun.
    pub fn is_shutdown(&self) -> bool {
        self.shared.closing.load(Ordering::SeqCst)
    }
}

/// Waits for the green threads, then joins the carriers:
/// [`shutdown`](Hubs::shutdown).
impl Drop for Hubs {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A carrier's life: take queued green threads onto its hub, run the hub,
/// wait for more; exit once the `Hubs` closes and all is done.
fn carrier(shared: &Shared, me: usize) {
    CARRIER_OF.with(|c| c.set(std::ptr::from_ref(shared) as usize));
    let signal = &shared.signals[me];
    loop {
        signal.clear();
        // Its own queue first, up to a batch; a stolen one alone (the
        // others queued there may go to a carrier that is free sooner).
        let mut took = 0;
        while took < BATCH {
            let Some((job, stolen)) = shared.take(me, took == 0) else {
                break;
            };
            job();
            took += 1;
            if stolen {
                break;
            }
        }
        if took > 0 {
            // Runs what is ready once (the new ones among them), then looks
            // at the queues again.
            super::yield_now();
            continue;
        }
        shared.waiting[me].store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if let Some((job, _)) = shared.take(me, true) {
            shared.waiting[me].store(false, Ordering::SeqCst);
            job();
            continue;
        }
        if shared.drained() {
            shared.waiting[me].store(false, Ordering::SeqCst);
            if super::hub::get().is_none_or(|hub| hub.live() == 0) {
                break;
            }
            // Green threads spawned by green threads are left: run them,
            // looking again now and then (nothing signals their end).
            signal.wait_timeout(Duration::from_millis(2));
            continue;
        }
        // Runs the hub (if it has green threads) until signalled.
        signal.wait();
        shared.waiting[me].store(false, Ordering::SeqCst);
    }
    CARRIER_OF.with(|c| c.set(0));
}
