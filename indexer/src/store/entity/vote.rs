//! `votes`: A vote cast on a proposal.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "votes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub voter: String,
    /// 0 against, 1 for, 2 abstain
    pub support: i64,
    pub weight: String,
    pub reason: String,
    pub tx_hash: String,
    pub block: i64,
    pub timestamp: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
