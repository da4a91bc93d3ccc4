//! `jobs`: A job through the marketplace state machine (docs/contracts.md).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: i64,
    pub renter: String,
    /// claimer (or offered host while Open)
    pub host: Option<String>,
    pub offered_host: Option<String>,
    pub operator: Option<String>,
    /// 0x0 for ETH
    pub token: String,
    pub payment: String,
    pub fee: String,
    pub model_hash: String,
    pub input_hash: String,
    pub output_hash: Option<String>,
    pub deadline: i64,
    pub min_reputation: i64,
    /// Open, Claimed, Completed, Disputed, Paid, Expired, Cancelled, Refunded
    pub state: String,
    pub created_at: i64,
    pub created_block: i64,
    pub claimed_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub released_at: Option<i64>,
    pub expired_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub refunded_at: Option<i64>,
    /// expired with a slash
    pub slashed: bool,
    /// tx hash of the proof that completed it
    pub batch_tx: Option<String>,
    /// set at release
    pub reputation_weight: Option<String>,
    /// how the job was completed: commitment (a BatchProven) or inference (InferenceProven);
    /// null until completed. Added by migration 2, so it is the last columns' group.
    pub proof_tier: Option<String>,
    /// 0x hex of the output InferenceProven published (`abi.encode(int256[])`), inference only
    pub output: Option<String>,
    /// InferenceProven's proofHash (a commitment job's is its batch's)
    pub proof_hash: Option<String>,
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
