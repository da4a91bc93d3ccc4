//! `reputation_history`: Every reputation change, to plot a host's score.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "reputation_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tx_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub log_index: i64,
    pub host: String,
    /// Completion, Expiry, DisputeUpheld, Equivocation
    pub outcome: String,
    /// basis points of one outcome
    pub weight: String,
    pub old_score: i64,
    pub new_score: i64,
    pub block: i64,
    pub timestamp: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
