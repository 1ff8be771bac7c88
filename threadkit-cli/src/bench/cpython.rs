//! The same workloads in CPython, in the same run: sequential,
//! `threading.Thread` per task, `concurrent.futures.ThreadPoolExecutor`, and
//! `asyncio` (coroutines gathered on one loop: `asyncio.sleep`, a raw
//! HTTP/1.1 GET over `asyncio.open_connection`, and the `cpu` loop as a plain
//! coroutine).
//! The script is embedded and run with `python3 -c`; it prints its timings as
//! JSON on stdout.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::server::{self, IO_TIMEOUT, Server};
use super::workloads::{Sizes, Workload};

/// The CPython side. `argv[1]` is a JSON config; stdout gets one JSON object.
const SCRIPT: &str = r#"
import asyncio, concurrent.futures, json, sys, threading, time, urllib.parse, urllib.request

cfg = json.loads(sys.argv[1])
n = cfg["tasks"]
# No proxies, ever: the server is on 127.0.0.1 and nothing else is reached.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def sleep_task(i):
    time.sleep(cfg["sleep_ms"] / 1000)
    return 0

def download_task(i):
    # urllib sends `Connection: close`.
    with opener.open(cfg["base_url"] + "/files/%d" % i, timeout=cfg["timeout_s"]) as r:
        body = r.read()
    check_file(i, body)
    return len(body)

def cpu_task(i):
    # The seeds' loop.
    total = 0
    for k in range(cfg["cpu_iters"]):
        total += k
    if total != cfg["cpu_iters"] * (cfg["cpu_iters"] - 1) // 2:
        raise ValueError("task %d: wrong sum %d" % (i, total))
    return 0

def check_file(i, body):
    size, checksum = cfg["expected"][i]
    if len(body) != size or sum(body) != checksum:
        raise ValueError("file %d: got %d bytes with checksum %d, expected %d bytes with checksum %d"
                         % (i, len(body), sum(body), size, checksum))

async def sleep_coro(i):
    await asyncio.sleep(cfg["sleep_ms"] / 1000)
    return 0

async def download_coro(i):
    # Real async I/O: HTTP/1.1 over asyncio streams, checked as the Rust client
    # does (status, Content-Length, size and checksum). The server is loopback.
    url = urllib.parse.urlsplit(cfg["base_url"])
    path = "/files/%d" % i
    async def exchange():
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            writer.write(("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: threadkit-bench\r\n"
                          "Connection: close\r\n\r\n" % (path, url.netloc)).encode())
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()
    raw = await asyncio.wait_for(exchange(), cfg["timeout_s"])
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("GET %s: no complete response head" % path)
    lines = head.decode("latin-1").split("\r\n")
    if lines[0].split()[1:2] != ["200"]:
        raise ValueError("GET %s: server said %r" % (path, lines[0]))
    lengths = [v.strip() for k, _, v in (l.partition(":") for l in lines[1:])
               if k.strip().lower() == "content-length"]
    if not lengths or not lengths[0].isdigit():
        raise ValueError("GET %s: no Content-Length" % path)
    if len(body) != int(lengths[0]):
        raise ValueError("GET %s: body has %d bytes, Content-Length said %s" % (path, len(body), lengths[0]))
    check_file(i, body)
    return len(body)

async def cpu_coro(i):
    # A plain coroutine: the loop runs it to the end before the next one.
    return cpu_task(i)

coro = {"sleep": sleep_coro, "download": download_coro, "cpu": cpu_coro}[cfg["workload"]]

task = {"sleep": sleep_task, "download": download_task, "cpu": cpu_task}[cfg["workload"]]

def guarded(i):
    try:
        return task(i), None
    except Exception as e:
        return 0, "task %d: %r" % (i, e)

def sequential():
    return [guarded(i) for i in range(n)]

def threads():
    results = [None] * n
    def target(i):
        results[i] = guarded(i)
    ts = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return results

async def aguarded(i):
    try:
        return await coro(i), None
    except Exception as e:
        return 0, "task %d: %r" % (i, e)

def asyncio_mode():
    async def main():
        return await asyncio.gather(*(aguarded(i) for i in range(n)))
    return asyncio.run(main())

def pool():
    with concurrent.futures.ThreadPoolExecutor(max_workers=cfg["max_workers"]) as ex:
        return list(ex.map(guarded, range(n)))

def process_pool():
    # Python's default: one worker process per CPU.
    with concurrent.futures.ProcessPoolExecutor() as ex:
        return list(ex.map(guarded, range(n)))

out = []
for mode, run in [("sequential", sequential), ("threads", threads), ("ThreadPoolExecutor", pool),
                  ("ProcessPoolExecutor", process_pool), ("asyncio", asyncio_mode)]:
    c0, t0 = time.process_time(), time.perf_counter()
    results = run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out.append({
        "mode": mode, "wall_s": wall, "cpu_s": cpu,
        "ok": sum(1 for _, e in results if e is None),
        "bytes": sum(b for b, _ in results),
        "errors": [e for _, e in results if e is not None],
    })
