//! The parent side of a process pool: one manager thread per worker slot.
//!
//! # Protocol
//!
//! Submitted tasks wait in `pending` (CPython's `_pending_work_items` +
//! call queue). `Pool::dispatch` hands each to the live worker with the
//! fewest tasks in flight. How many a worker may have in flight adapts to
//! the tasks: one while its tasks take longer than [`FAST_TASK`] (so a long
//! task never has others queued behind it while another worker idles, and
//! equal CPU-bound tasks spread one per worker), up to [`WINDOW`] once they
//! are quick (so the pipe stays full and round trips overlap: this is what
//! makes tiny tasks cheap). A task is marked running when handed out, so
//! it can be cancelled until then.
//!
//! Each slot's manager thread starts its worker (and re-starts it), runs the
//! initializer, then reads replies; a writer thread per worker batches the
//! frames handed to it into few writes. When the worker ends — EOF or a bad
//! frame on its channel — the manager reaps it, fails exactly the tasks that
//! were in flight on it with `BrokenExecutor` naming the exit code or
//! signal, and starts a replacement unless the pool is shutting down.
//!
//! A slot retires its worker (closes the channel, so the worker sees EOF and
//! exits) once it has no task in flight and either reached
//! `max_tasks_per_child` or the pool is shut down with nothing pending.

use std::collections::VecDeque;
use std::io::{BufReader, BufWriter, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::call::{Call, Reply};
use super::frame::{self, ReadError};
use super::spawn::{self, Options};
use super::wire;
use crate::futures::FutureError;
use crate::loom::sync::MutexGuard;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// Tasks in flight per worker at most, for quick tasks.
pub(crate) const WINDOW: usize = 64;
/// A worker whose last task took less than this is sent up to [`WINDOW`].
pub(crate) const FAST_TASK: Duration = Duration::from_millis(1);

/// The typed end of a task: completes its future from a reply.
pub(crate) trait Job: Send {
    /// Marks the future running; `false` if it was cancelled.
    fn start(&mut self) -> bool;
    /// Cancels the future (shutdown with `cancel_futures`).
    fn cancel(self: Box<Self>);
    /// Completes the future.
    fn finish(self: Box<Self>, outcome: Result<Reply, FutureError>);
}

/// A task waiting for a worker: its encoded message and its job.
pub(crate) struct Task {
    pub(crate) id: u64,
    pub(crate) msg: Vec<u8>,
    pub(crate) job: Box<dyn Job>,
}

/// Fixed settings of a pool.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) max_workers: usize,
    pub(crate) initializer: Option<Call>,
    pub(crate) max_tasks_per_child: Option<usize>,
    pub(crate) max_frame: usize,
    pub(crate) handshake: Duration,
}

/// A live worker as the dispatcher sees it.
struct Link {
    tx: crossbeam_channel::Sender<Vec<u8>>,
    control: UnixStream,
}

#[derive(Default)]
struct Slot {
    link: Option<Link>,
    pid: Option<u32>,
    /// A pidfd of the worker, to signal exactly it (never a reused pid).
    pidfd: Option<std::os::fd::OwnedFd>,
    /// Tasks sent to the worker, in the order sent: the worker runs them in
    /// that order, so the first is the one running.
    inflight: VecDeque<(u64, Box<dyn Job>)>,
    sent: usize,
    retiring: bool,
    /// Whether its last task was quick (see the module docs).
    fast: bool,
    /// When its current task started: the send to an idle worker, or the
    /// previous reply.
    busy_since: Option<Instant>,
}

pub(crate) struct State {
    pub(crate) pending: VecDeque<Task>,
    slots: Vec<Slot>,
    pub(crate) shutdown: bool,
    pub(crate) broken: Option<String>,
    /// Manager threads started / still running.
    pub(crate) started: usize,
    pub(crate) running: usize,
    /// Who waits for the manager threads to exit (`shutdown(wait=True)`).
    waiters: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

pub(crate) struct Pool {
    pub(crate) config: Config,
    /// Woken when a manager thread exits.
    pub(crate) state: Monitor<State>,
}

impl Pool {
    pub(crate) fn new(config: Config) -> Pool {
        Pool {
            state: Monitor::new(State {
                pending: VecDeque::new(),
                slots: (0..config.max_workers).map(|_| Slot::default()).collect(),
                shutdown: false,
                broken: None,
                started: 0,
                running: 0,
                waiters: WaitList::default(),
            }),
            config,
        }
    }

    /// The pids of the live workers.
    pub(crate) fn pids(&self) -> Vec<u32> {
        let st = self.state.lock();
        st.slots
            .iter()
            .filter(|s| s.link.is_some())
            .filter_map(|s| s.pid)
            .collect()
    }

