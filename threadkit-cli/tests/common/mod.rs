//! Running the `threadkit` binary from the CLI's integration tests.

use std::process::Command;

/// Runs `threadkit ARGS...`: whether it succeeded, its stdout, its stderr.
pub(crate) fn threadkit(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_threadkit"))
        .args(args)
        .output()
        .expect("run the threadkit binary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
