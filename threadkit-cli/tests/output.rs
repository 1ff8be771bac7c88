//! Output into a closed pipe (`threadkit tour | head`): the command ends the
//! way `yes | head` does, killed by SIGPIPE (141 in a shell) or with
//! success, never with a panic message.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// A pipe whose reading end is already closed: every write to the returned
/// end fails with EPIPE.
fn widowed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let cases: [&[&str]; 5] = [
        &["tour", "--list"],
        &["tour", "hello_thread", "race_condition"],
        &["tour", "--show-source", "gil"],
        &["bench", "--list-modes"],
        &[
            "bench",
            "--workloads=sleep",
            "--tasks=2",
            "--sleep-ms=1",
            "--runs=1",
            "--no-cpython",
        ],
    ];
    for args in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_threadkit"))
            .args(args)
            .stdout(Stdio::from(widowed_pipe()))
            .stderr(Stdio::piped())
            .output()
            .expect("run the threadkit binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        let status = out.status;
        assert!(
            status.signal() == Some(libc::SIGPIPE) || status.code() == Some(0),
            "{args:?}: {status:?}\n{stderr}"
        );
    }
}
