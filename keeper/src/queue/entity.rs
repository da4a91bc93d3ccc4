//! `results`: one row per job this keeper ever accepted a result for. Rows are never deleted:
//! the row is also the durable record of the one output this host signed for the job.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "results")]
pub struct Model {
    /// 0x-prefixed 64-hex-digit job id (the uint256, big-endian).
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: String,
    pub model_hash: String,
    pub input_hash: String,
    /// The output signed for this job; never changes once written.
    pub output_hash: String,
    /// The job's deadline, unix seconds.
    pub deadline: i64,
    /// 0x-hex 65-byte EIP-712 signature of `Result(jobId, outputHash)`.
    pub signature: String,
    /// One of `accepted`, `proving`, `submitted`, `confirmed`, `failed`.
    pub state: String,
    pub tx_hash: Option<String>,
    pub reason: Option<String>,
    /// Unix seconds when intake accepted it.
    pub accepted_at: i64,
    /// Unix milliseconds of the last state change.
    pub updated_at: i64,
    /// A verifiable model's job only: JSON of [`super::InferenceJob`] (the model, the renter's
    /// input, the quantized output), proven by the pipeline one job per transaction.
    #[sea_orm(column_type = "Text", nullable)]
    pub inference: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
