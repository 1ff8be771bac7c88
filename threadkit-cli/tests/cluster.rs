//! The cluster lesson and the bench's `ClusterExecutor` row (the CLI's
//! `cluster` feature): without the feature the lesson says it is skipped
//! and why; with it, every result arrives once though a worker is killed,
//! and a missing `redis-server` is a skip, or a failure under `CI=true`.

mod common;

use std::process::Command;

/// Runs `threadkit ARGS...` with `env` set: whether it succeeded, its
/// stdout, its stderr. `CI` is cleared unless `env` sets it, so that the
/// test means the same on a laptop and under CI.
fn threadkit_with(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_threadkit"))
        .args(args)
        .env_remove("CI")
        .envs(env.iter().copied())
        .output()
        .expect("run the threadkit binary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(not(feature = "cluster"))]
#[test]
fn without_the_feature_the_lesson_is_skipped_and_says_why() {
    let (ok, stdout, stderr) = common::threadkit(&["tour", "outgrow_one_machine"]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("skipped") && stdout.contains("`cluster` feature"),
        "{stdout}"
    );
    assert!(stdout.contains("--features cluster"), "{stdout}");
    assert!(stdout.contains("0 claims checked"), "{stdout}");
    // The same under CI: the tour's main job builds without the feature.
    let (ok, stdout, _) = threadkit_with(&["tour", "outgrow_one_machine"], &[("CI", "true")]);
    assert!(ok, "{stdout}");
}

#[cfg(not(feature = "cluster"))]
#[test]
fn without_the_feature_the_bench_says_cluster_needs_it() {
    let (ok, stdout, stderr) = common::threadkit(&["bench", "--cluster"]);
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("--cluster needs threadkit built with the `cluster` feature"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[cfg(feature = "cluster")]
mod with_the_feature {
    use super::*;

    /// Whether `redis-server` is on PATH; when it is not, a test is skipped
    /// with a notice (a failure under `CI=true`, where CI installs it).
    fn redis_server_or_skip() -> bool {
        let found = std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|p| p.join("redis-server").is_file())
        });
        if !found {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "redis-server is not installed, and CI=true requires it"
            );
            eprintln!("skipped: redis-server is not installed");
        }
        found
    }

    #[test]
    fn the_lesson_delivers_every_result_once_though_a_worker_is_killed() {
        if !redis_server_or_skip() {
            return;
        }
        let (ok, stdout, stderr) = common::threadkit(&["tour", "outgrow_one_machine"]);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(ok, "{stdout}\n{stderr}");
        assert!(stdout.contains("kill -9 worker"), "{stdout}");
        assert!(stdout.contains("2 claims checked, 2 held"), "{stdout}");
    }

    #[test]
    fn without_redis_server_the_lesson_is_skipped_except_under_ci() {
        // No redis-server on this PATH (the workers would be this binary,
        // found without PATH).
        let path = [("PATH", "/nonexistent")];
        let (ok, stdout, _) = threadkit_with(&["tour", "outgrow_one_machine"], &path);
        assert!(ok, "{stdout}");
        assert!(
            stdout.contains("skipped") && stdout.contains("apt-get install redis-server"),
            "{stdout}"
        );
        let (ok, stdout, _) =
            threadkit_with(&["tour", "outgrow_one_machine"], &[path[0], ("CI", "true")]);
        assert!(!ok, "{stdout}");
        assert!(stdout.contains("redis-server is not on PATH"), "{stdout}");
    }

    #[test]
    fn the_bench_has_a_cluster_row_beside_the_process_pool() {
        if !redis_server_or_skip() {
            return;
        }
        let args = [
            "bench",
            "--workloads=sleep,cpu",
            "--tasks=4",
            "--sleep-ms=1",
            "--cpu-iters=1000000",
            "--runs=1",
            "--no-cpython",
        ];
        let (ok, stdout, stderr) = common::threadkit(&[&args[..], &["--cluster"]].concat());
        assert!(ok, "{stdout}\n{stderr}");
        let cluster_rows: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains("threadkit ClusterExecutor"))
            .collect();
        // The cpu workload only, every task done.
        assert_eq!(cluster_rows.len(), 1, "{stdout}");
        assert!(cluster_rows[0].trim_end().ends_with("4/4"), "{stdout}");
        assert!(
            stdout.contains("ClusterExecutor (2 local workers")
                && stdout.contains("vs ProcessPoolExecutor"),
            "{stdout}"
        );
        // Not without `--cluster`: the default rows are the same in every build.
        let (ok, stdout, stderr) = common::threadkit(&args);
        assert!(ok, "{stderr}");
        assert!(!stdout.contains("ClusterExecutor"), "{stdout}");
    }
}
