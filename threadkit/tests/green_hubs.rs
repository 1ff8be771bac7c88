//! `green::Hubs` (several carriers, placement, stealing of unstarted green
//! threads, shutdown) and `green::on_carrier_stack`.
//!
//! Provenance: threadkit's own behaviour (issue "Green threads", point 6);
//! gevent has no multi-hub pool to port tests from. Waits are bounded by
//! generous hang guards only; nothing is timed.
#![cfg(feature = "green")]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use threadkit::green::{self, Greenlet, GreenletError, Hubs};
use threadkit::{Event, Queue};

/// Hang guard for spins: far longer than any of these needs.
const GUARD: Duration = Duration::from_secs(60);

/// Spins (without yielding) until `done` holds; panics past the guard.
fn spin_until(done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < GUARD, "hang guard");
        std::hint::spin_loop();
    }
}

fn carrier() -> ThreadId {
    std::thread::current().id()
}

/// Spawns a green thread that busy-waits, never yielding, until `go` is
/// set, so that its carrier takes nothing more until then; returns once it
/// runs. Its result is the carrier it ran on.
fn block_a_carrier(hubs: &Hubs, go: &Arc<Event>) -> Greenlet<ThreadId> {
    let running = Arc::new(AtomicBool::new(false));
    let busy = {
        let (go, running) = (Arc::clone(go), Arc::clone(&running));
        hubs.spawn(move || {
            running.store(true, Ordering::SeqCst);
            spin_until(|| go.is_set());
            carrier()
        })
    };
    spin_until(|| running.load(Ordering::SeqCst));
    busy
}

#[test]
fn cpu_bound_work_uses_both_carriers() {
    let hubs = Hubs::new(2).unwrap();
    assert_eq!(hubs.carriers(), 2);
    // Two green threads that each spin until both have started: they can
    // only both start on two different carriers at once.
    let started = Arc::new(AtomicUsize::new(0));
    let pair: Vec<_> = (0..2)
        .map(|_| {
            let started = Arc::clone(&started);
            hubs.spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                spin_until(|| started.load(Ordering::SeqCst) == 2);
                carrier()
            })
        })
        .collect();
    let ids: HashSet<ThreadId> = pair.into_iter().map(|g| g.get().unwrap()).collect();
    assert_eq!(ids.len(), 2, "both carriers ran one");
    assert!(!ids.contains(&carrier()));
    // Then a batch of CPU-bound work gives the right answer.
    let gs: Vec<_> = (0..64u64)
        .map(|i| {
            hubs.spawn(move || (0..10_000u64).fold(i, |a, x| a.wrapping_mul(31).wrapping_add(x)))
        })
        .collect();
    let want: Vec<u64> = (0..64u64)
        .map(|i| (0..10_000u64).fold(i, |a, x| a.wrapping_mul(31).wrapping_add(x)))
        .collect();
    let got: Vec<u64> = gs.into_iter().map(|g| g.get().unwrap()).collect();
    assert_eq!(got, want);
}

#[test]
fn idle_carrier_steals_from_a_blocked_one() {
    let hubs = Hubs::new(2).unwrap();
    let go = Arc::new(Event::new());
    // The first spawn goes to carrier 0, and blocks it.
    let busy = block_a_carrier(&hubs, &go);
    // Half of these are queued for the blocked carrier: only stealing
    // runs them, and the last one sets the event.
    let done = Arc::new(AtomicUsize::new(0));
    let others: Vec<_> = (0..100)
        .map(|_| {
            let (go, done) = (Arc::clone(&go), Arc::clone(&done));
            hubs.spawn(move || {
                if done.fetch_add(1, Ordering::SeqCst) == 99 {
                    go.set();
                }
                carrier()
            })
        })
        .collect();
    let blocked = busy.get().unwrap();
    for g in others {
        assert_ne!(g.get().unwrap(), blocked, "ran on the blocked carrier");
    }
}

#[test]
fn started_green_threads_never_change_carrier() {
    let hubs = Hubs::new(2).unwrap();
    let q = Arc::new(Queue::new(0));
    let gs: Vec<_> = (0..40)
        .map(|i| {
            let q = Arc::clone(&q);
            hubs.spawn(move || {
                let home = carrier();
                for round in 0..20 {
                    match (i + round) % 3 {
                        0 => green::yield_now(),
                        1 => threadkit::sleep(Duration::from_micros(200)),
                        _ => {
                            q.put(i).unwrap();
                            let _ = q.get().unwrap();
                        }
                    }
                    assert_eq!(carrier(), home, "resumed on another carrier (rule 1)");
                }
                home
            })
        })
        .collect();
    for g in gs {
        g.get().unwrap();
    }
}

