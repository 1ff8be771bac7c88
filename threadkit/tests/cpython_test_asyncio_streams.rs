//! asyncio streams and subprocesses: behaviours ported from CPython's
//! `Lib/test/test_asyncio/test_streams.py` (`StreamTests`) and
//! `test_subprocess.py` (`SubprocessMixin`), behaviour ported, not code.
//!
//! CPython is Copyright (c) 2001-2024 Python Software Foundation, licensed
//! under the PSF License Agreement. Each test names the CPython test whose
//! behaviour it checks; the code is new, written against threadkit's API.
#![cfg(target_os = "linux")]

use std::time::Duration;

use threadkit::asyncio::{
    self, ReadError, Redirect, STREAM_LIMIT, Server, Stdio, StreamReader, StreamWriter,
};

/// Hang guard: nothing in this file should take anywhere near this long.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn run<F: Future>(f: F) -> F::Output {
    asyncio::run(async move {
        match asyncio::timeout(HANG_GUARD, f).await {
            Ok(out) => out,
            Err(_) => panic!("hang guard"),
        }
    })
    .unwrap()
}

/// A server that writes `data` to each client, then closes.
async fn serving(data: &'static [u8]) -> Server {
    asyncio::start_server(
        move |_reader: StreamReader, mut writer: StreamWriter| async move {
            writer.write(data);
            writer.close().await.unwrap();
        },
        "127.0.0.1",
        0,
    )
    .await
    .unwrap()
}

async fn reader_of(data: &'static [u8]) -> (Server, StreamReader) {
    let server = serving(data).await;
    let (reader, _writer) = asyncio::open_connection("127.0.0.1", server.local_addr().port())
        .await
        .unwrap();
    (server, reader)
}

// StreamTests.test_open_connection: write a request, read the reply line.
#[test]
fn open_connection_talks_to_start_server() {
    run(async {
        let server = asyncio::start_server(
            |mut reader, mut writer| async move {
                let request = reader.readline().await.unwrap();
                writer.write(b"HTTP/1.0 200 OK\r\n");
                writer.write(&request);
                writer.close().await.unwrap();
            },
            "127.0.0.1",
            0,
        )
        .await
        .unwrap();
        assert!(server.is_serving());
        let (mut reader, mut writer) =
            asyncio::open_connection("127.0.0.1", server.local_addr().port())
                .await
                .unwrap();
        assert_eq!(writer.peername(), Some(server.local_addr()));
        writer.write(b"GET / HTTP/1.0\r\n\r\n");
        writer.drain().await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"HTTP/1.0 200 OK\r\n");
        assert_eq!(reader.read_to_end().await.unwrap(), b"GET / HTTP/1.0\r\n");
        assert!(reader.at_eof());
        server.close();
    });
}

// StreamTests.test_readline / test_readline_eof: lines with their newline,
// then the rest, then empty.
#[test]
fn readline_gives_lines_then_the_rest_then_nothing() {
    run(async {
        let (_server, mut reader) = reader_of(b"line1\nline2\nrest").await;
        assert_eq!(reader.readline().await.unwrap(), b"line1\n");
        assert_eq!(reader.readline().await.unwrap(), b"line2\n");
        assert_eq!(reader.readline().await.unwrap(), b"rest");
        assert_eq!(reader.readline().await.unwrap(), b"");
        assert!(reader.at_eof());
    });
}

// StreamTests.test_readexactly / test_readexactly_eof: exactly n, then
// IncompleteReadError with the partial data.
#[test]
fn readexactly_then_incomplete_at_the_end() {
    run(async {
        let (_server, mut reader) = reader_of(b"chunkchunkchu").await;
        assert_eq!(reader.readexactly(5).await.unwrap(), b"chunk");
        assert_eq!(reader.readexactly(5).await.unwrap(), b"chunk");
        match reader.readexactly(5).await {
            Err(ReadError::Incomplete { partial, expected }) => {
                assert_eq!(partial, b"chu");
                assert_eq!(expected, Some(5));
            }
            other => panic!("expected Incomplete, got {other:?}"),
        }
    });
}

// StreamTests.test_readuntil_separator / test_readuntil_eof.
#[test]
fn readuntil_finds_a_multibyte_separator_and_reports_eof() {
    run(async {
        let (_server, mut reader) = reader_of(b"some dataAAand more").await;
        assert_eq!(reader.readuntil(b"AA").await.unwrap(), b"some dataAA");
        match reader.readuntil(b"AA").await {
            Err(ReadError::Incomplete { partial, expected }) => {
                assert_eq!(partial, b"and more");
                assert_eq!(expected, None);
            }
            other => panic!("expected Incomplete, got {other:?}"),
        }
        assert!(matches!(reader.readuntil(b"").await, Err(ReadError::Io(_))));
    });
}

