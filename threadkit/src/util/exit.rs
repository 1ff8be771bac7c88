//! The one exit path: what threadkit does when `main` returns, in Python's
//! order, from a single C `atexit` handler.
//!
//! CPython finishes a program in three steps: callbacks registered with
//! `threading._register_atexit` (executors shut down and wait for their
//! work), then `threading._shutdown` (non-daemon threads are joined), then
//! the `atexit` handlers (multiprocessing terminates daemon children and
//! joins the others). Several C `atexit` handlers would run in the reverse
//! of the order in which their modules happened to be first used, so every
//! module registers its step here instead and one handler runs them in
//! [`Stage`] order.
//!
//! Miri cannot run `atexit` handlers, so under Miri nothing is installed.

use std::sync::Mutex;

/// The steps of exit handling, run in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Executors shut down and wait for their work.
    Executors = 0,
    /// Non-daemon threads are joined.
    Threads = 1,
    /// Daemon child processes are terminated, the others joined.
    #[cfg_attr(
        not(all(feature = "process", target_os = "linux", not(loom))),
        allow(dead_code)
    )]
    Processes = 2,
}

/// A plain std mutex: it is not a blocking primitive of the library, and is
/// touched only when a step is first registered and at exit.
static STEPS: Mutex<Steps> = Mutex::new([None; 3]);

/// Each stage's step, in stage order.
type Steps = [Option<fn()>; 3];

/// Runs `step` at exit in its `stage`'s turn. Registering a stage again
/// replaces its step (each stage belongs to one module).
pub(crate) fn at_exit(stage: Stage, step: fn()) {
    set(
        &mut STEPS.lock().unwrap_or_else(|e| e.into_inner()),
        stage,
        step,
    );
    #[cfg(not(miri))]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            // SAFETY: `run_steps` is an `extern "C" fn()` taking nothing, as
            // atexit requires, and it never unwinds (it catches every
            // panic). If registration fails (it can only run out of slots),
            // nothing is waited for at exit.
            let _ = unsafe { libc::atexit(run_steps) };
        });
    }
}

fn set(steps: &mut Steps, stage: Stage, step: fn()) {
    steps[stage as usize] = Some(step);
}

#[cfg_attr(miri, allow(dead_code))]
extern "C" fn run_steps() {
    let steps = *STEPS.lock().unwrap_or_else(|e| e.into_inner());
    run(steps);
}

/// Runs the steps in stage order; one step's panic skips neither the next
/// nor unwinds into C.
fn run(steps: Steps) {
    for step in steps.into_iter().flatten() {
        let _ = std::panic::catch_unwind(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ORDER: Mutex<Vec<&str>> = Mutex::new(Vec::new());

    fn executors() {
        ORDER.lock().unwrap().push("executors");
    }

    fn threads() {
        ORDER.lock().unwrap().push("threads");
        panic!("a failing step");
    }

    fn processes() {
        ORDER.lock().unwrap().push("processes");
    }

    /// Registered in the opposite order (as modules may be first used), run
    /// in Python's; a panicking step does not stop the next.
    #[test]
    fn steps_run_in_stage_order_whatever_the_registration_order() {
        let mut steps = [None; 3];
        set(&mut steps, Stage::Processes, processes);
        set(&mut steps, Stage::Threads, threads);
        set(&mut steps, Stage::Executors, executors);
        run(steps);
        assert_eq!(
            *ORDER.lock().unwrap(),
            ["executors", "threads", "processes"]
        );
    }
}
