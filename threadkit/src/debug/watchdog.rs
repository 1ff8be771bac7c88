//! An opt-in watchdog thread: reports deadlocks, "all threads are asleep"
//! and long stalls while the program runs (Go's `checkdead`, go-deadlock's
//! timeout, Python's `faulthandler.dump_traceback_later`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::dump::{ThreadDump, dump_threads};
use crate::threading::{self, Event};

/// What the watchdog saw.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Alarm {
    /// Threads wait for each other in a cycle, without timeouts
    /// ([`ThreadDump::deadlocks`]).
    Deadlock(ThreadDump),
    /// Every worker of a thread pool waits for tasks queued in that same
    /// pool, so nothing can start them ([`Deadlock::starved_pool`](super::Deadlock::starved_pool)).
    Starvation(ThreadDump),
    /// Every threadkit thread is blocked in a threadkit wait without a
    /// timeout: nothing can wake any of them (Go's "all goroutines are
    /// asleep"). A running thread, a thread in `sleep`, a pending `Timer`
    /// or any timed wait keeps this from firing.
    AllAsleep(ThreadDump),
    /// A thread has waited longer than the stall limit.
    Stall(ThreadDump),
    /// A dump asked for by [`dump_threads_later`].
    Scheduled(ThreadDump),
}

impl Alarm {
    /// The dump taken when the alarm fired.
    pub fn dump(&self) -> &ThreadDump {
        match self {
            Alarm::Deadlock(d)
            | Alarm::Starvation(d)
            | Alarm::AllAsleep(d)
            | Alarm::Stall(d)
            | Alarm::Scheduled(d) => d,
        }
    }
}

impl fmt::Display for Alarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headline = match self {
            Alarm::Deadlock(_) => "threadkit: DEADLOCK: threads wait for each other",
            Alarm::Starvation(_) => {
                "threadkit: DEADLOCK: a pool's workers all wait for tasks queued in that pool"
            }
            Alarm::AllAsleep(_) => "threadkit: all threads are asleep - deadlock!",
            Alarm::Stall(_) => "threadkit: a thread has been waiting longer than the stall limit",
            Alarm::Scheduled(_) => "threadkit: scheduled thread dump",
        };
        writeln!(f, "{headline}")?;
        write!(f, "{}", self.dump())
    }
}

type Handler = Arc<dyn Fn(&Alarm) + Send + Sync>;

/// Hands `alarm` to `handler` and, with feature `tracing`, emits it as an
/// `error!` event on `threadkit::deadlock` as well.
fn raise(handler: &Handler, alarm: &Alarm) {
    #[cfg(feature = "tracing")]
    {
        let kind = match alarm {
            Alarm::Deadlock(_) => "deadlock",
            Alarm::Starvation(_) => "starved pool",
            Alarm::AllAsleep(_) => "all asleep",
            Alarm::Stall(_) => "stall",
            Alarm::Scheduled(_) => "scheduled dump",
        };
        if !matches!(alarm, Alarm::Scheduled(_)) {
            super::trace::report(kind, alarm);
        }
    }
    handler(alarm);
}

/// Configures and starts the watchdog thread.
///
/// ```
/// use std::time::Duration;
/// use threadkit::debug::Watchdog;
///
/// let watchdog = Watchdog::new()
///     .period(Duration::from_millis(50))
///     .stall(Duration::from_secs(30))
///     .on_alarm(|alarm| eprintln!("{alarm}"))
///     .start();
/// watchdog.stop();
/// ```
#[derive(Clone)]
pub struct Watchdog {
    period: Duration,
    stall: Option<Duration>,
    all_asleep: bool,
    handler: Handler,
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog")
            .field("period", &self.period)
            .field("stall", &self.stall)
            .field("all_asleep", &self.all_asleep)
            .finish_non_exhaustive()
    }
}

impl Default for Watchdog {
    fn default() -> Self {
        Watchdog::new()
    }
}

impl Watchdog {
    /// A watchdog that checks every second for deadlocks and "all asleep",
    /// reports no stalls, and prints each alarm to stderr.
    pub fn new() -> Self {
        Watchdog {
            period: Duration::from_secs(1),
            stall: None,
            all_asleep: true,
            handler: Arc::new(|alarm| eprintln!("{alarm}")),
        }
    }