#[test]
fn greenlet_joined_from_another_carrier() {
    let hubs = Hubs::new(2).unwrap();
    let go = Arc::new(Event::new());
    let joiner_started = Arc::new(AtomicBool::new(false));
    let joined_started = Arc::new(AtomicBool::new(false));
    // Each holds its carrier (no yield) until the other has started, so
    // they run on two carriers; then this one waits (parks) on `go`.
    let joined = {
        let (go, started) = (Arc::clone(&go), Arc::clone(&joiner_started));
        let me = Arc::clone(&joined_started);
        hubs.spawn(move || {
            me.store(true, Ordering::SeqCst);
            spin_until(|| started.load(Ordering::SeqCst));
            go.wait();
            (carrier(), 7)
        })
    };
    let joined = Arc::new(Mutex::new(Some(joined)));
    let joiner = {
        let (joined, started) = (Arc::clone(&joined), Arc::clone(&joiner_started));
        let other = Arc::clone(&joined_started);
        hubs.spawn(move || {
            let g = joined.lock().unwrap().take().unwrap();
            spin_until(|| other.load(Ordering::SeqCst));
            started.store(true, Ordering::SeqCst);
            let (other, v) = g.get().unwrap(); // parks this green thread
            (other, carrier(), v)
        })
    };
    spin_until(|| joiner_started.load(Ordering::SeqCst));
    go.set();
    let (other, mine, v) = joiner.get().unwrap();
    assert_eq!(v, 7);
    assert_ne!(other, mine, "joined across carriers");
}

#[test]
fn nested_spawns_go_to_their_own_carrier() {
    let hubs = Hubs::new(2).unwrap();
    let g = hubs.spawn(|| {
        let me = carrier();
        let kids: Vec<_> = (0..10).map(|_| green::spawn(carrier)).collect();
        kids.into_iter().all(|k| k.get().unwrap() == me)
    });
    assert!(g.get().unwrap());
}

#[test]
fn spawn_from_a_green_thread_elsewhere() {
    let hubs = Arc::new(Hubs::new(2).unwrap());
    let got = green::run({
        let hubs = Arc::clone(&hubs);
        move || {
            let gs: Vec<_> = (0..20).map(|i| hubs.spawn(move || i * 2)).collect();
            gs.into_iter().map(|g| g.get().unwrap()).sum::<i32>()
        }
    });
    assert_eq!(got.unwrap(), 380);
}

