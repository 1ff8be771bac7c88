//! The ways of running a workload's tasks. Each is one [`Mode`] impl; add a
//! new one by writing the impl and registering it in [`all`] (or, when it
//! needs a cargo feature or more than this process, in [`extra`]).

use std::sync::Arc;

use threadkit::ThreadPoolExecutor;
use threadkit::asyncio;
use threadkit::multiprocessing::ProcessPoolExecutor;
use threadkit::threading::Thread;

use super::gil::{Gil, NoGil, SWITCH_INTERVAL};
use super::workloads::{self, Task, TaskOutput, Workload};

/// One task's result: its output or why it failed.
pub(crate) type TaskResult = Result<TaskOutput, String>;

/// A way to run a batch of tasks.
pub(crate) trait Mode {
    /// The name in the table and on `--modes` (`threadkit NAME`).
    fn name(&self) -> &'static str;
    /// Runs every task and returns their results, one per task (a failure is
    /// an `Err` in its slot, never dropped).
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult>;
    /// Whether this mode runs `workload` (default: every one).
    fn supports(&self, _workload: Workload) -> bool {
        true
    }
    /// Readies what the mode needs before its timed runs (a cluster's server
    /// and workers), once per bench; an `Err` says why it cannot run.
    fn prepare(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A mode's name on the command line (`--modes`): clap checks it against
/// the modes and suggests the closest one for a typo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModeName(&'static str);

impl ModeName {
    /// The mode's name, as [`Mode::name`] gives it.
    pub(crate) fn name(self) -> &'static str {
        self.0
    }
}

impl clap::ValueEnum for ModeName {
    fn value_variants<'a>() -> &'a [Self] {
        static NAMES: std::sync::OnceLock<Vec<ModeName>> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| {
            all(&ModeConfig { max_workers: 1 })
                .iter()
                .map(|m| ModeName(m.name()))
                .collect()
        })
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0))
    }
}

/// What the modes may be configured with.
#[derive(Debug, Clone)]
pub(crate) struct ModeConfig {
    /// Workers of the pool modes (`--threads`; ThreadPoolExecutor's
    /// `max_workers`).
    pub(crate) max_workers: usize,
}

/// Every threadkit mode, in table order; the first is the baseline.
pub(crate) fn all(config: &ModeConfig) -> Vec<Box<dyn Mode>> {
    vec![
        Box::new(Sequential),
        Box::new(Threads),
        Box::new(GilSim),
        Box::new(Pool {
            max_workers: config.max_workers,
        }),
        Box::new(ProcessPool),
        Box::new(Asyncio),
    ]
}

/// The modes built in with a cargo feature, run after [`all`]'s when asked
/// for (`--cluster`): `ClusterExecutor` (feature `cluster`). They are not
/// `--modes` values, so that the command's modes and default rows are the
/// same in every build. Cheap to call: a mode starts what it needs in
/// [`Mode::prepare`].
pub(crate) fn extra() -> Vec<Box<dyn Mode>> {
    #[cfg(feature = "cluster")]
    {
        vec![Box::new(super::cluster::Cluster::default())]
    }
    #[cfg(not(feature = "cluster"))]
    {
        Vec::new()
    }
}

/// Every task in turn on the calling thread.
#[derive(Debug)]
pub(crate) struct Sequential;

impl Mode for Sequential {
    fn name(&self) -> &'static str {
        "sequential"
    }
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        tasks.iter().map(|t| t.run(&mut NoGil)).collect()
    }
}

/// One threadkit [`Thread`] per task, all started, then all joined: the
/// seeds' `threading.Thread` loop.
#[derive(Debug)]
pub(crate) struct Threads;

impl Mode for Threads {
    fn name(&self) -> &'static str {
        "threads"
    }
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        run_on_threads(tasks, |task| task.run(&mut NoGil))
    }
}

/// One threadkit thread per task under a simulated GIL (see [`super::gil`]):
/// what threadkit would cost if it had CPython's lock.
#[derive(Debug)]
pub(crate) struct GilSim;

impl Mode for GilSim {
    fn name(&self) -> &'static str {
        "gil-sim"
    }
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        let gil = Arc::new(Gil::new(SWITCH_INTERVAL));
        run_on_threads(tasks, move |task| task.run(&mut gil.enter()))
    }
}

/// A threadkit [`ThreadPoolExecutor`] of `max_workers` threads, fed with
/// `map`: the seeds' `with ThreadPoolExecutor() as executor:
/// executor.map(task, items)`.
#[derive(Debug)]
pub(crate) struct Pool {
    max_workers: usize,
}

