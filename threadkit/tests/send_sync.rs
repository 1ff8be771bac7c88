//! Static assertions of the auto traits (`Send`, `Sync`) of every public type.
//!
//! Everything here is checked at compile time: a change that makes a type lose
//! (or gain) `Send` or `Sync` stops this file from compiling. The one runtime
//! test only exists so that `cargo test` lists the file.
//!
//! Negative assertions use the "ambiguous impl" trick: a blanket trait has two
//! impls, one for every type and one for types implementing the trait in
//! question; naming the method without the type parameter is ambiguous, and
//! fails to compile, exactly when the type implements that trait.

#![allow(dead_code)]

use std::cell::Cell;
use std::error::Error;
use std::rc::Rc;

use threadkit::futures::{
    AsCompleted, BuildError, CancelledError, DoneAndNotDone, Executor, Future, FutureError, Map,
    Promise, ReturnWhen, Scope, SubmitError, ThreadPoolBuilder, ThreadPoolExecutor, TimeoutError,
    WorkItem,
};
use threadkit::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDown, SimpleQueue, TaskDoneError,
};
use threadkit::threading::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Builder, Condition, ConditionGuard, Event,
    Local, Lock, LockGuard, RLock, RLockGuard, Semaphore, SemaphorePermit, Thread, ThreadError,
    ThreadHandle, Timer, TooManyReleases,
};

fn assert_send<T: ?Sized + Send>() {}
fn assert_sync<T: ?Sized + Sync>() {}
fn assert_send_sync<T: ?Sized + Send + Sync>() {}
fn assert_error<T: Error + Send + Sync + 'static>() {}

