//! Who may start a worker: the check a child runs before it serves anyone.
//!
//! The load-time hook (`worker.rs`) sits in every program that links
//! threadkit, setuid programs included, and a worker runs whatever function
//! offsets its peer sends. So before it reads a single request, a child
//! checks that the process on the other end of its channel could have run
//! that code itself:
//!
//! 1. the peer of fd 3 (`SO_PEERCRED`, recorded by the kernel when the
//!    socket pair was made) is our parent (`getppid()`);
//! 2. the peer had our effective user and group ids when it made the pair;
//! 3. the peer's permitted capabilities include all of ours
//!    (`/proc/<pid>/status`), so a program with file capabilities is not
//!    lent to a parent without them;
//! 4. the peer runs the same executable file as we do: `/proc/<pid>/exe`
//!    and `/proc/self/exe` are the same device and inode, so the function
//!    offsets it sends point at the same code.
//!
//! Rules 2 and 3 mean a worker never has a privilege its parent lacks:
//! whatever the parent asks of it, the parent could have done itself. For a
//! setuid, setgid or file-capability program (`AT_SECURE`), the same rules
//! hold with no exception. A check that cannot be made (no peer
//! credentials, `/proc` unreadable) refuses; it never passes by default.
//!
//! A refused child runs no call: it says hello with the reason's status
//! (so a threadkit parent reports it as `ProcessError::Handshake`), prints
//! one line to stderr and exits with [`REFUSED_EXIT_CODE`].

use std::fmt;
use std::os::fd::RawFd;

/// The exit code of a process that refused to serve as a worker
/// (`EX_NOPERM` from `sysexits.h`).
pub(crate) const REFUSED_EXIT_CODE: i32 = 77;

/// Why a child refused to serve the process on its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The parent runs a different executable file (it was rebuilt or
    /// replaced since the parent started, or the parent is another program).
    OtherExecutable,
    /// The channel's peer is not our parent process.
    NotParent { peer: i32, parent: i32 },
    /// The peer lacks a privilege we hold: another effective user or group,
    /// or fewer capabilities.
    LessPrivileged(String),
    /// Who the peer is could not be established.
    Unverifiable(String),
    /// fd 3 is not a connected socket: there is nobody to answer.
    NoChannel(String),
}

impl Refusal {
    /// The status byte of the HELLO that carries this refusal (`wire.rs`).
    pub(crate) fn status(&self) -> u8 {
        match self {
            Refusal::OtherExecutable => 1,
            Refusal::NotParent { .. } => 2,
            Refusal::LessPrivileged(_) => 3,
            Refusal::Unverifiable(_) => 4,
            Refusal::NoChannel(_) => 5,
        }
    }

    /// What a parent receiving HELLO with `status` reports.
    pub(crate) fn describe_status(status: u8) -> &'static str {
        match status {
            1 => "the executable file changed since this program started",
            2 => "the child's channel does not lead to its parent",
            3 => "the child would hold privileges this process lacks",
            4 => "the child could not verify who started it",
            5 => "the child found no channel to its parent",
            _ => "the child's hello is malformed",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::OtherExecutable => f.write_str("the parent runs a different executable file"),
            Refusal::NotParent { peer, parent } => write!(
                f,
                "the channel's peer (pid {peer}) is not the parent process (pid {parent})"
            ),
            Refusal::LessPrivileged(what) => write!(f, "the parent is less privileged: {what}"),
            Refusal::Unverifiable(what) => write!(f, "cannot verify the parent: {what}"),
            Refusal::NoChannel(what) => write!(f, "no channel to a parent: {what}"),
        }
    }
}

