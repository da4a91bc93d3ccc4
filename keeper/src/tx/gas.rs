//! Explicit gas limits for proof transactions. `eth_estimateGas` cannot be trusted for them:
//! ProofSystem calls the verifier inside try/catch, so the estimator can settle on the cheap
//! failing path. The limit comes from the batch size instead, from a linear fit of the gas the
//! bench measures (`cargo bench -p vouch-keeper --bench gas`, docs/benchmarks.md: 465k at B=1,
//! 883k at B=16, 2.22M at B=64 for full batches) plus a margin.

/// Gas of a proof transaction that does not grow with the batch: intrinsic gas, the 2 KB proof,
/// the verifier's pairing checks.
pub const PROOF_GAS_FIXED: u64 = 440_000;
/// Gas per slot of the batch size: the verifier's work per public instance (8 per slot), and
/// per job the marketplace's reads and writes (charged per slot, so a padded batch only
/// over-provisions).
pub const PROOF_GAS_PER_SLOT: u64 = 28_000;
/// Margin over the fit, in percent: proofs are randomized (calldata gas varies by a few
/// thousand) and storage may be colder than in the bench.
pub const PROOF_GAS_MARGIN_PERCENT: u64 = 25;

/// The gas limit of a proof transaction for a circuit of `batch_size` slots.
pub fn proof_gas_limit(batch_size: usize) -> u64 {
    let fit = PROOF_GAS_FIXED + PROOF_GAS_PER_SLOT * batch_size as u64;
    fit + fit * PROOF_GAS_MARGIN_PERCENT / 100
}

/// Gas of an inference transaction besides its proof: intrinsic gas, the marketplace's
/// completion, the event with the published output, the verifier's pairing checks.
pub const INFERENCE_GAS_FIXED: u64 = 200_000;
/// Gas per byte of an inference proof: calldata and the verifier's work grow with the proof
/// (measured: the MLP's 2,912-byte proof completes for 593,549 gas, the attention block's
/// 8,352 bytes for 1,280,045; `cargo nextest run -p vouch-keeper --test inference_onchain`).
pub const INFERENCE_GAS_PER_PROOF_BYTE: u64 = 150;

/// The gas limit of a `submitInference` with a proof of `proof_len` bytes (same margin).
pub fn inference_gas_limit(proof_len: usize) -> u64 {
    let fit = INFERENCE_GAS_FIXED + INFERENCE_GAS_PER_PROOF_BYTE * proof_len as u64;
    fit + fit * PROOF_GAS_MARGIN_PERCENT / 100
}

/// Margin applied to `eth_estimateGas` for other calls (no try/catch there, but state may
/// change between the estimate and the block).
pub fn with_estimate_margin(estimate: u64) -> u64 {
    estimate + estimate / 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_limits_cover_the_measured_gas_with_the_margin() {
        for (proof_len, measured) in [(2_912usize, 593_549u64), (8_352, 1_280_045)] {
            let limit = inference_gas_limit(proof_len);
            assert!(
                limit * 100 >= measured * 120,
                "{proof_len} B: {limit} vs {measured}"
            );
            assert!(
                limit < measured * 2,
                "{proof_len} B: {limit} is far above {measured}"
            );
        }
    }

    #[test]
    fn limits_cover_the_measured_gas_with_the_margin() {
        // Measured full batches (docs/benchmarks.md): the limit is >= 20% above each.
        for (b, measured) in [(1usize, 465_265u64), (16, 883_472), (64, 2_221_578)] {
            let limit = proof_gas_limit(b);
            assert!(
                limit * 100 >= measured * 120,
                "B={b}: {limit} vs {measured}"
            );
            assert!(
                limit * 100 <= measured * 150,
                "B={b}: {limit} wastes block space"
            );
        }
        assert_eq!(proof_gas_limit(64), 2_790_000);
        assert_eq!(with_estimate_margin(100_000), 120_000);
    }
}
