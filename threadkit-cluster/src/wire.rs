//! The protocol: key names, entry fields, the Lua scripts that make it
//! race-free, and small helpers shared by the caller and the worker.
//!
//! Keys (`{ns}` is a hash tag, so one namespace lives in one cluster slot
//! and every script touches keys of one slot):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `tk:{ns}:tasks` | stream, group `workers` | the task queue |
//! | `tk:{ns}:st:<caller>` | hash tid → `C` / `R:<worker>:<attempt>` / `D` | one caller's task states |
//! | `tk:{ns}:res:<caller>` | stream | results (and start notices) for one caller |
//! | `tk:{ns}:w:<worker>` | string, `PX` | worker liveness and introspection |
//! | `tk:{ns}:dead` | stream, `MAXLEN ~ 1000` | entries naming no caller (dead letters) |

use std::collections::HashMap;
use std::time::Duration;

use redis::{Connection, Value};
use serde::{Deserialize, Serialize};

use crate::error::TaskError;

/// The protocol version in every task entry (`v`). Version 2: a panic's
/// outcome carries its location (`Outcome::Panicked { message, location }`).
/// A worker runs only entries of its own version and fails the others with
/// [`TaskError::Version`], so a caller only ever reads replies of its own
/// version (or that error, whose encoding both versions share).
pub(crate) const VERSION: u32 = 2;
/// The longest panic location a reply may carry (`file:line:column`).
pub(crate) const MAX_LOCATION: usize = 4096;
/// The consumer group of the task stream.
pub(crate) const GROUP: &str = "workers";
/// TTL of the shared task stream, refreshed by every live caller and
/// worker: a namespace nobody uses any more disappears after a day.
pub(crate) const TASKS_TTL: Duration = Duration::from_secs(24 * 3600);
/// TTL of the dead-letter stream, refreshed on each dead letter.
pub(crate) const DEAD_TTL: Duration = Duration::from_secs(24 * 3600);

/// The key names of one namespace.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    ns: String,
    pub(crate) tasks: String,
    pub(crate) dead: String,
}

impl Keys {
    pub(crate) fn new(ns: &str) -> Self {
        Keys {
            ns: ns.to_owned(),
            tasks: format!("tk:{{{ns}}}:tasks"),
            dead: format!("tk:{{{ns}}}:dead"),
        }
    }

    pub(crate) fn state(&self, caller: &str) -> String {
        format!("tk:{{{}}}:st:{caller}", self.ns)
    }

    pub(crate) fn results(&self, caller: &str) -> String {
        format!("tk:{{{}}}:res:{caller}", self.ns)
    }

    pub(crate) fn worker(&self, wid: &str) -> String {
        format!("tk:{{{}}}:w:{wid}", self.ns)
    }
}

/// What one call produced, as sent back in a result entry.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The encoded result.
    Ok(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The task panicked: its message and, when the worker's panic hook
    /// saw it, where (`file:line:column`).
    Panicked {
        /// The panic's message.
        message: String,
        /// Where it was raised.
        location: Option<String>,
    },
    /// The call failed before or after running.
    Failed(TaskError),
}

/// The payload of a `done` result entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// One outcome per argument of the entry, in order.
    Batch(Vec<Outcome>),
    /// The whole entry failed (unknown task, bad entry, ...).
    Failed(TaskError),
}

/// The error in a `done` result payload: the entry's, or its first
/// failed call's. Not public API (for tests that read raw result entries).
#[doc(hidden)]
pub fn reply_error(payload: &[u8]) -> Option<TaskError> {
    match decode_exact::<Reply>(payload).ok()? {
        Reply::Failed(e) => Some(e),
        Reply::Batch(outcomes) => outcomes.into_iter().find_map(|o| match o {
            Outcome::Failed(e) => Some(e),
            _ => None,
        }),
    }
}

/// Decodes a whole MessagePack value from `bytes`: trailing bytes (a
/// truncated-then-padded or foreign payload) are an error, as is any
/// value of another shape.
pub(crate) fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(bytes));
    let value = T::deserialize(&mut de).map_err(|e| e.to_string())?;
    let used = de.position();
    if used != bytes.len() as u64 {
        return Err(format!(
            "{} trailing bytes after the value",
            bytes.len() as u64 - used
        ));
    }
    Ok(value)
}

/// Arguments of one entry: `submit` sends one, a `map` chunk several.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Args(pub(crate) Vec<serde_bytes::ByteBuf>);

/// `start(tid, entry, worker, max_attempts)`: may this worker run this
/// delivery? Checks in one atomic step that the worker still owns the
/// entry (XPENDING), reads the attempt number (the delivery count), drops
/// the entry if its caller is gone, skips it if cancelled or done, fails
/// it with `lost` past `max_attempts`, else marks it running and tells the
/// caller. Returns `{verdict, attempt}`.
pub(crate) const START: &str = r#"
local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return {'notmine', 0} end
local attempt = tonumber(p[1][4])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XACK', KEYS[1], 'workers', ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
  return {'drop', attempt}
