//! `dump_threads()`: every thread, what it waits for, for how long, and who
//! could end the wait; `find_deadlocks()`: the cycles among those waits.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, SystemTime};

use super::waits::{self, WaitKind};
use crate::threading;

/// One thread's wait, as a dump shows it.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WaitInfo {
    /// What kind of call the thread is blocked in.
    pub kind: WaitKind,
    /// The waited-for object's name (a lock's name, a joined thread's name),
    /// when it has one.
    pub object: Option<String>,
    /// How long the thread has been waiting.
    pub waited: Duration,
    /// Whether the wait has a timeout (a timed wait never counts as part of
    /// a definite deadlock).
    pub timed: bool,
    /// The ident of the thread that alone can end this wait, when known: a
    /// lock's holder, the joined thread, the worker running the awaited task.
    pub holder: Option<u64>,
    /// For `Future.result` on a pool task not started yet: the pool it is
    /// queued in (the `pool` of that pool's workers' [`ThreadState`]s).
    #[cfg_attr(feature = "serde", serde(default))]
    pub queued_in: Option<u64>,
    /// With feature `debug-locks`: the locks the thread held when it began
    /// waiting, as (name, where acquired).
    pub holding: Vec<(String, String)>,
}

/// One thread in a [`ThreadDump`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThreadState {
    /// Python's `Thread.name`.
    pub name: String,
    /// Python's `Thread.ident` (threadkit's idents, see
    /// [`get_ident`](crate::threading::get_ident)).
    pub ident: u64,
    /// The operating system's thread id, where known.
    pub native_id: Option<u64>,
    /// Whether it is a daemon thread.
    pub daemon: bool,
    /// What it waits for; `None` while it runs (or waits outside threadkit).
    pub waiting: Option<WaitInfo>,
    /// For a worker of a thread pool: the pool's number in this process
    /// (see [`WaitInfo::queued_in`] and [`Deadlock::starved_pool`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub pool: Option<u64>,
    /// For a green thread (feature `green`): its id and carrier. Green
    /// threads are listed once they have waited in threadkit after the
    /// process's first dump (or `find_deadlocks`, or a watchdog's first
    /// look): until then their waits are not recorded, which keeps switches
    /// cheap. `waiting` `None` means running or ready to run; a green
    /// thread in `sleep` shows so too.
    #[cfg_attr(feature = "serde", serde(default))]
    pub green: Option<GreenInfo>,
}

/// Where a green thread in a [`ThreadDump`] lives (feature `green`).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GreenInfo {
    /// Its id ([`Greenlet::id`](crate::green::Greenlet::id) with feature
    /// `green`).
    pub id: u64,
    /// The name of the OS thread that carries it (runs its hub).
    pub carrier: String,
    /// That thread's ident.
    pub carrier_ident: u64,
    /// How many green threads live on that carrier, listed or not.
    pub carrier_live: usize,
}

/// A deadlock: threads each waiting for the next, the last for the first;
/// or a starved pool ([`starved_pool`](Self::starved_pool)): every worker of
/// a pool waiting for tasks that are queued in that same pool.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Deadlock {
    /// The threads of the cycle, each waiting for the one after it; for a
    /// starved pool, its workers.
    pub threads: Vec<ThreadState>,
    /// Whether some wait of the cycle has a timeout: the threads are stuck
    /// until it expires (and then one of them gives up), not forever.
    pub until_timeout: bool,
    /// Set for pool starvation: the pool (see [`ThreadState::pool`]) whose
    /// every worker waits, in `Future.result`, for tasks that only this
    /// pool could run, one at least still queued in it. No worker is left
    /// to start them.
    #[cfg_attr(feature = "serde", serde(default))]
    pub starved_pool: Option<u64>,
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pool) = self.starved_pool {
            write!(
                f,
                "pool #{pool} is starved: every worker waits for a task queued in the same pool"
            )?;
            for thread in &self.threads {
                let what = thread.waiting.as_ref().map(describe).unwrap_or_default();
                write!(f, ",\n  \"{}\" waits in {what}", thread.name)?;
                if let Some(queued) = thread.waiting.as_ref().and_then(|w| w.queued_in) {
                    write!(f, " (task queued in pool #{queued})")?;
                }
            }
            if self.until_timeout {
                f.write_str("\n  (until a timeout expires)")?;
            }
            return Ok(());
        }
        let n = self.threads.len();
        for (i, thread) in self.threads.iter().enumerate() {
            let next = &self.threads[(i + 1) % n];
            let what = thread.waiting.as_ref().map(describe).unwrap_or_default();
            let sep = if i + 1 == n { "" } else { ",\n  " };
            write!(
                f,
                "\"{}\" waits for {} held by \"{}\"{sep}",
                thread.name, what, next.name
            )?;
        }
        if self.until_timeout {
            f.write_str("\n  (until a timeout expires)")?;
        }
        Ok(())
    }
}

