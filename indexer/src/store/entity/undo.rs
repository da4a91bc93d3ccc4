//! `undo_log`: Prior image of a projection row a not-yet-final block changed (the reorg journal).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "undo_log")]
pub struct Model {
    /// insertion order; rollback replays it backwards
    #[sea_orm(primary_key)]
    pub id: i64,
    pub chain_id: i64,
    pub block_number: i64,
    pub table_name: String,
    pub row_key: String,
    /// the row as JSON before the block; None: the row did not exist
    pub prior: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
