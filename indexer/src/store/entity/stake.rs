//! `stakes`: A staker's position in Staking, with its slashed total.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "stakes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub address: String,
    /// decimal
    pub active: String,
    /// decimal
    pub unbonding: String,
    pub release_at: Option<i64>,
    /// decimal
    pub slashed_total: String,
    /// decimal
    pub withdrawn_total: String,
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