    /// Whether a submit should start another worker: only when the workers
    /// that are idle or starting are fewer than the tasks waiting (CPython's
    /// `_adjust_process_count` with its idle semaphore).
    pub(crate) fn wants_worker(&self, st: &State) -> bool {
        let available = st.slots[..st.started]
            .iter()
            .filter(|s| s.link.is_none() || s.inflight.is_empty())
            .count();
        st.started < self.config.max_workers && available < st.pending.len()
    }

    /// Hands pending tasks to workers and retires idle workers; call after
    /// every change, under the lock.
    pub(crate) fn dispatch(&self, st: &mut State) {
        let limit = self.config.max_tasks_per_child;
        while !st.pending.is_empty() {
            let best = st
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    let window = if s.fast { WINDOW } else { 1 };
                    s.link.is_some() && !s.retiring && s.inflight.len() < window
                })
                .min_by_key(|(_, s)| s.inflight.len())
                .map(|(i, _)| i);
            let Some(i) = best else { break };
            let mut task = st.pending.pop_front().expect("not empty");
            if !task.job.start() {
                continue;
            }
            let slot = &mut st.slots[i];
            if slot.inflight.is_empty() {
                slot.busy_since = Some(Instant::now());
            }
            slot.sent += 1;
            slot.inflight.push_back((task.id, task.job));
            if let Some(link) = &slot.link {
                let _ = link.tx.send(task.msg);
            }
            if limit.is_some_and(|n| slot.sent >= n) {
                slot.retiring = true;
            }
        }
        let closing = st.shutdown && st.pending.is_empty();
        for slot in &mut st.slots {
            if slot.inflight.is_empty() && (slot.retiring || closing) {
                if let Some(link) = slot.link.take() {
                    let _ = link.control.shutdown(Shutdown::Write);
                }
            }
        }
    }

    /// Sends `signal` to every live worker (through its pidfd, so a worker
    /// already reaped is never confused with a new process of its pid).
    pub(crate) fn signal_workers(&self, signal: i32) {
        use std::os::fd::AsRawFd;
        let st = self.state.lock();
        for fd in st.slots.iter().filter_map(|s| s.pidfd.as_ref()) {
            // SAFETY: pidfd_send_signal takes a pidfd we own, a signal
            // number and no siginfo (null); it touches no memory of ours.
            unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    signal,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            };
        }
    }

    /// Breaks the pool: fails every pending task, refuses new ones.
    fn break_pool(&self, why: String) {
        let mut st = self.state.lock();
        st.broken.get_or_insert(why.clone());
        let pending: Vec<Task> = st.pending.drain(..).collect();
        drop(st);
        for task in pending {
            task.job
                .finish(Err(FutureError::BrokenExecutor(why.clone())));
        }
    }

    fn leave(&self) {
        let mut st = self.state.lock();
        st.running -= 1;
        let woken = self.state.take_all(&mut st);
        drop(st);
        woken.wake();
    }
}

/// Whether a manager should stop instead of starting a worker.
fn done(st: &MutexGuard<'_, State>) -> bool {
    st.broken.is_some() || (st.shutdown && st.pending.is_empty())
}

/// A manager thread: starts, serves and replaces the worker of slot `i`.
pub(crate) fn manage(pool: &Arc<Pool>, i: usize) {
    while !done(&pool.state.lock()) {
        if let Err(why) = serve_one(pool, i) {
            pool.break_pool(why);
            break;
        }
    }
    pool.leave();
}

