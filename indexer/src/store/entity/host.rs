//! `hosts`: A host as NodeRegistry announces it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub address: String,
    pub endpoint: String,
    /// bytes16 as text (trailing zeros cut)
    pub region: String,
    /// wei, decimal
    pub price_per_token: String,
    /// JSON array of model hashes
    pub models: String,
    pub operator: Option<String>,
    /// registered now
    pub registered: bool,
    pub registered_at: Option<i64>,
    pub deregistered_at: Option<i64>,
    pub last_heartbeat: Option<i64>,
    /// block of the last change
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