/// Every thread threadkit knows, with what each waits for: Java's `jstack`,
/// Go's goroutine dump. Prints as text; with feature `serde` (on with the
/// default `process`) it serializes, e.g. to JSON.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ThreadDump {
    /// When the dump was taken.
    pub taken_at: SystemTime,
    /// The threads, in creation order.
    pub threads: Vec<ThreadState>,
    /// The deadlocks among them ([`find_deadlocks`]).
    pub deadlocks: Vec<Deadlock>,
}

fn describe(wait: &WaitInfo) -> String {
    match &wait.object {
        Some(object) => format!("{} {object}", wait.kind.as_str()),
        None => wait.kind.as_str().to_string(),
    }
}

impl fmt::Display for ThreadDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: HashMap<u64, &str> = self
            .threads
            .iter()
            .map(|t| (t.ident, t.name.as_str()))
            .collect();
        writeln!(f, "threadkit thread dump ({} threads)", self.threads.len())?;
        for t in &self.threads {
            write!(f, "\"{}\" ident={}", t.name, t.ident)?;
            if let Some(native) = t.native_id {
                write!(f, " native={native}")?;
            }
            if t.daemon {
                f.write_str(" daemon")?;
            }
            if let Some(pool) = t.pool {
                write!(f, " worker of pool #{pool}")?;
            }
            if let Some(g) = &t.green {
                write!(
                    f,
                    " green id={} on \"{}\" ({} live there)",
                    g.id, g.carrier, g.carrier_live
                )?;
            }
            let Some(wait) = &t.waiting else {
                let state = if t.green.is_some() {
                    "running or runnable"
                } else {
                    "running"
                };
                writeln!(f, " [{state}]")?;
                continue;
            };
            let timed = if wait.timed { ", with timeout" } else { "" };
            writeln!(
                f,
                " [waiting: {}, {:.1} s{timed}]",
                describe(wait),
                wait.waited.as_secs_f64()
            )?;
            if let Some(holder) = wait.holder {
                let name = names.get(&holder).copied().unwrap_or("?");
                let verb = if wait.kind == WaitKind::Future {
                    "run by"
                } else {
                    "held by"
                };
                writeln!(f, "    - {verb} \"{name}\" (ident {holder})")?;
            }
            if let Some(pool) = wait.queued_in {
                writeln!(f, "    - task queued in pool #{pool}, not started")?;
            }
            for (lock, site) in &wait.holding {
                writeln!(f, "    - holding {lock}, acquired at {site}")?;
            }
        }
        match self.deadlocks.len() {
            0 => Ok(()),
            n => {
                writeln!(f, "Found {n} deadlock{}:", if n == 1 { "" } else { "s" })?;
                for d in &self.deadlocks {
                    writeln!(f, "  {d}")?;
                }
                Ok(())
            }
        }
    }
}

/// Takes a [`ThreadDump`] of every thread threadkit knows: those it
/// started, the main thread, and foreign threads that called into it.
///
/// A running thread shows as `[running]`: threadkit records a thread's
/// state only when it blocks in a threadkit wait, and never interrupts a
/// running thread to unwind its stack.
pub fn dump_threads() -> ThreadDump {
    let threads = snapshot();
    let deadlocks = cycles(&threads);
    ThreadDump {
        taken_at: SystemTime::now(),
        threads,
        deadlocks,
    }
}

/// The deadlocks among threadkit threads now: cycles of threads each
/// blocked on something only the next one can release (a lock it holds,
/// its own end for `join`, a pool task it runs), and starved pools (every
/// worker of a pool blocked in `Future.result` on tasks queued in that same
/// pool, [`Deadlock::starved_pool`]). A cycle with a timed wait in it is
/// reported with [`Deadlock::until_timeout`] set: stuck until then.
///
/// Event, Condition, Queue and Semaphore waits have no owner, so they are
/// never part of a cycle here; the watchdog's "all threads are asleep"
/// ([`Watchdog`](super::Watchdog)) covers them.
///
/// # Examples
///
/// The deadlock CPython's docs warn of ("when the callable associated with
/// a Future waits on the results of another Future"): a one-worker pool
/// whose task waits for a task queued behind it.
///
/// ```
/// use std::sync::{Arc, mpsc};
/// use threadkit::debug;
/// use threadkit::futures::ThreadPoolExecutor;
///
/// let pool = Arc::new(ThreadPoolExecutor::new(1).unwrap());
/// let (tx, rx) = mpsc::channel();
/// let outer = {
///     let pool2 = Arc::clone(&pool);
///     pool.submit(move || {
///         let inner = Arc::new(pool2.submit(|| 5).unwrap());
///         tx.send(Arc::clone(&inner)).unwrap();
///         inner.result().copied()
///     })
///     .unwrap()
/// };
/// let inner = rx.recv().unwrap();
/// let starved = loop {
///     match debug::find_deadlocks().into_iter().find(|d| d.starved_pool.is_some()) {
///         Some(found) => break found,
///         None => std::thread::sleep(std::time::Duration::from_millis(1)),
///     }
/// };
/// let wait = starved.threads[0].waiting.as_ref().unwrap();
/// assert_eq!(wait.queued_in, starved.starved_pool);
/// // Python would hang here; cancelling the queued task ends the wait.
/// assert!(inner.cancel());
/// assert!(outer.result().unwrap().is_err());
/// ```
pub fn find_deadlocks() -> Vec<Deadlock> {
    cycles(&snapshot())
}

