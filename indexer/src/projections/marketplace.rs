//! JobMarketplace -> `jobs` (the state machine of docs/contracts.md) and the marketplace
//! ledger of `balances`.

use alloy::primitives::{Address, U256};
use vouch_bindings::contracts::JobMarketplace::JobMarketplaceEvents as E;

use super::state::{LogMeta, State};
use super::util::{add, addr, dec, hash, id, opt_addr, row, secs, sub};
use crate::store::entity::{balance, job};

/// Slashing's `DisputeStatus` values as DisputeSettled carries them.
const UPHELD: u8 = 2;

pub(super) fn blank_job(chain_id: i64, job_id: i64) -> job::Model {
    job::Model {
        chain_id,
        job_id,
        renter: String::new(),
        host: None,
        offered_host: None,
        operator: None,
        token: addr(Address::ZERO),
        payment: "0".into(),
        fee: "0".into(),
        model_hash: String::new(),
        input_hash: String::new(),
        output_hash: None,
        deadline: 0,
        min_reputation: 0,
        state: "Open".into(),
        created_at: 0,
        created_block: 0,
        claimed_at: None,
        completed_at: None,
        released_at: None,
        expired_at: None,
        cancelled_at: None,
        refunded_at: None,
        slashed: false,
        batch_tx: None,
        reputation_weight: None,
        proof_tier: None,
        output: None,
        proof_hash: None,
        block: 0,
    }
}

/// Applies a change to a ledger balance (`marketplace` credits or `bond`s).
pub fn ledger(
    state: &mut State,
    meta: &LogMeta,
    ledger: &str,
    account: Address,
    token: Address,
    credit: Option<U256>,
    debit: Option<U256>,
) {
    let chain = state.chain_id;
    let (account, token) = (addr(account), addr(token));
    let key = format!("{ledger}:{account}:{token}");
    let b = row!(
        state,
        Balance,
        "balances",
        key,
        balance::Model {
            chain_id: chain,
            ledger: ledger.to_owned(),
            account: account.clone(),
            token: token.clone(),
            amount: "0".into(),
            credited_total: "0".into(),
            withdrawn_total: "0".into(),
            block: 0,
        }
    );
    if let Some(c) = credit {
        b.amount = add(&b.amount, c);
        b.credited_total = add(&b.credited_total, c);
    }
    if let Some(d) = debit {
        b.amount = sub(&b.amount, d);
        b.withdrawn_total = add(&b.withdrawn_total, d);
    }
    b.block = meta.block_number as i64;
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    let at = meta.block_timestamp as i64;
    fn job(state: &mut State, job_id: U256) -> &mut job::Model {
        let (chain, job_id) = (state.chain_id, id(job_id));
        row!(
            state,
            Job,
            "jobs",
            job_id.to_string(),
            blank_job(chain, job_id)
        )
    }
    let j = match event {
        E::JobCreated(e) => {
            let j = job(state, e.jobId);
            j.renter = addr(e.renter);
            j.offered_host = opt_addr(e.offeredHost);
            j.host = j.offered_host.clone();
            j.token = addr(e.token);
            j.payment = dec(U256::from(e.payment));
            j.fee = dec(U256::from(e.fee));
            j.model_hash = hash(e.modelHash);
            j.input_hash = hash(e.inputHash);
            j.deadline = secs(e.deadline.to::<u64>());
            j.min_reputation = i64::from(e.minReputation);
            j.state = "Open".into();
            j.created_at = at;
            j.created_block = meta.block_number as i64;
            j
        }
        E::JobClaimed(e) => {
            let j = job(state, e.jobId);
            j.host = Some(addr(e.host));
            j.operator = opt_addr(e.operator);
            j.claimed_at = Some(at);
            j.state = "Claimed".into();
            j
        }
        E::JobCompleted(e) => {
            let tx = meta.tx_hash.clone();
            match &mut state.completed_in_tx {
                Some((t, ids)) if *t == tx => ids.push(id(e.jobId)),
                slot => *slot = Some((tx.clone(), vec![id(e.jobId)])),
            }
            let j = job(state, e.jobId);
            j.output_hash = Some(hash(e.outputHash));
            j.completed_at = Some(at);
            j.batch_tx = Some(tx);
            j.state = "Completed".into();
            j
        }
        E::JobDisputed(e) => {
            let j = job(state, e.jobId);
            j.state = "Disputed".into();
            j
        }
        E::DisputeSettled(e) => {
            let j = job(state, e.jobId);
            if e.outcome == UPHELD {
                j.state = "Refunded".into();
                j.refunded_at = Some(at);
            } else {
                j.state = "Completed".into();
            }
            j
        }
        E::PaymentReleased(e) => {
            let j = job(state, e.jobId);
            j.state = "Paid".into();
            j.released_at = Some(at);
            j.reputation_weight = Some(dec(e.reputationWeight));
            j
        }
        E::JobExpired(e) => {
            let j = job(state, e.jobId);
            j.state = "Expired".into();
            j.expired_at = Some(at);
            j.slashed = e.slashed;
            // The contract clears an unclaimed offer; a claimed job keeps its host.
            j.host = opt_addr(e.host);
            j
        }
        E::JobCancelled(e) => {
            let j = job(state, e.jobId);
            j.state = "Cancelled".into();
            j.cancelled_at = Some(at);
            j.host = None;
            j
        }
        E::Credited(e) => {
            return ledger(
                state,
                meta,
                "marketplace",
                e.account,
                e.token,
                Some(e.amount),
                None,
            );
        }
        E::Withdrawal(e) => {
            return ledger(
                state,
                meta,
                "marketplace",
                e.account,
                e.token,
                None,
                Some(e.amount),
            );
        }
        _ => return,
    };
    j.block = meta.block_number as i64;
}
