//! The intake HTTP API: the host's LLM node posts each finished result here.
//!
//! - `POST /v1/results` `{"jobId", "output" | "outputHash" | "input"}` (bearer token when configured,
//!   body at most `max_body` bytes): checked against the chain (the job exists, this host
//!   claimed it, it is not completed, its deadline has not passed), made durable in the
//!   queue, and answered with the operator's EIP-712 signature. Repeating a submission gets the
//!   same reply; a different output for a job already signed is refused, durably.
//!   A verifiable model's job takes the renter's `input` instead: intake runs the model
//!   through EZKL's witness, refuses an input whose commitment is not the job's `inputHash`,
//!   and signs and returns the model's output; the pipeline proves it.
//! - `GET /v1/results/{jobId}`: the result's state (accepted, proving, submitted with its
//!   transaction, confirmed, failed with a reason).
//!
//! Every refusal is a 4xx with `{"error": {"code", "message"}}` ([`IntakeError`]); nothing is
//! queued for a refused request. The order of the checks matters: the queue is asked first,
//! so a repeated submission is answered from the stored row even after the job completed.

mod error;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, keccak256};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Notify;

pub use error::IntakeError;
pub use wire::{ErrorBody, ErrorReply, StatusReply, SubmitReply, SubmitRequest};

use crate::chain::{ChainView, JobStatus};
use crate::metrics::Metrics;
use crate::prover::{ModelManifest, Prover, parse_hash, parse_job_id};
use crate::queue::{InferenceJob, Inserted, Queue, QueuedResult, ResultState};
use crate::signing::ResultSigner;

/// Default largest request body: a result is ~150 bytes of JSON, an output text may be long.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// How intake runs.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// The host whose claimed jobs this keeper takes results for.
    pub host: Address,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest accepted request body, bytes.
    pub max_body: usize,
}

/// Intake's shared state: queue, chain, signer. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Queue,
    chain: ChainView,
    signer: ResultSigner,
    host: Address,
    /// keccak256 of the token: compared whole, so the comparison time says nothing of it.
    token_hash: Option<B256>,
    max_body: usize,
    accepted: Notify,
    closed: AtomicBool,
    metrics: Arc<Metrics>,
    /// The prover whose verifiable models this keeper serves (none: commitment tier only).
    prover: Option<Arc<Prover>>,
}

/// What a request claims the job's result is.
enum Claim {
    /// The output's hash (given, or keccak256 of the given text).
    Output(B256),
    /// A verifiable model's input: the output is the model's.
    Input(Vec<f64>),
}

impl Intake {
    pub fn new(queue: Queue, chain: ChainView, signer: ResultSigner, config: IntakeConfig) -> Self {
        Self::with_metrics(queue, chain, signer, config, Arc::default())
    }

