//! Shared memory and cross-process synchronization: `Value`, `Array`,
//! `Lock`, `Event`, `Semaphore`. Behaviours ported from CPython's
//! `Lib/test/_test_multiprocessing.py` (`_TestValue`, `_TestArray`,
//! `_TestLock`, `_TestEvent`, `_TestSemaphore`); each test names the one it
//! follows. The dead-holder tests are threadkit's own (Python's locks stay
//! locked for ever).
//!
//! CPython is Copyright (c) 2001 Python Software Foundation, used under the
//! PSF License Agreement; the Rust code is threadkit's own.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::time::Duration;

use threadkit::multiprocessing::{Array, Event, Lock, Process, Semaphore, SharedError, Value};

/// Hang guard: nothing here should take anywhere near this long.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Starts `f(arg)` in a child and returns its exit code.
fn run_child<A>(f: fn(A), arg: A) -> i32
where
    A: serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    let mut p = Process::new(f, arg);
    p.set_daemon(true);
    p.start().unwrap();
    match p.join_timeout(HANG_GUARD).unwrap() {
        Some(code) => code,
        None => {
            let _ = p.kill();
            panic!("hang guard: the child did not finish");
        }
    }
}

type Values = (Value<i32>, Value<f64>, Value<i16>, Value<i64>, Value<u8>);

fn set_values((i, d, h, q, c): Values) {
    i.set(24234).unwrap();
    d.set(-4.25).unwrap();
    h.set(234).unwrap();
    q.set(1 << 34).unwrap();
    c.set(b'y').unwrap();
}

/// `_TestValue.test_value`: values set in a child are seen by the parent.
#[test]
fn test_value() {
    let values: Values = (
        Value::new(4343).unwrap(),
        Value::new(3.625).unwrap(),
        Value::new(-232).unwrap(),
        Value::new(1 << 33).unwrap(),
        Value::new(b'x').unwrap(),
    );
    assert_eq!(values.0.get().unwrap(), 4343);
    assert_eq!(values.1.get().unwrap(), 3.625);
    assert_eq!(run_child(set_values, values.clone()), 0);
    assert_eq!(values.0.get().unwrap(), 24234);
    assert_eq!(values.1.get().unwrap(), -4.25);
    assert_eq!(values.2.get().unwrap(), 234);
    assert_eq!(values.3.get().unwrap(), 1 << 34);
    assert_eq!(values.4.get().unwrap(), b'y');
}

fn running_sum(a: Array<i32>) {
    let mut seq = a.lock().unwrap();
    for i in 1..seq.len() {
        seq[i] += seq[i - 1];
    }
}

/// `_TestArray.test_array`: len, indexing, slices, and a child's edits.
#[test]
fn test_array() {
    let mut seq = vec![680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
    let arr = Array::from_slice(&seq).unwrap();
    assert_eq!(arr.len(), seq.len());
    assert_eq!(arr.get(3).unwrap(), seq[3]);
    assert_eq!(arr.lock().unwrap()[2..7], seq[2..7]);
    arr.lock().unwrap()[4..8].copy_from_slice(&[1, 2, 3, 4]);
    seq[4..8].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(arr.to_vec().unwrap(), seq);
    for i in 1..seq.len() {
        seq[i] += seq[i - 1];
    }
    assert_eq!(run_child(running_sum, arr.clone()), 0);
    assert_eq!(arr.to_vec().unwrap(), seq);
}

/// `_TestArray.test_array_from_size`: a new array is zeroed.
#[test]
fn test_array_from_size() {
    for _ in 0..3 {
        let arr = Array::<i32>::zeroed(10).unwrap();
        assert_eq!(arr.to_vec().unwrap(), [0; 10]);
        arr.lock()
            .unwrap()
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = i as i32);
        assert_eq!(arr.to_vec().unwrap(), (0..10).collect::<Vec<_>>());
    }
}

/// Python's `IndexError`: shared memory is bounds-checked.
#[test]
fn array_indexing_is_bounds_checked() {
    let arr = Array::from_slice(&[1u64, 2]).unwrap();
    assert_eq!(
        arr.get(2),
        Err(SharedError::IndexOutOfRange { index: 2, len: 2 })
    );
    assert_eq!(
        arr.set(usize::MAX, 0),
        Err(SharedError::IndexOutOfRange {
            index: usize::MAX,
            len: 2
        })
    );
    assert_eq!(arr.to_vec().unwrap(), [1, 2]);
    let empty = Array::<u8>::zeroed(0).unwrap();
    assert!(empty.is_empty());
    assert!(empty.get(0).is_err());
}

fn add_many((v, n): (Value<u64>, u64)) {
    for _ in 0..n {
        *v.lock().unwrap() += 1;
    }
}

/// `_TestValue.test_getobj_getlock`'s point: the value's own lock makes
/// read-modify-write safe across processes; no increment is lost.
#[test]
fn the_value_lock_serializes_processes() {
    let v = Value::new(0u64).unwrap();
    let mut children: Vec<Process> = (0..3)
        .map(|_| Process::new(add_many, (v.clone(), 2000)))
        .collect();
    for p in &mut children {
        p.set_daemon(true);
        p.start().unwrap();
    }
    add_many((v.clone(), 2000));
    for p in &children {
        assert_eq!(p.join_timeout(HANG_GUARD).unwrap(), Some(0));
    }
    assert_eq!(v.get().unwrap(), 8000);
}