fn snapshot() -> Vec<ThreadState> {
    // Green threads record their waits from the first dump on.
    #[cfg(feature = "green")]
    crate::green::arm_dumps();
    let mut pools = HashMap::new();
    let records: HashMap<u64, _> = waits::all_slots()
        .into_iter()
        .filter_map(|slot| {
            if let Some(pool) = slot.pool() {
                pools.insert(slot.ident, pool);
            }
            slot.snapshot().map(|r| (slot.ident, r))
        })
        .collect();
    let mut threads = BTreeMap::new();
    for handle in threading::enumerate() {
        let Some(ident) = handle.ident() else {
            continue;
        };
        let waiting = records.get(&ident).map(wait_info);
        threads.insert(
            ident,
            ThreadState {
                name: handle.name().to_string(),
                ident,
                native_id: handle.native_id(),
                daemon: handle.is_daemon(),
                waiting,
                pool: pools.get(&ident).copied(),
                green: None,
            },
        );
    }
    let threads = threads.into_values();
    #[cfg(feature = "green")]
    let threads = threads.chain(green_rows());
    threads.collect()
}

fn wait_info(seen: &waits::Seen) -> WaitInfo {
    WaitInfo {
        kind: seen.record.kind,
        object: seen.record.object.text(),
        waited: seen.record.since.elapsed(),
        timed: seen.record.timed,
        holder: seen.holder,
        queued_in: seen.queued_in,
        #[cfg(feature = "debug-locks")]
        holding: seen
            .held
            .iter()
            .map(|(lock, site)| (lock.to_string(), site.to_string()))
            .collect(),
        #[cfg(not(feature = "debug-locks"))]
        holding: Vec::new(),
    }
}

/// A row for each green thread that has a wait record, read from the hubs'
/// boards (never from a hub itself, which only its carrier touches).
#[cfg(feature = "green")]
fn green_rows() -> Vec<ThreadState> {
    let mut rows = Vec::new();
    for hub in crate::green::boards() {
        for g in hub.greens {
            let waiting = g.slot.snapshot().map(|seen| wait_info(&seen));
            rows.push(ThreadState {
                name: g
                    .name
                    .as_deref()
                    .map_or_else(|| format!("green-{}", g.id), str::to_string),
                ident: g.slot.ident,
                native_id: None,
                daemon: false,
                waiting,
                pool: None,
                green: Some(GreenInfo {
                    id: g.id,
                    carrier: hub.carrier.clone(),
                    carrier_ident: hub.carrier_ident,
                    carrier_live: hub.live,
                }),
            });
        }
    }
    rows
}

/// The cycles of the wait-for graph (each thread has at most one edge:
/// to the holder of what it waits for).
fn cycles(threads: &[ThreadState]) -> Vec<Deadlock> {
    let by_ident: HashMap<u64, &ThreadState> = threads.iter().map(|t| (t.ident, t)).collect();
    let next = |t: &ThreadState| -> Option<u64> {
        let wait = t.waiting.as_ref()?;
        if !wait.kind.is_owned() {
            return None;
        }
        wait.holder.filter(|h| by_ident.contains_key(h))
    };
    let mut found = Vec::new();
    let mut done = std::collections::HashSet::new();
    for start in threads {
        let mut path = Vec::new();
        let mut at = start.ident;
        let mut closed = false;
        while !done.contains(&at) {
            if path.contains(&at) {
                closed = true;
                break;
            }
            path.push(at);
            match next(by_ident[&at]) {
                Some(n) => at = n,
                None => break,
            }
        }
        if let Some(from) = path.iter().position(|&i| i == at).filter(|_| closed) {
            // Start the cycle at its lowest ident, so one cycle prints one way.
            let mut cycle = path[from..].to_vec();
            let low = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
            cycle.rotate_left(low);
            let threads: Vec<ThreadState> = cycle.iter().map(|i| by_ident[i].clone()).collect();
            let until_timeout = threads
                .iter()
                .any(|t| t.waiting.as_ref().is_some_and(|w| w.timed));
            found.push(Deadlock {
                threads,
                until_timeout,
                starved_pool: None,
            });
        }
        done.extend(path);
    }
    found.extend(super::tasks::starved_pools(threads));
    found
}
