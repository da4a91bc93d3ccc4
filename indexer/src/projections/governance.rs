//! VouchGovernor -> `proposals` (with their tallies and event-driven states) and `votes`.
//! Pending/Active/Defeated/Succeeded depend on the clock and the quorum, so readers derive
//! them from `vote_start`, `vote_end` and the tallies; the states an event marks (Queued,
//! Executed, Canceled) are stored.

use alloy::primitives::U256;
use vouch_bindings::contracts::VouchGovernor::VouchGovernorEvents as E;

use super::state::{LogMeta, State};
use super::util::{add, addr, dec, row, secs};
use crate::store::Row;
use crate::store::entity::{proposal, vote};

fn proposal_of(state: &mut State, proposal_id: U256) -> &mut proposal::Model {
    let chain = state.chain_id;
    let pid = dec(proposal_id);
    row!(
        state,
        Proposal,
        "proposals",
        pid.clone(),
        proposal::Model {
            chain_id: chain,
            proposal_id: pid,
            proposer: String::new(),
            description: String::new(),
            targets: "[]".into(),
            calldatas: "[]".into(),
            vote_start: 0,
            vote_end: 0,
            state: "Pending".into(),
            for_votes: "0".into(),
            against_votes: "0".into(),
            abstain_votes: "0".into(),
            eta: None,
            created_block: 0,
            block: 0,
        }
    )
}

fn cast(
    state: &mut State,
    meta: &LogMeta,
    voter: alloy::primitives::Address,
    proposal_id: U256,
    support: u8,
    weight: U256,
    reason: &str,
) {
    let p = proposal_of(state, proposal_id);
    match support {
        0 => p.against_votes = add(&p.against_votes, weight),
        1 => p.for_votes = add(&p.for_votes, weight),
        _ => p.abstain_votes = add(&p.abstain_votes, weight),
    }
    p.block = meta.block_number as i64;
    let v = vote::Model {
        chain_id: state.chain_id,
        proposal_id: dec(proposal_id),
        voter: addr(voter),
        support: i64::from(support),
        weight: dec(weight),
        reason: reason.to_owned(),
        tx_hash: meta.tx_hash.clone(),
        block: meta.block_number as i64,
        timestamp: meta.block_timestamp as i64,
    };
    state.put(Row::Vote(v));
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    let block = meta.block_number as i64;
    match event {
        E::ProposalCreated(e) => {
            let p = proposal_of(state, e.proposalId);
            p.proposer = addr(e.proposer);
            p.description = e.description.clone();
            p.targets =
                serde_json::to_string(&e.targets.iter().map(|t| addr(*t)).collect::<Vec<_>>())
                    .expect("strings serialize");
            p.calldatas = serde_json::to_string(
                &e.calldatas
                    .iter()
                    .map(|c| format!("{c}"))
                    .collect::<Vec<_>>(),
            )
            .expect("strings serialize");
            p.vote_start = secs(e.voteStart.saturating_to::<u64>());
            p.vote_end = secs(e.voteEnd.saturating_to::<u64>());
            p.state = "Pending".into();
            p.created_block = block;
            p.block = block;
        }
        E::VoteCast(e) => cast(
            state,
            meta,
            e.voter,
            e.proposalId,
            e.support,
            e.weight,
            &e.reason,
        ),
        E::VoteCastWithParams(e) => cast(
            state,
            meta,
            e.voter,
            e.proposalId,
            e.support,
            e.weight,
            &e.reason,
        ),
        E::ProposalQueued(e) => {
            let p = proposal_of(state, e.proposalId);
            p.state = "Queued".into();
            p.eta = Some(secs(e.etaSeconds.saturating_to::<u64>()));
            p.block = block;
        }
        E::ProposalExecuted(e) => {
            let p = proposal_of(state, e.proposalId);
            p.state = "Executed".into();
            p.block = block;
        }
        E::ProposalCanceled(e) => {
            let p = proposal_of(state, e.proposalId);
            p.state = "Canceled".into();
            p.block = block;
        }
        _ => {}
    }
}
