//! `parameters`: The latest value of every governed parameter (from its *Set event).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "parameters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub contract: String,
    /// event-derived, e.g. ProtocolFeeSet or DeltaSet(Completion)
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// JSON of the event args
    pub value: String,
    pub block: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
