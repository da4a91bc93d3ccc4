//! VouchToken -> `transfers` and `delegations` (who delegates to whom, and each delegate's
//! current votes).

use vouch_bindings::contracts::VouchToken::VouchTokenEvents as E;

use super::state::{LogMeta, State};
use super::util::{addr, dec, opt_addr, row};
use crate::store::Row;
use crate::store::entity::{delegation, transfer};

fn blank(chain_id: i64, account: String) -> delegation::Model {
    delegation::Model {
        chain_id,
        account,
        delegate: None,
        votes: "0".into(),
        block: 0,
    }
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    let chain = state.chain_id;
    let block = meta.block_number as i64;
    match event {
        E::Transfer(e) => {
            let t = transfer::Model {
                chain_id: chain,
                tx_hash: meta.tx_hash.clone(),
                log_index: meta.log_index as i64,
                from_address: addr(e.from),
                to_address: addr(e.to),
                value: dec(e.value),
                block,
                timestamp: meta.block_timestamp as i64,
            };
            state.put(Row::Transfer(t));
        }
        E::DelegateChanged(e) => {
            let d = row!(
                state,
                Delegation,
                "delegations",
                addr(e.delegator),
                blank(chain, addr(e.delegator))
            );
            d.delegate = opt_addr(e.toDelegate);
            d.block = block;
        }
        E::DelegateVotesChanged(e) => {
            let d = row!(
                state,
                Delegation,
                "delegations",
                addr(e.delegate),
                blank(chain, addr(e.delegate))
            );
            d.votes = dec(e.newVotes);
            d.block = block;
        }
        _ => {}
    }
}
