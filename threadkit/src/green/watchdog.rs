//! The blocked-hub watchdog: gevent's monitor thread (`max_blocking_time`)
//! and Java's pinned-thread events. A green thread that runs, or blocks
//! outside threadkit (a `std::sync::Mutex`, `std::thread::sleep`, a C
//! call), for longer than [`max_blocking`] stalls every green thread of its
//! carrier; one process-wide watchdog thread notices and reports it once
//! per stall, and again when the hub goes on.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use threadkit::green;
//!
//! let reports = Arc::new(Mutex::new(Vec::new()));
//! let seen = Arc::clone(&reports);
//! let carrier = std::thread::current().id();
//! green::set_blocked_hook(move |r: &green::BlockedReport| {
//!     if r.carrier_id == carrier {
//!         seen.lock().unwrap().push((r.resumed, r.green_name.clone()));
//!     }
//! });
//! green::set_max_blocking(Some(Duration::from_millis(20)));
//! green::run(|| {
//!     let g = green::Builder::new()
//!         .name("stubborn")
//!         // Blocks the carrier: every green thread of it waits meanwhile.
//!         .spawn(|| std::thread::sleep(Duration::from_millis(200)))
//!         .unwrap();
//!     g.join();
//! })
//! .unwrap();
//! // The watchdog reports from its own thread: wait for the second report.
//! let start = std::time::Instant::now();
//! while reports.lock().unwrap().len() < 2 && start.elapsed() < Duration::from_secs(10) {
//!     std::thread::sleep(Duration::from_millis(5));
//! }
//! let reports = reports.lock().unwrap();
//! assert_eq!(reports[0], (false, Some("stubborn".into())));
//! assert_eq!(reports[1], (true, Some("stubborn".into())));
//! ```
//!
//! The cost on the switch path is a counter and three plain stores per
//! switch (the count, the slot number, and for the hub itself the slot's
//! record; no read-modify-write); the watchdog thread samples
//! them every `max_blocking / 4`, so a stall is reported between 1x and
//! 1.25x `max_blocking` after it began.
//!
//! What the watchdog reads of a hub is its own: the counter and slot
//! number ([`Watch`]) and one [`Published`] record per slot, shared by
//! reference count and listed in the watch under a lock. It never reaches
//! into the hub's slot table, which only the carrier touches.

use std::fmt;
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One stall of a hub, or (`resumed`) its end: what the watchdog reports.
///
/// # Differences from gevent
///
/// gevent's monitor prints the blocking greenlet's stack; a Rust program
/// cannot read another thread's stack safely, so the report names the green
/// thread, where it was spawned and where it last waited in threadkit (run
/// `gdb -p PID` or `perf` on [`carrier_tid`](Self::carrier_tid) for the
/// stack).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BlockedReport {
    /// False when the stall is reported, true when the hub goes on again.
    pub resumed: bool,
    /// The carrier OS thread's name, if it has one.
    pub carrier: Option<String>,
    /// The carrier OS thread's id.
    pub carrier_id: ThreadId,
    /// The carrier's native thread id (Linux `gettid`), for `gdb`/`perf`.
    pub carrier_tid: i64,
    /// The id of the green thread that does not yield ([`super::Greenlet::id`]).
    pub green_id: u64,
    /// Its name, if it was given one.
    pub green_name: Option<Arc<str>>,
    /// Where it was spawned.
    pub spawned_at: &'static Location<'static>,
    /// Where it last waited in threadkit (a `sleep`, `yield_now` or
    /// `Greenlet` join), if it has and the wait records its caller.
    pub last_wait: Option<&'static Location<'static>>,
    /// How long it has run without switching (at least; up to a quarter of
    /// `max_blocking` more). In a `resumed` report: how long the stall
    /// lasted.
    pub blocked_for: Duration,
    /// How many other green threads of the hub there are, all kept waiting.
    pub waiting: usize,
}

