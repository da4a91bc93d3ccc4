//! ProofSystem -> `batches`, each with the jobs its proof completed (the `JobCompleted` logs
//! that precede `BatchProven` in the same transaction).

use vouch_bindings::contracts::ProofSystem::ProofSystemEvents as E;

use super::state::{LogMeta, State};
use super::util::{addr, hash};
use crate::store::Row;
use crate::store::entity::batch;

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    if let E::BatchProven(e) = event {
        let ids = match state.completed_in_tx.take() {
            Some((tx, ids)) if tx == meta.tx_hash => ids,
            _ => Vec::new(),
        };
        let b = batch::Model {
            chain_id: state.chain_id,
            tx_hash: meta.tx_hash.clone(),
            log_index: meta.log_index as i64,
            host: addr(e.host),
            submitter: addr(e.submitter),
            batch_size: i64::from(e.batchSize),
            circuit_version: i64::from(e.circuitVersion),
            job_count: e.jobCount.saturating_to::<i64>(),
            proof_hash: hash(e.proofHash),
            job_ids: serde_json::to_string(&ids).expect("ids serialize"),
            block: meta.block_number as i64,
            timestamp: meta.block_timestamp as i64,
        };
        state.put(Row::Batch(b));
    }
}