    /// How often to look.
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Also report any thread waiting longer than `limit` (once per wait).
    pub fn stall(mut self, limit: Duration) -> Self {
        self.stall = Some(limit);
        self
    }

    /// Whether to report "all threads are asleep" (on by default).
    pub fn all_asleep(mut self, report: bool) -> Self {
        self.all_asleep = report;
        self
    }

    /// What to do with an alarm (default: print it to stderr).
    pub fn on_alarm(mut self, handler: impl Fn(&Alarm) + Send + Sync + 'static) -> Self {
        self.handler = Arc::new(handler);
        self
    }

    /// Starts the watchdog on a daemon thread named `threadkit-watchdog`.
    pub fn start(self) -> WatchdogHandle {
        let stop = Arc::new(Event::new());
        let flag = Arc::clone(&stop);
        let thread = threading::Thread::builder()
            .name("threadkit-watchdog")
            .daemon(true)
            .spawn(move || self.run(&flag))
            .expect("spawning the watchdog thread");
        WatchdogHandle { stop, thread }
    }

    fn run(self, stop: &Event) {
        let me = threading::get_ident();
        // Each alarm once: the deadlock by its threads, a stall by its wait.
        let mut reported: Vec<Vec<u64>> = Vec::new();
        let mut asleep_reported = false;
        while !stop.wait_timeout(self.period) {
            let dump = dump_threads();
            for deadlock in dump.deadlocks.iter().filter(|d| !d.until_timeout) {
                let key: Vec<u64> = deadlock.threads.iter().map(|t| t.ident).collect();
                if !reported.contains(&key) {
                    reported.push(key);
                    let alarm = if deadlock.starved_pool.is_some() {
                        Alarm::Starvation(dump.clone())
                    } else {
                        Alarm::Deadlock(dump.clone())
                    };
                    raise(&self.handler, &alarm);
                }
            }
            let others: Vec<_> = dump.threads.iter().filter(|t| t.ident != me).collect();
            let asleep = !others.is_empty()
                && others
                    .iter()
                    .all(|t| t.waiting.as_ref().is_some_and(|w| !w.timed));
            if self.all_asleep && asleep && !asleep_reported {
                raise(&self.handler, &Alarm::AllAsleep(dump.clone()));
            }
            asleep_reported = asleep;
            if let Some(limit) = self.stall {
                let stalled = others.iter().find(|t| {
                    t.waiting.as_ref().is_some_and(|w| {
                        // Report once: in the first period after the limit.
                        w.waited >= limit && w.waited < limit + self.period
                    })
                });
                if stalled.is_some() {
                    raise(&self.handler, &Alarm::Stall(dump.clone()));
                }
            }
        }
    }
}

/// The running watchdog; [`stop`](Self::stop) ends it. Dropping the handle
/// leaves it running (it is a daemon thread).
#[derive(Debug)]
pub struct WatchdogHandle {
    stop: Arc<Event>,
    thread: threading::Thread,
}

impl WatchdogHandle {
    /// Stops the watchdog and waits for its thread to end.
    pub fn stop(self) {
        self.stop.set();
        let _ = self.thread.join();
    }
}

/// Prints (or hands to `handler`) a [`ThreadDump`] after `after`, and then
/// every `after` again if `repeat`: Python's
/// `faulthandler.dump_traceback_later(timeout, repeat)`. Stop it with the
/// returned handle.
pub fn dump_threads_later(
    after: Duration,
    repeat: bool,
    handler: impl Fn(&Alarm) + Send + Sync + 'static,
) -> WatchdogHandle {
    let stop = Arc::new(Event::new());
    let flag = Arc::clone(&stop);
    let thread = threading::Thread::builder()
        .name("threadkit-dump-later")
        .daemon(true)
        .spawn(move || {
            while !flag.wait_timeout(after) {
                handler(&Alarm::Scheduled(dump_threads()));
                if !repeat {
                    break;
                }
            }
        })
        .expect("spawning the dump thread");
    WatchdogHandle { stop, thread }
}
