//! The way of a result from `accepted` to `confirmed`: the batcher picks jobs, the prover proves
//! them in one batch proof, the transaction manager lands it, and the queue records each step
//! (`accepted -> proving -> submitted` with the transaction's hash `-> confirmed`, or `failed`
//! with a reason). Up to `max_in_flight` batches are on their way at once, so the next batch is
//! proven while the previous one lands. A verifiable model's job is a batch of its own: its
//! inference is proven and lands through `submitInference`, one job per transaction (its
//! circuit proves one inference), ahead of the commitment batches, which wait for company.
//!
//! Exactly once: a batch's jobs are read from the chain before every send
//! ([`TxManager::land_proof`]), and after a restart [`Pipeline::reconcile`] settles the rows a
//! crash left in `proving` or `submitted` against the chain (completed there: `confirmed`,
//! never sent again) before anything is proven.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use tokio::task::JoinSet;

use crate::batcher::{BatchPolicy, PendingJob, expired, next_batch};
use crate::chain::{ChainView, JobStatus};
use crate::intake::Intake;
use crate::metrics::Metrics;
use crate::prover::{JobTuple, Prover, ProverError};
use crate::queue::{InferenceJob, Queue, QueuedResult, ResultState};
use crate::tx::{TxError, TxManager};

/// Why a job is marked failed.
pub const REASON_DEADLINE: &str = "the deadline passed before the result could be proven";
pub const REASON_GONE: &str =
    "the job can no longer complete on chain (expired, cancelled or unknown)";
/// Why a confirmed job has no transaction hash of ours.
pub const REASON_EARLIER: &str = "completed on chain by an earlier transaction";

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// Jobs completed on chain by this batch's transaction.
    pub confirmed: usize,
    /// Jobs found completed already (by an earlier transaction) and marked confirmed.
    pub already_done: usize,
    /// Jobs marked failed (deadline passed, or can no longer complete on chain).
    pub failed: usize,
    /// The landed transaction, if one was sent.
    pub tx_hash: Option<B256>,
}

