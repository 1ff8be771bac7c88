//! The worker side: [`ClusterWorker`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{Connection, Value};
use threadkit::threading::Condition;

use crate::error::{ClusterError, TaskError};
use crate::task::{Registration, TaskInfo, registry, set_current};
use crate::wire::{self, Args, Keys, Outcome, Reply};

/// How long one blocking fetch lasts.
const FETCH_BLOCK: Duration = Duration::from_millis(500);

/// Runs registered tasks from a namespace's stream: start one (or many) in
/// each machine's copy of your binary.
///
/// ```no_run
/// use threadkit_cluster::ClusterWorker;
///
/// // Everything registered with `threadkit_cluster::task!` in this binary.
/// ClusterWorker::new("redis://user:password@queue.example:6379/")
///     .slots(8)
///     .run()
///     .unwrap();
/// ```
///
/// A worker never runs anything but a function registered in its own
/// binary; an entry naming an unknown task, with other types, a foreign
/// protocol version or a malformed argument fails that one task with a
/// typed [`TaskError`]; an entry naming no caller is dead-lettered.
///
/// Its control thread renews the leases of the tasks it runs (so a long
/// task is never taken from a live worker) and reclaims the tasks of dead
/// workers (whose leases ran out) with `XAUTOCLAIM`.
pub struct ClusterWorker {
    url: String,
    namespace: String,
    slots: usize,
    lease: Duration,
    max_arg_bytes: usize,
    max_result_bytes: usize,
    tls_root_cert: Option<Vec<u8>>,
    stop: StopHandle,
}

/// Asks a running [`ClusterWorker`] to stop gracefully: it takes no new
/// tasks, finishes and commits the running ones, then
/// [`run`](ClusterWorker::run) returns. A worker never takes more tasks
/// than it has free slots, so it holds no queue to give back; a task it
/// could not commit (Redis away during the stop) stays pending and another
/// worker re-runs it after the lease.
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Requests the stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl ClusterWorker {
    /// A worker for the broker at `url` (see
    /// [`ClusterExecutor::connect`](crate::ClusterExecutor::connect) for the
    /// URL forms) with the defaults: namespace `threadkit`, one slot per
    /// CPU, a 30 s lease, 1 MiB argument and 16 MiB result caps.
    pub fn new(url: &str) -> Self {
        ClusterWorker {
            url: url.to_owned(),
            namespace: "threadkit".to_owned(),
            slots: std::thread::available_parallelism().map_or(1, |n| n.get()),
            lease: Duration::from_secs(30),
            max_arg_bytes: 1 << 20,
            max_result_bytes: 16 << 20,
            tls_root_cert: None,
            stop: StopHandle::default(),
        }
    }

    /// The namespace to serve (the callers' [`namespace`](crate::ClusterExecutorBuilder::namespace)).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = ns.into();
        self
    }

    /// How many tasks run at once (threads); the worker never takes more
    /// tasks than it has free slots.
    pub fn slots(mut self, n: usize) -> Self {
        self.slots = n;
        self
    }

    /// The lease: a task whose worker has not renewed it for this long is
    /// taken over by another worker. Renewed every lease/3 by a control
    /// thread that tasks cannot block; a dead worker's tasks re-run within
    /// about 1.5 × lease. Every worker of a namespace should use the same.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Cap on an entry's encoded arguments, checked before decoding.
    pub fn max_arg_bytes(mut self, n: usize) -> Self {
        self.max_arg_bytes = n;
        self
    }

    /// Cap on an encoded result; a larger one fails its task with
    /// [`TaskError::TooLarge`].
    pub fn max_result_bytes(mut self, n: usize) -> Self {
        self.max_result_bytes = n;
        self
    }

    /// For `rediss://` URLs: trust this CA certificate (PEM) instead of the
    /// system's roots, e.g. a private CA's. Needs the feature `tls-rustls`.
    #[cfg(feature = "tls-rustls")]
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// A handle that stops [`run`](Self::run) gracefully from another
    /// thread (or a signal handler's thread).
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Serves tasks until stopped. Survives Redis restarts and outages
    /// (reconnecting with back-off); returns an error only for a bad
    /// configuration or URL, or credentials Redis refuses
    /// ([`ClusterError::Auth`], checked when it first reaches Redis).
    pub fn run(self) -> Result<(), ClusterError> {
        if self.slots == 0 {
            return Err(ClusterError::Config("slots must be at least 1"));
        }
        if self.lease < Duration::from_millis(100) {
            return Err(ClusterError::Config("lease must be at least 100 ms"));
        }
        let client = wire::client(&self.url, self.tls_root_cert.as_deref())?;
        // Wrong credentials are a configuration error, not an outage to
        // wait out: fail at once if Redis is up and refuses them.
        if let Err(e) = client.get_connection_with_timeout(Duration::from_secs(5)) {
            if crate::error::is_auth_error(&e) {
                return Err(e.into());
            }
        }
        let wid = format!(
            "{}:{}:{}",
            wire::hostname(),
            std::process::id(),
            wire::fresh_id()
        );
        let inner = Arc::new(Inner {
            client,
            keys: Keys::new(&self.namespace),
            wid,
            slots: self.slots,
            lease: self.lease,
            max_arg_bytes: self.max_arg_bytes,
            max_result_bytes: self.max_result_bytes,
            stop: self.stop.clone(),
            registry: registry(),
            held: Mutex::new(HashSet::new()),
            busy: AtomicUsize::new(0),
            queue: Condition::named("threadkit-cluster worker queue", VecDeque::new()),
            duplicates: AtomicU64::new(0),
            start: redis::Script::new(wire::START),
            commit: redis::Script::new(wire::COMMIT),
            renew: redis::Script::new(wire::RENEW),
            gc: redis::Script::new(wire::GC),
        });
        std::thread::scope(|scope| {
            let control = {
                let inner = Arc::clone(&inner);
                std::thread::Builder::new()
                    .name("threadkit-cluster-control".to_owned())
                    .spawn_scoped(scope, move || inner.control_loop())
            };
            let mut slots = Vec::new();
            for i in 0..inner.slots {
                let inner = Arc::clone(&inner);
                slots.push(
                    std::thread::Builder::new()
                        .name(format!("threadkit-cluster-slot-{i}"))
                        .spawn_scoped(scope, move || inner.slot_loop()),
                );
            }
            inner.fetch_loop();
            inner.queue.acquire().notify_all();
            drop(control);
            drop(slots);
        });
        Ok(())
    }
}

