//! The caller side: [`ClusterExecutor`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redis::streams::StreamReadReply;
use redis::{Connection, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use threadkit::futures::{Future, FutureError, MapOptions, PanicReport, Promise, Shutdown};
use threadkit::threading::{Condition, ConditionGuard};

use crate::error::{ClusterError, TaskError};
use crate::task::Task;
use crate::wire::{self, Args, Keys, Outcome, Reply};

/// How long one blocking read of the result stream lasts.
const READ_BLOCK: Duration = Duration::from_millis(250);

/// Settings of a [`ClusterExecutor`]; see [`ClusterExecutor::builder`].
///
/// The lease is not here: it is how long a *worker* may go without renewing
/// before others take its tasks, so it is set on the workers
/// ([`ClusterWorker::lease`](crate::ClusterWorker::lease)), the same on all
/// of them.
#[derive(Clone, Debug)]
pub struct ClusterExecutorBuilder {
    url: String,
    namespace: String,
    max_in_flight: usize,
    max_attempts: u32,
    key_ttl: Duration,
    broker_timeout: Duration,
    max_arg_bytes: usize,
    max_result_bytes: usize,
    tls_root_cert: Option<Vec<u8>>,
}

impl ClusterExecutorBuilder {
    /// For `rediss://` URLs: trust this CA certificate (PEM) instead of the
    /// system's roots, e.g. a private CA's. Needs the feature `tls-rustls`.
    #[cfg(feature = "tls-rustls")]
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// The namespace (default `threadkit`): callers and workers meet in one
    /// namespace; use one per deployment or per application.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = ns.into();
        self
    }

    /// How many tasks (or `map` chunks) may be submitted and unfinished at
    /// once (default 10 000); `submit` blocks beyond it, like a bounded
    /// queue, instead of growing memory in the caller and in Redis.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// How many deliveries a task gets before it fails with
    /// [`TaskError::WorkerLost`] (default 3, as Dask and Ray). A delivery is
    /// spent when a worker takes the task and dies (or stalls past its
    /// lease) before committing; a panic is not retried.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// TTL of this caller's keys (task states and results; default 5 min),
    /// refreshed while the executor lives. When the caller dies its keys
    /// expire after this long and workers drop its remaining tasks.
    pub fn key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
        self
    }

    /// How long Redis may be unreachable before every pending future fails
    /// with [`TaskError::BrokerLost`] (default 10 s).
    pub fn broker_timeout(mut self, t: Duration) -> Self {
        self.broker_timeout = t;
        self
    }

    /// Cap on one encoded argument (a whole `map` chunk; default 1 MiB):
    /// `submit` fails with [`ClusterError::TooLarge`] over it.
    pub fn max_arg_bytes(mut self, n: usize) -> Self {
        self.max_arg_bytes = n;
        self
    }

    /// Cap on one encoded result payload read back (default 16 MiB); a
    /// larger one fails its future with [`TaskError::TooLarge`] without
    /// being decoded.
    pub fn max_result_bytes(mut self, n: usize) -> Self {
        self.max_result_bytes = n;
        self
    }

    /// Connects, registers this caller and starts its reader thread.
    pub fn connect(self) -> Result<ClusterExecutor, ClusterError> {
        if self.max_in_flight == 0 {
            return Err(ClusterError::Config("max_in_flight must be at least 1"));
        }
        if self.max_attempts == 0 {
            return Err(ClusterError::Config("max_attempts must be at least 1"));
        }
        if self.key_ttl < Duration::from_secs(1) {
            return Err(ClusterError::Config("key_ttl must be at least 1 s"));
        }
        let client = wire::client(&self.url, self.tls_root_cert.as_deref())?;
        let io_timeout = READ_BLOCK + Duration::from_secs(5);
        let connect_timeout = Duration::from_secs(5);
        let mut con = wire::connect(&client, connect_timeout, io_timeout)?;
        let keys = Keys::new(&self.namespace);
        wire::ensure_group(&mut con, &keys)?;
        let caller = format!(
            "{}:{}:{}",
            wire::hostname(),
            std::process::id(),
            wire::fresh_id()
        );
        let state = keys.state(&caller);
        let results = keys.results(&caller);
        redis::pipe()
            .cmd("HSET")
            .arg(&state)
            .arg("_caller")
            .arg(&caller)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&state)
            .arg(wire::millis(self.key_ttl))
            .ignore()
            .query::<()>(&mut con)?;
        let reader_con = wire::connect(&client, connect_timeout, io_timeout)?;
        let shared = Arc::new(Shared {
            client,
            keys,
            caller,
            state,
            results,
            config: self,
            cmd: Mutex::new(Some(con)),
            table: Condition::named("threadkit-cluster executor table", Table::default()),
            shut: AtomicBool::new(false),
            stop_reader: AtomicBool::new(false),
            cancel_script: redis::Script::new(wire::CANCEL),
        });
        let weak = Arc::downgrade(&shared);
        let reader = std::thread::Builder::new()
            .name("threadkit-cluster-reader".to_owned())
            .spawn(move || reader_loop(weak, reader_con))
            .map_err(|e| ClusterError::Redis(format!("could not start the reader thread: {e}")))?;
        Ok(ClusterExecutor {
            shared,
            reader: Mutex::new(Some(reader)),
        })
    }
}

