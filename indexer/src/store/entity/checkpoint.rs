//! `checkpoints`: How far a chain is indexed: every block up to `block_number` is committed.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    pub block_number: i64,
    pub block_hash: String,
    /// chain head seen at commit
    pub head: i64,
    /// depth at which rows are final
    pub confirmations: i64,
    /// common ancestor of the latest reorg
    pub last_reorg_block: Option<i64>,
    pub last_reorg_depth: Option<i64>,
    /// unix seconds, wall clock
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