print(json.dumps({"version": sys.version.split()[0], "results": out}))
"#;

/// One CPython row.
#[derive(Debug, Clone)]
pub(crate) struct PyRow {
    pub(crate) mode: String,
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
    pub(crate) ok: usize,
    pub(crate) bytes: u64,
    pub(crate) errors: Vec<String>,
}

/// The interpreter to run, if there is one.
#[derive(Debug, Clone)]
pub(crate) struct Python {
    program: String,
    pub(crate) version: String,
}

impl Python {
    /// Finds `program` (normally `python3`) and asks its version.
    pub(crate) fn find(program: &str) -> Result<Python, String> {
        let out = Command::new(program)
            .args(["-c", "import sys; print(sys.version.split()[0])"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => format!("{program} not found"),
                _ => format!("{program} could not be started ({e})"),
            })?;
        if !out.status.success() {
            return Err(format!("`{program}` did not run ({})", out.status));
        }
        Ok(Python {
            program: program.to_owned(),
            version: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        })
    }

    /// Runs `workload` in CPython's five modes; `server` must be running for
    /// `download`. Gives up (killing the interpreter) after `limit`.
    pub(crate) fn run(
        &self,
        workload: Workload,
        sizes: &Sizes,
        max_workers: usize,
        server: Option<&Server>,
        limit: Duration,
    ) -> Result<Vec<PyRow>, String> {
        let expected: Vec<(usize, u64)> = (0..sizes.tasks)
            .map(|i| server::expected(i, sizes.file_bytes))
            .collect();
        let config = json!({
            "workload": workload.name(),
            "tasks": sizes.tasks,
            "sleep_ms": sizes.sleep.as_secs_f64() * 1000.0,
            "cpu_iters": sizes.py_cpu_iters,
            "base_url": server.map(Server::base_url),
            "expected": if workload == Workload::Download { json!(expected) } else { json!([]) },
            "timeout_s": IO_TIMEOUT.as_secs(),
            "max_workers": max_workers,
        });
        let mut child = Command::new(&self.program)
            .args(["-c", SCRIPT, &config.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", self.program))?;
        // Drain both pipes on threads so a chatty child cannot block.
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
        let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("CPython {workload} run killed after {limit:?}"));
                }
                Err(e) => return Err(format!("waiting for CPython: {e}")),
            }
        };
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if !status.success() {
            let last = stderr.lines().last().unwrap_or("no message");
            return Err(format!("CPython {workload} run failed ({status}): {last}"));
        }
        parse(&stdout).ok_or_else(|| format!("CPython printed unexpected output: {stdout:?}"))
    }
}

fn parse(stdout: &str) -> Option<Vec<PyRow>> {
    let value: Value = serde_json::from_str(stdout.trim()).ok()?;
    value["results"]
        .as_array()?
        .iter()
        .map(|r| {
            Some(PyRow {
                mode: r["mode"].as_str()?.to_owned(),
                wall: Duration::try_from_secs_f64(r["wall_s"].as_f64()?).ok()?,
                cpu: Duration::try_from_secs_f64(r["cpu_s"].as_f64()?).ok()?,
                ok: r["ok"].as_u64()? as usize,
                bytes: r["bytes"].as_u64()?,
                errors: r["errors"]
                    .as_array()?
                    .iter()
                    .map(|e| e.as_str().map(str::to_owned))
                    .collect::<Option<_>>()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_interpreter_is_an_error_not_a_panic() {
        let err = Python::find("no-such-python-here").unwrap_err();
        assert!(err.contains("not found"), "{err}");
    }

    #[test]
    fn parses_the_script_output() {
        let rows = parse(
            r#"{"version": "3.x", "results": [{"mode": "threads", "wall_s": 0.5,
            "cpu_s": 0.25, "ok": 2, "bytes": 10, "errors": []}]}"#,
        )
        .unwrap();
        assert_eq!(rows[0].mode, "threads");
        assert_eq!(rows[0].wall, Duration::from_millis(500));
        assert!(parse("Traceback").is_none());
    }

    #[test]
    fn downloads_from_the_same_server_when_python_is_there() {
        let Ok(python) = Python::find("python3") else {
            return;
        };
        let sizes = Sizes {
            tasks: 3,
            sleep: Duration::ZERO,
            latency: Duration::ZERO,
            file_bytes: 3000,
            cpu_iters: 0,
            py_cpu_iters: 0,
        };
        let server = Server::start(3, 3000, Duration::ZERO).unwrap();
        let rows = python
            .run(
                Workload::Download,
                &sizes,
                2,
                Some(&server),
                Duration::from_secs(60),
            )
            .unwrap();
        let modes: Vec<_> = rows.iter().map(|r| r.mode.as_str()).collect();
        assert_eq!(
            modes,
            [
                "sequential",
                "threads",
                "ThreadPoolExecutor",
                "ProcessPoolExecutor",
                "asyncio"
            ]
        );
        for row in rows {
            assert_eq!((row.ok, row.bytes), (3, 9000), "{row:?}");
        }
        assert_eq!(server.served(), 15); // 5 modes x 3 files
    }
}