/// One encoded entry, ready for `XADD`.
struct Prepared {
    tid: String,
    payload: Vec<u8>,
}

/// A prepared entry, its futures and what completes them.
type PreparedChunk<R> = (Prepared, Vec<Future<R>>, Box<dyn Pending>);

/// A submitted task waiting for its result: completes its promises.
trait Pending: Send {
    /// A worker started it.
    fn started(&self);
    /// Its result entry arrived (or it failed as a whole).
    fn finish(self: Box<Self>, reply: Result<Reply, TaskError>, max_result: usize);
    /// It was cancelled before starting.
    fn cancel_all(self: Box<Self>);
}

struct Slots<R> {
    promises: Vec<Promise<R>>,
}

impl<R: DeserializeOwned + Send + 'static> Pending for Slots<R> {
    fn started(&self) {
        for p in &self.promises {
            p.set_running_or_notify_cancel();
        }
    }

    fn finish(self: Box<Self>, reply: Result<Reply, TaskError>, max_result: usize) {
        match reply {
            Ok(Reply::Batch(outcomes)) => {
                let n = outcomes.len();
                let mut outcomes = outcomes.into_iter();
                for p in self.promises {
                    let outcome = match outcomes.next() {
                        Some(Outcome::Ok(bytes)) if bytes.len() > max_result => {
                            Err(TaskError::TooLarge {
                                size: bytes.len(),
                                limit: max_result,
                            }
                            .into())
                        }
                        Some(Outcome::Ok(bytes)) => rmp_serde::from_slice::<R>(&bytes)
                            .map_err(|e| TaskError::Codec(format!("result: {e}")).into()),
                        Some(Outcome::Panicked {
                            location: Some(l), ..
                        }) if l.len() > wire::MAX_LOCATION => Err(TaskError::Malformed(format!(
                            "a panic location of {} bytes, over the {}-byte cap",
                            l.len(),
                            wire::MAX_LOCATION
                        ))
                        .into()),
                        Some(Outcome::Panicked { message, location }) => Err(
                            FutureError::Panicked(PanicReport::with_location(message, location)),
                        ),
                        Some(Outcome::Failed(e)) => Err(e.into()),
                        None => Err(TaskError::Malformed(format!(
                            "the reply has {n} outcomes, fewer than the chunk"
                        ))
                        .into()),
                    };
                    p.complete(outcome);
                }
            }
            Ok(Reply::Failed(e)) | Err(e) => {
                for p in self.promises {
                    p.set_error(e.clone().into());
                }
            }
        }
    }

    fn cancel_all(self: Box<Self>) {
        for p in self.promises {
            p.cancel();
        }
    }
}

