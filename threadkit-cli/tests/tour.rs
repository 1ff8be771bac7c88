//! The `threadkit tour` command as a user runs it: the lesson list matches the
//! library's examples one to one, quick lessons pass their checks, and bad
//! input gets a clear error.

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
    let examples_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../threadkit/examples");
    let examples: BTreeSet<String> = std::fs::read_dir(examples_dir)
        .expect("the examples folder")
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

#[test]
fn quick_lessons_pass_their_checks() {
    let (ok, stdout, stderr) =
        threadkit(&["tour", "hello_thread", "deadlock", "rlock", "thread_local"]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("4 lessons"), "{stdout}");
    assert!(stdout.contains(", 0 did not"), "{stdout}");
    assert!(!stdout.contains('✘'), "{stdout}");
}

#[test]
fn the_daemon_lesson_sees_python_exit_semantics() {
    let (ok, stdout, stderr) = threadkit(&["tour", "daemon"]);
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.matches('✔').count(), 3, "{stdout}");
}

#[test]
fn an_unknown_lesson_is_a_clear_error() {
    let (ok, _, stderr) = threadkit(&["tour", "no_such_lesson"]);
    assert!(!ok);
    assert!(stderr.contains("unknown lesson"), "{stderr}");
    assert!(stderr.contains("no_such_lesson"), "{stderr}");
}
