//! `disputes`: A dispute of a job (one per job).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: i64,
    pub renter: String,
    pub host: String,
    pub bond: String,
    pub evidence_hash: String,
    pub opened_at: i64,
    pub rule_by: i64,
    /// Open, Upheld, Rejected, Lapsed
    pub status: String,
    pub resolved_at: Option<i64>,
    /// arbiter or closer
    pub resolved_by: Option<String>,
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
