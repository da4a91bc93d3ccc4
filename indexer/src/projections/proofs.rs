//! ProofSystem -> `batches`, each with the jobs its proof completed (the `JobCompleted` logs
//! that precede `BatchProven` in the same transaction); `verifiable_models`, the inference
//! tier's verifier per model hash; and on `jobs` which tier completed each job, with the
//! output and proof hash an `InferenceProven` published.

use alloy::primitives::Address;
use vouch_bindings::contracts::ProofSystem::ProofSystemEvents as E;

use super::marketplace::blank_job;
use super::state::{LogMeta, State};
use super::util::{addr, hash, id, row};
use crate::store::Row;
use crate::store::entity::{batch, job, verifiable_model};

/// `jobs.proof_tier` of a job completed by a `BatchProven` / an `InferenceProven`.
pub const COMMITMENT: &str = "commitment";
pub const INFERENCE: &str = "inference";

fn job(state: &mut State, job_id: i64) -> &mut job::Model {
    let chain = state.chain_id;
    row!(
        state,
        Job,
        "jobs",
        job_id.to_string(),
        blank_job(chain, job_id)
    )
}

/// The contract's `InstanceLayout` enum by name (an unknown value, from a newer contract, as
/// its number).
fn layout(value: u8) -> String {
    match value {
        0 => "None".into(),
        1 => "HashedInputOutput".into(),
        n => n.to_string(),
    }
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    match event {
        E::BatchProven(e) => {
            let ids = match state.completed_in_tx.take() {
                Some((tx, ids)) if tx == meta.tx_hash => ids,
                _ => Vec::new(),
            };
            for &job_id in &ids {
                let j = job(state, job_id);
                j.proof_tier = Some(COMMITMENT.into());
                j.block = meta.block_number as i64;
            }
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
        E::InferenceProven(e) => {
            // Its JobCompleted came first in the same transaction: no batch lists this job.
            if matches!(&state.completed_in_tx, Some((tx, _)) if *tx == meta.tx_hash) {
                state.completed_in_tx = None;
            }
            let j = job(state, id(e.jobId));
            j.proof_tier = Some(INFERENCE.into());
            j.output = Some(format!("0x{}", alloy::hex::encode(&e.output)));
            j.proof_hash = Some(hash(e.proofHash));
            j.block = meta.block_number as i64;
        }
        E::ModelVerifierSet(e) => {
            let model_hash = hash(e.modelHash);
            let chain = state.chain_id;
            let m = row!(
                state,
                VerifiableModel,
                "verifiable_models",
                model_hash.clone(),
                verifiable_model::Model {
                    chain_id: chain,
                    model_hash,
                    verifier: String::new(),
                    circuit_version: 0,
                    layout: String::new(),
                    installed: false,
                    block: 0,
                    timestamp: 0,
                }
            );
            m.verifier = addr(e.verifier);
            m.circuit_version = i64::from(e.circuitVersion);
            m.layout = layout(e.layout.into());
            // The contract removes with verifier zero and layout None.
            m.installed = e.verifier != Address::ZERO;
            m.block = meta.block_number as i64;
            m.timestamp = meta.block_timestamp as i64;
        }
        _ => {}
    }
}
