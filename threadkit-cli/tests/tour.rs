//! The `threadkit tour` command as a user runs it: the lesson list matches the
//! library's examples one to one, quick lessons pass their checks, and bad
//! input gets a clear error.
//!
//! Claims the tour decides on wall time (speedups, "at the same time") are
//! measurements: on a busy machine they may not hold, so for those these tests
//! check that they were checked and reported, and check the behaviour itself
//! from what the lesson printed.

mod common;

use common::threadkit;
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn every_example_is_a_lesson_and_every_lesson_an_example() {
    let (ok, stdout, _) = threadkit(&["tour", "--list"]);
    assert!(ok);
    let lessons: BTreeSet<String> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    // The library's examples, and threadkit-cluster's (the cluster lesson).
    let examples: BTreeSet<String> = ["../threadkit/examples", "../threadkit-cluster/examples"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                .expect("the examples folder")
        })
        .filter_map(|e| {
            // A one-file example `NAME.rs`, or a folder `NAME/main.rs`.
            let path = e.ok()?.path();
            let is_example =
                path.extension().is_some_and(|x| x == "rs") || path.join("main.rs").is_file();
            is_example.then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    assert_eq!(lessons, examples);
    assert!(lessons.len() >= 16, "{lessons:?}");
}

/// The claims a tour run checked, in order: whether each held, and its line.
fn claims(stdout: &str) -> Vec<(bool, &str)> {
    stdout
        .lines()
        .take_while(|l| !(l.contains(" claim") && l.contains(" checked, ")))
        .filter(|l| l.contains(" — measured: "))
        .map(|l| (l.trim_start().starts_with('✔'), l))
        .collect()
}

/// Runs `tour LESSONS...`; checks the run is well formed (no panic, the
/// summary counts `lessons` and `n_claims`, a failing exit code comes with a
/// claim that did not hold) and returns its stdout.
fn tour(lessons: &[&str], n_claims: usize) -> String {
    let (ok, stdout, stderr) = threadkit(&[&["tour"], lessons].concat());
    assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
    // "1 lessons, 3 claims checked, ..." (the wording of the plural may vary)
    let summary = stdout
        .lines()
        .find(|l| l.contains(" claim") && l.contains(" checked, "))
        .unwrap_or_else(|| panic!("no summary in\n{stdout}"));
    assert!(
        summary.starts_with(&format!("{} lesson", lessons.len()))
            && summary.contains(&format!(", {n_claims} claim")),
        "the summary {summary:?} does not count {} lessons and {n_claims} claims",
        lessons.len()
    );
    let found = claims(&stdout);
    assert_eq!(found.len(), n_claims, "{stdout}");
    // A claim reported inconclusive (`?`: the machine was busy) does not
    // fail the run.
    let inconclusive = |line: &str| line.trim_start().starts_with('?');
    assert_eq!(
        ok,
        found.iter().all(|c| c.0 || inconclusive(c.1)),
        "exit code vs claims:\n{stdout}"
    );
    stdout
}

#[test]
fn quick_lessons_pass_their_checks() {
    let stdout = tour(&["hello_thread", "deadlock", "rlock", "thread_local"], 9);
    for (held, line) in claims(&stdout) {
        // "Two threads print at the same time" is timed; its counts are not.
        if line.contains("at the same time") {
            assert!(line.contains("(5, 5) numbers"), "{line}");
        } else {
            assert!(held, "{line}\n{stdout}");
        }
    }
}

#[test]
fn the_porting_lessons_pass_their_checks() {
    let lessons = ["port_producer_consumer", "port_pool", "port_asyncio"];
    let stdout = tour(&lessons, 3);
    for (held, line) in claims(&stdout) {
        assert!(held, "{line}\n{stdout}");
    }
}

#[test]
fn the_green_lesson_measures_three_ways_and_passes() {
    // Whether each run came in time is timed (a busy machine may make it
    // inconclusive); that every item was got, and the memory, are not.
    let stdout = tour(&["green"], 5);
    for row in [
        "green threads",
        "OS threads",
        "asyncio tasks",
        "gevent (Python)",
    ] {
        assert!(stdout.contains(row), "no {row:?} row in\n{stdout}");
    }
    for (held, line) in claims(&stdout) {
        assert!(
            held || line.trim_start().starts_with('?'),
            "{line}\n{stdout}"
        );
    }
}

/// The counter lines a daemon-lesson child printed, by scenario.
fn child_lines<'a>(stdout: &'a str, scenario: &str) -> Vec<&'a str> {
    let mut lines = stdout.lines();
    let header = format!("$ threadkit child {scenario} ");
    lines
        .find(|l| l.contains(&header))
        .unwrap_or_else(|| panic!("no {header:?} in\n{stdout}"));
    lines.next().unwrap().trim().split(" | ").collect()
}

#[test]
fn the_daemon_lesson_sees_python_exit_semantics() {
    // Whether the daemon's exit was also quick is timed; the order of what
    // each child printed is not, and it is the semantics.
    let stdout = tour(&["daemon"], 3);
    let at = |lines: &[&str], line: &str| {
        lines
            .iter()
            .position(|l| *l == line)
            .unwrap_or_else(|| panic!("no {line:?} in {lines:?}"))
    };
    let join = child_lines(&stdout, "join");
    assert!(at(&join, "4") < at(&join, "main Ends"), "{join:?}");
    // Without join, the process still waits for the counter to end.
    let no_join = child_lines(&stdout, "no_join");
    assert!(at(&no_join, "main Ends") < at(&no_join, "4"), "{no_join:?}");
    let daemon = child_lines(&stdout, "daemon");
    at(&daemon, "main Ends");
    assert!(
        !daemon.contains(&"4"),
        "the counter was not cut short: {daemon:?}"
    );
}

#[test]
fn an_unknown_lesson_is_a_clear_error() {
    let (ok, _, stderr) = threadkit(&["tour", "no_such_lesson"]);
    assert!(!ok);
    assert!(stderr.contains("unknown lesson"), "{stderr}");
    assert!(stderr.contains("no_such_lesson"), "{stderr}");
}