    /// [`Intake::new`], counting into `metrics` (the keeper's one registry).
    pub fn with_metrics(
        queue: Queue,
        chain: ChainView,
        signer: ResultSigner,
        config: IntakeConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                queue,
                chain,
                signer,
                host: config.host,
                token_hash: config.token.as_deref().map(keccak256),
                max_body: config.max_body,
                accepted: Notify::new(),
                closed: AtomicBool::new(false),
                metrics,
                prover: None,
            }),
        }
    }

    /// Serves the jobs of `prover`'s verifiable models: their results come as inputs. Call
    /// before the intake is cloned.
    pub fn with_prover(mut self, prover: Arc<Prover>) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("with_prover before the intake is shared")
            .prover = Some(prover);
        self
    }

    /// The verifiable model of `model_hash` this keeper serves, with its prover.
    fn verifiable(&self, model_hash: &B256) -> Option<(&Prover, &ModelManifest)> {
        let prover = self.inner.prover.as_deref()?;
        prover.models().by_hash(model_hash).map(|m| (prover, m))
    }

    /// The keeper's metrics, which intake counts into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The durable queue intake writes to.
    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// The chain intake checks against.
    pub fn chain(&self) -> &ChainView {
        &self.inner.chain
    }

    /// Resolves after the next newly accepted result (the service waits on it).
    pub async fn accepted(&self) {
        self.inner.accepted.notified().await
    }

    /// Refuse new results from now on (graceful shutdown); status reads keep working.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
    }

    /// Checks, stores and signs one result. The signature is made only for a job without a
    /// stored output, and what is returned is always the stored row's signature.
    #[tracing::instrument(name = "intake_submit", skip_all, fields(job_id = %request.job_id))]
    pub async fn submit(&self, request: SubmitRequest) -> Result<SubmitReply, IntakeError> {
        let inner = &self.inner;
        let job_id =
            parse_job_id(&request.job_id).map_err(|e| IntakeError::BadJobId(e.to_string()))?;
        let claim = match (request.output, request.output_hash, request.input) {
            (Some(text), None, None) => Claim::Output(keccak256(text.as_bytes())),
            (None, Some(hash), None) => Claim::Output(
                parse_hash(&hash).map_err(|e| IntakeError::BadOutputHash(e.to_string()))?,
            ),
            (None, None, Some(input)) => Claim::Input(input),
            _ => return Err(IntakeError::OutputAmbiguous),
        };
        if let Some(stored) = inner.queue.get(job_id).await? {
            return self.answer_claim(stored, &claim);
        }
        if inner.closed.load(Ordering::SeqCst) {
            return Err(IntakeError::ShuttingDown);
        }
        // Both reads at once: one round trip to the node instead of two.
        let (job, now) = tokio::join!(inner.chain.job(job_id), inner.chain.now());
        let job = job?;
        if !job.exists() {
            return Err(IntakeError::UnknownJob(job_id));
        }
        // An open job holds the host it is offered to (or none), not a claimer.
        if job.status == JobStatus::Open {
            return Err(IntakeError::NotClaimed {
                job_id,
                status: "open".into(),
            });
        }
        if job.host != inner.host {
            return Err(IntakeError::NotOurJob {
                job_id,
                host: job.host,
                ours: inner.host,
            });
        }
        if job.status != JobStatus::Claimed {
            return Err(IntakeError::NotClaimed {
                job_id,
                status: format!("{:?}", job.status).to_lowercase(),
            });
        }
        let now = now?;
        if now > job.deadline {
            return Err(IntakeError::DeadlinePassed {
                job_id,
                deadline: job.deadline,
                now,
            });
        }
        let (output_hash, inference) = match claim {
            Claim::Output(hash) => {
                // A commitment proof can never complete a verifiable model's job.
                if let Some((_, model)) = self.verifiable(&job.model_hash) {
                    return Err(IntakeError::InputRequired {
                        job_id,
                        model: model.name.clone(),
                    });
                }
                (hash, None)
            }
            Claim::Input(input) => {
                let (prover, model) = self
                    .verifiable(&job.model_hash)
                    .ok_or(IntakeError::NotVerifiable { job_id })?;
                let run = prover
                    .evaluation(&model.name, &input)
                    .await
                    .map_err(IntakeError::from_evaluation)?;
                if run.input_hash != job.input_hash {
                    return Err(IntakeError::InputMismatch {
                        job_id,
                        expected: job.input_hash,
                        given: run.input_hash,
                    });
                }
                let inference = InferenceJob {
                    model: model.name.clone(),
                    input,
                    output: run.output,
                };
                (run.output_hash, Some(inference))
            }
        };
        let result = QueuedResult {
            job_id,
            model_hash: job.model_hash,
            input_hash: job.input_hash,
            output_hash,
            deadline: job.deadline,
            signature: inner.signer.sign(job_id, output_hash)?,
            state: ResultState::Accepted,
            tx_hash: None,
            reason: None,
            accepted_at: unix_now(),
            inference,
        };
        match inner.queue.insert(&result).await? {
            Inserted::New(stored) => {
                inner.accepted.notify_one();
                inner
                    .metrics
                    .results_accepted
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%job_id, "result accepted");
                self.answer(stored, output_hash)
            }
            // A concurrent request for the same job won the insert.
            Inserted::Duplicate(stored) | Inserted::Conflict(stored) => {
                self.answer(stored, output_hash)
            }
        }
    }

    /// The reply for a stored row to a repeated claim: an input is the same claim when it is
    /// the stored input (its output is then the stored one).
    fn answer_claim(
        &self,
        stored: QueuedResult,
        claim: &Claim,
    ) -> Result<SubmitReply, IntakeError> {
        match claim {
            Claim::Output(hash) => self.answer(stored, *hash),
            Claim::Input(input) => {
                if stored.inference.as_ref().is_some_and(|i| &i.input == input) {
                    let hash = stored.output_hash;
                    self.answer(stored, hash)
                } else {
                    Err(IntakeError::OutputConflict {
                        job_id: stored.job_id,
                        signed: stored.output_hash,
                    })
                }
            }
        }
    }

    /// The reply for a stored row: its signature when `output_hash` is the stored output,
    /// else the refusal.
    fn answer(&self, stored: QueuedResult, output_hash: B256) -> Result<SubmitReply, IntakeError> {
        if stored.output_hash != output_hash {
            return Err(IntakeError::OutputConflict {
                job_id: stored.job_id,
                signed: stored.output_hash,
            });
        }
        Ok(SubmitReply {
            job_id: stored.job_id,
            output_hash: stored.output_hash,
            signature: stored.signature,
            signer: self.inner.signer.address(),
            status_url: format!("/v1/results/{:#x}", stored.job_id),
            output: stored.inference.map(|i| i.output),
        })
    }

    /// The stored state of `job_id`'s result.
    pub async fn status(&self, job_id: &str) -> Result<StatusReply, IntakeError> {
        let job_id = parse_job_id(job_id).map_err(|e| IntakeError::BadJobId(e.to_string()))?;
        self.inner
            .queue
            .get(job_id)
            .await?
            .map(StatusReply::from)
            .ok_or(IntakeError::NoSuchResult(job_id))
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), IntakeError> {
        let Some(expected) = self.inner.token_hash else {
            return Ok(());
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(IntakeError::MissingToken)?;
        if keccak256(given.trim()) == expected {
            Ok(())
        } else {
            Err(IntakeError::WrongToken)
        }
    }
}