#[derive(Default)]
struct Table {
    /// tid → the task's promises.
    pending: HashMap<String, Box<dyn Pending>>,
    /// Tids being cancelled right now (see `cancel_tid`).
    cancelling: HashSet<String>,
    /// Why the executor broke, once it did.
    broken: Option<String>,
}

struct Shared {
    client: redis::Client,
    keys: Keys,
    caller: String,
    state: String,
    results: String,
    config: ClusterExecutorBuilder,
    /// The command connection (submits, cancels); `None` after an error
    /// until the next use reconnects.
    cmd: Mutex<Option<Connection>>,
    /// The tasks in flight; its condition is notified when a task leaves
    /// `pending` or the executor breaks. threadkit's own, so thread dumps
    /// and green threads see a `submit` waiting for room or a `shutdown`
    /// waiting for the last task.
    table: Condition<Table>,
    shut: AtomicBool,
    stop_reader: AtomicBool,
    cancel_script: redis::Script,
}

impl Shared {
    fn table(&self) -> ConditionGuard<'_, Table> {
        self.table.acquire()
    }

    /// Runs `f` on the command connection, reconnecting once if needed.
    fn with_cmd<T>(
        &self,
        f: impl Fn(&mut Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let mut guard = self.cmd.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(wire::connect(
                &self.client,
                Duration::from_secs(2),
                Duration::from_secs(5),
            )?);
        }
        let con = guard.as_mut().expect("just connected");
        let r = f(con);
        if let Err(e) = &r {
            if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() {
                *guard = None;
            }
        }
        r
    }

    /// Cancels `tid` if it has not started: marks it `C` in Redis (no
    /// worker will start it after that), then cancels its futures.
    fn cancel_tid(&self, tid: &str) -> bool {
        {
            let table = self.table();
            if table.cancelling.contains(tid) {
                // Our own `cancel_all` below, re-entering through the hook.
                return true;
            }
            if !table.pending.contains_key(tid) {
                // Finished (or finishing) already.
                return false;
            }
        }
        let allowed = self
            .with_cmd(|con| {
                self.cancel_script
                    .key(&self.state)
                    .arg(tid)
                    .invoke::<i64>(con)
            })
            .is_ok_and(|r| r == 1);
        if !allowed {
            return false;
        }
        let entry = {
            let mut table = self.table();
            let entry = table.pending.remove(tid);
            if entry.is_some() {
                table.cancelling.insert(tid.to_owned());
            }
            entry
        };
        if let Some(entry) = entry {
            entry.cancel_all();
            let mut table = self.table();
            table.cancelling.remove(tid);
            table.notify_all();
        }
        true
    }

    /// Fails every pending future with `BrokerLost` and refuses new work.
    fn break_with(&self, why: String) {
        let drained: Vec<_> = {
            let mut table = self.table();
            if table.broken.is_none() {
                table.broken = Some(why.clone());
            }
            table.pending.drain().collect()
        };
        for (_, entry) in drained {
            entry.finish(Err(TaskError::BrokerLost(why.clone())), 0);
        }
        self.table().notify_all();
    }
}

