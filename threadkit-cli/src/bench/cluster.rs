//! The `ClusterExecutor` row (feature `cluster`): the `cpu` workload through
//! threadkit-cluster's [`ClusterExecutor`](threadkit_cluster::ClusterExecutor)
//! with 2 local workers of one slot each, on a private `redis-server`, beside
//! the `ProcessPoolExecutor` and `sequential` rows of the same run.
//!
//! The workers are this same binary started again (`main` hands them to
//! `threadkit_cluster::worker_main_if_requested`), with the cluster lesson's
//! [`LocalCluster`]. They start once, before the timed runs, and serve every
//! run: a cluster's workers are long-lived. (The `ProcessPoolExecutor` row,
//! like Python's `with ProcessPoolExecutor() as ex:`, starts its pool inside
//! each timed run; on the `cpu` workload that costs a few ms of some 300.)

use std::sync::Mutex;

use super::modes::{Mode, TaskResult};
use super::workloads::{self, Task, TaskOutput, Work, Workload};
use crate::tour::cluster::outgrow::{INSTALL_REDIS, LocalCluster, redis_server_installed};

/// How many worker processes the row uses.
const WORKERS: usize = 2;

threadkit_cluster::task! {
    /// One bench task, as the process-pool row sends it: (index, work).
    BENCH_TASK: fn((usize, Work)) -> Result<TaskOutput, String> = workloads::run_in_worker, "threadkit-cli.bench.task";
}

/// The `ClusterExecutor` mode: its cluster once [`Mode::prepare`]d.
#[derive(Debug, Default)]
pub(crate) struct Cluster {
    local: Mutex<Option<LocalCluster>>,
}

impl Mode for Cluster {
    fn name(&self) -> &'static str {
        "ClusterExecutor"
    }

    /// `cpu` only: the row answers whether CPU-bound work spreads over a
    /// cluster's workers as over a process pool's.
    fn supports(&self, workload: Workload) -> bool {
        workload == Workload::Cpu
    }

    fn prepare(&self) -> Result<(), String> {
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        if local.is_some() {
            return Ok(());
        }
        if !redis_server_installed() {
            return Err(format!("redis-server is not installed; {INSTALL_REDIS}"));
        }
        *local = Some(LocalCluster::start(WORKERS, 1, "bench")?);
        Ok(())
    }

    fn run(&self, tasks: Vec<Task>) -> Vec<TaskResult> {
        let local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let Some(cluster) = local.as_ref() else {
            return tasks
                .iter()
                .map(|_| Err("the cluster did not start".to_owned()))
                .collect();
        };
        let futures: Vec<_> = tasks
            .iter()
            .map(|task| cluster.exec.submit(&BENCH_TASK, task.wire()))
            .collect();
        tasks
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
            .collect()
    }
}
