//! When the work outgrows one machine: the seed's CPU-bound loop through a
//! `ClusterExecutor` (crate threadkit-cluster) run by 3 worker processes on
//! a private `redis-server`, one of them killed mid-run. The lesson runs
//! threadkit-cluster's example `outgrow_one_machine`, compiled in with the
//! CLI's `cluster` feature; the workers are this same `threadkit` binary,
//! started again as workers (`main` hands them to
//! `threadkit_cluster::worker_main_if_requested`).
//!
//! Without the feature, or without `redis-server`, the lesson says it is
//! skipped and why, and checks nothing: the tour passes. Under `CI=true`
//! with the feature, a missing server fails it (CI installs one).

use super::{Lesson, Report};

#[cfg(feature = "cluster")]
#[allow(dead_code, unreachable_pub)]
#[path = "../../cluster-lessons/outgrow_one_machine.rs"]
pub(crate) mod outgrow;

pub(crate) const LESSONS: [Lesson; 1] = [Lesson {
    name: "outgrow_one_machine",
    source: include_str!("../../cluster-lessons/outgrow_one_machine.rs"),
    title: "when the work outgrows one machine: ClusterExecutor",
    run: lesson,
}];

#[cfg(not(feature = "cluster"))]
fn lesson(_: &mut Report) {
    println!(
        "  skipped: this threadkit was built without the `cluster` feature \
         (the lesson needs threadkit-cluster, a Redis client, and a redis-server);"
    );
    println!(
        "  to run it: `cargo install threadkit-cli --features cluster`, or \
         `cargo run --release -p threadkit-cli --features cluster -- tour outgrow_one_machine`"
    );
}

#[cfg(feature = "cluster")]
fn lesson(r: &mut Report) {
    use super::report::secs;

    if !outgrow::redis_server_installed() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        if ci {
            r.check(
                "redis-server is installed (under CI=true it must be: CI installs it)",
                false,
                "redis-server is not on PATH",
            );
        } else {
            println!(
                "  skipped: this lesson needs redis-server, which is not installed; {}.",
                outgrow::INSTALL_REDIS
            );
        }
        return;
    }
    let mut cluster = match outgrow::LocalCluster::start(3, 1, "tour") {
        Ok(cluster) => cluster,
        Err(e) => {
            r.check("a private redis-server and 3 workers start", false, e);
            return;
        }
    };
    println!(
        "  private redis-server on {}; 3 workers (this binary), pids {:?}",
        cluster.url, cluster.worker_pids
    );
    // A debug build (the CLI's tests) loops about 10 times slower: a tenth
    // of the work keeps each task a visible moment without a long wait.
    let n = if cfg!(debug_assertions) {
        outgrow::N / 10
    } else {
        outgrow::N
    };
    let outcome = outgrow::run_with_a_kill(
        &mut cluster,
        n,
        |done, a| {
            let note = if a.attempt > 1 {
                format!("  <- attempt {}: re-run after its worker died", a.attempt)
            } else {
                String::new()
            };
            println!(
                "  result {:>2}/{}: {} from worker {}{note}",
                done + 1,
                outgrow::TASKS,
                a.total,
                a.pid
            );
        },
        |victim| println!("  --- kill -9 worker {victim} mid-run ---"),
    );
    drop(cluster);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            r.check("every task submitted to the cluster completes", false, e);
            return;
        }
    };
    r.check(
        format!(
            "all {} results arrive exactly once and are right, though a worker was killed (kill -9) mid-run",
            outgrow::TASKS
        ),
        outcome.once && outcome.correct && outcome.killed.is_some(),
        format!(
            "{} results in {}, each once: {}, all right: {}, worker killed: {}",
            outgrow::TASKS,
            secs(outcome.elapsed),
            outcome.once,
            outcome.correct,
            outcome
                .killed
                .map_or_else(|| "none".to_owned(), |pid| pid.to_string())
        ),
    );
    r.check(
        "the killed worker's task re-runs on another worker (attempt 2)",
        outcome.reran >= 1,
        format!("{} result(s) from a re-run", outcome.reran),
    );
}
