//! `verifiable_models`: The inference-tier verifier governance installed for one model hash
//! (ModelVerifierSet). A removal keeps the row with `installed = false`, so a model's last
//! verifier stays visible.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "verifiable_models")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub model_hash: String,
    /// the verifier of the last ModelVerifierSet (0x0 after a removal)
    pub verifier: String,
    pub circuit_version: i64,
    /// the contract's InstanceLayout name: None, HashedInputOutput
    pub layout: String,
    pub installed: bool,
    /// block and time of the last ModelVerifierSet
    pub block: i64,
    pub timestamp: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
