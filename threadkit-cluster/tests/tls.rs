//! TLS (`rediss://`) and ACL credentials against a real private
//! redis-server: a throwaway CA and server certificate (made with the
//! `openssl` command), a server listening with TLS on a free port, a
//! submit/result round trip through a worker over TLS, an ACL user with a
//! password in the URL, and a wrong password as a typed error. Every wait
//! is bounded (30 s).

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BOUND, RedisServer, server_with};
use threadkit::futures::Shutdown;
use threadkit_cluster::{ClusterError, ClusterExecutor, ClusterWorker, StopHandle};

fn square(x: u64) -> u64 {
    x * x
}

threadkit_cluster::task! { SQUARE: fn(u64) -> u64 = square, "tls-test.square"; }

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "openssl {args:?} failed");
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in a fresh
/// directory: `ca.pem`, `server.pem`, `server.key`. `None` (with a notice)
/// without the `openssl` command, except under `CI=true`.
fn certificates(name: &str) -> Option<TempDir> {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "the openssl command is missing (CI=true)"
        );
        eprintln!("NOTICE: skipping the TLS test: no openssl command");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("tk-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dir = TempDir(dir);
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    openssl(
        &dir.0,
        &[
            &["req", "-x509", "-nodes", "-days", "2"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=threadkit test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    openssl(
        &dir.0,
        &[
            &["req", "-nodes"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.0.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("write ext.cnf");
    openssl(
        &dir.0,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "ext.cnf",
        ],
    );
    Some(dir)
}

/// A private redis-server that also listens with TLS on a free port of
/// 127.0.0.1; returns it, its `rediss://` host:port and the CA (PEM).
fn tls_server(name: &str) -> Option<(RedisServer, String, Vec<u8>, TempDir)> {
    let certs = certificates(name)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let path = |f: &str| OsString::from(certs.0.join(f));
    let args = [
        OsString::from("--tls-port"),
        OsString::from(port.to_string()),
        OsString::from("--bind"),
        OsString::from("127.0.0.1"),
        OsString::from("--tls-cert-file"),
        path("server.pem"),
        OsString::from("--tls-key-file"),
        path("server.key"),
        OsString::from("--tls-ca-cert-file"),
        path("ca.pem"),
        OsString::from("--tls-auth-clients"),
        OsString::from("no"),
    ];
    let server = server_with(&args)?;
    let ca = std::fs::read(certs.0.join("ca.pem")).expect("read ca.pem");
    Some((server, format!("127.0.0.1:{port}"), ca, certs))
}

/// Stops a worker when dropped (also when the test fails), so the scope
/// that runs it ends.
struct StopOnDrop(StopHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs `test` while `worker` serves on a thread of this process.
fn with_worker(worker: ClusterWorker, test: impl FnOnce()) {
    let stop = StopOnDrop(worker.stop_handle());
    std::thread::scope(|s| {
        let running = s.spawn(move || worker.run());
        test();
        drop(stop);
        let outcome = running.join().expect("the worker thread");
        assert!(outcome.is_ok(), "the worker failed: {outcome:?}");
    });
}

#[test]
fn submit_and_result_over_tls_with_a_private_ca() {
    let Some((_server, addr, ca, _certs)) = tls_server("roundtrip") else {
        return;
    };
    let url = format!("rediss://{addr}/");
    let worker = ClusterWorker::new(&url)
        .namespace("tls")
        .slots(1)
        .tls_root_cert(ca.clone());
    with_worker(worker, || {
        let exec = ClusterExecutor::builder(&url)
            .namespace("tls")
            .tls_root_cert(ca.clone())
            .connect()
            .expect("connect over TLS");
        let f = exec.submit(&SQUARE, 12).unwrap();
        assert_eq!(f.result_timeout(BOUND), Ok(&144));
        let squares: Vec<u64> = exec
            .map(&SQUARE, 0..10u64)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(squares, (0..10u64).map(|i| i * i).collect::<Vec<_>>());
        exec.shutdown(Shutdown::wait());
    });
    // Without the private CA the server's certificate is not trusted.
    let untrusted = ClusterExecutor::builder(&url).namespace("tls").connect();
    assert!(
        matches!(untrusted, Err(ClusterError::Redis(_))),
        "{untrusted:?}"
    );
}

#[test]
fn acl_user_and_password_in_the_url_and_a_wrong_password_is_a_typed_error() {
    let Some((server, addr, ca, _certs)) = tls_server("acl") else {
        return;
    };
    let mut con = server.con();
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("tkworker")
        .arg("on")
        .arg(">s3cret")
        .arg("~tk:*")
        .arg("+@all")
        .query(&mut con)
        .unwrap();
    let url = format!("rediss://tkworker:s3cret@{addr}/");
    let worker = ClusterWorker::new(&url)
        .namespace("acl")
        .slots(1)
        .tls_root_cert(ca.clone());
    with_worker(worker, || {
        let exec = ClusterExecutor::builder(&url)
            .namespace("acl")
            .tls_root_cert(ca.clone())
            .connect()
            .expect("connect as the ACL user");
        assert_eq!(
            exec.submit(&SQUARE, 7).unwrap().result_timeout(BOUND),
            Ok(&49)
        );
        exec.shutdown(Shutdown::wait());
    });
    // The user's keys really are limited to tk:*.
    let mut limited = redis::Client::build_with_tls(
        url.as_str(),
        redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca.clone()),
        },
    )
    .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
    .expect("connect as the ACL user");
    let denied: redis::RedisResult<()> = redis::cmd("SET").arg("other").arg(1).query(&mut limited);
    assert!(denied.is_err(), "a key outside tk:* is refused");

    let wrong = format!("rediss://tkworker:wrong@{addr}/");
    let caller = ClusterExecutor::builder(&wrong)
        .namespace("acl")
        .tls_root_cert(ca.clone())
        .connect();
    match caller {
        Err(ClusterError::Auth(msg)) => assert!(!msg.is_empty()),
        other => panic!("expected ClusterError::Auth, got {other:?}"),
    }
    let worker = ClusterWorker::new(&wrong)
        .namespace("acl")
        .tls_root_cert(ca.clone())
        .run();
    assert!(
        matches!(worker, Err(ClusterError::Auth(_))),
        "a worker with a wrong password stops with Auth: {worker:?}"
    );
    let unknown_user = ClusterExecutor::builder(&format!("rediss://nobody:s3cret@{addr}/"))
        .tls_root_cert(ca)
        .connect();
    assert!(
        matches!(unknown_user, Err(ClusterError::Auth(_))),
        "{unknown_user:?}"
    );
}