/// `_TestLock.test_lock`: acquire, a non-blocking acquire that fails,
/// release. (A second acquire from the holding thread is an error here,
/// not a `False`.)
#[test]
fn test_lock() {
    let lock = Lock::new().unwrap();
    let guard = lock.acquire().unwrap();
    assert!(matches!(
        lock.try_acquire(),
        Err(SharedError::WouldDeadlock)
    ));
    let other = lock.clone();
    let busy = std::thread::spawn(move || other.try_acquire().map(|g| g.is_some()).ok());
    assert_eq!(busy.join().unwrap(), Some(false));
    drop(guard);
    assert!(lock.try_acquire().unwrap().is_some());
    assert!(lock.acquire_timeout(Duration::ZERO).unwrap().is_some());
}

fn die_holding_lock(lock: Lock) {
    let guard = lock.acquire().unwrap();
    std::mem::forget(guard);
    std::process::exit(7);
}

/// Robust mutex semantics: a lock held by a process that died is reported
/// to the next acquirer, who holds it; the one after sees nothing.
#[test]
fn a_lock_held_by_a_dead_process_is_reported_not_deadlocked() {
    let lock = Lock::new().unwrap();
    assert_eq!(run_child(die_holding_lock, lock.clone()), 7);
    match lock.acquire_timeout(HANG_GUARD) {
        Err(SharedError::OwnerDied(guard)) => drop(guard),
        other => panic!("expected OwnerDied, got {other:?}"),
    }
    let again = lock.acquire().unwrap();
    drop(again);
}

fn die_mid_update(v: Value<[u32; 2]>) {
    let mut g = v.lock().unwrap();
    g[0] = 1;
    std::mem::forget(g);
    std::process::exit(7);
}

/// A value whose writer died mid-update: the reader gets the half-written
/// value inside `OwnerDied`.
#[test]
fn a_value_whose_writer_died_is_reported_with_what_was_written() {
    let v = Value::new([0u32; 2]).unwrap();
    assert_eq!(run_child(die_mid_update, v.clone()), 7);
    assert_eq!(v.get(), Err(SharedError::OwnerDied([1, 0])));
    assert_eq!(v.get(), Ok([1, 0]));
}

fn set_after_go((go, done): (Event, Event)) {
    go.wait();
    done.set();
}

/// `_TestEvent.test_event`: wait with and without timeouts, and a child
/// setting the event.
#[test]
fn test_event() {
    let event = Event::new().unwrap();
    assert!(!event.is_set());
    assert!(!event.wait_timeout(Duration::ZERO));
    assert!(!event.wait_timeout(Duration::from_millis(10)));
    event.set();
    assert!(event.is_set());
    event.wait();
    assert!(event.wait_timeout(Duration::from_millis(10)));
    event.clear();
    assert!(!event.is_set());

    let go = Event::new().unwrap();
    let mut p = Process::new(set_after_go, (go.clone(), event.clone()));
    p.set_daemon(true);
    p.start().unwrap();
    go.set();
    assert!(event.wait_timeout(HANG_GUARD));
    assert_eq!(p.join_timeout(HANG_GUARD).unwrap(), Some(0));
}

/// `_TestSemaphore.test_semaphore`: counting, non-blocking acquire,
/// release above the initial value.
#[test]
fn test_semaphore() {
    let sem = Semaphore::new(2).unwrap();
    assert_eq!(sem.get_value(), 2);
    sem.acquire().forget();
    assert_eq!(sem.get_value(), 1);
    sem.acquire().forget();
    assert_eq!(sem.get_value(), 0);
    assert!(sem.try_acquire().is_none());
    sem.release();
    assert_eq!(sem.get_value(), 1);
    sem.release();
    sem.release();
    sem.release();
    assert_eq!(sem.get_value(), 4);
}

fn release_twice(sem: Semaphore) {
    sem.release();
    sem.release();
}

/// `_TestSemaphore.test_timeout`, and permits released by a child.
#[test]
fn semaphore_timeout_and_release_from_a_child() {
    let sem = Semaphore::new(0).unwrap();
    assert!(sem.try_acquire().is_none());
    assert!(sem.acquire_timeout(Duration::from_millis(10)).is_none());
    assert_eq!(run_child(release_twice, sem.clone()), 0);
    sem.acquire_timeout(HANG_GUARD)
        .expect("first permit")
        .forget();
    sem.acquire_timeout(HANG_GUARD)
        .expect("second permit")
        .forget();
    assert_eq!(sem.get_value(), 0);
}

/// Objects cross only as Process arguments: sending one anywhere else is
/// an error, not a dangling descriptor.
#[test]
fn a_shared_object_cannot_be_sent_through_a_pipe() {
    let (a, _b) = threadkit::multiprocessing::pipe().unwrap();
    let v = Value::new(1u8).unwrap();
    assert!(a.send(&v).is_err());
}
