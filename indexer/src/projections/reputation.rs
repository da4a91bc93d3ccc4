//! ReputationRegistry -> `reputation_history` (every change, to plot).

use vouch_bindings::contracts::ReputationRegistry::ReputationRegistryEvents as E;

use super::slashing::enum_name;
use super::state::{LogMeta, State};
use super::util::{addr, dec};
use crate::store::Row;
use crate::store::entity::reputation;

/// ReputationRegistry's `Outcome` names, by value.
pub const OUTCOMES: [&str; 4] = ["Completion", "Expiry", "DisputeUpheld", "Equivocation"];

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    if let E::ReputationChanged(e) = event {
        let r = reputation::Model {
            chain_id: state.chain_id,
            tx_hash: meta.tx_hash.clone(),
            log_index: meta.log_index as i64,
            host: addr(e.host),
            outcome: enum_name(&OUTCOMES, e.outcome),
            weight: dec(e.weight),
            old_score: i64::from(e.oldScore),
            new_score: i64::from(e.newScore),
            block: meta.block_number as i64,
            timestamp: meta.block_timestamp as i64,
        };
        state.put(Row::Reputation(r));
    }
}