/// Fails to compile if `$t` implements `$tr`.
macro_rules! assert_not_impl {
    ($t:ty, $tr:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            struct Invalid;
            impl<T: ?Sized + $tr> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

/// Neither `Send` nor `Sync` data: the worst case for the generic types.
type NotSendNotSync = Rc<u8>;
/// `Send` but not `Sync` data, such as a `Cell`.
type SendNotSync = Cell<u8>;

// ---------------------------------------------------------------------------
// threading: locks
// ---------------------------------------------------------------------------

/// `Lock<T>`, `RLock<T>`, `Condition<T>` are shareable whenever the data may
/// move between threads, as `std::sync::Mutex<T>` is.
fn locks_are_send_sync_for_send_data<T: Send>() {
    assert_send_sync::<Lock<T>>();
    assert_send_sync::<RLock<T>>();
    assert_send_sync::<Condition<T>>();
}

/// A guard may be shared by reference across threads when the data is `Sync`
/// (it hands out `&T`).
fn guards_are_sync_for_sync_data<'a, T: Sync + 'a>() {
    assert_sync::<LockGuard<'a, T>>();
    assert_sync::<RLockGuard<'a, T>>();
    assert_sync::<ConditionGuard<'a, T>>();
}

// The defaults and a `Send`-but-not-`Sync` payload (the RLock use case).
const _: fn() = || {
    assert_send_sync::<Lock>();
    assert_send_sync::<RLock>();
    assert_send_sync::<Condition>();
    assert_send_sync::<Lock<SendNotSync>>();
    assert_send_sync::<RLock<SendNotSync>>();
    assert_send_sync::<Condition<SendNotSync>>();
    locks_are_send_sync_for_send_data::<Vec<String>>();
    guards_are_sync_for_sync_data::<u64>();
};

// Data that may not leave its thread makes the lock neither Send nor Sync.
assert_not_impl!(Lock<NotSendNotSync>, Send);
assert_not_impl!(Lock<NotSendNotSync>, Sync);
assert_not_impl!(RLock<NotSendNotSync>, Send);
assert_not_impl!(RLock<NotSendNotSync>, Sync);
assert_not_impl!(Condition<NotSendNotSync>, Send);
assert_not_impl!(Condition<NotSendNotSync>, Sync);

// Guards are `!Send`: a lock is released by the thread that acquired it.
// (Python's Lock allows release from another thread; threadkit's answer is a
// Semaphore of 1, whose permit is Send: see below.)
assert_not_impl!(LockGuard<'static, u8>, Send);
assert_not_impl!(RLockGuard<'static, u8>, Send);
assert_not_impl!(ConditionGuard<'static, u8>, Send);
// ...and not `Sync` when the data is not: `&guard` would hand out `&Cell`.
assert_not_impl!(LockGuard<'static, SendNotSync>, Sync);
assert_not_impl!(RLockGuard<'static, SendNotSync>, Sync);
assert_not_impl!(ConditionGuard<'static, SendNotSync>, Sync);

// ---------------------------------------------------------------------------
// threading: semaphores, events, barriers, errors
// ---------------------------------------------------------------------------

const _: fn() = || {
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<Event>();
    assert_send_sync::<Barrier>();
    // A permit is not a lock guard: it may be given back from any thread,
    // as Python allows `sem.release()` anywhere.
    assert_send::<SemaphorePermit<'static>>();
    assert_sync::<SemaphorePermit<'static>>();
    assert_error::<TooManyReleases>();
    assert_error::<BrokenBarrierError>();
};

// ---------------------------------------------------------------------------
// queue
// ---------------------------------------------------------------------------

const _: fn() = || {
    // Queues are shared between producers and consumers: Send + Sync whenever
    // the items may move between threads, even if the items are not Sync.
    assert_send_sync::<Queue<SendNotSync>>();
    assert_send_sync::<LifoQueue<SendNotSync>>();
    assert_send_sync::<PriorityQueue<u8>>();
    assert_send_sync::<SimpleQueue<SendNotSync>>();
    // Errors hand the item back, so they are as Send as the item.
    assert_error::<ShutDown<u8>>();
    assert_error::<ShutDown>();
    assert_error::<PutError<u8>>();
    assert_error::<GetError>();
    assert_error::<TaskDoneError>();
};
// Items that may not leave their thread make a queue unshareable.
assert_not_impl!(Queue<NotSendNotSync>, Send);
assert_not_impl!(Queue<NotSendNotSync>, Sync);
assert_not_impl!(SimpleQueue<NotSendNotSync>, Sync);

// ---------------------------------------------------------------------------
// threading: threads, timers, thread-local data
// ---------------------------------------------------------------------------

const _: fn() = || {
    assert_send_sync::<Thread<u8>>();
    assert_send_sync::<ThreadHandle>();
    assert_send_sync::<Builder>();
    assert_send_sync::<Timer>();
    assert_sync::<threadkit::threading::Scope<'static, 'static>>();
    assert_send_sync::<threadkit::threading::ScopedThread<'static, u8>>();
    // A Local hands each thread its own value: shareable when the values may
    // be created on and dropped by other threads, even if they are not Sync.
    assert_send_sync::<Local<SendNotSync>>();
    assert_error::<ThreadError>();
};

// ---------------------------------------------------------------------------
// futures
// ---------------------------------------------------------------------------

/// A future moves between threads whenever its value may; it is shared
/// (`&Future<T>` across threads) when the value is also `Sync`, since
/// `result()` lends `&T`.
fn futures_are_send_for_send_values<T: Send>() {
    assert_send::<Future<T>>();
    assert_send_sync::<Promise<T>>();
    assert_send::<Map<T>>();
}

fn futures_are_sync_for_sync_values<T: Send + Sync>() {
    assert_send_sync::<Future<T>>();
    assert_send_sync::<Map<T>>();
}

const _: fn() = || {
    futures_are_send_for_send_values::<SendNotSync>();
    futures_are_sync_for_sync_values::<Vec<String>>();
    assert_send_sync::<ThreadPoolExecutor>();
    assert_send_sync::<ThreadPoolBuilder>();
    assert_send::<WorkItem<'static>>();
    assert_send_sync::<ReturnWhen>();
    assert_send_sync::<DoneAndNotDone<Future<u8>>>();
    assert_send::<AsCompleted<u8, Future<u8>>>();
    assert_send::<AsCompleted<u8, &'static Future<u8>>>();
    assert_sync::<Scope<'static, 'static>>();
    assert_error::<FutureError>();
    assert_error::<BuildError>();
    assert_error::<SubmitError>();
    assert_error::<TimeoutError>();
    assert_error::<CancelledError>();
    assert_send_sync::<threadkit::futures::PanicReport>();
    assert_send_sync::<threadkit::futures::Shutdown>();
    assert_send_sync::<threadkit::futures::MapOptions>();
    // The trait is object safe, and a shared pool is a shareable executor.
    assert_send_sync::<Box<dyn Executor + Send + Sync>>();
};
assert_not_impl!(Future<NotSendNotSync>, Send);
assert_not_impl!(Future<SendNotSync>, Sync);
assert_not_impl!(Promise<NotSendNotSync>, Send);
assert_not_impl!(WorkItem<'static>, Sync);

#[cfg(feature = "asyncio")]
const _: fn() = || {
    use threadkit::asyncio::{
        AsCompleted, Barrier, BoundedSemaphore, BrokenBarrierError, Condition, ConditionGuard,
        Event, ExceptionGroup, InExecutor, Lock, LockGuard, Queue, RunError, Runner, Semaphore,
        SemaphorePermit, Task, TaskError, TaskGroup, Timeout, TimeoutError, TooManyReleases,
    };
    assert_send_sync::<Queue<u8>>();
    assert_send_sync::<Lock<u8>>();
    assert_send_sync::<LockGuard<'static, u8>>();
    assert_send_sync::<Event>();
    assert_send_sync::<Semaphore>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_send_sync::<Condition<u8>>();
    assert_send_sync::<ConditionGuard<'static, u8>>();
    assert_send_sync::<Barrier>();
    assert_send_sync::<Task<u8>>();
    assert_send_sync::<TaskGroup>();
    assert_send_sync::<AsCompleted<u8>>();
    assert_send_sync::<InExecutor<u8>>();
    assert_send_sync::<Runner>();
    assert_send::<Timeout<std::future::Ready<u8>>>();
    assert_error::<TaskError>();
    assert_error::<TimeoutError>();
    assert_error::<RunError>();
    assert_error::<ExceptionGroup>();
    assert_error::<BrokenBarrierError>();
    assert_error::<TooManyReleases>();
};
#[cfg(feature = "asyncio")]
assert_not_impl!(threadkit::asyncio::Queue<Rc<u8>>, Send);
#[cfg(feature = "asyncio")]
assert_not_impl!(threadkit::asyncio::Task<Rc<u8>>, Send);
// asyncio's wait, shield, current task and the loop handle.
#[cfg(feature = "asyncio")]
const _: fn() = || {
    use threadkit::asyncio::{
        EventLoop, NoRunningLoop, ReadError, Redirect, Server, Shield, Stdio, StreamReader,
        StreamWriter, Subprocess, TaskId, Wait, Waited,
    };
    assert_send::<StreamReader>();
    assert_send::<StreamWriter>();
    assert_send::<Subprocess>();
    assert_send_sync::<Server>();
    assert_send_sync::<Stdio>();
    assert_send_sync::<Redirect>();
    assert_error::<ReadError>();
    assert_send_sync::<Wait<u8>>();
    assert_send_sync::<Waited<u8>>();
    assert_send_sync::<Shield<u8>>();
    assert_send_sync::<EventLoop>();
    assert_send_sync::<TaskId>();
    assert_error::<NoRunningLoop>();
};
#[cfg(feature = "asyncio")]
assert_not_impl!(threadkit::asyncio::Wait<Rc<u8>>, Send);
#[cfg(feature = "green")]
const _: fn() = || {
    use threadkit::green::{
        BlockedReport, Builder, GreenThread, GreenTimeout, Greenlet, GreenletError, Group, Hubs,
        HubsBuilder, Pool,
    };
    assert_send_sync::<Hubs>();
    assert_send_sync::<HubsBuilder>();
    assert_send_sync::<Greenlet<u8>>();
    assert_send_sync::<BlockedReport>();
    assert_send_sync::<Builder>();
    assert_send_sync::<GreenThread>();
    assert_send::<GreenletError>();
    assert_send_sync::<Group>();
    assert_send_sync::<Pool>();
    assert_error::<GreenTimeout>();
};
#[cfg(feature = "green")]
const _: fn() = || {
    use threadkit::green::net::{Incoming, TcpListener, TcpStream, UdpSocket};
    assert_send_sync::<TcpListener>();
    assert_send_sync::<TcpStream>();
    assert_send_sync::<UdpSocket>();
    assert_send_sync::<Incoming<'static>>();
};
#[cfg(feature = "green")]
assert_not_impl!(threadkit::green::Greenlet<Rc<u8>>, Send);
#[cfg(feature = "green")]
assert_not_impl!(threadkit::green::GreenletError, Sync);
// ---------------------------------------------------------------------------
// multiprocessing (feature `process`)
// ---------------------------------------------------------------------------
// Shared memory and cross-process locks.
#[cfg(all(feature = "process", target_os = "linux"))]
const _: fn() = || {
    use threadkit::multiprocessing::{Array, Event, Lock, Semaphore, SharedError, Value};
    assert_send_sync::<Value<u64>>();
    assert_send_sync::<Array<f64>>();
    assert_send_sync::<Lock>();
    assert_send_sync::<Event>();
    assert_send_sync::<Semaphore>();
    assert_error::<SharedError<u8>>();
};
// Guards are released by the thread that took the lock.
#[cfg(all(feature = "process", target_os = "linux"))]
assert_not_impl!(threadkit::multiprocessing::LockGuard<'static>, Send);
#[cfg(all(feature = "process", target_os = "linux"))]
assert_not_impl!(threadkit::multiprocessing::ValueGuard<'static, u8>, Send);
#[cfg(all(feature = "process", target_os = "linux"))]
assert_not_impl!(threadkit::multiprocessing::ArrayGuard<'static, u8>, Send);

/// Every multiprocessing handle may be shared between threads: a pool is
/// used from many submitting threads, a `Process` is joined from another.
/// `Queue<T>` carries serialized bytes only, so it is `Send + Sync` for any
/// `T`; `ProcessMap<R>` owns `Future<Vec<R>>`s and is `Send` when `R` is.
#[cfg(all(feature = "process", target_os = "linux"))]
const _: fn() = || {
    use threadkit::multiprocessing::{
        ChannelError, Connection, FrameError, Process, ProcessError, ProcessMap,
        ProcessPoolBuilder, ProcessPoolExecutor, Queue as ProcessQueue,
    };
    assert_send_sync::<ProcessPoolExecutor>();
    assert_send_sync::<ProcessPoolBuilder>();
    assert_send_sync::<Process>();
    assert_send_sync::<Connection>();
    assert_send_sync::<ProcessQueue<NotSendNotSync>>();
    assert_send::<ProcessMap<u8>>();
    assert_not_impl!(ProcessMap<NotSendNotSync>, Send);
    assert_error::<ProcessError>();
    assert_error::<ChannelError>();
    assert_error::<FrameError>();
};

/// Runtime companion of the static checks above: the shareable types really
/// are usable from several threads at once.
#[test]
fn shared_types_cross_threads() {
    let lock = std::sync::Arc::new(Lock::new(Cell::new(0u8)));
    let l = std::sync::Arc::clone(&lock);
    std::thread::spawn(move || l.acquire().set(1))
        .join()
        .unwrap();
    assert_eq!(lock.acquire().get(), 1);

    let sem = Semaphore::new(1);
    std::thread::scope(|s| {
        let permit = sem.acquire();
        // A permit taken here is given back by another thread.
        s.spawn(move || drop(permit));
    });
    assert_eq!(sem.value(), 1);
}

/// The debugging values: a dump, its parts and the watchdog's handles are
/// sent to other threads (a watchdog's handler, a collector).
#[test]
fn debug_types_are_send_and_sync() {
    use threadkit::debug::{
        Alarm, Deadlock, ThreadDump, ThreadState, WaitInfo, WaitKind, Watchdog, WatchdogHandle,
    };
    assert_send_sync::<ThreadDump>();
    assert_send_sync::<ThreadState>();
    assert_send_sync::<WaitInfo>();
    assert_send_sync::<WaitKind>();
    assert_send_sync::<Deadlock>();
    assert_send_sync::<Alarm>();
    assert_send_sync::<Watchdog>();
    assert_send_sync::<WatchdogHandle>();
    #[cfg(feature = "debug-locks")]
    {
        use threadkit::debug::{
            LockInfo, LockOrder, Mode, OrderBacktrace, PotentialDeadlock, Site,
        };
        assert_send_sync::<LockInfo>();
        assert_send_sync::<LockOrder>();
        assert_send_sync::<OrderBacktrace>();
        assert_send_sync::<PotentialDeadlock>();
        assert_send_sync::<Mode>();
        assert_send_sync::<Site>();
    }
}
