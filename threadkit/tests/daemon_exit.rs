//! Python's daemon semantics at process exit: when `main` returns, the process
//! waits for non-daemon threadkit threads and abandons daemon threads.
//!
//! The test re-executes its own binary with `THREADKIT_DAEMON_EXIT_CHILD` set;
//! the child plays a plain `fn main()` program, and the parent checks its
//! output and how long it took to exit.

use std::process::Command;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use threadkit::threading::{Event, Thread};

const CHILD_ENV: &str = "THREADKIT_DAEMON_EXIT_CHILD";

/// Set by the child's `main` as it returns.
static MAIN_RETURNING: LazyLock<Event> = LazyLock::new(Event::new);

fn child() {
    Thread::builder()
        .name("non-daemon")
        .daemon(false)
        .spawn(|| {
            // Finishes only after main has returned (the sleep lets the
            // return happen), so the process surely had to wait for it.
            assert!(MAIN_RETURNING.wait_timeout(Duration::from_secs(30)));
            std::thread::sleep(Duration::from_millis(200));
            println!("non-daemon finished");
        })
        .expect("start non-daemon");
    Thread::builder()
        .name("daemon")
        .daemon(true)
        .spawn(|| {
            // Far longer than the hang guard on the exit below.
            std::thread::sleep(Duration::from_secs(60));
            println!("daemon finished");
        })
        .expect("start daemon");
    println!("main returned");
    MAIN_RETURNING.set();
}

fn check(name: &str, ok: bool, passed: &mut u32, failed: &mut u32) {
    if ok {
        *passed += 1;
        println!("test {name} ... ok");
    } else {
        *failed += 1;
        println!("test {name} ... FAILED");
    }
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let started = Instant::now();
    let out = Command::new(exe)
        .env(CHILD_ENV, "1")
        .output()
        .expect("run child");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!(
        "child stdout:\n{stdout}child exited with {} after {elapsed:?}",
        out.status
    );

    let (mut passed, mut failed) = (0, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    let main_at = lines.iter().position(|l| *l == "main returned");
    let worker_at = lines.iter().position(|l| *l == "non-daemon finished");
    check(
        "non_daemon_thread_outlives_main",
        out.status.success() && matches!((main_at, worker_at), (Some(m), Some(w)) if m < w),
        &mut passed,
        &mut failed,
    );
    check(
        "daemon_thread_abandoned",
        !lines.contains(&"daemon finished"),
        &mut passed,
        &mut failed,
    );
    // A hang guard, not a figure: the exit takes well under a second, and
    // waiting for the daemon would take a minute.
    check(
        "exit_is_prompt",
        elapsed < Duration::from_secs(30),
        &mut passed,
        &mut failed,
    );
    println!("daemon_exit: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
