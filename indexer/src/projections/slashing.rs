//! Slashing -> `disputes`, `slashes`, `equivocations` and the `bond` ledger of `balances`.

use alloy::primitives::Address;
use vouch_bindings::contracts::Slashing::SlashingEvents as E;

use super::marketplace::ledger;
use super::state::{LogMeta, State};
use super::util::{addr, dec, hash, id, row, secs};
use crate::store::Row;
use crate::store::entity::{dispute, equivocation, slash};

/// Slashing's `Reason` names, by value.
pub const REASONS: [&str; 3] = ["MissedDeadline", "DisputeUpheld", "Equivocation"];

pub(crate) fn enum_name(names: &[&str], value: u8) -> String {
    names
        .get(value as usize)
        .map_or_else(|| value.to_string(), |n| (*n).to_owned())
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    let chain = state.chain_id;
    let at = meta.block_timestamp as i64;
    let block = meta.block_number as i64;
    match event {
        E::DisputeOpened(e) => {
            let job_id = id(e.jobId);
            let d = row!(
                state,
                Dispute,
                "disputes",
                job_id.to_string(),
                dispute::Model {
                    chain_id: chain,
                    job_id,
                    renter: String::new(),
                    host: String::new(),
                    bond: "0".into(),
                    evidence_hash: String::new(),
                    opened_at: 0,
                    rule_by: 0,
                    status: "Open".into(),
                    resolved_at: None,
                    resolved_by: None,
                    block: 0,
                }
            );
            d.renter = addr(e.renter);
            d.host = addr(e.host);
            d.bond = dec(e.bond);
            d.evidence_hash = hash(e.evidenceHash);
            d.opened_at = at;
            d.rule_by = secs(e.ruleBy.to::<u64>());
            d.status = "Open".into();
            d.block = block;
        }
        E::DisputeResolved(e) => {
            if let Some(d) = dispute_of(state, id(e.jobId)) {
                d.status = if e.upheld { "Upheld" } else { "Rejected" }.into();
                d.resolved_at = Some(at);
                d.resolved_by = Some(addr(e.arbiter));
                d.block = block;
            }
        }
        E::DisputeLapsed(e) => {
            if let Some(d) = dispute_of(state, id(e.jobId)) {
                d.status = "Lapsed".into();
                d.resolved_at = Some(at);
                d.resolved_by = Some(addr(e.closedBy));
                d.block = block;
            }
        }
        E::Slashed(e) => {
            let s = slash::Model {
                chain_id: chain,
                tx_hash: meta.tx_hash.clone(),
                log_index: meta.log_index as i64,
                host: addr(e.host),
                reason: enum_name(&REASONS, e.reason),
                job_id: id(e.jobId),
                amount: dec(e.amount),
                beneficiary: addr(e.beneficiary),
                beneficiary_share: dec(e.beneficiaryShare),
                treasury_share: dec(e.treasuryShare),
                block,
                timestamp: at,
            };
            state.put(Row::Slash(s));
        }
        E::EquivocationProven(e) => {
            let q = equivocation::Model {
                chain_id: chain,
                job_id: id(e.jobId),
                host: addr(e.host),
                reporter: addr(e.reporter),
                output_a: hash(e.outputA),
                output_b: hash(e.outputB),
                tx_hash: meta.tx_hash.clone(),
                block,
                timestamp: at,
            };
            state.put(Row::Equivocation(q));
        }
        E::BondCredited(e) => ledger(
            state,
            meta,
            "bond",
            e.account,
            Address::ZERO,
            Some(e.amount),
            None,
        ),
        E::BondWithdrawn(e) => ledger(
            state,
            meta,
            "bond",
            e.account,
            Address::ZERO,
            None,
            Some(e.amount),
        ),
        _ => {}
    }
}

/// The dispute of a job, if its opening was indexed (a manifest's start block after it is the
/// only way it is missing).
fn dispute_of(state: &mut State, job_id: i64) -> Option<&mut dispute::Model> {
    let k = super::state::key("disputes", job_id.to_string());
    state.get(&k)?;
    match state.entry(k, || unreachable!("checked above")) {
        crate::store::Row::Dispute(d) => Some(d),
        _ => None,
    }
}
