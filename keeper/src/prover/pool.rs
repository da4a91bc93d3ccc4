//! A fixed-size pool of supervised workers: one request per worker at a time, a timeout per
//! request, and replacement of workers that time out, crash or answer out of protocol.
//!
//! A worker that failed is dropped (its process killed) and its slot left empty; the next
//! request that takes the slot starts a new worker. A worker found dead while idle is replaced
//! the same way before it is used, so an idle crash costs no request.

use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::error::ProverError;
use super::protocol::{Op, decode};
use super::worker::{Worker, WorkerSpec};

pub(crate) struct Pool {
    spec: WorkerSpec,
    /// Idle slots; a request holding a permit owns one slot until it ends.
    slots: Mutex<Vec<Option<Worker>>>,
    permits: Semaphore,
    size: usize,
}

impl Pool {
    /// Starts `size` workers in parallel; fails if any cannot start.
    pub async fn start(spec: WorkerSpec, size: usize) -> Result<Self, ProverError> {
        let mut starting = JoinSet::new();
        for _ in 0..size {
            let spec = spec.clone();
            starting.spawn(async move { Worker::spawn(&spec).await });
        }
        let mut slots = Vec::with_capacity(size);
        while let Some(started) = starting.join_next().await {
            let worker = started.map_err(|e| ProverError::WorkerStart(e.to_string()))??;
            slots.push(Some(worker));
        }
        Ok(Self {
            spec,
            slots: Mutex::new(slots),
            permits: Semaphore::new(size),
            size,
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Process ids and load times of the idle workers that are alive.
    pub fn idle_workers(&self) -> Vec<(u32, Duration)> {
        let mut slots = self.slots.lock().expect("pool lock");
        slots
            .iter_mut()
            .flatten()
            .filter_map(|w| w.is_alive().then(|| (w.pid(), w.load_time)))
            .collect()
    }

    /// Runs one request on a free worker, waiting for one if all are busy, and reads its
    /// reply as `R`.
    pub async fn request<R: DeserializeOwned>(
        &self,
        op: &Op,
        timeout: Duration,
    ) -> Result<R, ProverError> {
        let name = op.name();
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the pool's semaphore is never closed");
        let slot = self
            .slots
            .lock()
            .expect("pool lock")
            .pop()
            .expect("a permit guarantees a slot");
        let mut lease = Lease {
            pool: self,
            worker: slot,
            in_flight: false,
        };
        if !lease.worker.as_mut().is_some_and(Worker::is_alive) {
            if let Some(dead) = lease.worker.take() {
                tracing::warn!(
                    pid = dead.pid(),
                    "prover worker exited while idle; starting a new one"
                );
            }
            lease.worker = Some(Worker::spawn(&self.spec).await?);
        }
        let worker = lease.worker.as_mut().expect("a live worker");
        let pid = worker.pid();
        lease.in_flight = true;
        let outcome = tokio::time::timeout(timeout, worker.call(op)).await;
        lease.in_flight = false;
        match outcome {
            // A reply that does not fit its type came from a worker still in step.
            Ok(Ok(body)) => decode(name, body),
            // The worker answered: it is still in step with us.
            Ok(Err(e @ ProverError::Ezkl(_))) => Err(e),
            Ok(Err(e)) => {
                tracing::warn!(pid, error = %e, "prover worker failed; it will be replaced");
                lease.worker = None;
                Err(e)
            }
            Err(_) => {
                tracing::warn!(
                    pid,
                    op = name,
                    timeout_ms = timeout.as_millis() as u64,
                    "prover worker timed out; killing it"
                );
                lease.worker = None;
                Err(ProverError::Timeout {
                    op: name,
                    after: timeout,
                })
            }
        }
    }
}

/// A slot taken from the pool; returned on drop. If the request was abandoned mid-flight
/// (its future dropped), the worker may still answer later, so it is killed instead.
struct Lease<'a> {
    pool: &'a Pool,
    worker: Option<Worker>,
    in_flight: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let worker = if self.in_flight {
            None
        } else {
            self.worker.take()
        };
        self.pool.slots.lock().expect("pool lock").push(worker);
    }
}