impl fmt::Display for BlockedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.green_name.as_deref().unwrap_or("<unnamed>");
        let carrier = self.carrier.as_deref().unwrap_or("<unnamed>");
        if self.resumed {
            return write!(
                f,
                "green hub on thread '{carrier}' (tid {}) goes on after {} ms: green thread \
                 '{name}' (id {}) switched again",
                self.carrier_tid,
                self.blocked_for.as_millis(),
                self.green_id
            );
        }
        write!(
            f,
            "green hub on thread '{carrier}' (tid {}) blocked for {} ms by green thread \
             '{name}' (id {}), spawned at {}",
            self.carrier_tid,
            self.blocked_for.as_millis(),
            self.green_id,
            self.spawned_at
        )?;
        match self.last_wait {
            Some(at) => write!(f, ", last waited at {at}")?,
            None => f.write_str(", not waited in threadkit yet")?,
        }
        write!(
            f,
            "; {} other green thread(s) wait: a call that does not yield (std::sync lock, \
             std::thread::sleep, blocking IO, a long computation) blocks its carrier",
            self.waiting
        )
    }
}

/// What a hub publishes about one of its slots, for the watchdog thread:
/// atomics and a lock only, shared by the slot and the hub's [`Watch`].
#[derive(Debug)]
pub(crate) struct Published {
    id: AtomicU64,
    spawned_at: AtomicPtr<Location<'static>>,
    last_wait: AtomicPtr<Location<'static>>,
    /// Set at spawn only when a name is given or was (rare): `named`.
    name: Mutex<Option<Arc<str>>>,
    named: std::sync::atomic::AtomicBool,
}

fn loc_ptr(at: &'static Location<'static>) -> *mut Location<'static> {
    ptr::from_ref(at).cast_mut()
}

