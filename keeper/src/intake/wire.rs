//! The intake API's JSON bodies (docs/keeper.md shows them with curl).

use alloy::primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

use crate::queue::{QueuedResult, ResultState};

/// `POST /v1/results`: a job id and either the output text (hashed with keccak256 of its
/// UTF-8 bytes) or its 32-byte hash, or, for a verifiable model's job, the renter's input
/// (the keeper computes and proves the output). Hex values are kept as strings here so that
/// a wrong length gets its own error instead of a generic parse failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitRequest {
    /// The job id: a uint256 as 1 to 64 hex digits, `0x` optional.
    pub job_id: String,
    /// The output text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The output's hash: 64 hex digits, `0x` optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_hash: Option<String>,
    /// A verifiable model's job: the input the renter committed to (the model's input
    /// values, flattened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<f64>>,
}

/// The reply to an accepted result (the same bytes for a repeated submission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitReply {
    pub job_id: B256,
    pub output_hash: B256,
    /// The operator's EIP-712 `Result(jobId, outputHash)` signature in the Slashing domain.
    pub signature: Bytes,
    /// The operator address that signed.
    pub signer: Address,
    /// Where to follow the result: `/v1/results/{jobId}`.
    pub status_url: String,
    /// A verifiable model's job: the quantized output the keeper computed and will prove
    /// (value = q / 2^outputScale of the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<i128>>,
}

/// `GET /v1/results/{jobId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReply {
    pub job_id: B256,
    pub output_hash: B256,
    pub state: ResultState,
    pub tx_hash: Option<B256>,
    pub reason: Option<String>,
    pub deadline: u64,
    pub accepted_at: u64,
    pub signature: Bytes,
    /// A verifiable model's job: the quantized output proven (or being proven).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<i128>>,
}

impl From<QueuedResult> for StatusReply {
    fn from(r: QueuedResult) -> Self {
        Self {
            job_id: r.job_id,
            output_hash: r.output_hash,
            state: r.state,
            tx_hash: r.tx_hash,
            reason: r.reason,
            deadline: r.deadline,
            accepted_at: r.accepted_at,
            signature: r.signature,
            output: r.inference.map(|i| i.output),
        }
    }
}

/// Every error: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable machine-readable code (see [`super::IntakeError::code`]).
    pub code: String,
    /// One line saying what is wrong and what to do.
    pub message: String,
}