// StreamTests.test_readuntil_limit_found_sep / test_readline_limit: no
// separator within the limit is LimitOverrunError, not unbounded memory.
#[test]
fn a_line_over_the_limit_is_limit_overrun() {
    run(async {
        static BIG: [u8; 2 * STREAM_LIMIT + 10] = [b'x'; 2 * STREAM_LIMIT + 10];
        let (_server, mut reader) = reader_of(&BIG).await;
        assert!(matches!(
            reader.readline().await,
            Err(ReadError::LimitOverrun)
        ));
    });
}

// StreamTests.test_read: read(n) gives at most n bytes, empty at the end.
#[test]
fn read_gives_at_most_n_then_empty() {
    run(async {
        let (_server, mut reader) = reader_of(b"abcdef").await;
        let mut got = Vec::new();
        loop {
            let chunk = reader.read(4).await.unwrap();
            assert!(chunk.len() <= 4);
            if chunk.is_empty() {
                break;
            }
            got.extend(chunk);
        }
        assert_eq!(got, b"abcdef");
    });
}

// Server.close: no more connections are accepted.
#[test]
fn a_closed_server_stops_serving() {
    run(async {
        let server = serving(b"x").await;
        let port = server.local_addr().port();
        server.close();
        for _ in 0..1000 {
            if !server.is_serving() {
                break;
            }
            asyncio::sleep(Duration::from_millis(1)).await;
        }
        assert!(!server.is_serving());
        drop(server);
        assert!(asyncio::open_connection("127.0.0.1", port).await.is_err());
    });
}

fn piped_all() -> Stdio {
    Stdio {
        stdin: Redirect::Pipe,
        stdout: Redirect::Pipe,
        stderr: Redirect::Pipe,
    }
}

// test_subprocess.SubprocessMixin.test_stdin_stdout: write to the child's
// stdin, read its stdout, exit code 0.
#[test]
fn subprocess_stdin_stdout() {
    run(async {
        let mut proc = asyncio::create_subprocess_exec("cat", Vec::<&str>::new(), piped_all())
            .await
            .unwrap();
        assert!(proc.pid().is_some());
        let stdin = proc.stdin.as_mut().unwrap();
        stdin.write(b"Python The Winner\n");
        stdin.close().await.unwrap();
        let out = proc.stdout.as_mut().unwrap().read_to_end().await.unwrap();
        assert_eq!(out, b"Python The Winner\n");
        assert_eq!(proc.wait().await.unwrap(), 0);
        assert_eq!(proc.returncode(), Some(0));
    });
}

// SubprocessMixin.test_communicate.
#[test]
fn subprocess_communicate() {
    run(async {
        let mut proc =
            asyncio::create_subprocess_exec("sh", ["-c", "cat; echo err >&2; exit 3"], piped_all())
                .await
                .unwrap();
        let (out, err) = proc.communicate(Some(b"data")).await.unwrap();
        assert_eq!(out, b"data");
        assert_eq!(err, b"err\n");
        assert_eq!(proc.returncode(), Some(3));
    });
}

// SubprocessMixin.test_kill / test_terminate: returncode is -signal.
#[test]
fn subprocess_kill_and_terminate_give_minus_the_signal() {
    run(async {
        let mut proc = asyncio::create_subprocess_exec("sleep", ["60"], Stdio::default())
            .await
            .unwrap();
        proc.kill().unwrap();
        assert_eq!(proc.wait().await.unwrap(), -libc::SIGKILL);
        let mut proc = asyncio::create_subprocess_exec("sleep", ["60"], Stdio::default())
            .await
            .unwrap();
        proc.terminate().unwrap();
        assert_eq!(proc.wait().await.unwrap(), -libc::SIGTERM);
        // Signalling a child already waited for does nothing.
        proc.kill().unwrap();
    });
}

// A program that does not exist is an error (Python's FileNotFoundError).
#[test]
fn subprocess_missing_program_is_not_found() {
    run(async {
        let err = asyncio::create_subprocess_exec(
            "/nonexistent/threadkit-no-such-program",
            Vec::<&str>::new(),
            Stdio::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}