/// Runs registered tasks on [`ClusterWorker`](crate::ClusterWorker)s on any
/// number of machines, through Redis (or Valkey) Streams; the cluster
/// counterpart of `ThreadPoolExecutor` and `ProcessPoolExecutor`.
///
/// Its futures are ordinary [`threadkit::futures::Future<T>`]s: they mix
/// with thread-pool and process-pool futures in
/// [`threadkit::futures::wait`] and [`threadkit::futures::as_completed`].
///
/// # Why not the `Executor` trait
///
/// threadkit's [`Executor`](threadkit::futures::Executor) trait submits
/// closures. A closure's code and captures cannot be sent to another
/// machine (a worker may be a different build; code addresses mean nothing
/// there, and running code named by the stream would let anyone who can
/// write to Redis run anything). So tasks are plain functions registered by
/// name with [`task!`](crate::task), and [`submit`](Self::submit) takes the
/// task handle and a serde argument.
///
/// # Examples
///
/// ```no_run
/// use threadkit::futures::{MapOptions, Shutdown};
/// use threadkit_cluster::ClusterExecutor;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
/// threadkit_cluster::task! { SQUARE: fn(u64) -> u64 = square, "demo.square"; }
///
/// let exec = ClusterExecutor::connect("redis://127.0.0.1/").unwrap();
/// let f = exec.submit(&SQUARE, 12).unwrap();
/// assert_eq!(f.result(), Ok(&144));
/// let squares: Vec<u64> = exec.map_with(&SQUARE, 0..10u64, MapOptions::default().chunksize(4)).unwrap().map(Result::unwrap).collect();
/// assert_eq!(squares[3], 9);
/// exec.shutdown(Shutdown::wait());
/// ```
pub struct ClusterExecutor {
    shared: Arc<Shared>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

impl ClusterExecutor {
    /// Connects with the default settings (see [`builder`](Self::builder)).
    /// `url` is a redis-rs URL: `redis://[user:password@]host[:port][/db]`,
    /// `redis+unix:///path/to/socket`, or `rediss://` for TLS when the
    /// `redis` crate's TLS feature is enabled.
    pub fn connect(url: &str) -> Result<ClusterExecutor, ClusterError> {
        Self::builder(url).connect()
    }

    /// Settings: namespace `threadkit`, 10 000 tasks in flight, 3 attempts,
    /// keys living 5 min past the caller, `BrokerLost` after 10 s without
    /// Redis, 1 MiB argument and 16 MiB result caps.
    pub fn builder(url: &str) -> ClusterExecutorBuilder {
        ClusterExecutorBuilder {
            url: url.to_owned(),
            namespace: "threadkit".to_owned(),
            max_in_flight: 10_000,
            max_attempts: 3,
            key_ttl: Duration::from_secs(300),
            broker_timeout: Duration::from_secs(10),
            max_arg_bytes: 1 << 20,
            max_result_bytes: 16 << 20,
            tls_root_cert: None,
        }
    }

    /// This caller's id (`host:pid:random`), as workers see it.
    pub fn caller_id(&self) -> &str {
        &self.shared.caller
    }

    /// How many tasks (or chunks) are submitted and unfinished.
    pub fn in_flight(&self) -> usize {
        self.shared.table().pending.len()
    }

    /// Submits one call of `task` with `arg` (Python's `submit(fn, arg)`).
    /// Blocks while [`max_in_flight`](ClusterExecutorBuilder::max_in_flight)
    /// tasks are unfinished.
    ///
    /// Errors: [`ClusterError::ShutDown`] after [`shutdown`](Self::shutdown),
    /// [`ClusterError::TooLarge`] over the argument cap,
    /// [`ClusterError::BrokerLost`] once the broker was lost,
    /// [`ClusterError::Redis`] if the `XADD` failed. Unlike a local pool's
    /// [`SubmitError`](threadkit::futures::SubmitError), encoding the
    /// argument and talking to the broker happen here, so their failures
    /// are submit errors; `?` turns them into a
    /// [`FutureError`](threadkit::futures::FutureError).
    pub fn submit<A, R>(&self, task: &Task<A, R>, arg: A) -> Result<Future<R>, ClusterError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let mut futures = self.submit_chunk(task, std::slice::from_ref(&arg))?;
        Ok(futures.pop().expect("one future per argument"))
    }