/// Runs one worker of slot `i` from spawn to reaping. `Err` breaks the pool.
fn serve_one(pool: &Arc<Pool>, i: usize) -> Result<(), String> {
    let cfg = &pool.config;
    let name = format!("ProcessPoolWorker-{i}");
    let worker = spawn::spawn(&Options {
        role: "pool",
        name: &name,
        watch_parent: true,
        death_signal: true,
        fds: &[],
        max_frame: cfg.max_frame,
        handshake: cfg.handshake,
    })
    .map_err(|e| format!("could not start a worker process: {e}"))?;
    let mut child = worker.child;
    let channel = worker.channel;
    let pid = child.id();
    let mut reader = BufReader::with_capacity(1 << 16, &channel);

    if let Some(init) = &cfg.initializer {
        if let Err(why) = initialize(&channel, &mut reader, init, cfg.max_frame) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("a worker's initializer failed: {why}"));
        }
    }

    let (tx, rx) = crossbeam_channel::unbounded::<Vec<u8>>();
    let writer = {
        let channel = channel.try_clone().map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name(format!("threadkit-pool-writer-{pid}"))
            .spawn(move || write_loop(&channel, &rx))
            .map_err(|e| e.to_string())?
    };
    {
        let mut st = pool.state.lock();
        let slot = &mut st.slots[i];
        slot.link = Some(Link {
            tx,
            control: channel.try_clone().map_err(|e| e.to_string())?,
        });
        slot.pid = Some(pid);
        slot.pidfd = super::process::pidfd_open(pid);
        slot.sent = 0;
        slot.retiring = false;
        slot.fast = false;
        pool.dispatch(&mut st);
    }

    let corrupt = loop {
        let msg = match frame::read_frame(&mut reader, cfg.max_frame) {
            Ok(Some(msg)) => msg,
            Ok(None) => break None,
            // A worker that dies with requests unread resets the channel:
            // that is its end, told by its exit status below.
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => break None,
            Err(ReadError::Io(e)) => break Some(e.to_string()),
            Err(ReadError::Frame(e)) => break Some(e.to_string()),
        };
        let decoded = wire::split(&msg)
            .and_then(|(kind, id, body)| Ok((id, wire::decode_reply(kind, body)?)));
        let (id, reply) = match decoded {
            Ok(ok) => ok,
            Err(e) => break Some(e.to_string()),
        };
        let job = {
            let mut st = pool.state.lock();
            let slot = &mut st.slots[i];
            // Replies come in order: the match is almost always the first.
            let job = slot
                .inflight
                .iter()
                .position(|(sent, _)| *sent == id)
                .and_then(|at| slot.inflight.remove(at))
                .map(|(_, job)| job);
            let now = Instant::now();
            slot.fast = slot
                .busy_since
                .is_some_and(|since| now.duration_since(since) < FAST_TASK);
            slot.busy_since = Some(now);
            pool.dispatch(&mut st);
            job
        };
        match job {
            Some(job) => job.finish(Ok(reply)),
            None => break Some(format!("reply to unknown task {id}")),
        }
    };
    if corrupt.is_some() {
        let _ = child.kill();
    }
    let code = child.wait().map(spawn::exitcode).unwrap_or(-1);
    let lost: Vec<Box<dyn Job>> = {
        let mut st = pool.state.lock();
        let slot = &mut st.slots[i];
        slot.link = None;
        slot.pid = None;
        slot.pidfd = None;
        slot.inflight.drain(..).map(|(_, job)| job).collect()
    };
    let _ = writer.join();
    for (position, job) in lost.into_iter().enumerate() {
        let why = lost_task_error(pid, code, corrupt.as_deref(), position);
        job.finish(Err(FutureError::BrokenExecutor(why)));
    }
    Ok(())
}

/// Why the task at `position` among those in flight on a lost worker
/// failed: the first was running, the others only queued behind it.
fn lost_task_error(pid: u32, code: i32, corrupt: Option<&str>, position: usize) -> String {
    let ended = spawn::describe(code);
    match (corrupt, position) {
        (Some(e), _) => format!("worker process {pid} sent a bad frame ({e}) and was killed"),
        (None, 0) => format!("worker process {pid} {ended} while running this task"),
        (None, _) => {
            format!("queued on worker process {pid}, which {ended} while running another task")
        }
    }
}

/// Sends the initializer and waits for its reply.
fn initialize(
    channel: &UnixStream,
    reader: &mut BufReader<&UnixStream>,
    init: &Call,
    max_frame: usize,
) -> Result<(), String> {
    let mut msg = Vec::new();
    wire::begin(&mut msg, wire::INIT, 0);
    init.encode_into(&mut msg);
    let mut w = channel;
    frame::write_frame(&mut w, &msg).map_err(|e| e.to_string())?;
    let reply = match frame::read_frame(reader, max_frame) {
        Ok(Some(reply)) => reply,
        Ok(None) => return Err("the worker exited".to_owned()),
        Err(e) => return Err(format!("{e:?}")),
    };
    let (kind, _, body) = wire::split(&reply).map_err(|e| e.to_string())?;
    match wire::decode_reply(kind, body).map_err(|e| e.to_string())? {
        Reply::Ok(_) => Ok(()),
        Reply::Panicked { message, .. } => Err(format!("panicked: {message}")),
        Reply::BadArgument(msg) | Reply::BadResult(msg) => Err(msg),
    }
}

/// The writer thread: batches queued frames into few writes.
fn write_loop(channel: &UnixStream, rx: &crossbeam_channel::Receiver<Vec<u8>>) {
    let mut w = BufWriter::with_capacity(1 << 16, channel);
    while let Ok(msg) = rx.recv() {
        if frame::write_frame(&mut w, &msg).is_err() {
            return;
        }
        while let Ok(msg) = rx.try_recv() {
            if frame::write_frame(&mut w, &msg).is_err() {
                return;
            }
        }
        if w.flush().is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lost_task_error;

    #[test]
    fn a_queued_task_is_told_it_was_queued() {
        assert_eq!(
            lost_task_error(1234, -9, None, 0),
            "worker process 1234 was killed by signal 9 (SIGKILL) while running this task"
        );
        assert_eq!(
            lost_task_error(1234, -9, None, 1),
            "queued on worker process 1234, which was killed by signal 9 (SIGKILL) while \
             running another task"
        );
        assert!(lost_task_error(1, 0, Some("truncated"), 3).contains("bad frame (truncated)"));
    }
}
