//! Staking -> `stakes`.

use vouch_bindings::contracts::Staking::StakingEvents as E;

use super::state::{LogMeta, State};
use super::util::{add, addr, dec, row, secs, sub};
use crate::store::entity::stake;

fn blank(chain_id: i64, address: String) -> stake::Model {
    stake::Model {
        chain_id,
        address,
        active: "0".into(),
        unbonding: "0".into(),
        release_at: None,
        slashed_total: "0".into(),
        withdrawn_total: "0".into(),
        block: 0,
    }
}

/// The staker's row, created blank on first sight.
fn stake(state: &mut State, staker: alloy::primitives::Address) -> &mut stake::Model {
    let (chain, address) = (state.chain_id, addr(staker));
    row!(
        state,
        Stake,
        "stakes",
        address.clone(),
        blank(chain, address)
    )
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    let s = match event {
        E::Staked(e) => {
            let s = stake(state, e.staker);
            s.active = dec(e.active);
            s
        }
        E::UnstakeRequested(e) => {
            let s = stake(state, e.staker);
            s.active = sub(&s.active, e.amount);
            s.unbonding = dec(e.unbonding);
            s.release_at = Some(secs(e.releaseAt));
            s
        }
        E::Withdrawn(e) => {
            let s = stake(state, e.staker);
            s.unbonding = sub(&s.unbonding, e.amount);
            s.withdrawn_total = add(&s.withdrawn_total, e.amount);
            // A partial withdrawal (the lock kept some) leaves the rest unbonding, same release.
            if s.unbonding == "0" {
                s.release_at = None;
            }
            s
        }
        E::StakeSlashed(e) => {
            let s = stake(state, e.staker);
            s.active = sub(&s.active, e.fromActive);
            s.unbonding = sub(&s.unbonding, e.fromUnbonding);
            s.slashed_total = add(
                &s.slashed_total,
                e.fromActive.saturating_add(e.fromUnbonding),
            );
            s
        }
        _ => return,
    };
    s.block = meta.block_number as i64;
}
