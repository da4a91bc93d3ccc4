//! Shared by the prover's integration tests: the real prover on the repository's artifacts
//! (built by `vouch proof setup`, which script/setup.sh runs) and deterministic job tuples.

#![allow(dead_code)]

use alloy::primitives::{B256, U256, keccak256};
use vouch_keeper::prover::{JobTuple, Prover, ProverConfig};

/// The prover with the default configuration (2 workers on 2 cores, all batch sizes).
pub async fn prover() -> Prover {
    prover_with(|_| {}).await
}

/// The prover after `tweak` adjusted the default configuration.
pub async fn prover_with(tweak: impl FnOnce(&mut ProverConfig)) -> Prover {
    let mut config = ProverConfig::from_env().expect("the VOUCH_* environment is valid");
    tweak(&mut config);
    Prover::load(config).await.unwrap_or_else(|e| {
        panic!("{e} (run `bash script/setup.sh` to build the circuit artifacts)")
    })
}

/// Job tuple number `i`: job id i+1, the other values hashes of distinct labels.
pub fn job(i: u64) -> JobTuple {
    JobTuple {
        job_id: B256::from(U256::from(i + 1)),
        model_hash: keccak256(format!("model {i}")),
        input_hash: keccak256(format!("input {i}")),
        output_hash: keccak256(format!("output {i}")),
    }
}

/// `n` distinct job tuples, numbered from `first`.
pub fn jobs(first: u64, n: usize) -> Vec<JobTuple> {
    (first..first + n as u64).map(job).collect()
}
