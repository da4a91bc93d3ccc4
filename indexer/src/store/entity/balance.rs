//! `balances`: Claimable money: marketplace credits per (account, token) and dispute bonds.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "balances")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    /// marketplace or bond
    #[sea_orm(primary_key, auto_increment = false)]
    pub ledger: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    /// 0x0 for ETH
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: String,
    /// claimable now
    pub amount: String,
    pub credited_total: String,
    pub withdrawn_total: String,
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
