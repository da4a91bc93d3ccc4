//! `events`: One decoded contract log: the raw truth every projection is folded from.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    /// 0x hex
    #[sea_orm(primary_key, auto_increment = false)]
    pub tx_hash: String,
    /// index of the log in its block
    #[sea_orm(primary_key, auto_increment = false)]
    pub log_index: i64,
    pub block_number: i64,
    pub block_hash: String,
    /// unix seconds
    pub block_timestamp: i64,
    /// manifest name, e.g. JobMarketplace
    pub contract: String,
    /// checksummed
    pub address: String,
    /// event name, e.g. JobCreated
    pub event: String,
    /// decoded arguments as a JSON object, integers as decimal strings
    pub args: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
