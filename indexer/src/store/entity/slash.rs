//! `slashes`: One slash (Slashed event).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "slashes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tx_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub log_index: i64,
    pub host: String,
    /// MissedDeadline, DisputeUpheld, Equivocation
    pub reason: String,
    pub job_id: i64,
    pub amount: String,
    pub beneficiary: String,
    pub beneficiary_share: String,
    pub treasury_share: String,
    pub block: i64,
    pub timestamp: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