impl fmt::Debug for ClusterWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterWorker")
            .field("namespace", &self.namespace)
            .field("slots", &self.slots)
            .field("lease", &self.lease)
            .finish()
    }
}

struct Inner {
    client: redis::Client,
    keys: Keys,
    wid: String,
    slots: usize,
    lease: Duration,
    max_arg_bytes: usize,
    max_result_bytes: usize,
    stop: StopHandle,
    registry: HashMap<&'static str, &'static Registration>,
    /// Entry ids taken and not yet committed or dropped: the leases the
    /// control thread renews.
    held: Mutex<HashSet<String>>,
    /// Entries taken (queued or running).
    busy: AtomicUsize,
    /// Entries taken and not started, in stream order; its condition wakes
    /// the slots (an entry queued, or the stop) and the fetch thread (a
    /// slot freed). threadkit's own, so thread dumps and green threads see
    /// these waits.
    queue: Condition<VecDeque<StreamId>>,
    duplicates: AtomicU64,
    start: redis::Script,
    commit: redis::Script,
    renew: redis::Script,
    gc: redis::Script,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn transient(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_connection_refusal()
}

impl Inner {
    fn connect(&self) -> Option<Connection> {
        let mut backoff = Duration::from_millis(50);
        while !self.stop.is_stopped() {
            match wire::connect(
                &self.client,
                Duration::from_secs(2),
                FETCH_BLOCK + Duration::from_secs(5),
            ) {
                Ok(mut con) => {
                    if wire::ensure_group(&mut con, &self.keys).is_ok() {
                        return Some(con);
                    }
                }
                Err(e) => {
                    if backoff >= Duration::from_secs(1) {
                        eprintln!(
                            "threadkit-cluster worker {}: waiting for Redis: {e}",
                            self.wid
                        );
                    }
                }
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        None
    }

    fn dispatch(&self, entries: Vec<StreamId>) {
        if entries.is_empty() {
            return;
        }
        {
            let mut held = lock(&self.held);
            for e in &entries {
                held.insert(e.id.clone());
            }
        }
        self.busy.fetch_add(entries.len(), Ordering::AcqRel);
        let mut queue = self.queue.acquire();
        queue.extend(entries);
        queue.notify_all();
    }

    /// Takes new entries (and reclaims dead workers' ones) while slots are free.
    fn fetch_loop(&self) {
        let mut con = None;
        let mut cursor = "0-0".to_owned();
        let mut last_claim = Instant::now() - self.lease;
        while !self.stop.is_stopped() {
            let Some(c) = con.as_mut() else {
                con = self.connect();
                continue;
            };
            let free = self.slots.saturating_sub(self.busy.load(Ordering::Acquire));
            if free == 0 {
                // Checked again under the lock, which a freeing slot takes
                // to notify: its wake-up cannot fall between check and wait.
                let mut q = self.queue.acquire();
                if self.busy.load(Ordering::Acquire) >= self.slots {
                    q.wait_timeout(Duration::from_millis(20));
                }
                continue;
            }
            if last_claim.elapsed() >= self.lease / 2 {
                let r: redis::RedisResult<StreamAutoClaimReply> = redis::cmd("XAUTOCLAIM")
                    .arg(&self.keys.tasks)
                    .arg(wire::GROUP)
                    .arg(&self.wid)
                    .arg(wire::millis(self.lease))
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(free)
                    .query(c);
                match r {
                    Ok(reply) => {
                        cursor = reply.next_stream_id;
                        if cursor == "0-0" {
                            last_claim = Instant::now();
                        }
                        self.dispatch(reply.claimed);
                        continue;
                    }
                    Err(e) if transient(&e) => {
                        con = None;
                        continue;
                    }
                    Err(e) => {
                        last_claim = Instant::now();
                        if e.code() == Some("NOGROUP") {
                            con = None;
                            continue;
                        }
                    }
                }
            }
            let r: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(wire::GROUP)
                .arg(&self.wid)
                .arg("COUNT")
                .arg(free)
                .arg("BLOCK")
                .arg(wire::millis(FETCH_BLOCK))
                .arg("STREAMS")
                .arg(&self.keys.tasks)
                .arg(">")
                .query(c);
            match r {
                Ok(Some(reply)) => {
                    for key in reply.keys {
                        self.dispatch(key.ids);
                    }
                }
                Ok(None) => {}
                Err(e) if transient(&e) => con = None,
                Err(e) => {
                    if e.code() == Some("NOGROUP") {
                        con = None;
                    } else {
                        eprintln!("threadkit-cluster worker {}: XREADGROUP: {e}", self.wid);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        }
    }

    /// Runs queued entries until stopped and drained.
    fn slot_loop(&self) {
        let mut con: Option<Connection> = None;
        let mut next: Option<StreamId> = None;
        loop {
            let entry = match next.take() {
                Some(e) => Some(e),
                None => {
                    let mut q = self.queue.acquire();
                    loop {
                        if let Some(e) = q.pop_front() {
                            break Some(e);
                        }
                        if self.stop.is_stopped() {
                            break None;
                        }
                        q.wait_timeout(Duration::from_millis(100));
                    }
                }
            };
            let Some(entry) = entry else { return };
            let id = entry.id.clone();
            self.process(&mut con, entry);
            lock(&self.held).remove(&id);
            // The slot is still counted busy: take its next entry itself,
            // one round trip after the commit, instead of handing the free
            // slot to the fetch thread (two thread wake-ups and a round
            // trip more between a worker's tasks). Still one entry per
            // free slot, so no worker takes more than it can run.
            next = self.take_one(&mut con);
            if next.is_none() {
                self.busy.fetch_sub(1, Ordering::AcqRel);
                self.queue.acquire().notify_all();
            }
        }
    }

    /// For a slot that just finished: one new entry (`XREADGROUP COUNT 1`,
    /// not blocking), when nothing is queued and the worker is not
    /// stopping. `None` on any error (the fetch thread then takes over).
    fn take_one(&self, con: &mut Option<Connection>) -> Option<StreamId> {
        if self.stop.is_stopped() || !self.queue.acquire().is_empty() {
            return None;
        }
        let c = con.as_mut()?;
        let r: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(wire::GROUP)
            .arg(&self.wid)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&self.keys.tasks)
            .arg(">")
            .query(c);
        match r {
            Ok(reply) => {
                let entry = reply?.keys.into_iter().flat_map(|k| k.ids).next()?;
                lock(&self.held).insert(entry.id.clone());
                Some(entry)
            }
            Err(e) => {
                if transient(&e) {
                    *con = None;
                }
                None
            }
        }
    }

    /// Runs a Redis call on the slot's connection, reconnecting while
    /// Redis is away (until stopped).
    fn call<T>(
        &self,
        con: &mut Option<Connection>,
        f: impl Fn(&mut Connection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        loop {
            if con.is_none() {
                *con = Some(self.connect()?);
            }
            let c = con.as_mut()?;
            match f(c) {
                Ok(v) => return Some(v),
                Err(e) if transient(&e) => *con = None,
                Err(e) => {
                    eprintln!("threadkit-cluster worker {}: {e}", self.wid);
                    return None;
                }
            }
        }
    }

    fn dead_letter(&self, con: &mut Option<Connection>, entry: &StreamId, reason: &str) {
        let tasks = &self.keys.tasks;
        let dead = &self.keys.dead;
        self.call(con, |c| {
            redis::pipe()
                .atomic()
                .cmd("XADD")
                .arg(dead)
                .arg("MAXLEN")
                .arg("~")
                .arg(1000)
                .arg("*")
                .arg("id")
                .arg(&entry.id)
                .arg("reason")
                .arg(reason)
                .arg("worker")
                .arg(&self.wid)
                .ignore()
                .cmd("PEXPIRE")
                .arg(dead)
                .arg(wire::millis(wire::DEAD_TTL))
                .ignore()
                .cmd("XACK")
                .arg(tasks)
                .arg(wire::GROUP)
                .arg(&entry.id)
                .ignore()
                .cmd("XDEL")
                .arg(tasks)
                .arg(&entry.id)
                .ignore()
                .query::<()>(c)
        });
    }

    /// Start, run, commit one entry. Never panics on bad input.
    fn process(&self, con: &mut Option<Connection>, entry: StreamId) {
        let map = &entry.map;
        let (Some(caller), Some(tid)) =
            (wire::field_str(map, "caller"), wire::field_str(map, "tid"))
        else {
            self.dead_letter(con, &entry, "no caller or task id");
            return;
        };
        if caller.is_empty() || tid.is_empty() || caller.len() > 512 || tid.len() > 128 {
            self.dead_letter(con, &entry, "bad caller or task id");
            return;
        }
        let max_attempts: u32 = wire::field_str(map, "ma")
            .and_then(|s| s.parse().ok())
            .unwrap_or(3)
            .clamp(1, 100);
        let state = self.keys.state(caller);
        let results = self.keys.results(caller);
        let Some(verdict) = self.call(con, |c| {
            self.start
                .key(&self.keys.tasks)
                .key(&state)
                .key(&results)
                .arg(tid)
                .arg(&entry.id)
                .arg(&self.wid)
                .arg(max_attempts)
                .invoke::<(String, u32)>(c)
        }) else {
            if !self.stop.is_stopped() {
                // Not a lost connection (`call` retries those) but a
                // refusal, e.g. a hostile caller key of the wrong type:
                // retrying would loop forever, so dead-letter the entry.
                self.dead_letter(con, &entry, "start refused by Redis");
            }
            return;
        };
        let (verdict, attempt) = verdict;
        if verdict != "go" {
            return;
        }
        let reply = self.run_entry(map, tid, attempt);
        let mut payload = rmp_serde::to_vec(&reply).unwrap_or_default();
        if payload.len() > self.max_result_bytes.saturating_mul(2) {
            let e = TaskError::TooLarge {
                size: payload.len(),
                limit: self.max_result_bytes,
            };
            payload = rmp_serde::to_vec(&Reply::Failed(e)).unwrap_or_default();
        }
        if let Some(r) = self.call(con, |c| {
            self.commit
                .key(&self.keys.tasks)
                .key(&state)
                .key(&results)
                .arg(tid)
                .arg(&entry.id)
                .arg(&self.wid)
                .arg(attempt)
                .arg(&payload)
                .invoke::<String>(c)
        }) {
            if r == "stale" {
                self.duplicates.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Checks the entry and runs its calls; every failure is a value.
    fn run_entry(&self, map: &HashMap<String, Value>, tid: &str, attempt: u32) -> Reply {
        let (reg, args) = match check_entry(map, &self.registry, self.max_arg_bytes) {
            Ok(checked) => checked,
            Err(e) => return Reply::Failed(e),
        };
        let mut outcomes = Vec::with_capacity(args.0.len());
        for (index, arg) in args.0.iter().enumerate() {
            set_current(Some(TaskInfo {
                tid: tid.to_owned(),
                attempt,
                index,
            }));
            let outcome = (reg.invoke)(arg);
            set_current(None);
            let outcome = match outcome {
                Outcome::Ok(b) if b.len() > self.max_result_bytes => {
                    Outcome::Failed(TaskError::TooLarge {
                        size: b.len(),
                        limit: self.max_result_bytes,
                    })
                }
                other => other,
            };
            outcomes.push(outcome);
        }
        Reply::Batch(outcomes)
    }

    /// Every lease/3: liveness key, lease renewal, stream TTL.
    fn control_loop(&self) {
        let mut con: Option<Connection> = None;
        let period = self.lease / 3;
        let mut ticks: u64 = 0;
        while !self.stop.is_stopped() || self.busy.load(Ordering::Acquire) > 0 {
            let ids: Vec<String> = lock(&self.held).iter().cloned().collect();
            let wkey = self.keys.worker(&self.wid);
            let info = format!(
                "pid={} slots={} busy={} duplicates={}",
                std::process::id(),
                self.slots,
                self.busy.load(Ordering::Relaxed),
                self.duplicates.load(Ordering::Relaxed)
            );
            let Some(c) = con.as_mut() else {
                con = wire::connect(&self.client, Duration::from_secs(1), Duration::from_secs(5))
                    .ok();
                if con.is_none() {
                    std::thread::sleep(Duration::from_millis(100));
                }
                continue;
            };
            let mut ok = redis::pipe()
                .cmd("SET")
                .arg(&wkey)
                .arg(&info)
                .arg("PX")
                .arg(wire::millis(self.lease))
                .ignore()
                .cmd("PEXPIRE")
                .arg(&self.keys.tasks)
                .arg(wire::millis(wire::TASKS_TTL))
                .ignore()
                .query::<()>(c)
                .is_ok();
            if ok && !ids.is_empty() {
                let mut inv = self.renew.key(&self.keys.tasks);
                inv.arg(&self.wid);
                for id in &ids {
                    inv.arg(id);
                }
                ok = inv.invoke::<Vec<String>>(c).is_ok();
            }
            if !ok {
                con = None;
                continue;
            }
            ticks += 1;
            if ticks % 30 == 1 {
                // Forget dead workers' consumers (idle for 10 leases, no
                // pending entries): a best effort, errors are harmless.
                let _ = self
                    .gc
                    .key(&self.keys.tasks)
                    .arg(wire::millis(self.lease * 10))
                    .invoke::<i64>(c);
            }
            let deadline = Instant::now() + period;
            while Instant::now() < deadline
                && !(self.stop.is_stopped() && self.busy.load(Ordering::Acquire) == 0)
            {
                std::thread::sleep(Duration::from_millis(20).min(period));
            }
        }
        if let Some(c) = con.as_mut() {
            let _ = redis::cmd("DEL")
                .arg(self.keys.worker(&self.wid))
                .query::<Value>(c);
        }
    }
}

/// Everything a worker checks of a task entry before running it: its
/// protocol version, a registered task name, the caller's type signature,
/// the argument cap, and arguments that decode exactly. Never panics.
pub(crate) fn check_entry(
    map: &HashMap<String, Value>,
    registry: &HashMap<&'static str, &'static Registration>,
    max_arg_bytes: usize,
) -> Result<(&'static Registration, Args), TaskError> {
    match wire::field_str(map, "v") {
        Some(v) if v == wire::VERSION.to_string() => {}
        found => {
            return Err(TaskError::Version {
                found: found.unwrap_or("(none)").chars().take(32).collect(),
                supported: wire::VERSION,
            });
        }
    }
    let Some(name) = wire::field_str(map, "fn") else {
        return Err(TaskError::Malformed("no task name".to_owned()));
    };
    let Some(reg) = registry.get(name) else {
        return Err(TaskError::UnknownTask {
            name: name.chars().take(256).collect(),
        });
    };
    let theirs = wire::field_str(map, "sig").unwrap_or("(none)");
    let ours = (reg.signature)();
    if theirs != ours {
        return Err(TaskError::SignatureMismatch {
            name: name.to_owned(),
            caller: theirs.chars().take(512).collect(),
            worker: ours,
        });
    }
    let Some(bytes) = wire::field_bytes(map, "args") else {
        return Err(TaskError::Malformed("no arguments".to_owned()));
    };
    if bytes.len() > max_arg_bytes {
        return Err(TaskError::TooLarge {
            size: bytes.len(),
            limit: max_arg_bytes,
        });
    }
    let args: Args =
        wire::decode_exact(bytes).map_err(|e| TaskError::Malformed(format!("arguments: {e}")))?;
    Ok((*reg, args))
}

/// The decoders a hostile stream entry reaches, for the fuzz target
/// `stream_entry` (not public API). `data` is split at `0x00` bytes into
/// alternating field names and values; with the first byte odd, the rest
/// is a caller's result payload instead. Runs the worker's entry checks
/// (and, for an entry that passes them, the registered task on each
/// argument) or the caller's reply decoding.
#[doc(hidden)]
pub fn fuzz_stream_entry(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        crate::executor::fuzz_reply(rest);
        let _ = wire::reply_error(rest);
        return;
    }
    let mut parts = rest.split(|&b| b == 0);
    let mut map = HashMap::new();
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        map.insert(
            String::from_utf8_lossy(k).into_owned(),
            Value::BulkString(v.to_vec()),
        );
    }
    let _ = wire::field_str(&map, "caller");
    let _ = wire::field_str(&map, "tid");
    if let Ok((reg, args)) = check_entry(&map, &registry(), 1 << 16) {
        for arg in &args.0 {
            let _ = (reg.invoke)(arg);
        }
    }
}

#[cfg(test)]
mod fuzz_seeds {
    use super::fuzz_stream_entry;
    use crate::wire::{Outcome, Reply, VERSION};

    fn task_entry(args: &[u8]) -> Vec<u8> {
        let mut data = vec![0u8];
        for (k, v) in [
            (&b"v"[..], VERSION.to_string().as_bytes()),
            // Registered in the fuzz target, unknown here.
            (b"fn", b"fuzz.square"),
            (b"sig", b"u64 -> u64"),
            (b"args", args),
        ] {
            data.extend_from_slice(k);
            data.push(0);
            data.extend_from_slice(v);
            data.push(0);
        }
        data
    }

    /// The fuzz target's seeds (fuzz/corpus/stream_entry; written there
    /// with `TK_WRITE_FUZZ_SEEDS=<dir>`) run here too, with every
    /// truncation of each: no input panics.
    #[test]
    fn the_stream_entry_decoders_never_panic() {
        let reply = rmp_serde::to_vec(&Reply::Batch(vec![
            Outcome::Ok(vec![7]),
            Outcome::Panicked {
                message: "m".into(),
                location: Some("f.rs:1:2".into()),
            },
        ]))
        .unwrap();
        let seeds = [
            task_entry(&[0x91, 0xc4, 0x01, 0x07]),
            [&[1u8][..], &reply].concat(),
            [&[1u8][..], &reply, &[0xc0]].concat(),
            vec![],
            vec![0],
        ];
        if let Some(dir) = std::env::var_os("TK_WRITE_FUZZ_SEEDS") {
            for (i, s) in seeds.iter().enumerate() {
                std::fs::write(std::path::Path::new(&dir).join(format!("seed-{i}")), s).unwrap();
            }
        }
        for s in &seeds {
            for end in 0..=s.len() {
                fuzz_stream_entry(&s[..end]);
            }
        }
    }
}
