//! `threadkit which NAME`: a Python name's threadkit equivalent, read from
//! the same table as the README and the crate docs.

use std::process::{Command, Output};

fn which(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_threadkit"))
        .arg("which")
        .args(args)
        .output()
        .expect("run threadkit")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn get_nowait_is_try_get_with_a_docs_link_and_the_row() {
    let out = which(&["queue.Queue.get_nowait"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with("queue.Queue.get_nowait → Queue::try_get\n"),
        "{text}"
    );
    assert!(text.contains("module: threadkit::queue"), "{text}");
    assert!(
        text.contains("https://docs.rs/threadkit/latest/threadkit/?search=Queue%3A%3Atry_get"),
        "{text}"
    );
    assert!(text.contains("get_timeout(d)"), "{text}");
}

#[test]
fn a_same_names_row_gives_the_module_path_and_the_difference() {
    let out = which(&["threading.TIMEOUT_MAX"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with("threading.TIMEOUT_MAX → threadkit::threading::TIMEOUT_MAX\n"),
        "{text}"
    );
    assert!(
        text.contains("differs: TIMEOUT_MAX is Duration::MAX"),
        "{text}"
    );
}

#[test]
fn an_unknown_name_fails_and_says_so() {
    let out = which(&["queue.Queue.frobnicate"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("queue.Queue.frobnicate is not in the Python → threadkit table"),
        "{err}"
    );
}

/// The lookup and the docs cannot drift: every Python name of the table
/// (as `--list` gives them) resolves, and the table the command reads is
/// the file the README and the crate docs are checked against.
#[test]
fn every_name_in_the_docs_table_resolves() {
    let file = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../threadkit/docs/python-api.md"),
    )
    .expect("threadkit/docs/python-api.md");
    assert_eq!(threadkit::PYTHON_API_TABLE, file);
    let list = which(&["--list"]);
    assert!(list.status.success());
    let names: Vec<String> = stdout(&list).lines().map(str::to_owned).collect();
    assert!(names.len() > 100, "{names:?}");
    for expected in ["queue.Queue", "get_nowait", "gather", "threading.Lock"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not listed");
    }
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let out = which(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in &names {
        assert!(
            stdout(&out).contains(&format!("{name} → ")),
            "{name} has no answer"
        );
    }
}

#[test]
fn a_module_qualified_function_is_found_in_its_modules_rows() {
    let out = which(&["asyncio.gather"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with("asyncio.gather → gather(futs).await\n"),
        "{text}"
    );
    assert!(text.contains("module: threadkit::asyncio"), "{text}");
}

#[test]
fn gevent_and_time_names_give_their_own_modules() {
    let text = stdout(&which(&["gevent.spawn"]));
    assert!(text.contains("module: threadkit::green"), "{text}");
    let text = stdout(&which(&["time.sleep"]));
    assert!(
        text.starts_with("time.sleep → threadkit::sleep(d)\n"),
        "{text}"
    );
    assert!(text.contains("module: threadkit\n"), "{text}");
}
