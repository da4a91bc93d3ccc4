//! Why intake refused a request, and the HTTP status and JSON body each reason gets.

use alloy::primitives::{Address, B256};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::wire::{ErrorBody, ErrorReply};

/// A refused or failed intake request. Client mistakes are 4xx, the keeper's own trouble 5xx.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    MissingToken,
    #[error("wrong bearer token")]
    WrongToken,
    #[error("the body is not a result: {0}")]
    BadJson(String),
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("jobId {0}")]
    BadJobId(String),
    #[error("outputHash {0}")]
    BadOutputHash(String),
    #[error(
        "give exactly one of `output`, `outputHash` and (for a verifiable model's job) `input`"
    )]
    OutputAmbiguous,
    #[error(
        "job {job_id} is of verifiable model {model}: send the renter's `input`; the keeper runs the model and proves its output"
    )]
    InputRequired { job_id: B256, model: String },
    #[error(
        "job {job_id} is not of a verifiable model this keeper serves: send `output` or `outputHash`"
    )]
    NotVerifiable { job_id: B256 },
    #[error("input: {0}")]
    BadInput(String),
    #[error(
        "the input's commitment {given} is not job {job_id}'s inputHash {expected}: this is not the input the renter committed to"
    )]
    InputMismatch {
        job_id: B256,
        expected: B256,
        given: B256,
    },
    #[error("the model could not run on this input: {0}")]
    ModelFailed(String),
    #[error("the prover failed: {0}")]
    Prover(crate::prover::ProverError),
    #[error("job {0} does not exist on this deployment")]
    UnknownJob(B256),
    #[error("job {job_id} belongs to host {host}, not to this keeper's host {ours}")]
    NotOurJob {
        job_id: B256,
        host: Address,
        ours: Address,
    },
    #[error("job {job_id} is {status}, not claimed: only a claimed job takes a result")]
    NotClaimed { job_id: B256, status: String },
    #[error(
        "job {job_id} passed its deadline ({deadline}, chain time {now}): it can no longer be completed"
    )]
    DeadlinePassed {
        job_id: B256,
        deadline: u64,
        now: u64,
    },
    #[error(
        "job {job_id} already has a signed result with output {signed}: this keeper never signs a second output for a job"
    )]
    OutputConflict { job_id: B256, signed: B256 },
    #[error("no result for job {0} was submitted to this keeper")]
    NoSuchResult(B256),
    #[error("the keeper is shutting down: retry against it after its restart")]
    ShuttingDown,
    #[error("the chain could not be read: {0}")]
    Chain(#[from] crate::chain::ChainError),
    #[error("the queue could not be read or written: {0}")]
    Queue(#[from] crate::queue::QueueError),
    #[error("{0}")]
    Signing(#[from] crate::signing::SigningError),
}

impl IntakeError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::WrongToken => StatusCode::UNAUTHORIZED,
            Self::BadJson(_)
            | Self::BadJobId(_)
            | Self::BadOutputHash(_)
            | Self::OutputAmbiguous
            | Self::InputRequired { .. }
            | Self::NotVerifiable { .. }
            | Self::BadInput(_) => StatusCode::BAD_REQUEST,
            Self::InputMismatch { .. } | Self::ModelFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownJob(_) | Self::NoSuchResult(_) => StatusCode::NOT_FOUND,
            Self::NotOurJob { .. } => StatusCode::FORBIDDEN,
            Self::NotClaimed { .. } | Self::OutputConflict { .. } => StatusCode::CONFLICT,
            Self::DeadlinePassed { .. } => StatusCode::GONE,
            Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Chain(_) => StatusCode::BAD_GATEWAY,
            Self::Queue(_) | Self::Signing(_) | Self::Prover(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::WrongToken => "wrong_token",
            Self::BadJson(_) => "bad_json",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::BadJobId(_) => "bad_job_id",
            Self::BadOutputHash(_) => "bad_output_hash",
            Self::OutputAmbiguous => "output_ambiguous",
            Self::InputRequired { .. } => "input_required",
            Self::NotVerifiable { .. } => "not_verifiable",
            Self::BadInput(_) => "bad_input",
            Self::InputMismatch { .. } => "input_mismatch",
            Self::ModelFailed(_) => "model_failed",
            Self::Prover(_) => "prover_error",
            Self::UnknownJob(_) => "unknown_job",
            Self::NotOurJob { .. } => "not_our_job",
            Self::NotClaimed { .. } => "not_claimed",
            Self::DeadlinePassed { .. } => "deadline_passed",
            Self::OutputConflict { .. } => "output_conflict",
            Self::NoSuchResult(_) => "no_such_result",
            Self::ShuttingDown => "shutting_down",
            Self::Chain(_) => "chain_unavailable",
            Self::Queue(_) => "queue_error",
            Self::Signing(_) => "signing_error",
        }
    }

    /// A prover error met while evaluating a renter's input: the input's fault where it is.
    pub(crate) fn from_evaluation(e: crate::prover::ProverError) -> Self {
        use crate::prover::ProverError as P;
        match e {
            P::BadModelInput { reason, .. } => Self::BadInput(reason),
            P::Ezkl(reason) => Self::ModelFailed(reason),
            other => Self::Prover(other),
        }
    }
}

impl IntoResponse for IntakeError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(code = self.code(), error = %self, "intake request failed");
        } else {
            tracing::debug!(code = self.code(), error = %self, "intake request refused");
        }
        let body = ErrorReply {
            error: ErrorBody {
                code: self.code().into(),
                message: self.to_string(),
            },
        };
        (status, Json(body)).into_response()
    }
}
