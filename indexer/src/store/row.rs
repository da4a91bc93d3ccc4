//! [`Row`]: any projection row, so the writer, the reorg journal and the digest handle every
//! table alike. One variant per projection table; adding a table is one variant here, one
//! entity and one migration.

use serde::{Deserialize, Serialize};

use super::entity::*;

/// One projection row (its full image).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "table", content = "row", rename_all = "snake_case")]
pub enum Row {
    Host(host::Model),
    Stake(stake::Model),
    Job(job::Model),
    Batch(batch::Model),
    Dispute(dispute::Model),
    Slash(slash::Model),
    Equivocation(equivocation::Model),
    Reputation(reputation::Model),
    Balance(balance::Model),
    Transfer(transfer::Model),
    Delegation(delegation::Model),
    Proposal(proposal::Model),
    Vote(vote::Model),
    Parameter(parameter::Model),
    VerifiableModel(verifiable_model::Model),
}

/// Which table a row lives in and its primary key (without the chain id), as text: the
/// identity the journal records.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RowKey {
    pub table: &'static str,
    pub key: String,
}

/// The projection tables, in the order the digest reads them.
pub const PROJECTION_TABLES: [&str; 15] = [
    "hosts",
    "stakes",
    "jobs",
    "batches",
    "disputes",
    "slashes",
    "equivocations",
    "reputation_history",
    "balances",
    "transfers",
    "delegations",
    "proposals",
    "votes",
    "parameters",
    "verifiable_models",
];

impl Row {
    /// The row's table and primary key.
    pub fn key(&self) -> RowKey {
        let (table, key) = match self {
            Row::Host(r) => ("hosts", r.address.clone()),
            Row::Stake(r) => ("stakes", r.address.clone()),
            Row::Job(r) => ("jobs", r.job_id.to_string()),
            Row::Batch(r) => ("batches", format!("{}:{}", r.tx_hash, r.log_index)),
            Row::Dispute(r) => ("disputes", r.job_id.to_string()),
            Row::Slash(r) => ("slashes", format!("{}:{}", r.tx_hash, r.log_index)),
            Row::Equivocation(r) => ("equivocations", r.job_id.to_string()),
            Row::Reputation(r) => (
                "reputation_history",
                format!("{}:{}", r.tx_hash, r.log_index),
            ),
            Row::Balance(r) => (
                "balances",
                format!("{}:{}:{}", r.ledger, r.account, r.token),
            ),
            Row::Transfer(r) => ("transfers", format!("{}:{}", r.tx_hash, r.log_index)),
            Row::Delegation(r) => ("delegations", r.account.clone()),
            Row::Proposal(r) => ("proposals", r.proposal_id.clone()),
            Row::Vote(r) => ("votes", format!("{}:{}", r.proposal_id, r.voter)),
            Row::Parameter(r) => ("parameters", format!("{}:{}", r.contract, r.name)),
            Row::VerifiableModel(r) => ("verifiable_models", r.model_hash.clone()),
        };
        RowKey { table, key }
    }

    pub fn chain_id(&self) -> i64 {
        match self {
            Row::Host(r) => r.chain_id,
            Row::Stake(r) => r.chain_id,
            Row::Job(r) => r.chain_id,
            Row::Batch(r) => r.chain_id,
            Row::Dispute(r) => r.chain_id,
            Row::Slash(r) => r.chain_id,
            Row::Equivocation(r) => r.chain_id,
            Row::Reputation(r) => r.chain_id,
            Row::Balance(r) => r.chain_id,
            Row::Transfer(r) => r.chain_id,
            Row::Delegation(r) => r.chain_id,
            Row::Proposal(r) => r.chain_id,
            Row::Vote(r) => r.chain_id,
            Row::Parameter(r) => r.chain_id,
            Row::VerifiableModel(r) => r.chain_id,
        }
    }
}