#[test]
fn shutdown_waits_for_pending_work() {
    let hubs = Hubs::new(2).unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let gs: Vec<_> = (0..200)
        .map(|i| {
            let done = Arc::clone(&done);
            hubs.spawn(move || {
                threadkit::sleep(Duration::from_millis(1 + i % 5));
                // Spawned by a green thread, not joined: waited for too.
                let done2 = Arc::clone(&done);
                drop(green::spawn(move || {
                    threadkit::sleep(Duration::from_millis(2));
                    done2.fetch_add(1, Ordering::SeqCst);
                }));
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    hubs.shutdown();
    assert_eq!(done.load(Ordering::SeqCst), 400);
    assert!(gs.iter().all(|g| g.is_ready()));
    assert!(hubs.is_shutdown());
    // Later spawns never run.
    let late = hubs.spawn(|| unreachable!());
    assert!(matches!(late.get(), Err(GreenletError::Killed)));
    hubs.shutdown(); // again: nothing more
}

#[test]
fn drop_waits_too() {
    let done = Arc::new(AtomicUsize::new(0));
    {
        let hubs = Hubs::new(2).unwrap();
        for _ in 0..50 {
            let done = Arc::clone(&done);
            drop(hubs.spawn(move || {
                threadkit::sleep(Duration::from_millis(2));
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
    }
    assert_eq!(done.load(Ordering::SeqCst), 50);
}

#[test]
fn kill_a_queued_or_running_green_thread() {
    let hubs = Hubs::new(1).unwrap();
    let go = Arc::new(Event::new());
    let busy = block_a_carrier(&hubs, &go);
    // Queued behind a carrier that does not yield: killed before it starts.
    let ran = Arc::new(AtomicBool::new(false));
    let queued = {
        let ran = Arc::clone(&ran);
        hubs.spawn(move || ran.store(true, Ordering::SeqCst))
    };
    assert!(!queued.kill_timeout(Duration::from_millis(1)) || queued.is_ready());
    go.set();
    queued.join();
    assert!(matches!(queued.get(), Err(GreenletError::Killed)));
    assert!(
        !ran.load(Ordering::SeqCst),
        "a killed queued green thread never runs"
    );
    busy.get().unwrap();
    // A running (sleeping) one unwinds.
    let sleeper = hubs.spawn(|| threadkit::sleep(Duration::from_secs(600)));
    sleeper.kill();
    assert!(matches!(sleeper.get(), Err(GreenletError::Killed)));
}

#[test]
fn spawn_with_names_and_a_stack_that_cannot_be_mapped() {
    let hubs = Hubs::new(1).unwrap();
    let named = hubs.spawn_with(green::Builder::new().name("worker"), || {
        green::current().unwrap().name().map(String::from)
    });
    assert_eq!(named.get().unwrap().as_deref(), Some("worker"));
    // 64 TiB: no address space for it.
    let huge = hubs.spawn_with(green::Builder::new().stack_size(1 << 46), || 1);
    match huge.get() {
        Err(GreenletError::Panicked(p)) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap();
            assert!(msg.contains("stack") || msg.contains("overflow"), "{msg}");
        }
        other => panic!("unexpected {other:?}"),
    }
    // A size whose rounding overflows: ends the green thread as panicked,
    // never the carrier.
    let overflow = hubs.spawn_with(green::Builder::new().stack_size(usize::MAX), || 1);
    assert!(matches!(overflow.get(), Err(GreenletError::Panicked(_))));
    assert_eq!(hubs.spawn(|| 2).get().unwrap(), 2, "the carrier goes on");
}

#[test]
fn builder_names_carriers_and_counts() {
    let hubs = Hubs::builder().carriers(3).name("tk-hub").build().unwrap();
    assert_eq!(hubs.carriers(), 3);
    let name =
        hubs.spawn(|| green::on_carrier_stack(|| std::thread::current().name().map(String::from)));
    assert!(name.get().unwrap().unwrap().starts_with("tk-hub-"));
    assert!(Hubs::new(0).is_err());
}

/// Recursion with a large frame per level (at least 1 KiB); returns how
/// many bytes of stack it went down from `top`.
fn deep(n: u32, top: usize) -> usize {
    let pad = std::hint::black_box([n as u8; 1024]);
    let here = std::ptr::addr_of!(pad) as usize;
    if n == 0 {
        top.saturating_sub(here)
    } else {
        let below = deep(n - 1, top);
        std::hint::black_box(&pad); // keeps the frame alive across the call
        below
    }
}

/// The caller's stack address.
#[inline(never)]
fn sp() -> usize {
    let x = 0u8;
    std::hint::black_box(std::ptr::addr_of!(x) as usize)
}

#[test]
fn on_carrier_stack_runs_deep_recursion() {
    // 256 levels of at least 1 KiB: far past a 64 KiB green stack.
    let got = green::run(|| {
        let g = green::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                assert!(green::current().is_some());
                let used = green::on_carrier_stack(|| {
                    assert!(
                        green::current().is_none(),
                        "no green thread on the carrier stack"
                    );
                    deep(256, sp())
                });
                assert!(green::current().is_some(), "back on the green stack");
                green::yield_now(); // switching works again
                used
            })
            .unwrap();
        g.get().unwrap()
    });
    let used = got.unwrap();
    // Outside green threads it just calls `f`.
    let plain = green::on_carrier_stack(|| deep(8, sp()));
    // (Miri lays locals out apart, not on one stack: no depth to check.)
    if !cfg!(miri) {
        assert!(used >= 256 * 1024, "{used} bytes of stack used");
        assert!(plain >= 8 * 1024);
    }
}

#[test]
fn on_carrier_stack_waits_block_the_carrier() {
    let got = green::run(|| {
        let other_ran = Arc::new(AtomicBool::new(false));
        let other = {
            let other_ran = Arc::clone(&other_ran);
            green::spawn(move || other_ran.store(true, Ordering::SeqCst))
        };
        // A sleep inside does not switch: the other green thread has not
        // run when it returns.
        let ran_meanwhile = green::on_carrier_stack({
            let other_ran = Arc::clone(&other_ran);
            move || {
                threadkit::sleep(Duration::from_millis(5));
                other_ran.load(Ordering::SeqCst)
            }
        });
        other.join();
        (ran_meanwhile, other_ran.load(Ordering::SeqCst))
    });
    assert_eq!(got.unwrap(), (false, true));
    // `run` inside runs its function directly (its hub cannot run there).
    let nested = green::run(|| green::on_carrier_stack(|| green::run(|| 5).unwrap()));
    assert_eq!(nested.unwrap(), 5);
}

#[test]
fn on_carrier_stack_panic_propagates() {
    let got = green::run(|| {
        let g = green::spawn(|| {
            let caught = std::panic::catch_unwind(|| {
                green::on_carrier_stack(|| -> u32 { panic!("deep trouble") })
            });
            let msg = caught.unwrap_err().downcast::<&str>().unwrap();
            assert_eq!(*msg, "deep trouble");
            green::yield_now(); // still a working green thread
            // Uncaught, it ends the green thread as panicked.
            green::on_carrier_stack(|| panic!("again"))
        });
        g.get()
    });
    match got.unwrap() {
        Err(GreenletError::Panicked(p)) => assert_eq!(*p.downcast::<&str>().unwrap(), "again"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_group_kills_green_threads_of_hubs() {
    let hubs = Hubs::new(2).unwrap();
    let group = green::Group::new();
    let started = Arc::new(AtomicUsize::new(0));
    let gs: Vec<_> = (0..10)
        .map(|_| {
            let started = Arc::clone(&started);
            let g = hubs.spawn(move || {
                started.fetch_add(1, Ordering::SeqCst);
                threadkit::sleep(Duration::from_secs(600));
            });
            group.add(&g);
            g
        })
        .collect();
    // Some may still be queued, some asleep: all end killed.
    group.kill();
    for g in gs {
        assert!(matches!(g.get(), Err(GreenletError::Killed)));
    }
    assert!(started.load(Ordering::SeqCst) <= 10);
    hubs.shutdown();
}