impl Mode for Pool {
    fn name(&self) -> &'static str {
        "ThreadPoolExecutor"
    }
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        let count = tasks.len();
        let pool = match ThreadPoolExecutor::new(self.max_workers) {
            Ok(pool) => pool,
            Err(e) => return (0..count).map(|_| Err(e.to_string())).collect(),
        };
        match pool.map(|task: Task| task.run(&mut NoGil), tasks) {
            Ok(results) => results.map(|r| r.map_err(|e| e.to_string())?).collect(),
            Err(e) => (0..count).map(|_| Err(e.to_string())).collect(),
        }
    }
}

/// Every task as a coroutine on one threadkit asyncio event loop (a
/// current-thread tokio runtime), gathered: CPython's
/// `asyncio.run(asyncio.gather(*coros))`. `sleep` and `download` wait on the
/// loop (async sleep, async HTTP client); `cpu` runs on the loop itself, one
/// task after another: no parallelism, as with CPython's asyncio.
#[derive(Debug)]
pub(crate) struct Asyncio;

impl Mode for Asyncio {
    fn name(&self) -> &'static str {
        "asyncio"
    }
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        let count = tasks.len();
        let coros = tasks.into_iter().map(Task::run_async);
        match asyncio::run(asyncio::gather_return_exceptions(coros)) {
            Ok(outcomes) => outcomes
                .into_iter()
                .map(|outcome| outcome.map_err(|e| e.to_string())?)
                .collect(),
            Err(e) => (0..count).map(|_| Err(e.to_string())).collect(),
        }
    }
}

/// A threadkit [`ProcessPoolExecutor`] with one worker process per CPU
/// (Python's default), each task sent to a worker as plain data: the seeds'
/// `with ProcessPoolExecutor() as executor:`.
#[derive(Debug)]
pub(crate) struct ProcessPool;

impl Mode for ProcessPool {
    fn name(&self) -> &'static str {
        "ProcessPoolExecutor"
    }
    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        let pool = ProcessPoolExecutor::default();
        let futures: Vec<_> = tasks
            .iter()
            .map(|task| pool.submit(workloads::run_in_worker, task.wire()))
            .collect();
        let results = tasks
            .iter()
            .zip(futures)
            .map(|(task, future)| {
                let outcome = future
                    .map_err(|e| e.to_string())?
                    .into_result()
                    .map_err(|e| e.to_string())?;
                task.tick();
                outcome
            })
            .collect();
        drop(pool); // shut down and reap the workers inside the timed run
        results
    }
}

/// Starts one thread per task running `body`, then joins them in order.
fn run_on_threads<F>(tasks: Vec<Task>, body: F) -> Vec<TaskResult>
where
    F: Fn(Task) -> TaskResult + Send + Sync + Clone + 'static,
{
    let threads: Vec<Result<Thread<TaskResult>, String>> = tasks
        .into_iter()
        .enumerate()
        .map(|(i, task)| {
            let body = body.clone();
            Thread::builder()
                .name(format!("bench-task-{i}"))
                .spawn(move || body(task))
                .map_err(|e| format!("task {i}: {e}"))
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t?.into_result().map_err(|e| e.to_string())?)
        .collect()
}

#[cfg(test)]
mod tests {
    use indicatif::ProgressBar;

    use super::*;
    use crate::bench::workloads::{Sizes, Workload, tasks};

    #[test]
    fn every_mode_runs_every_task() {
        let sizes = Sizes {
            tasks: 5,
            sleep: std::time::Duration::from_millis(1),
            latency: std::time::Duration::ZERO,
            file_bytes: 0,
            cpu_iters: 100_000,
            py_cpu_iters: 0,
        };
        let config = ModeConfig { max_workers: 2 };
        let modes = all(&config);
        let names: Vec<_> = modes.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "sequential",
                "threads",
                "gil-sim",
                "ThreadPoolExecutor",
                "ProcessPoolExecutor",
                "asyncio"
            ]
        );
        for mode in &modes {
            for workload in [Workload::Sleep, Workload::Cpu] {
                let bar = ProgressBar::hidden();
                let results = mode.run(tasks(workload, &sizes, None, &bar).unwrap());
                assert_eq!(results.len(), 5);
                assert!(results.iter().all(Result::is_ok), "{results:?}");
                assert_eq!(bar.position(), 5);
            }
        }
    }
}