end
local s = redis.call('HGET', KEYS[2], ARGV[1])
if s == 'C' or s == 'D' then
  redis.call('XACK', KEYS[1], 'workers', ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
  return {'skip', attempt}
end
local ttl = redis.call('PTTL', KEYS[2])
if attempt > tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], ARGV[1], 'D')
  redis.call('XADD', KEYS[3], '*', 't', ARGV[1], 'k', 'lost', 'a', tostring(attempt - 1), 'w', ARGV[3])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
  redis.call('XACK', KEYS[1], 'workers', ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
  return {'lost', attempt}
end
redis.call('HSET', KEYS[2], ARGV[1], 'R:' .. ARGV[3] .. ':' .. attempt)
redis.call('XADD', KEYS[3], '*', 't', ARGV[1], 'k', 'start', 'a', tostring(attempt), 'w', ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
return {'go', attempt}
"#;

/// `commit(tid, entry, worker, attempt, payload)`: first commit wins. Only
/// the worker whose start is the latest for this task (`R:<worker>:<attempt>`,
/// a fencing token) may publish; a stale worker, whose lease was taken
/// over, gets `stale` and publishes nothing. Returns `ok`, `stale` or `drop`.
pub(crate) const COMMIT: &str = r#"
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XACK', KEYS[1], 'workers', ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
  return 'drop'
end
local s = redis.call('HGET', KEYS[2], ARGV[1])
if s ~= ('R:' .. ARGV[3] .. ':' .. ARGV[4]) then return 'stale' end
redis.call('HSET', KEYS[2], ARGV[1], 'D')
redis.call('XADD', KEYS[3], '*', 't', ARGV[1], 'k', 'done', 'a', ARGV[4], 'w', ARGV[3], 'p', ARGV[5])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
redis.call('XACK', KEYS[1], 'workers', ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 'ok'
"#;

/// `cancel(tid)`: 1 if the task can no longer start (marked `C` now or
/// before, or its caller's state is gone), 0 if it started or finished.
pub(crate) const CANCEL: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local s = redis.call('HGET', KEYS[1], ARGV[1])
if not s then
  redis.call('HSET', KEYS[1], ARGV[1], 'C')
  return 1
end
if s == 'C' then return 1 end
return 0
"#;

/// `renew(worker, ids…)`: resets the idle time of the entries this worker
/// still owns (`XCLAIM … JUSTID` keeps the delivery count); returns the ids
/// it no longer owns (reclaimed by another worker).
pub(crate) const RENEW: &str = r#"
local lost = {}
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[i], ARGV[i], 1)
  if #p > 0 and p[1][2] == ARGV[1] then
    redis.call('XCLAIM', KEYS[1], 'workers', ARGV[1], 0, ARGV[i], 'JUSTID')
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"#;

/// `gc(idle_ms)`: deletes the consumers of the group that own no pending
/// entry and have been idle longer than `idle_ms` (dead workers). Never one
/// with pending entries: `XGROUP DELCONSUMER` would drop them. Atomic, so
/// no entry can be delivered to a consumer between the check and the
/// delete. Returns how many were deleted.
pub(crate) const GC: &str = r#"
local deleted = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], 'workers')) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if tonumber(f['pending']) == 0 and tonumber(f['idle']) > tonumber(ARGV[1]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'workers', f['name'])
    deleted = deleted + 1
  end
end
return deleted
"#;

/// Opens a connection with bounded connect, read and write times.
/// The client for `url`; with feature `tls-rustls` and a `root_cert`
/// (PEM), `rediss://` connections trust that CA instead of the system's.
pub(crate) fn client(url: &str, root_cert: Option<&[u8]>) -> redis::RedisResult<redis::Client> {
    #[cfg(feature = "tls-rustls")]
    {
        // rustls needs a process-wide crypto provider; ours unless the
        // program installed one first (then this is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        if let Some(pem) = root_cert {
            return redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                },
            );
        }
    }
    #[cfg(not(feature = "tls-rustls"))]
    let _ = root_cert;
    redis::Client::open(url)
}

pub(crate) fn connect(
    client: &redis::Client,
    connect_timeout: Duration,
    io_timeout: Duration,
) -> redis::RedisResult<Connection> {
    let con = client.get_connection_with_timeout(connect_timeout)?;
    con.set_read_timeout(Some(io_timeout))?;
    con.set_write_timeout(Some(io_timeout))?;
    Ok(con)
}

/// `XGROUP CREATE tasks workers 0 MKSTREAM`, tolerating an existing group.
/// Id `0`: if the stream expired and was re-created by a caller's `XADD`,
/// the new group still delivers every entry.
pub(crate) fn ensure_group(con: &mut Connection, keys: &Keys) -> redis::RedisResult<()> {
    let r: redis::RedisResult<Value> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&keys.tasks)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query(con);
    match r {
        Ok(_) => {}
        Err(e) if e.code() == Some("BUSYGROUP") => {}
        Err(e) => return Err(e),
    }
    redis::cmd("PEXPIRE")
        .arg(&keys.tasks)
        .arg(TASKS_TTL.as_millis() as u64)
        .query::<Value>(con)?;
    Ok(())
}

/// A field of a stream entry as bytes (`None` if absent or not a string).
pub(crate) fn field_bytes<'a>(map: &'a HashMap<String, Value>, name: &str) -> Option<&'a [u8]> {
    match map.get(name)? {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// A field as UTF-8 text.
pub(crate) fn field_str<'a>(map: &'a HashMap<String, Value>, name: &str) -> Option<&'a str> {
    std::str::from_utf8(field_bytes(map, name)?).ok()
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The inverse of [`hex`]; `None` on anything else.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A fresh id: 128 random-ish bits from the OS's hasher seeds, the clock and
/// a counter (unique per process; the pid and host are added by callers).
pub(crate) fn fresh_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut a = RandomState::new().build_hasher();
    a.write_u64(n);
    a.write_u64(nanos);
    let mut b = RandomState::new().build_hasher();
    b.write_u64(nanos);
    b.write_u64(n);
    format!("{:016x}{:016x}", a.finish(), b.finish())
}

/// This machine's name, for ids and introspection.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "host".to_owned())
}

/// Milliseconds in a duration, at least 1.
pub(crate) fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(hex(&bytes), "00017f80ff");
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn fresh_ids_differ() {
        assert_ne!(fresh_id(), fresh_id());
    }
}
