//! A worker serves only its verified parent, and a broken protocol runs
//! nothing. Each test starts this very test binary (or a copy of it) as a
//! worker and sends it a *real* call, one that works when the parent is
//! legitimate (`own_parent_is_served` shows it), and checks that it did not
//! run: the call would create a marker file.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::multiprocessing::call::Call;
use crate::multiprocessing::frame;
use crate::multiprocessing::trust::{REFUSED_EXIT_CODE, Refusal};
use crate::multiprocessing::wire;
use crate::multiprocessing::worker::{CHANNEL_FD, ENV_ROLE, PROTOCOL_EXIT_CODE};

/// The injected call: creates the file at `path`.
fn plant(path: String) -> bool {
    std::fs::write(path, b"ran").is_ok()
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("threadkit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A framed message of `kind` carrying a call of `plant(marker)`.
fn plant_message(kind: u8, marker: &Path) -> Vec<u8> {
    let call = Call::new(plant, &marker.to_str().unwrap().to_owned()).unwrap();
    let mut msg = Vec::new();
    wire::begin(&mut msg, kind, 7);
    call.encode_into(&mut msg);
    let mut framed = Vec::new();
    frame::write_frame(&mut framed, &msg).unwrap();
    framed
}

/// Starts `program` as a pool worker whose fd 3 is our end's peer, with this
/// process as the peer (and, unless `via_shell`, as the parent).
fn start(program: &Path, via_shell: bool) -> (std::process::Child, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let fd: RawFd = theirs.as_raw_fd();
    let mut cmd = if via_shell {
        // The shell forks the worker and waits: the worker's parent is the
        // shell, not the process holding the other end.
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg("\"$0\"; exit $?").arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.env(ENV_ROLE, "pool")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: runs between fork and exec and makes only async-signal-safe
    // calls (dup2, fcntl) on a descriptor opened before the fork.
    unsafe {
        cmd.pre_exec(move || {
            if fd == CHANNEL_FD {
                libc::fcntl(fd, libc::F_SETFD, 0);
            } else if libc::dup2(fd, CHANNEL_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(theirs);
    ours.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    (child, ours)
}

/// Reads the worker's hello, sends `message`, then reads everything else
/// the worker says until it closes. (A worker that exits with our message
/// unread makes the kernel reset the connection, which ends the reading.)
fn exchange(
    (child, channel): (std::process::Child, UnixStream),
    message: &[u8],
) -> (Vec<Vec<u8>>, Output) {
    let mut r = &channel;
    let mut received = vec![frame::read_frame(&mut r, 1 << 20).unwrap().unwrap()];
    // The worker may already have refused and gone: a failed write is fine.
    let _ = (&channel).write_all(message);
    let _ = channel.shutdown(std::net::Shutdown::Write);
    while let Ok(Some(msg)) = frame::read_frame(&mut r, 1 << 20) {
        received.push(msg);
    }
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    (received, child.wait_with_output().unwrap())
}

fn hello_status(received: &[Vec<u8>]) -> u8 {
    let (kind, _, body) = wire::split(&received[0]).unwrap();
    assert_eq!(kind, wire::HELLO);
    body[0]
}

#[test]
fn own_parent_is_served() {
    let dir = scratch("served");
    let marker = dir.join("marker");
    let exe = std::env::current_exe().unwrap();
    let (received, out) = exchange(start(&exe, false), &plant_message(wire::TASK, &marker));
    assert_eq!(hello_status(&received), wire::HELLO_READY);
    assert_eq!(received.len(), 2, "hello and one reply");
    assert_eq!(wire::split(&received[1]).unwrap().0, wire::OK);
    assert_eq!(out.status.code(), Some(0));
    assert!(marker.exists(), "the control call must run");
    let _ = std::fs::remove_dir_all(dir);
}

/// A byte-identical copy is another file: its offsets would work, so only
/// the check stops the call.
#[test]
fn a_copy_of_the_executable_is_refused() {
    let dir = scratch("copy");
    let marker = dir.join("marker");
    let copy = dir.join("worker");
    std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    let (received, out) = exchange(start(&copy, false), &plant_message(wire::TASK, &marker));
    assert_eq!(received.len(), 1, "a refusal, no reply");
    assert_eq!(hello_status(&received), Refusal::OtherExecutable.status());
    assert_eq!(out.status.code(), Some(REFUSED_EXIT_CODE));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to serve"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!marker.exists(), "the injected call ran");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_peer_that_is_not_the_parent_is_refused() {
    let dir = scratch("not-parent");
    let marker = dir.join("marker");
    let exe = std::env::current_exe().unwrap();
    let (received, out) = exchange(start(&exe, true), &plant_message(wire::TASK, &marker));
    assert_eq!(
        hello_status(&received),
        Refusal::NotParent { peer: 0, parent: 0 }.status()
    );
    assert_eq!(out.status.code(), Some(REFUSED_EXIT_CODE));
    assert!(!marker.exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unknown_kind_runs_nothing_and_ends_the_worker() {
    let dir = scratch("kind");
    let exe = std::env::current_exe().unwrap();
    for kind in [0u8, wire::RUN, wire::HELLO, wire::OK, 99] {
        let marker = dir.join(format!("marker-{kind}"));
        let (received, out) = exchange(start(&exe, false), &plant_message(kind, &marker));
        assert_eq!(hello_status(&received), wire::HELLO_READY);
        assert_eq!(received.len(), 1, "kind {kind} got an answer");
        assert_eq!(out.status.code(), Some(PROTOCOL_EXIT_CODE), "kind {kind}");
        assert!(!marker.exists(), "kind {kind} ran the call");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_frames_end_the_worker() {
    let exe = std::env::current_exe().unwrap();
    let mut truncated = 100u32.to_le_bytes().to_vec();
    truncated.extend_from_slice(b"abc");
    let oversized = u32::MAX.to_le_bytes().to_vec();
    let mut headerless = Vec::new();
    frame::write_frame(&mut headerless, &[wire::TASK, 1, 2]).unwrap();
    for message in [truncated, oversized, headerless] {
        let (received, out) = exchange(start(&exe, false), &message);
        assert_eq!(received.len(), 1);
        assert_eq!(out.status.code(), Some(PROTOCOL_EXIT_CODE));
    }
}

/// The attack from the report, done with a Python parent: it starts the
/// binary itself, holds fd 3 and sends a task. As an unprivileged user
/// against a setuid-root copy when we are root, else as ourselves.
#[test]
fn a_foreign_parent_is_refused_and_a_setuid_copy_lends_nothing() {
    if Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is needed for this test under CI"
        );
        eprintln!("skipped: python3 not found");
        return;
    }
    let dir = scratch("foreign");
    let marker = dir.join("marker");
    let message = plant_message(wire::TASK, &marker);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let program = if root {
        // A setuid-root copy, run by `nobody` through its Python parent.
        use std::os::unix::fs::PermissionsExt;
        let copy = dir.join("setuid-worker");
        std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        copy
    } else {
        std::env::current_exe().unwrap()
    };
    let script = r#"
import os, socket, sys
exe, message = sys.argv[1], bytes.fromhex(sys.argv[2])
parent_end, child_end = socket.socketpair()
err_r, err_w = os.pipe()
pid = os.posix_spawn(exe, [exe], {"THREADKIT_MP_ROLE": "pool"}, file_actions=[
    (os.POSIX_SPAWN_DUP2, child_end.fileno(), 3),
    (os.POSIX_SPAWN_DUP2, err_w, 2),
])
child_end.close(); os.close(err_w)
got = b""
while len(got) < 4 or len(got) < 4 + int.from_bytes(got[:4], "little"):
    chunk = parent_end.recv(65536)
    if not chunk:
        break
    got += chunk
try:
    parent_end.sendall(message)
    parent_end.shutdown(socket.SHUT_WR)
    while chunk := parent_end.recv(65536):
        got += chunk
except OSError:
    pass
err = os.read(err_r, 65536)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), got.hex(), err.decode().strip().replace(" ", "_"))
"#;
    let mut cmd = if root {
        // The system's python3: a per-user install (pyenv) is not open to
        // `nobody`.
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        });
        c
    } else {
        Command::new("python3")
    };
    let out = cmd
        .args(["-c", script])
        .arg(&program)
        .arg(
            message
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(fields[0], REFUSED_EXIT_CODE.to_string(), "{stdout}");
    // Exactly one frame came back: a hello carrying the refusal.
    let got: Vec<u8> = (0..fields[1].len() / 2)
        .map(|i| u8::from_str_radix(&fields[1][2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut r = &got[..];
    let hello = frame::read_frame(&mut r, 1 << 10).unwrap().unwrap();
    assert!(r.is_empty(), "more than a hello came back");
    let expected = if root {
        // Refused for privilege: proves the setuid bit took effect.
        Refusal::LessPrivileged(String::new()).status()
    } else {
        Refusal::OtherExecutable.status()
    };
    assert_eq!(hello_status(&[hello]), expected, "{stdout}");
    assert!(fields[2].contains("refusing_to_serve"), "{stdout}");
    assert!(!marker.exists(), "the injected call ran");
    let _ = std::fs::remove_dir_all(dir);
}
