//! Reads of chain state the keeper decides by: a job as the marketplace stores it, and the
//! chain's clock. Each read is one RPC call inside a tracing span.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use vouch_bindings::Deployment;
use vouch_bindings::contracts::JobMarketplace;

/// Why a chain read failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The node did not answer or answered an error.
    #[error("RPC call {call} failed: {reason}")]
    Rpc { call: &'static str, reason: String },
}

/// The chain reads' `Result` alias.
pub type Result<T, E = ChainError> = std::result::Result<T, E>;

/// A job's lifecycle state, as `IJobMarketplace.Status` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    None,
    Open,
    Claimed,
    Completed,
    Disputed,
    Paid,
    Expired,
    Cancelled,
    Refunded,
}

impl JobStatus {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Open,
            2 => Self::Claimed,
            3 => Self::Completed,
            4 => Self::Disputed,
            5 => Self::Paid,
            6 => Self::Expired,
            7 => Self::Cancelled,
            8 => Self::Refunded,
            _ => Self::None,
        }
    }

    /// True once the job holds an output (completed, disputed, paid, or refunded after one).
    pub fn has_output(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Disputed | Self::Paid | Self::Refunded
        )
    }
}

/// What the keeper needs of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub job_id: B256,
    /// Zero for a job id that was never created.
    pub renter: Address,
    pub host: Address,
    pub operator: Address,
    pub status: JobStatus,
    pub deadline: u64,
    /// When the job was completed on chain (unix seconds), 0 while it is not.
    pub completed_at: u64,
    pub model_hash: B256,
    pub input_hash: B256,
    pub output_hash: B256,
}

impl JobView {
    /// False for an id the marketplace never created.
    pub fn exists(&self) -> bool {
        self.renter != Address::ZERO
    }
}

/// Chain reads over one provider and deployment. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChainView {
    provider: DynProvider,
    deployment: Deployment,
}

impl ChainView {
    pub fn new(provider: DynProvider, deployment: Deployment) -> Self {
        Self {
            provider,
            deployment,
        }
    }

    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// `JobMarketplace.getJob(jobId)`.
    #[tracing::instrument(name = "rpc_get_job", skip(self))]
    pub async fn job(&self, job_id: B256) -> Result<JobView> {
        let marketplace =
            JobMarketplace::new(self.deployment.contracts.job_marketplace, &self.provider);
        let job = marketplace
            .getJob(U256::from_be_bytes(job_id.0))
            .call()
            .await
            .map_err(|e| ChainError::Rpc {
                call: "getJob",
                reason: e.to_string(),
            })?;
        Ok(JobView {
            job_id,
            renter: job.renter,
            host: job.host,
            operator: job.operator,
            status: JobStatus::from_u8(job.status as u8),
            deadline: job.deadline.to::<u64>(),
            completed_at: job.completedAt.to::<u64>(),
            model_hash: job.modelHash,
            input_hash: job.inputHash,
            output_hash: job.outputHash,
        })
    }

    /// The latest block's timestamp: the clock deadlines are judged by.
    #[tracing::instrument(name = "rpc_chain_time", skip(self))]
    pub async fn now(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainError::Rpc {
                call: "eth_getBlockByNumber",
                reason: e.to_string(),
            })?
            .ok_or_else(|| ChainError::Rpc {
                call: "eth_getBlockByNumber",
                reason: "no latest block".into(),
            })?;
        Ok(block.header.timestamp)
    }
}