    /// Submits one entry running `task` on each of `args` (a `map` chunk);
    /// one future per argument.
    fn submit_chunk<A, R>(
        &self,
        task: &Task<A, R>,
        args: &[A],
    ) -> Result<Vec<Future<R>>, ClusterError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let (entry, futures, pending) = self.prepare(args)?;
        self.admit(&entry.tid, pending, true)?;
        self.send(task.name(), &task.signature(), std::slice::from_ref(&entry))?;
        Ok(futures)
    }

    /// Encodes `args` (checking the cap) and makes their futures.
    fn prepare<A, R>(&self, args: &[A]) -> Result<PreparedChunk<R>, ClusterError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let shared = &self.shared;
        if shared.shut.load(Ordering::Acquire) {
            return Err(ClusterError::ShutDown);
        }
        let mut encoded = Vec::with_capacity(args.len());
        for a in args {
            let bytes = rmp_serde::to_vec(a).map_err(|e| ClusterError::Encode(e.to_string()))?;
            encoded.push(serde_bytes::ByteBuf::from(bytes));
        }
        let payload =
            rmp_serde::to_vec(&Args(encoded)).map_err(|e| ClusterError::Encode(e.to_string()))?;
        if payload.len() > shared.config.max_arg_bytes {
            return Err(ClusterError::TooLarge {
                size: payload.len(),
                limit: shared.config.max_arg_bytes,
            });
        }
        let tid = wire::fresh_id();
        let mut futures = Vec::with_capacity(args.len());
        let mut promises = Vec::with_capacity(args.len());
        for _ in args {
            let weak = Arc::downgrade(shared);
            let hook_tid = tid.clone();
            let (f, p) = Future::with_cancel_hook(move || {
                weak.upgrade().is_some_and(|s| s.cancel_tid(&hook_tid))
            });
            futures.push(f);
            promises.push(p);
        }
        Ok((
            Prepared { tid, payload },
            futures,
            Box::new(Slots { promises }),
        ))
    }

    /// Records `tid` as in flight, waiting for room if `block`; without
    /// `block` and no room, gives the entry back.
    fn admit(
        &self,
        tid: &str,
        pending: Box<dyn Pending>,
        block: bool,
    ) -> Result<Option<Box<dyn Pending>>, ClusterError> {
        let shared = &self.shared;
        let mut table = shared.table();
        loop {
            if let Some(why) = &table.broken {
                return Err(ClusterError::BrokerLost(why.clone()));
            }
            if shared.shut.load(Ordering::Acquire) {
                return Err(ClusterError::ShutDown);
            }
            if table.pending.len() < shared.config.max_in_flight {
                table.pending.insert(tid.to_owned(), pending);
                return Ok(None);
            }
            if !block {
                return Ok(Some(pending));
            }
            table.wait_timeout(Duration::from_millis(100));
        }
    }

    /// `XADD`s the admitted entries, in one pipeline. If that fails they
    /// are forgotten (their futures fail) and the error is returned.
    fn send(&self, name: &str, signature: &str, batch: &[Prepared]) -> Result<(), ClusterError> {
        if batch.is_empty() {
            return Ok(());
        }
        let shared = &self.shared;
        let r = shared.with_cmd(|con| {
            let mut pipe = redis::pipe();
            for entry in batch {
                pipe.cmd("XADD")
                    .arg(&shared.keys.tasks)
                    .arg("*")
                    .arg("v")
                    .arg(wire::VERSION)
                    .arg("tid")
                    .arg(&entry.tid)
                    .arg("fn")
                    .arg(name)
                    .arg("sig")
                    .arg(signature)
                    .arg("caller")
                    .arg(&shared.caller)
                    .arg("ma")
                    .arg(shared.config.max_attempts)
                    .arg("args")
                    .arg(&entry.payload)
                    .ignore();
            }
            pipe.query::<()>(con)
        });
        if let Err(e) = r {
            let entries: Vec<_> = {
                let mut table = shared.table();
                batch
                    .iter()
                    .filter_map(|entry| table.pending.remove(&entry.tid))
                    .collect()
            };
            shared.table().notify_all();
            for entry in entries {
                entry.finish(Err(TaskError::BrokerLost(e.to_string())), 0);
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Python's `map(fn, iterable)`: submits every argument now and yields
    /// the results in input order; [`map_with`](Self::map_with) takes
    /// `timeout=` and `chunksize=`. With a `timeout`, a result not ready by
    /// then (counted from the call) yields `Err(FutureError::Timeout)` and
    /// ends the iteration. Dropping the iterator cancels the tasks not
    /// started yet.
    ///
    /// A chunk is one task: it runs on one worker, is retried as a whole,
    /// and cancelling any of its futures cancels all of them.
    pub fn map<A, R, I>(&self, task: &Task<A, R>, args: I) -> Result<ClusterMap<R>, ClusterError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        self.map_with(task, args, MapOptions::default())
    }

    /// As [`map`](Self::map), with Python's keywords as [`MapOptions`]:
    /// `chunksize` arguments per task entry (1 when unset) and a `timeout`.
    #[doc(alias("chunksize", "map_chunked"))]
    pub fn map_with<A, R, I>(
        &self,
        task: &Task<A, R>,
        args: I,
        options: MapOptions,
    ) -> Result<ClusterMap<R>, ClusterError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
        I: IntoIterator<Item = A>,
    {
        let (timeout, chunksize) = (options.timeout, options.chunksize.unwrap_or(1));
        if chunksize == 0 {
            return Err(ClusterError::Config("chunksize must be at least 1"));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut futures = std::collections::VecDeque::new();
        let (name, signature) = (task.name(), task.signature());
        let mut chunk = Vec::with_capacity(chunksize);
        let mut batch = Vec::new();
        let mut args = args.into_iter();
        // Entries go out in pipelines of up to 256 `XADD`s; the batch is
        // flushed before waiting for room, so the wait can end.
        let r = loop {
            chunk.clear();
            chunk.extend(args.by_ref().take(chunksize));
            if chunk.is_empty() {
                break self.send(name, &signature, &batch);
            }
            let step = self.prepare(&chunk).and_then(|(entry, fs, pending)| {
                if let Some(pending) = self.admit(&entry.tid, pending, false)? {
                    self.send(name, &signature, &batch)?;
                    batch.clear();
                    self.admit(&entry.tid, pending, true)?;
                }
                futures.extend(fs);
                batch.push(entry);
                if batch.len() >= 256 {
                    self.send(name, &signature, &batch)?;
                    batch.clear();
                }
                Ok(())
            });
            if let Err(e) = step {
                break Err(e);
            }
        };
        if let Err(e) = r {
            // Those already sent are cancelled (or run unobserved).
            for f in &futures {
                f.cancel();
            }
            let unsent: Vec<_> = {
                let mut table = self.shared.table();
                batch
                    .iter()
                    .filter_map(|entry| table.pending.remove(&entry.tid))
                    .collect()
            };
            self.shared.table().notify_all();
            drop(unsent);
            return Err(e);
        }
        Ok(ClusterMap {
            futures,
            deadline,
            timed_out: false,
        })
    }

    /// Python's `shutdown(wait, cancel_futures)`: refuses new tasks; with
    /// `cancel_futures`, cancels every task no worker has started; with
    /// `wait`, blocks until every remaining task has finished (or the
    /// broker is lost). Once nothing is pending the reader stops and this
    /// caller's keys are deleted. Safe to call more than once.
    pub fn shutdown(&self, how: Shutdown) {
        let (wait, cancel_futures) = (how.waits(), how.cancels_futures());
        let shared = &self.shared;
        shared.shut.store(true, Ordering::Release);
        if cancel_futures {
            let tids: Vec<String> = shared.table().pending.keys().cloned().collect();
            for tid in tids {
                shared.cancel_tid(&tid);
            }
        }
        shared.table().notify_all();
        if wait {
            let mut table = shared.table();
            while !table.pending.is_empty() && table.broken.is_none() {
                table.wait_timeout(Duration::from_millis(100));
            }
            drop(table);
            let handle = self.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(h) = handle {
                let _ = h.join();
            }
        }
    }
}

impl Drop for ClusterExecutor {
    /// `shutdown(wait = true)`, as leaving Python's `with` block.
    fn drop(&mut self) {
        self.shutdown(Shutdown::wait());
        self.shared.stop_reader.store(true, Ordering::Release);
    }
}

impl fmt::Debug for ClusterExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterExecutor")
            .field("caller", &self.shared.caller)
            .field("namespace", &self.shared.config.namespace)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// The iterator of [`ClusterExecutor::map`]: results in input order.
pub struct ClusterMap<R> {
    futures: std::collections::VecDeque<Future<R>>,
    deadline: Option<Instant>,
    timed_out: bool,
}

impl<R> Iterator for ClusterMap<R> {
    type Item = Result<R, FutureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.timed_out {
            return None;
        }
        let f = self.futures.pop_front()?;
        let outcome = match self.deadline {
            None => f.into_result(),
            Some(d) => match f.into_result_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(outcome) => outcome,
                Err(f) => {
                    self.futures.push_front(f);
                    self.timed_out = true;
                    return Some(Err(FutureError::Timeout));
                }
            },
        };
        Some(outcome)
    }
}

