//! The calls that land proofs: `ProofSystem.submitProof` for one job on the B=1 circuit,
//! `submitBatch` otherwise, encoded from a [`Proof`]; `submitInference` for a verifiable
//! model's job, from an [`Inference`]; and the chain's view of the proven jobs (completed
//! already, or no longer completable), which keeps landing idempotent.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, ProofSystem};

use super::error::{Result, TxError};
use super::retry::{self, Backoff};
use crate::prover::{Inference, Proof, encode_output};

/// The job ids (as uint256) and output hashes of a proof's jobs, in slot order.
pub fn ids_and_outputs(proof: &Proof) -> (Vec<U256>, Vec<B256>) {
    proof
        .jobs
        .iter()
        .map(|j| (U256::from_be_bytes(j.job_id.0), j.output_hash))
        .unzip()
}

/// The calldata that submits `proof`: `submitProof` for one job at B=1, else `submitBatch`.
pub fn proof_calldata(proof: &Proof) -> Result<Bytes> {
    if proof.jobs.is_empty() || proof.jobs.len() > proof.batch_size {
        return Err(TxError::BadProof(format!(
            "{} jobs for a circuit of {} slots",
            proof.jobs.len(),
            proof.batch_size
        )));
    }
    let batch_size = u16::try_from(proof.batch_size)
        .map_err(|_| TxError::BadProof(format!("batch size {}", proof.batch_size)))?;
    let (ids, outputs) = ids_and_outputs(proof);
    let data = if proof.batch_size == 1 {
        ProofSystem::submitProofCall {
            jobId: ids[0],
            outputHash: outputs[0],
            proof: proof.proof.clone(),
        }
        .abi_encode()
    } else {
        ProofSystem::submitBatchCall {
            batchSize: batch_size,
            jobIds: ids,
            outputHashes: outputs,
            proof: proof.proof.clone(),
        }
        .abi_encode()
    };
    Ok(data.into())
}

/// The transaction request (to, from, data; no gas, nonce or fees) that submits `proof`.
pub fn proof_request(
    deployment: &Deployment,
    from: Address,
    proof: &Proof,
) -> Result<TransactionRequest> {
    Ok(TransactionRequest::default()
        .with_from(from)
        .with_to(deployment.contracts.proof_system)
        .with_input(proof_calldata(proof)?))
}

/// The transaction request that completes verifiable job `job_id` with `inference`: its
/// output hash, proof and published output (`abi.encode(int256[])`).
pub fn inference_request(
    deployment: &Deployment,
    from: Address,
    job_id: B256,
    inference: &Inference,
) -> TransactionRequest {
    let data = ProofSystem::submitInferenceCall {
        jobId: U256::from_be_bytes(job_id.0),
        outputHash: inference.output_hash,
        proof: inference.proof.clone(),
        output: encode_output(&inference.output),
    }
    .abi_encode();
    TransactionRequest::default()
        .with_from(from)
        .with_to(deployment.contracts.proof_system)
        .with_input(Bytes::from(data))
}

/// What the chain says of a proof's jobs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JobsOnChain {
    /// Completed (by anyone): a completion time is recorded.
    pub done: Vec<B256>,
    /// Neither completed nor completable: expired, cancelled, refunded or unknown.
    pub gone: Vec<B256>,
}

/// Reads every job of `job_ids` from the marketplace (one `getJob` each).
pub async fn jobs_on_chain(
    provider: &DynProvider,
    deployment: &Deployment,
    job_ids: &[B256],
    backoff: &Backoff,
) -> Result<JobsOnChain> {
    use JobMarketplace::JobMarketplaceInstance as M;
    let market: M<&DynProvider> =
        JobMarketplace::new(deployment.contracts.job_marketplace, provider);
    let mut seen = JobsOnChain::default();
    for &job_id in job_ids {
        let id = U256::from_be_bytes(job_id.0);
        let stored = retry::rpc("eth_call getJob", backoff, || async {
            market
                .getJob(id)
                .call()
                .await
                .map_err(contract_to_transport)
        })
        .await?;
        // Status: None 0, Open 1, Claimed 2, Completed 3, Disputed 4, Paid 5, Expired 6,
        // Cancelled 7, Refunded 8 (IJobMarketplace.Status).
        let status = stored.status as u8;
        if stored.completedAt != 0 {
            seen.done.push(job_id);
        } else if status != 2 {
            seen.gone.push(job_id);
        }
    }
    Ok(seen)
}

/// A contract call's error as the transport error it wraps (others as a local error).
pub(crate) fn contract_to_transport(
    e: alloy::contract::Error,
) -> alloy::transports::TransportError {
    match e {
        alloy::contract::Error::TransportError(t) => t,
        other => alloy::transports::TransportErrorKind::custom(other),
    }
}
