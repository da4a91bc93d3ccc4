//! The values a proof is about: job tuples, proofs, the batch sizes and the circuit version.

use alloy::primitives::{B256, Bytes, U256};
use serde::{Deserialize, Serialize};

/// Version of the commitment circuit (its public instance layout and keys). The on-chain
/// `ProofSystem` records which verifier serves which version.
pub const CIRCUIT_VERSION: u32 = 1;

/// The batch sizes with a circuit, keys and verifier. A batch of n jobs is proven with the
/// smallest size >= n, padded with all-zero slots.
pub const BATCH_SIZES: [usize; 3] = [1, 16, 64];

/// The largest batch one proof covers.
pub const MAX_BATCH_SIZE: usize = BATCH_SIZES[BATCH_SIZES.len() - 1];

/// Public instances per job: the (hi, lo) 128-bit limbs of its four 32-byte values.
pub const LIMBS_PER_JOB: usize = 8;

/// What one proof slot commits to: a job and the hashes of its model, input and output, exactly
/// as the job marketplace stores them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTuple {
    pub job_id: B256,
    pub model_hash: B256,
    pub input_hash: B256,
    pub output_hash: B256,
}

impl JobTuple {
    /// The four values in instance order.
    pub fn values(&self) -> [B256; 4] {
        [
            self.job_id,
            self.model_hash,
            self.input_hash,
            self.output_hash,
        ]
    }
}

/// A proof over a batch of job tuples, with everything an on-chain submission needs:
/// `verifyProof(proof, instances)` on the verifier for `batch_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    /// The circuit's batch size B (one of [`BATCH_SIZES`]); `jobs.len() <= B`.
    pub batch_size: usize,
    /// The circuit version the proof was made for ([`CIRCUIT_VERSION`]).
    pub circuit_version: u32,
    /// The proven jobs, in slot order (without the padding slots).
    pub jobs: Vec<JobTuple>,
    /// The Halo2 proof bytes, as the Solidity verifier takes them.
    pub proof: Bytes,
    /// The 8*B public instances ([`crate::prover::instances_for`]).
    pub instances: Vec<U256>,
}

/// The batch size that proves `jobs` jobs: the smallest of [`BATCH_SIZES`] that fits them, or
/// `None` for 0 jobs or more than [`MAX_BATCH_SIZE`].
pub fn batch_size_for(jobs: usize) -> Option<usize> {
    if jobs == 0 {
        return None;
    }
    BATCH_SIZES.into_iter().find(|&b| b >= jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_batch_that_fits() {
        assert_eq!(batch_size_for(0), None);
        assert_eq!(batch_size_for(1), Some(1));
        assert_eq!(batch_size_for(2), Some(16));
        assert_eq!(batch_size_for(16), Some(16));
        assert_eq!(batch_size_for(17), Some(64));
        assert_eq!(batch_size_for(64), Some(64));
        assert_eq!(batch_size_for(65), None);
    }
}
