//! `proposals`: A governance proposal and its tally.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: String,
    pub proposer: String,
    pub description: String,
    /// JSON
    pub targets: String,
    /// JSON
    pub calldatas: String,
    pub vote_start: i64,
    pub vote_end: i64,
    /// Pending/Active by time; Queued, Executed, Canceled by event
    pub state: String,
    pub for_votes: String,
    pub against_votes: String,
    pub abstain_votes: String,
    pub eta: Option<i64>,
    pub created_block: i64,
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