/// Checks that the peer of `channel` may use this process as a worker (see
/// the module docs).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn check_parent(channel: RawFd) -> Result<(), Refusal> {
    let peer = peer_credentials(channel)?;
    // SAFETY: getppid, geteuid and getegid have no preconditions.
    let (parent, euid, egid) = unsafe { (libc::getppid(), libc::geteuid(), libc::getegid()) };
    if peer.pid != parent {
        return Err(Refusal::NotParent {
            peer: peer.pid,
            parent,
        });
    }
    if peer.uid != euid || peer.gid != egid {
        return Err(Refusal::LessPrivileged(format!(
            "it runs as uid {} gid {}, this process as uid {euid} gid {egid}",
            peer.uid, peer.gid
        )));
    }
    let ours = permitted_capabilities("self")?;
    let theirs = permitted_capabilities(&peer.pid.to_string())?;
    if ours & !theirs != 0 {
        return Err(Refusal::LessPrivileged(format!(
            "it lacks capabilities this process holds (mask {:#x})",
            ours & !theirs
        )));
    }
    if file_identity("/proc/self/exe")? != file_identity(&format!("/proc/{}/exe", peer.pid))? {
        return Err(Refusal::OtherExecutable);
    }
    Ok(())
}

/// Elsewhere no check exists yet, so nobody is served.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn check_parent(_channel: RawFd) -> Result<(), Refusal> {
    Err(Refusal::Unverifiable(
        "worker processes are supported on Linux only".to_owned(),
    ))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_credentials(channel: RawFd) -> Result<libc::ucred, Refusal> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for getsockopt to write one ucred;
    // an fd that is not a socket is an error, not undefined behaviour.
    let rc = unsafe {
        libc::getsockopt(
            channel,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Refusal::NoChannel(format!(
            "fd {channel} is not a connected socket ({e})"
        )));
    }
    if cred.pid <= 0 {
        return Err(Refusal::Unverifiable(format!(
            "fd {channel} has no peer process"
        )));
    }
    Ok(cred)
}

/// The `CapPrm` mask of `/proc/<pid>/status`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn permitted_capabilities(pid: &str) -> Result<u64, Refusal> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| Refusal::Unverifiable(format!("cannot read {path}: {e}")))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapPrm:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .ok_or_else(|| Refusal::Unverifiable(format!("{path} has no CapPrm line")))
}

/// The device and inode of the file behind `path` (following the link).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn file_identity(path: &str) -> Result<(u64, u64), Refusal> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)
        .map_err(|e| Refusal::Unverifiable(format!("cannot inspect {path}: {e}")))?;
    Ok((m.dev(), m.ino()))
}

#[cfg(all(test, not(miri), any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    /// In this process both ends' peer is this process, not its parent.
    #[test]
    fn a_pair_made_here_is_not_our_parent() {
        let (a, _b) = UnixStream::pair().unwrap();
        let err = check_parent(a.as_raw_fd()).unwrap_err();
        assert_eq!(
            err,
            Refusal::NotParent {
                peer: std::process::id() as i32,
                // SAFETY: getppid has no preconditions.
                parent: unsafe { libc::getppid() },
            }
        );
        assert_eq!(err.status(), 2);
    }

    #[test]
    fn a_file_is_not_a_channel() {
        let f = std::fs::File::open("/proc/self/status").unwrap();
        let err = check_parent(f.as_raw_fd()).unwrap_err();
        assert!(matches!(err, Refusal::NoChannel(ref m) if m.contains("not a connected socket")));
        assert_eq!(err.status(), 5);
        assert!(check_parent(-1).is_err());
    }

    #[test]
    fn our_own_identity_and_capabilities_read() {
        assert_eq!(
            file_identity("/proc/self/exe").unwrap(),
            file_identity(&format!("/proc/{}/exe", std::process::id())).unwrap()
        );
        let caps = permitted_capabilities("self").unwrap();
        assert_eq!(
            caps,
            permitted_capabilities(&std::process::id().to_string()).unwrap()
        );
    }

    #[test]
    fn every_status_has_a_description() {
        for r in [
            Refusal::OtherExecutable,
            Refusal::NotParent { peer: 1, parent: 2 },
            Refusal::LessPrivileged(String::new()),
            Refusal::Unverifiable(String::new()),
            Refusal::NoChannel(String::new()),
        ] {
            assert!(!Refusal::describe_status(r.status()).contains("malformed"));
        }
        assert!(Refusal::describe_status(200).contains("malformed"));
    }
}