impl<R> Drop for ClusterMap<R> {
    fn drop(&mut self) {
        for f in &self.futures {
            f.cancel();
        }
    }
}

impl<R> fmt::Debug for ClusterMap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterMap")
            .field("remaining", &self.futures.len())
            .finish()
    }
}

/// The reader thread: completes futures from the result stream, keeps the
/// caller's keys alive, and declares the broker lost when it is.
fn reader_loop(weak: Weak<Shared>, con: Connection) {
    let mut con = Some(con);
    let mut last = "0-0".to_owned();
    let mut last_refresh = Instant::now();
    let mut down_since: Option<Instant> = None;
    loop {
        let Some(shared) = weak.upgrade() else { return };
        let stop = shared.stop_reader.load(Ordering::Acquire)
            || (shared.shut.load(Ordering::Acquire) && shared.table().pending.is_empty());
        if stop || shared.table().broken.is_some() {
            if shared.table().broken.is_none() {
                if let Some(c) = con.as_mut() {
                    let _ = redis::cmd("DEL")
                        .arg(&shared.state)
                        .arg(&shared.results)
                        .query::<Value>(c);
                }
            }
            return;
        }
        if con.is_none() {
            let failure = match wire::connect(
                &shared.client,
                Duration::from_secs(1),
                READ_BLOCK + Duration::from_secs(5),
            ) {
                // Back: but did Redis keep our tasks? If our state key is
                // gone, it restarted without them (or evicted them).
                Ok(mut c) => match redis::cmd("EXISTS").arg(&shared.state).query::<i64>(&mut c) {
                    Ok(1) => {
                        con = Some(c);
                        down_since = None;
                        None
                    }
                    Ok(_) => {
                        shared.break_with(
                            "Redis lost this caller's tasks (restarted without persistence, or evicted)"
                                .to_owned(),
                        );
                        return;
                    }
                    // Connected but not answering (stopped, overloaded).
                    Err(e) => Some(e.to_string()),
                },
                Err(e) => Some(e.to_string()),
            };
            if let Some(why) = failure {
                let since = *down_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= shared.config.broker_timeout {
                    shared.break_with(format!(
                        "Redis unreachable for {:?}: {why}",
                        shared.config.broker_timeout
                    ));
                    return;
                }
                drop(shared);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        let Some(c) = con.as_mut() else { continue };
        if last_refresh.elapsed() >= shared.config.key_ttl / 4 {
            let ttl = wire::millis(shared.config.key_ttl);
            let r = redis::pipe()
                .cmd("PEXPIRE")
                .arg(&shared.state)
                .arg(ttl)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&shared.results)
                .arg(ttl)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&shared.keys.tasks)
                .arg(wire::millis(wire::TASKS_TTL))
                .ignore()
                .query::<()>(c);
            if r.is_ok() {
                last_refresh = Instant::now();
            }
        }
        let r: redis::RedisResult<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(512)
            .arg("BLOCK")
            .arg(wire::millis(READ_BLOCK))
            .arg("STREAMS")
            .arg(&shared.results)
            .arg(&last)
            .query(c);
        match r {
            Ok(reply) => {
                let mut read_ids = Vec::new();
                let mut done_tids = Vec::new();
                for key in reply.keys {
                    for entry in key.ids {
                        last.clone_from(&entry.id);
                        read_ids.push(entry.id.clone());
                        handle_result(&shared, &entry.map, &mut done_tids);
                    }
                }
                if !read_ids.is_empty() {
                    let mut pipe = redis::pipe();
                    pipe.cmd("XDEL")
                        .arg(&shared.results)
                        .arg(&read_ids)
                        .ignore();
                    if !done_tids.is_empty() {
                        pipe.cmd("HDEL").arg(&shared.state).arg(&done_tids).ignore();
                    }
                    let _ = pipe.query::<()>(c);
                }
            }
            Err(e)
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_timeout()
                    || e.is_connection_refusal() =>
            {
                con = None;
                down_since.get_or_insert_with(Instant::now);
            }
            Err(_) => {
                // A server-side error (e.g. the key holds another type):
                // not a lost broker; retry after a pause.
                drop(shared);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Applies one result-stream entry.
fn handle_result(shared: &Shared, map: &HashMap<String, Value>, done_tids: &mut Vec<String>) {
    let Some(tid) = wire::field_str(map, "t") else {
        return;
    };
    match wire::field_str(map, "k") {
        Some("start") => {
            if let Some(entry) = shared.table().pending.get(tid) {
                entry.started();
            }
        }
        Some(kind @ ("done" | "lost")) => {
            done_tids.push(tid.to_owned());
            let entry = {
                let mut table = shared.table();
                let entry = table.pending.remove(tid);
                table.notify_all();
                entry
            };
            let Some(entry) = entry else { return };
            let reply = if kind == "lost" {
                let attempts = wire::field_str(map, "a")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0);
                Err(TaskError::WorkerLost { attempts })
            } else {
                decode_reply_entry(map, shared.config.max_result_bytes)
            };
            entry.finish(reply, shared.config.max_result_bytes);
        }
        _ => {}
    }
}

fn decode_reply_entry(map: &HashMap<String, Value>, max: usize) -> Result<Reply, TaskError> {
    let Some(payload) = wire::field_bytes(map, "p") else {
        return Err(TaskError::Malformed(
            "result entry without payload".to_owned(),
        ));
    };
    decode_reply(payload, max)
}

/// A result payload, capped then decoded exactly.
fn decode_reply(payload: &[u8], max: usize) -> Result<Reply, TaskError> {
    // The payload holds every result of a chunk: allow for framing.
    let limit = max.saturating_mul(2);
    if payload.len() > limit {
        return Err(TaskError::TooLarge {
            size: payload.len(),
            limit,
        });
    }
    wire::decode_exact(payload).map_err(|e| TaskError::Malformed(format!("result: {e}")))
}

/// For the fuzz target: a result payload decoded and completing the
/// futures of a 4-argument chunk of `u64` results, as the reader does.
pub(crate) fn fuzz_reply(payload: &[u8]) {
    let max = 1 << 20;
    let (futures, promises): (Vec<Future<u64>>, Vec<Promise<u64>>) =
        (0..4).map(|_| Future::with_cancel_hook(|| false)).unzip();
    Box::new(Slots { promises }).finish(decode_reply(payload, max), max);
    for f in futures {
        let _ = f.result_timeout(Duration::ZERO);
    }
}
