//! The workloads: what one task does, written once for every mode.
//!
//! - `sleep`: sleep D ms (the seeds' I/O-bound stand-in, `time.sleep`).
//! - `download`: GET one file from the loopback server and check it (the
//!   seeds' image download).
//! - `cpu`: the seeds' `for i in range(n): total += i` loop, checked against
//!   `n(n-1)/2`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use indicatif::ProgressBar;

use threadkit::asyncio;

use super::aio_client;
use super::gil::{Interpreter, NoGil};
use super::server::{self, Server};

/// A named workload, as `--workloads` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Workload {
    /// N tasks each sleeping `--sleep-ms`.
    Sleep,
    /// N HTTP GETs of `--file-kb` files from a loopback server with
    /// `--latency-ms` per request.
    Download,
    /// N tasks each summing `--cpu-iters` integers.
    Cpu,
}

impl Workload {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Sleep => "sleep",
            Workload::Download => "download",
            Workload::Cpu => "cpu",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The sizes of the workloads.
#[derive(Debug, Clone)]
pub(crate) struct Sizes {
    pub(crate) tasks: usize,
    pub(crate) sleep: Duration,
    pub(crate) latency: Duration,
    pub(crate) file_bytes: usize,
    pub(crate) cpu_iters: u64,
    /// CPython's loop is ~100x slower, so it gets its own count.
    pub(crate) py_cpu_iters: u64,
}

/// One unit of work, ready to run on any thread.
#[derive(Debug)]
pub(crate) struct Task {
    index: usize,
    work: Work,
    progress: ProgressBar,
}

/// What a task does, as plain data: a worker process of the process-pool
/// mode receives it over the wire.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Work {
    Sleep(Duration),
    Download {
        addr: SocketAddr,
        expected: (usize, u64),
    },
    Cpu(u64),
}

/// What a task that succeeded reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TaskOutput {
    /// Body bytes downloaded and checked (0 for other workloads).
    pub(crate) bytes: u64,
}

/// How many loop iterations run between two eval-loop checks.
pub(crate) const CHUNK: u64 = 1 << 16;

/// The seeds' CPU loop, `total += i` for `i` in `0..iters`, with `black_box`
/// so the compiler can neither vectorize it nor fold it to a formula.
pub(crate) fn cpu_sum<I: Interpreter>(iters: u64, interp: &mut I) -> u64 {
    let mut total = 0u64;
    let mut start = 0;
    while start < iters {
        let end = iters.min(start + CHUNK);
        for i in start..end {
            total = std::hint::black_box(total.wrapping_add(i));
        }
        start = end;
        interp.tick();
    }
    total
}

/// What [`cpu_sum`] must return.
pub(crate) fn cpu_expected(iters: u64) -> u64 {
    let n = u128::from(iters);
    (n * n.saturating_sub(1) / 2) as u64
}

impl Task {
    /// Runs the task under `interp` and ticks the progress bar.
    pub(crate) fn run<I: Interpreter>(&self, interp: &mut I) -> Result<TaskOutput, String> {
        let result = self.work(interp);
        self.progress.inc(1);
        result
    }

    fn work<I: Interpreter>(&self, interp: &mut I) -> Result<TaskOutput, String> {
        run_work((self.index, self.work.clone()), interp)
    }

    /// The task as plain data, for a worker process: (index, work).
    pub(crate) fn wire(&self) -> (usize, Work) {
        (self.index, self.work.clone())
    }

    /// Counts the task as finished on the progress bar (for modes that run
    /// it elsewhere).
    pub(crate) fn tick(&self) {
        self.progress.inc(1);
    }
}

/// Runs one task given as plain data, in a worker process of the
/// process-pool mode.
pub(crate) fn run_in_worker(task: (usize, Work)) -> Result<TaskOutput, String> {
    run_work(task, &mut NoGil)
}

/// What a task does, under `interp`.
fn run_work<I: Interpreter>(
    (index, work): (usize, Work),
    interp: &mut I,
) -> Result<TaskOutput, String> {
    {
        match &work {
            Work::Sleep(d) => {
                interp.allow_threads(|| std::thread::sleep(*d));
                Ok(TaskOutput::default())
            }
            Work::Download { addr, expected } => {
                let body = server::get(*addr, &format!("/files/{index}"), interp)?;
                check_download(index, &body, *expected)
            }
            Work::Cpu(iters) => {
                let total = cpu_sum(*iters, interp);
                if total != cpu_expected(*iters) {
                    return Err(format!("task {index}: wrong sum {total}"));
                }
                Ok(TaskOutput::default())
            }
        }
    }
}

