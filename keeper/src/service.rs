//! The keeper as a service: the intake API together with the operations endpoints on one
//! listener, served until a shutdown signal, after which intake refuses new results and the
//! server drains the requests in flight.
//!
//! - `GET /healthz`: 200 `{"status":"ok", ...}` when the queue database and the chain answer,
//!   503 with the failing part otherwise.
//! - `GET /metrics`: Prometheus text ([`crate::metrics`]).

use std::future::Future;
use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::intake::{self, Intake};

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The listen address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// The service's `Result` alias.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Every route of the keeper: intake, `/healthz`, `/metrics`.
pub fn router(intake: Intake) -> Router {
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(intake.clone());
    intake::router(intake).merge(ops)
}

/// Binds `listen` (fails at once when it cannot).
pub async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })
}

/// Serves [`router`] on `listener` until `shutdown` resolves; then intake is closed to new
/// results and the requests in flight are finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    intake: Intake,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let closing = intake.clone();
    axum::serve(listener, router(intake))
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.close();
        })
        .await
        .map_err(ServiceError::Serve)
}

async fn healthz(State(intake): State<Intake>) -> Response {
    let queue = intake.queue().depth().await;
    let chain = intake.chain().now().await;
    match (queue, chain) {
        (Ok(depth), Ok(now)) => Json(json!({
            "status": "ok",
            "chainTime": now,
            "queue": depth.iter().map(|(s, n)| (s.as_str(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .into_response(),
        (queue, chain) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "queue": queue.err().map(|e| e.to_string()),
                "chain": chain.err().map(|e| e.to_string()),
            })),
        )
            .into_response(),
    }
}

async fn metrics(State(intake): State<Intake>) -> Response {
    match intake.queue().depth().await {
        Ok(depth) => (
            [("content-type", "text/plain; version=0.0.4")],
            intake.metrics().render(&depth),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// The way from `accepted` to `confirmed`: the batcher picks jobs, the prover proves them in
/// one batch proof, the transaction manager lands it, and the queue records each step.
pub struct Pipeline {
    pub queue: crate::queue::Queue,
    pub prover: std::sync::Arc<crate::prover::Prover>,
    pub tx: crate::tx::TxManager,
    pub policy: crate::batcher::BatchPolicy,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// What one [`Pipeline::step`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// Jobs completed on chain by this step's transaction.
    pub confirmed: usize,
    /// Jobs found completed already (by an earlier transaction) and marked confirmed.
    pub already_done: usize,
    /// Jobs marked failed (deadline passed, or can no longer complete on chain).
    pub failed: usize,
    /// The landed transaction, if one was sent.
    pub tx_hash: Option<alloy::primitives::B256>,
}

/// Why a step could not finish; its jobs are back in `accepted` and are retried.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("proving failed: {0}")]
    Prove(#[from] crate::prover::ProverError),
    #[error("landing the proof failed: {0}")]
    Tx(#[from] crate::tx::TxError),
}

impl Pipeline {
    /// One round: fail what expired, pick a batch (or nothing), prove it, land it, record it.
    #[tracing::instrument(name = "pipeline_step", skip_all)]
    pub async fn step(&self, now: u64) -> std::result::Result<Step, StepError> {
        use crate::batcher::{PendingJob, expired, next_batch};
        use crate::queue::ResultState;
        let mut step = Step::default();
        let pending = self.queue.in_state(ResultState::Accepted, 100_000).await?;
        let jobs: Vec<PendingJob> = pending
            .iter()
            .map(|r| PendingJob {
                job_id: r.job_id,
                deadline: r.deadline,
                accepted_at: r.accepted_at,
            })
            .collect();
        let late = expired(&jobs, now);
        if !late.is_empty() {
            let reason = "the deadline passed before the result could be proven";
            step.failed += self
                .queue
                .set_state(&late, ResultState::Failed, None, Some(reason))
                .await? as usize;
        }
        let Some(ids) = next_batch(&jobs, now, &self.policy) else {
            return Ok(step);
        };
        let tuples: Vec<crate::prover::JobTuple> = ids
            .iter()
            .filter_map(|id| pending.iter().find(|r| r.job_id == *id))
            .map(|r| crate::prover::JobTuple {
                job_id: r.job_id,
                model_hash: r.model_hash,
                input_hash: r.input_hash,
                output_hash: r.output_hash,
            })
            .collect();
        self.queue
            .set_state(&ids, ResultState::Proving, None, None)
            .await?;
        let started = std::time::Instant::now();
        let proof = match self.prover.prove(&tuples).await {
            Ok(proof) => proof,
            Err(e) => {
                self.metrics.failure("prove");
                self.queue
                    .set_state(&ids, ResultState::Accepted, None, None)
                    .await?;
                return Err(e.into());
            }
        };
        self.metrics.proof(tuples.len(), started.elapsed());
        self.queue
            .set_state(&ids, ResultState::Submitted, None, None)
            .await?;
        let sent = std::time::Instant::now();
        match self.tx.land_proof(&proof).await {
            Ok(landed) => {
                self.queue
                    .set_state(&ids, ResultState::Confirmed, Some(landed.tx_hash), None)
                    .await?;
                self.metrics
                    .transaction(ids.len(), landed.gas_used, sent.elapsed());
                step.confirmed = ids.len();
                step.tx_hash = Some(landed.tx_hash);
                Ok(step)
            }
            Err(crate::tx::TxError::JobsChanged { done, gone }) => {
                // Completed by an earlier transaction (ours, before a crash) or by no one
                // any more: record that; the rest goes back to be proven again.
                self.queue
                    .set_state(
                        &done,
                        ResultState::Confirmed,
                        None,
                        Some("completed on chain by an earlier transaction"),
                    )
                    .await?;
                self.queue
                    .set_state(&gone, ResultState::Failed, None, Some("the job can no longer complete on chain (expired, cancelled or unknown)"))
                    .await?;
                let rest: Vec<_> = ids
                    .iter()
                    .filter(|id| !done.contains(id) && !gone.contains(id))
                    .copied()
                    .collect();
                self.queue
                    .set_state(&rest, ResultState::Accepted, None, None)
                    .await?;
                step.already_done = done.len();
                step.failed += gone.len();
                Ok(step)
            }
            Err(e) => {
                self.metrics.failure("tx");
                self.queue
                    .set_state(&ids, ResultState::Accepted, None, None)
                    .await?;
                Err(e.into())
            }
        }
    }

    /// Steps until `stop` resolves, waking on new results or every `poll`. A batch in flight
    /// is finished before stopping (the step is never cut in the middle: a cut would only
    /// leave rows for [`crate::queue::Queue::recover`], but finishing is cheaper).
    pub async fn run(
        self,
        intake: Intake,
        poll: std::time::Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let busy = match self.step(now).await {
                Ok(step) => step.confirmed + step.already_done > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "pipeline step failed; its jobs will be retried");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = intake.accepted() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}
