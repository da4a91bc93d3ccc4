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
    #[error("give exactly one of `output` and `outputHash`")]
    OutputAmbiguous,
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
            | Self::OutputAmbiguous => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownJob(_) | Self::NoSuchResult(_) => StatusCode::NOT_FOUND,
            Self::NotOurJob { .. } => StatusCode::FORBIDDEN,
            Self::NotClaimed { .. } | Self::OutputConflict { .. } => StatusCode::CONFLICT,
            Self::DeadlinePassed { .. } => StatusCode::GONE,
            Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Chain(_) => StatusCode::BAD_GATEWAY,
            Self::Queue(_) | Self::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