impl Task {
    /// Runs the task as a coroutine on a threadkit asyncio loop (the
    /// `asyncio` mode): `sleep` awaits [`asyncio::sleep`], `download` uses the
    /// async client, and `cpu` runs its loop right there on the event loop,
    /// holding it, as a plain CPython coroutine does (no parallelism).
    pub(crate) async fn run_async(self) -> Result<TaskOutput, String> {
        let result = match &self.work {
            Work::Sleep(d) => {
                asyncio::sleep(*d).await;
                Ok(TaskOutput::default())
            }
            Work::Download { addr, expected } => {
                let path = format!("/files/{}", self.index);
                match aio_client::get(*addr, &path).await {
                    Ok(body) => check_download(self.index, &body, *expected),
                    Err(e) => Err(e),
                }
            }
            Work::Cpu(_) => self.work(&mut NoGil),
        };
        self.progress.inc(1);
        result
    }
}

/// Size and checksum of downloaded file `index` against the expected ones.
fn check_download(index: usize, body: &[u8], expected: (usize, u64)) -> Result<TaskOutput, String> {
    let got = (body.len(), server::checksum(body));
    if got != expected {
        return Err(format!(
            "file {index}: got {} bytes with checksum {}, expected {} bytes with checksum {}",
            got.0, got.1, expected.0, expected.1
        ));
    }
    Ok(TaskOutput {
        bytes: body.len() as u64,
    })
}

/// The tasks of one run of `workload`; `server` must be running for
/// `download`.
pub(crate) fn tasks(
    workload: Workload,
    sizes: &Sizes,
    server: Option<&Server>,
    progress: &ProgressBar,
) -> Result<Vec<Task>, String> {
    (0..sizes.tasks)
        .map(|index| {
            let work = match workload {
                Workload::Sleep => Work::Sleep(sizes.sleep),
                Workload::Download => Work::Download {
                    addr: server
                        .ok_or("the download workload needs the loopback server")?
                        .addr(),
                    expected: server::expected(index, sizes.file_bytes),
                },
                Workload::Cpu => Work::Cpu(sizes.cpu_iters),
            };
            Ok(Task {
                index,
                work,
                progress: progress.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_sum_matches_the_formula() {
        for n in [0, 1, 2, 10, CHUNK - 1, CHUNK, CHUNK + 1, 1_000_000] {
            assert_eq!(cpu_sum(n, &mut NoGil), cpu_expected(n), "n = {n}");
        }
    }

    #[test]
    fn download_tasks_fetch_and_check() {
        let sizes = Sizes {
            tasks: 3,
            sleep: Duration::ZERO,
            latency: Duration::ZERO,
            file_bytes: 5000,
            cpu_iters: 0,
            py_cpu_iters: 0,
        };
        let server = Server::start(3, 5000, Duration::ZERO).unwrap();
        let bar = ProgressBar::hidden();
        let tasks = tasks(Workload::Download, &sizes, Some(&server), &bar).unwrap();
        for t in &tasks {
            assert_eq!(t.run(&mut NoGil), Ok(TaskOutput { bytes: 5000 }));
        }
        assert_eq!(bar.position(), 3);
        assert!(super::tasks(Workload::Download, &sizes, None, &bar).is_err());
    }

    #[test]
    fn a_bad_download_is_an_error() {
        let sizes = Sizes {
            tasks: 3,
            sleep: Duration::ZERO,
            latency: Duration::ZERO,
            file_bytes: 5000,
            cpu_iters: 0,
            py_cpu_iters: 0,
        };
        // Two files where three are expected, each one byte short.
        let server = Server::start(2, 4999, Duration::ZERO).unwrap();
        let bar = ProgressBar::hidden();
        let results: Vec<_> = tasks(Workload::Download, &sizes, Some(&server), &bar)
            .unwrap()
            .iter()
            .map(|t| t.run(&mut NoGil))
            .collect();
        let err = results[0].as_ref().unwrap_err();
        assert!(err.contains("got 4999 bytes"), "{err}");
        let err = results[2].as_ref().unwrap_err();
        assert!(err.contains("404"), "{err}");
        assert_eq!(bar.position(), 3);
    }
}
