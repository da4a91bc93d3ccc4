//! Projections: the fold of decoded events into the tables dApps query, one module per
//! contract. Each `apply` reads one typed event and changes rows through [`State`], which
//! journals prior images for reorgs; nothing here touches the database.

mod governance;
mod marketplace;
mod parameters;
mod proofs;
mod registry;
mod reputation;
mod slashing;
mod staking;
mod state;
mod token;
mod util;

pub use state::{LogMeta, State};

use vouch_bindings::events::{self, DecodedEvent, Event};

use crate::store::entity::event;

/// Folds one decoded event into the state. Events must come in (block, log index) order.
pub fn apply(state: &mut State, meta: &LogMeta, decoded: &DecodedEvent) {
    state.enter_block(meta.block_number);
    parameters::apply(state, meta, decoded);
    match &decoded.event {
        Event::VouchToken(e) => token::apply(state, meta, e),
        Event::Staking(e) => staking::apply(state, meta, e),
        Event::NodeRegistry(e) => registry::apply(state, meta, e),
        Event::ReputationRegistry(e) => reputation::apply(state, meta, e),
        Event::JobMarketplace(e) => marketplace::apply(state, meta, e),
        Event::Slashing(e) => slashing::apply(state, meta, e),
        Event::ProofSystem(e) => proofs::apply(state, meta, e),
        Event::VouchGovernor(e) => governance::apply(state, meta, e),
        // The timelock's own events are kept in `events`; proposals follow the governor's.
        Event::TimelockController(_) => {}
    }
}

/// The `events` row of a decoded log at `meta`, emitted by the contract at `address` (every
/// commit stores it beside the projection rows its event changed).
pub fn event_row(
    chain_id: u64,
    meta: &LogMeta,
    address: alloy::primitives::Address,
    decoded: DecodedEvent,
) -> event::Model {
    event::Model {
        chain_id: chain_id as i64,
        tx_hash: meta.tx_hash.clone(),
        log_index: meta.log_index as i64,
        block_number: meta.block_number as i64,
        block_hash: meta.block_hash.clone(),
        block_timestamp: meta.block_timestamp as i64,
        contract: decoded.contract.manifest_name().to_owned(),
        address: events::checksummed(address),
        event: decoded.name.to_owned(),
        args: decoded.args,
    }
}