/// The intake routes over `intake`.
pub fn router(intake: Intake) -> Router {
    Router::new()
        .route("/v1/results", post(post_result))
        .route("/v1/results/{job_id}", get(get_result))
        .with_state(intake)
}

async fn post_result(State(intake): State<Intake>, headers: HeaderMap, body: Body) -> Response {
    let outcome = async {
        intake.authorize(&headers)?;
        let limit = intake.inner.max_body;
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(IntakeError::BodyTooLarge { limit });
        }
        // A chunked body has no length up front: the limit cuts it while it is read.
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| IntakeError::BodyTooLarge { limit })?;
        let request: SubmitRequest =
            serde_json::from_slice(&bytes).map_err(|e| IntakeError::BadJson(e.to_string()))?;
        intake.submit(request).await
    }
    .await;
    match outcome {
        Ok(reply) => (StatusCode::ACCEPTED, axum::Json(reply)).into_response(),
        Err(e) => {
            if e.status().is_client_error() {
                intake
                    .inner
                    .metrics
                    .results_refused
                    .fetch_add(1, Ordering::Relaxed);
            }
            e.into_response()
        }
    }
}

async fn get_result(
    State(intake): State<Intake>,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Response {
    let outcome = async {
        intake.authorize(&headers)?;
        intake.status(&job_id).await
    }
    .await;
    match outcome {
        Ok(reply) => axum::Json(reply).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
