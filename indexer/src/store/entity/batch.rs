//! `batches`: One proof transaction (BatchProven) and the jobs it completed.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tx_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub log_index: i64,
    pub host: String,
    pub submitter: String,
    pub batch_size: i64,
    pub circuit_version: i64,
    pub job_count: i64,
    pub proof_hash: String,
    /// JSON array of decimal job ids
    pub job_ids: String,
    pub block: i64,
    pub timestamp: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