/// Why a batch could not finish; its jobs are back in `accepted` and are retried.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("proving failed: {0}")]
    Prove(#[from] crate::prover::ProverError),
    #[error("landing the proof failed: {0}")]
    Tx(#[from] TxError),
    #[error(transparent)]
    Chain(#[from] crate::chain::ChainError),
}

/// A batch's proof, ready to land.
enum Proven {
    Batch(crate::prover::Proof),
    Inference(crate::prover::Inference),
}

/// What [`Pipeline::reconcile`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciled {
    /// Completed on chain: marked confirmed, not sent again.
    pub confirmed: usize,
    /// No longer completable: marked failed.
    pub failed: usize,
    /// Still claimed and not completed: back to accepted, to be proven again.
    pub requeued: usize,
}

/// A batch picked and marked `proving`.
#[derive(Debug, Clone)]
pub struct Batch {
    pub jobs: Vec<JobTuple>,
    /// A verifiable model's job (then `jobs` holds only it): the inference to prove.
    pub inference: Option<InferenceJob>,
}

impl Batch {
    fn ids(&self) -> Vec<B256> {
        self.jobs.iter().map(|j| j.job_id).collect()
    }
}

/// The pipeline of one keeper. Share it behind an `Arc` to [`Pipeline::run`] it.
pub struct Pipeline {
    pub queue: Queue,
    pub prover: Arc<Prover>,
    pub tx: TxManager,
    pub chain: ChainView,
    pub policy: BatchPolicy,
    pub metrics: Arc<Metrics>,
    /// Batches proven or landing at once (at least 1).
    pub max_in_flight: usize,
}

impl Pipeline {
    /// After a restart: settles every `proving` or `submitted` row against the chain. A job
    /// completed there is `confirmed` (keeping the transaction hash recorded, if any), one that
    /// can no longer complete is `failed`, the others go back to `accepted`. Our own
    /// transactions still pending in the node's pool are waited for first (up to `wait`), so
    /// a batch that is about to land is not proven and sent a second time.
    #[tracing::instrument(name = "pipeline_reconcile", skip_all)]
    pub async fn reconcile(&self, wait: Duration) -> Result<Reconciled, StepError> {
        let mut rows = self
            .queue
            .in_state(ResultState::Proving, u64::MAX >> 1)
            .await?;
        rows.extend(
            self.queue
                .in_state(ResultState::Submitted, u64::MAX >> 1)
                .await?,
        );
        let mut done = Reconciled::default();
        if rows.is_empty() {
            return Ok(done);
        }
        self.wait_for_own_pending(wait).await?;
        for row in rows {
            let job = self.chain.job(row.job_id).await?;
            let ids = [row.job_id];
            if job.completed_at != 0 {
                let reason = row.tx_hash.is_none().then_some(REASON_EARLIER);
                self.queue
                    .set_state(&ids, ResultState::Confirmed, row.tx_hash, reason)
                    .await?;
                done.confirmed += 1;
            } else if job.status != JobStatus::Claimed {
                self.queue
                    .set_state(&ids, ResultState::Failed, None, Some(REASON_GONE))
                    .await?;
                done.failed += 1;
            } else {
                self.queue
                    .set_state(&ids, ResultState::Accepted, None, None)
                    .await?;
                done.requeued += 1;
            }
        }
        self.metrics
            .jobs_already_done
            .fetch_add(done.confirmed as u64, Ordering::Relaxed);
        self.metrics
            .jobs_failed
            .fetch_add(done.failed as u64, Ordering::Relaxed);
        tracing::info!(?done, "reconciled the results a restart found in flight");
        Ok(done)
    }

    /// Waits (at most `wait`) until the node has mined every transaction of our key it knows.
    async fn wait_for_own_pending(&self, wait: Duration) -> Result<(), StepError> {
        use alloy::providers::Provider;
        let from = self.tx.from();
        let provider = self.chain.provider();
        let started = Instant::now();
        loop {
            let pending = provider
                .get_transaction_count(from)
                .pending()
                .await
                .map_err(|e| rpc_error("eth_getTransactionCount", e))?;
            let mined = provider
                .get_transaction_count(from)
                .latest()
                .await
                .map_err(|e| rpc_error("eth_getTransactionCount", e))?;
            if pending <= mined || started.elapsed() >= wait {
                return Ok(());
            }
            tracing::info!(
                pending,
                mined,
                "waiting for our pending transactions to be mined"
            );
            tokio::time::sleep(self.tx.config().poll).await;
        }
    }

    /// Fails what expired, then picks the next batch (or nothing) and marks it `proving`.
    pub async fn pick(&self, now: u64) -> Result<Option<Batch>, StepError> {
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
            let n = self
                .queue
                .set_state(&late, ResultState::Failed, None, Some(REASON_DEADLINE))
                .await?;
            self.metrics.jobs_failed.fetch_add(n, Ordering::Relaxed);
        }
        // The earliest-deadline inference first: it waits for no batch to fill.
        let inference = pending
            .iter()
            .find(|r| r.inference.is_some() && !late.contains(&r.job_id));
        let batch = if let Some(row) = inference {
            Batch {
                jobs: vec![tuple(row)],
                inference: row.inference.clone(),
            }
        } else {
            let commitment: Vec<PendingJob> = jobs
                .into_iter()
                .filter(|j| {
                    pending
                        .iter()
                        .any(|r| r.job_id == j.job_id && r.inference.is_none())
                })
                .collect();
            let Some(ids) = next_batch(&commitment, now, &self.policy) else {
                return Ok(None);
            };
            let jobs: Vec<JobTuple> = ids
                .iter()
                .filter_map(|id| pending.iter().find(|r| r.job_id == *id))
                .map(tuple)
                .collect();
            Batch {
                jobs,
                inference: None,
            }
        };
        self.queue
            .set_state(&batch.ids(), ResultState::Proving, None, None)
            .await?;
        Ok(Some(batch))
    }

    /// Proves `batch`, lands it and records the outcome. On an error its jobs are back in
    /// `accepted`.
    #[tracing::instrument(name = "pipeline_batch", skip_all, fields(jobs = batch.jobs.len()))]
    pub async fn process(&self, batch: Batch) -> Result<Step, StepError> {
        let ids = batch.ids();
        let outcome = self.prove_and_land(&batch, &ids).await;
        if outcome.is_err() {
            self.queue
                .set_state(&ids, ResultState::Accepted, None, None)
                .await?;
        }
        outcome
    }

    async fn prove_and_land(&self, batch: &Batch, ids: &[B256]) -> Result<Step, StepError> {
        let mut step = Step::default();
        let started = Instant::now();
        let proven = match self.prove(batch).await {
            Ok(proven) => proven,
            Err(e) => {
                self.metrics.failure("prove");
                return Err(e.into());
            }
        };
        self.metrics.proof(batch.jobs.len(), started.elapsed());

        // Each broadcast version's hash is recorded (`submitted`) while the transaction lands.
        let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel();
        let sent_at = Instant::now();
        let mut landing: std::pin::Pin<Box<dyn Future<Output = Result<_, TxError>> + Send + '_>> =
            match &proven {
                Proven::Batch(proof) => {
                    Box::pin(self.tx.land_proof_reporting(proof, Some(&sent_tx)))
                }
                Proven::Inference(inference) => Box::pin(self.tx.land_inference_reporting(
                    batch.jobs[0].job_id,
                    inference,
                    Some(&sent_tx),
                )),
            };
        let outcome = loop {
            tokio::select! {
                biased;
                Some(hash) = sent_rx.recv() => self.submitted(ids, hash).await?,
                outcome = &mut landing => break outcome,
            }
        };
        while let Ok(hash) = sent_rx.try_recv() {
            self.submitted(ids, hash).await?;
        }
        match outcome {
            Ok(landed) => {
                self.queue
                    .set_state(ids, ResultState::Confirmed, Some(landed.tx_hash), None)
                    .await?;
                self.metrics
                    .transaction(ids.len(), &landed, sent_at.elapsed());
                step.confirmed = ids.len();
                step.tx_hash = Some(landed.tx_hash);
                tracing::info!(jobs = ids.len(), tx = %landed.tx_hash, gas = landed.gas_used, "batch landed");
                Ok(step)
            }
            Err(TxError::JobsChanged { done, gone }) => {
                // Completed by an earlier transaction (ours, before a crash) or by no one any
                // more: record that; the rest goes back to be proven again without them.
                self.queue
                    .set_state(&done, ResultState::Confirmed, None, Some(REASON_EARLIER))
                    .await?;
                self.queue
                    .set_state(&gone, ResultState::Failed, None, Some(REASON_GONE))
                    .await?;
                let rest: Vec<_> = ids
                    .iter()
                    .filter(|id| !done.contains(id) && !gone.contains(id))
                    .copied()
                    .collect();
                self.queue
                    .set_state(&rest, ResultState::Accepted, None, None)
                    .await?;
                self.metrics
                    .jobs_already_done
                    .fetch_add(done.len() as u64, Ordering::Relaxed);
                self.metrics
                    .jobs_failed
                    .fetch_add(gone.len() as u64, Ordering::Relaxed);
                step.already_done = done.len();
                step.failed = gone.len();
                Ok(step)
            }
            Err(e) => {
                self.metrics.failure("tx");
                Err(e.into())
            }
        }
    }

    /// The batch proof of a commitment batch, or the inference proof of a verifiable job
    /// (whose output must be the one intake signed: the witness is deterministic).
    async fn prove(&self, batch: &Batch) -> Result<Proven, ProverError> {
        let Some(job) = &batch.inference else {
            return self.prover.prove(&batch.jobs).await.map(Proven::Batch);
        };
        let (inference, _) = self.prover.infer(&job.model, &job.input).await?;
        let signed = batch.jobs[0].output_hash;
        if inference.output_hash != signed || inference.output != job.output {
            return Err(ProverError::SelfCheck(format!(
                "the proven output hash {} is not the signed {signed}",
                inference.output_hash
            )));
        }
        Ok(Proven::Inference(inference))
    }

    async fn submitted(&self, ids: &[B256], hash: B256) -> Result<(), StepError> {
        self.queue
            .set_state(ids, ResultState::Submitted, Some(hash), None)
            .await?;
        Ok(())
    }

    /// One batch, start to end: [`Pipeline::pick`] then [`Pipeline::process`].
    pub async fn step(&self, now: u64) -> Result<Step, StepError> {
        match self.pick(now).await? {
            Some(batch) => self.process(batch).await,
            None => Ok(Step::default()),
        }
    }

    /// Runs batches until `stop` resolves, waking on new results (`intake`) or every `poll`.
    /// After `stop`, no batch is started; the ones in flight are finished, for at most
    /// `grace`. A batch cut after that is parked: its rows stay in `proving` / `submitted`,
    /// which [`Pipeline::reconcile`] settles at the next start.
    pub async fn run(
        self: Arc<Self>,
        intake: Intake,
        poll: Duration,
        grace: Duration,
        stop: impl Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut flight: JoinSet<Result<Step, StepError>> = JoinSet::new();
        let mut retry_at: Option<Instant> = None;
        loop {
            let may_pick = retry_at.is_none_or(|t| Instant::now() >= t);
            while may_pick && flight.len() < self.max_in_flight.max(1) {
                match self.pick(unix_now()).await {
                    Ok(Some(batch)) => {
                        let me = self.clone();
                        flight.spawn(async move { me.process(batch).await });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.metrics.failure(kind(&e));
                        tracing::warn!(error = %e, "picking a batch failed; retrying");
                        retry_at = Some(Instant::now() + poll);
                        break;
                    }
                }
            }
            tokio::select! {
                _ = &mut stop => break,
                Some(joined) = flight.join_next(), if !flight.is_empty() => {
                    if let Err(e) = flatten(joined) {
                        tracing::warn!(error = %e, "a batch failed; its jobs will be retried");
                        retry_at = Some(Instant::now() + poll);
                    } else {
                        retry_at = None;
                    }
                }
                _ = intake.accepted() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        if !flight.is_empty() {
            tracing::info!(batches = flight.len(), "finishing the batches in flight");
        }
        let finish = async {
            while let Some(joined) = flight.join_next().await {
                if let Err(e) = flatten(joined) {
                    tracing::warn!(error = %e, "a batch failed while stopping; its jobs wait in the queue");
                }
            }
        };
        if tokio::time::timeout(grace, finish).await.is_err() {
            tracing::warn!(
                "batches still in flight after the grace period: parked for the next start"
            );
            flight.abort_all();
        }
    }
}

fn flatten(
    joined: Result<Result<Step, StepError>, tokio::task::JoinError>,
) -> Result<Step, String> {
    match joined {
        Ok(Ok(step)) => Ok(step),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("the batch task ended: {e}")),
    }
}

fn kind(e: &StepError) -> &'static str {
    match e {
        StepError::Queue(_) => "queue",
        StepError::Prove(_) => "prove",
        StepError::Tx(_) => "tx",
        StepError::Chain(_) => "chain",
    }
}

fn tuple(r: &QueuedResult) -> JobTuple {
    JobTuple {
        job_id: r.job_id,
        model_hash: r.model_hash,
        input_hash: r.input_hash,
        output_hash: r.output_hash,
    }
}

fn rpc_error(call: &'static str, e: impl std::fmt::Display) -> crate::chain::ChainError {
    crate::chain::ChainError::Rpc {
        call,
        reason: e.to_string(),
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
