//! Protocol tests that drive the Lua scripts by hand, against a private
//! redis-server (see `tests/common`).

use redis::streams::{StreamAutoClaimReply, StreamReadReply};

use crate::ClusterExecutor;
use crate::wire::{self, Keys, Outcome, Reply};
use threadkit::futures::Shutdown;

#[path = "../tests/common/mod.rs"]
mod common;

fn add_one(x: u64) -> u64 {
    x + 1
}

crate::task! { ADD_ONE: fn(u64) -> u64 = add_one, "unit.add_one"; }

fn payload(value: u64) -> Vec<u8> {
    let bytes = rmp_serde::to_vec(&value).unwrap();
    rmp_serde::to_vec(&Reply::Batch(vec![Outcome::Ok(bytes)])).unwrap()
}

#[test]
fn stale_worker_cannot_commit_a_second_result() {
    let Some(server) = common::server() else {
        return;
    };
    let ns = "stale";
    let exec = ClusterExecutor::builder(&server.url)
        .namespace(ns)
        .connect()
        .unwrap();
    let f = exec.submit(&ADD_ONE, 1).unwrap();
    let mut con = server.con();
    let keys = Keys::new(ns);
    let (st, res) = (keys.state(exec.caller_id()), keys.results(exec.caller_id()));
    let start = redis::Script::new(wire::START);
    let commit = redis::Script::new(wire::COMMIT);
    let renew = redis::Script::new(wire::RENEW);

    // Worker A takes the task and starts it.
    let reply: StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(wire::GROUP)
        .arg("wA")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&keys.tasks)
        .arg(">")
        .query(&mut con)
        .unwrap();
    let entry = &reply.keys[0].ids[0];
    let tid = wire::field_str(&entry.map, "tid").unwrap().to_owned();
    let start_as = |who: &str, con: &mut redis::Connection| -> (String, u32) {
        start
            .key(&keys.tasks)
            .key(&st)
            .key(&res)
            .arg(&tid)
            .arg(&entry.id)
            .arg(who)
            .arg(3)
            .invoke(con)
            .unwrap()
    };
    assert_eq!(start_as("wA", &mut con), ("go".to_owned(), 1));
    common::eventually("the caller sees the start", || f.running());

    // A stalls past its lease: B takes the task over and starts attempt 2.
    let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
        .arg(&keys.tasks)
        .arg(wire::GROUP)
        .arg("wB")
        .arg(0)
        .arg("0-0")
        .arg("COUNT")
        .arg(1)
        .query(&mut con)
        .unwrap();
    assert_eq!(claimed.claimed.len(), 1);
    assert_eq!(start_as("wB", &mut con), ("go".to_owned(), 2));
    // A's renewal now reports the lease lost (and does not steal it back).
    let lost: Vec<String> = renew
        .key(&keys.tasks)
        .arg("wA")
        .arg(&entry.id)
        .invoke(&mut con)
        .unwrap();
    assert_eq!(lost, std::slice::from_ref(&entry.id));

    let mut commit_as = |who: &str, attempt: u32, value: u64| -> String {
        commit
            .key(&keys.tasks)
            .key(&st)
            .key(&res)
            .arg(&tid)
            .arg(&entry.id)
            .arg(who)
            .arg(attempt)
            .arg(payload(value))
            .invoke(&mut con)
            .unwrap()
    };
    // The stale worker A cannot commit while B holds the task...
    assert_eq!(commit_as("wA", 1, 7), "stale");
    // ...B's commit wins...
    assert_eq!(commit_as("wB", 2, 100), "ok");
    // ...and nobody can commit a second result afterwards.
    assert_eq!(commit_as("wA", 1, 7), "stale");
    assert_eq!(commit_as("wB", 2, 101), "stale");
    assert_eq!(f.result_timeout(common::BOUND), Ok(&100));
    // A late start of the acknowledged entry is refused.
    let mut con2 = server.con();
    assert_eq!(start_as("wA", &mut con2).0, "notmine");
    let pending: redis::Value = redis::cmd("XPENDING")
        .arg(&keys.tasks)
        .arg(wire::GROUP)
        .query(&mut con2)
        .unwrap();
    assert!(
        matches!(&pending, redis::Value::Array(v) if v.first() == Some(&redis::Value::Int(0))),
        "{pending:?}"
    );
    exec.shutdown(Shutdown::wait());
}

#[test]
fn cancel_script_refuses_started_tasks_and_is_idempotent() {
    let Some(server) = common::server() else {
        return;
    };
    let mut con = server.con();
    let cancel = redis::Script::new(wire::CANCEL);
    let st = "tk:{c}:st:me";
    let _: () = redis::cmd("HSET")
        .arg(st)
        .arg("_caller")
        .arg("me")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(st)
        .arg("running")
        .arg("R:w:1")
        .query(&mut con)
        .unwrap();
    let mut run = |tid: &str| -> i64 { cancel.key(st).arg(tid).invoke(&mut con).unwrap() };
    assert_eq!(run("pending"), 1);
    assert_eq!(run("pending"), 1, "cancelling twice is still cancelled");
    assert_eq!(run("running"), 0);
    // A caller whose state expired: nothing can start, and no key is made.
    assert_eq!(
        cancel
            .key("tk:{c}:st:gone")
            .arg("x")
            .invoke::<i64>(&mut server.con())
            .unwrap(),
        1
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg("tk:{c}:st:gone")
        .query(&mut server.con())
        .unwrap();
    assert_eq!(exists, 0);
}

#[test]
fn gc_deletes_only_idle_consumers_without_pending_entries() {
    let Some(server) = common::server() else {
        return;
    };
    let mut con = server.con();
    let keys = Keys::new("gc");
    wire::ensure_group(&mut con, &keys).unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id: String = redis::cmd("XADD")
            .arg(&keys.tasks)
            .arg("*")
            .arg("x")
            .arg("1")
            .query(&mut con)
            .unwrap();
        ids.push(id);
    }
    for who in ["busy", "idle"] {
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(wire::GROUP)
            .arg(who)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&keys.tasks)
            .arg(">")
            .query(&mut con)
            .unwrap();
    }
    // `idle` finished its entry; `busy` still holds one.
    let _: i64 = redis::cmd("XACK")
        .arg(&keys.tasks)
        .arg(wire::GROUP)
        .arg(&ids[1])
        .query(&mut con)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let gc = redis::Script::new(wire::GC);
    let deleted: i64 = gc.key(&keys.tasks).arg(5).invoke(&mut con).unwrap();
    assert_eq!(deleted, 1);
    let consumers: redis::Value = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(&keys.tasks)
        .arg(wire::GROUP)
        .query(&mut con)
        .unwrap();
    let text = format!("{consumers:?}");
    assert!(
        matches!(&consumers, redis::Value::Array(v) if v.len() == 1) && text.contains("busy"),
        "{text}"
    );
}