impl Published {
    pub(crate) fn new() -> Published {
        Published {
            id: AtomicU64::new(0),
            spawned_at: AtomicPtr::new(loc_ptr(Location::caller())),
            last_wait: AtomicPtr::new(ptr::null_mut()),
            name: Mutex::new(None),
            named: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A new tenant of the slot.
    pub(crate) fn spawned(&self, id: u64, at: &'static Location<'static>, name: &Option<Arc<str>>) {
        self.id.store(id, Relaxed);
        self.spawned_at.store(loc_ptr(at), Relaxed);
        self.last_wait.store(ptr::null_mut(), Relaxed);
        if name.is_some() || self.named.load(Relaxed) {
            *self.name.lock() = name.clone();
            self.named.store(name.is_some(), Relaxed);
        }
    }

    /// Notes where the running green thread waits.
    #[inline]
    pub(crate) fn waits_at(&self, at: &'static Location<'static>) {
        self.last_wait.store(loc_ptr(at), Relaxed);
    }
}

/// A hub's published switch counter and running green thread.
#[derive(Debug)]
pub(crate) struct Watch {
    switches: AtomicU64,
    /// The running green thread's slot plus one; 0 while the root runs.
    running: AtomicU32,
    /// Every slot's record, by slot number (see [`Watch::record`]).
    records: Mutex<Vec<Arc<Published>>>,
    live: AtomicUsize,
    carrier: Option<String>,
    carrier_id: ThreadId,
    carrier_tid: i64,
    /// The watchdog's own view: the last count seen, since when, and
    /// whether this stall was reported.
    seen: Mutex<Seen>,
}

#[derive(Debug)]
struct Seen {
    switches: u64,
    since: Instant,
    reported: Option<BlockedReport>,
    /// The hub is gone ([`Watch::retire`]).
    retired: bool,
}

impl Watch {
    /// The watch of a hub made on the calling thread; starts the watchdog
    /// thread if it is not running.
    pub(crate) fn new() -> Arc<Watch> {
        let me = std::thread::current();
        // SAFETY: gettid has no preconditions.
        let tid = i64::from(unsafe { libc::gettid() });
        let watch = Arc::new(Watch {
            switches: AtomicU64::new(0),
            running: AtomicU32::new(0),
            records: Mutex::new(Vec::new()),
            live: AtomicUsize::new(0),
            carrier: me.name().map(String::from),
            carrier_id: me.id(),
            carrier_tid: tid,
            seen: Mutex::new(Seen {
                switches: 0,
                since: Instant::now(),
                reported: None,
                retired: false,
            }),
        });
        let watched = watched();
        watched.hubs.lock().push(Arc::clone(&watch));
        if max_blocking().is_some() {
            start();
        }
        watch
    }

    /// The record of a new slot of the hub, number `slot` (slots are
    /// numbered in order from 0), listed for the watchdog.
    pub(crate) fn record(&self, slot: u32) -> Arc<Published> {
        let record = Arc::new(Published::new());
        let mut records = self.records.lock();
        debug_assert_eq!(records.len(), slot as usize);
        records.push(Arc::clone(&record));
        record
    }

    /// The hub is gone: no more reports of a stall, but the one that
    /// ended.
    pub(crate) fn retire(&self) {
        let mut seen = self.seen.lock();
        seen.retired = true;
        self.running.store(0, Relaxed);
    }

    /// The hub is about to run the green thread of `slot`: its `count`th
    /// switch.
    #[inline]
    pub(crate) fn switch_in(&self, count: u64, slot: u32) {
        self.switches.store(count, Relaxed);
        self.running.store(slot.wrapping_add(1), Relaxed);
    }

    /// The hub's root stopped running green threads.
    #[inline]
    pub(crate) fn switch_out(&self) {
        self.running.store(0, Relaxed);
    }

    /// How many green threads the hub has.
    #[inline]
    pub(crate) fn set_live(&self, live: usize) {
        self.live.store(live, Relaxed);
    }

    /// One look by the watchdog thread: a report to make, if any. `gone`:
    /// the hub has been dropped (a stall it was in has ended).
    fn sample(&self, now: Instant, max: Duration, gone: bool) -> Option<BlockedReport> {
        let mut seen = self.seen.lock();
        let switches = self.switches.load(Relaxed);
        let running = self.running.load(Relaxed);
        if switches != seen.switches || running == 0 || gone || seen.retired {
            seen.switches = switches;
            let since = std::mem::replace(&mut seen.since, now);
            return seen.reported.take().map(|mut r| {
                r.resumed = true;
                r.blocked_for = now.saturating_duration_since(since);
                r
            });
        }
        if seen.reported.is_some() || now.saturating_duration_since(seen.since) < max {
            return None;
        }
        // The slot's record was listed before the slot first ran; a
        // number without one (not possible) reports nothing.
        let record = Arc::clone(self.records.lock().get(running as usize - 1)?);
        let spawned_at = record.spawned_at.load(Relaxed);
        let last_wait = record.last_wait.load(Relaxed);
        let report = BlockedReport {
            resumed: false,
            carrier: self.carrier.clone(),
            carrier_id: self.carrier_id,
            carrier_tid: self.carrier_tid,
            green_id: record.id.load(Relaxed),
            green_name: record.name.lock().clone(),
            // SAFETY: only ever set from a `&'static Location`.
            spawned_at: unsafe { &*spawned_at },
            // SAFETY: null or set from a `&'static Location`.
            last_wait: unsafe { last_wait.as_ref() },
            blocked_for: now.saturating_duration_since(seen.since),
            waiting: self.live.load(Relaxed).saturating_sub(1),
        };
        // Still the same switch: the record was not being rewritten.
        if self.switches.load(Relaxed) != switches {
            return None;
        }
        seen.reported = Some(report.clone());
        Some(report)
    }
}

type Hook = Arc<dyn Fn(&BlockedReport) + Send + Sync>;

struct Watched {
    /// Every hub's watch; one the watchdog alone holds belongs to a hub
    /// that is gone, and goes after its last report.
    hubs: Mutex<Vec<Arc<Watch>>>,
    hook: Mutex<Option<Hook>>,
    started: std::sync::Once,
}

fn watched() -> &'static Watched {
    static WATCHED: OnceLock<Watched> = OnceLock::new();
    WATCHED.get_or_init(|| Watched {
        hubs: Mutex::new(Vec::new()),
        hook: Mutex::new(None),
        started: std::sync::Once::new(),
    })
}

/// Nanoseconds, `OFF` or `UNSET` (read the environment).
static MAX_BLOCKING: AtomicU64 = AtomicU64::new(UNSET);
const UNSET: u64 = u64::MAX;
const OFF: u64 = 0;
/// gevent's default `max_blocking_time`.
const DEFAULT: Duration = Duration::from_millis(100);

/// Parses `THREADKIT_GREEN_MAX_BLOCKING`: `off` or `0`, or a number with a
/// unit (`100ms`, `0.5s`, `250us`); a bare number is seconds, as gevent's
/// `GEVENT_MAX_BLOCKING_TIME`. `None` if it does not parse.
fn parse(s: &str) -> Option<Option<Duration>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let secs: f64 = num.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let d = Duration::try_from_secs_f64(secs * scale).ok()?;
    Some((!d.is_zero()).then_some(d))
}

/// How long a green thread may run without switching before the watchdog
/// reports its hub as blocked; `None`: the watchdog is off.
///
/// 100 ms by default (gevent's `max_blocking_time`), or what
/// `THREADKIT_GREEN_MAX_BLOCKING` says when it is set at the first call:
/// `off`, or a duration such as `100ms`, `0.5s` or `250us` (a bare number is
/// seconds, as gevent's `GEVENT_MAX_BLOCKING_TIME`).
pub fn max_blocking() -> Option<Duration> {
    let mut ns = MAX_BLOCKING.load(Relaxed);
    if ns == UNSET {
        let from_env = std::env::var("THREADKIT_GREEN_MAX_BLOCKING")
            .ok()
            .and_then(|v| parse(&v))
            .unwrap_or(Some(DEFAULT));
        let want = from_env.map_or(OFF, |d| d.as_nanos().clamp(1, u128::from(UNSET - 1)) as u64);
        ns = match MAX_BLOCKING.compare_exchange(UNSET, want, Relaxed, Relaxed) {
            Ok(_) => want,
            Err(set) => set,
        };
    }
    (ns != OFF).then(|| Duration::from_nanos(ns))
}

/// Sets [`max_blocking`] for every hub of the process (`None`: no reports).
///
/// The watchdog is one thread per process (`threadkit-green-watchdog`),
/// started with the first hub, or by this call, unless the limit is off.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::green;
///
/// green::set_max_blocking(Some(Duration::from_millis(20))); // Java's JFR uses 20 ms
/// assert_eq!(green::max_blocking(), Some(Duration::from_millis(20)));
/// green::set_max_blocking(None);
/// assert_eq!(green::max_blocking(), None);
/// ```
pub fn set_max_blocking(max: Option<Duration>) {
    let ns = max.map_or(OFF, |d| d.as_nanos().clamp(1, u128::from(UNSET - 1)) as u64);
    MAX_BLOCKING.store(ns, Relaxed);
    if max.is_some() {
        start();
    }
}

/// Sends the watchdog's reports to `hook` instead of standard error (where
/// they go by default, one line each). The hook runs on the watchdog
/// thread; it replaces any hook set before.
pub fn set_blocked_hook(hook: impl Fn(&BlockedReport) + Send + Sync + 'static) {
    *watched().hook.lock() = Some(Arc::new(hook));
}

/// Starts the watchdog thread once per process (with the first hub, or
/// when the watchdog is turned on; never while it is off).
fn start() {
    // Under loom the watchdog would be a real thread beside the model's.
    if cfg!(loom) {
        return;
    }
    let watched = watched();
    watched.started.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("threadkit-green-watchdog".into())
            .spawn(run);
        // Without the thread there are no reports; nothing else depends on it.
        drop(spawned);
    });
}

/// The watchdog thread: samples every hub every `max_blocking / 4`.
fn run() {
    let watched = watched();
    loop {
        let max = max_blocking();
        let period = max
            .map_or(DEFAULT, |m| m / 4)
            .clamp(Duration::from_millis(1), Duration::from_millis(250));
        std::thread::sleep(period);
        let Some(max) = max else { continue };
        let hubs: Vec<(Arc<Watch>, bool)> = {
            let mut hubs = watched.hubs.lock();
            let all = hubs
                .iter()
                .map(|w| {
                    let gone = Arc::strong_count(w) == 1;
                    (Arc::clone(w), gone)
                })
                .collect();
            hubs.retain(|w| Arc::strong_count(w) > 2);
            all
        };
        let now = Instant::now();
        for (hub, gone) in hubs {
            if let Some(report) = hub.sample(now, max, gone) {
                let hook = watched.hook.lock().clone();
                match hook {
                    Some(hook) => hook(&report),
                    None => eprintln!("threadkit: {report}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_environment_variable() {
        assert_eq!(parse("off"), Some(None));
        assert_eq!(parse("0"), Some(None));
        assert_eq!(parse("100ms"), Some(Some(Duration::from_millis(100))));
        assert_eq!(parse("0.5s"), Some(Some(Duration::from_millis(500))));
        assert_eq!(parse("0.25"), Some(Some(Duration::from_millis(250))));
        assert_eq!(parse("250us"), Some(Some(Duration::from_micros(250))));
        assert_eq!(parse("fast"), None);
        assert_eq!(parse("-1s"), None);
    }
}
