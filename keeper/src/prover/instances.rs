//! The public instance layout, and the field-element encoding EZKL uses for it.
//!
//! For slot i in 0..B, 8 consecutive instances:
//! `[jobId>>128, jobId&mask, modelHash>>128, modelHash&mask, inputHash>>128, inputHash&mask,
//! outputHash>>128, outputHash&mask]`, each 32-byte value read as a big-endian uint256 and
//! `mask = 2^128-1`. Slots past the jobs are all zero. The on-chain `ProofSystem` rebuilds
//! exactly this from the jobs it stores.

use alloy::primitives::{B256, U256};

use super::types::{JobTuple, LIMBS_PER_JOB};

/// The BN254 scalar field modulus r: every public instance must be below it.
pub const FIELD_MODULUS: U256 = U256::from_limbs([
    0x43e1f593f0000001,
    0x2833e84879b97091,
    0xb85045b68181585d,
    0x30644e72e131a029,
]);

/// The (hi, lo) 128-bit limbs of a 32-byte value read as a big-endian uint256.
pub fn limbs(value: &B256) -> [U256; 2] {
    let x = U256::from_be_bytes(value.0);
    let mask = (U256::from(1u8) << 128) - U256::from(1u8);
    [x >> 128, x & mask]
}

/// The public instances of a proof of `jobs` with the circuit of `batch_size`: 8 per slot, the
/// slots past the jobs all zero.
///
/// # Panics
/// If `jobs.len() > batch_size` (the caller picks the batch size, see
/// [`crate::prover::batch_size_for`]).
pub fn instances_for(jobs: &[JobTuple], batch_size: usize) -> Vec<U256> {
    assert!(
        jobs.len() <= batch_size,
        "{} jobs do not fit a batch of {batch_size}",
        jobs.len()
    );
    let mut out = Vec::with_capacity(LIMBS_PER_JOB * batch_size);
    for job in jobs {
        for value in job.values() {
            out.extend(limbs(&value));
        }
    }
    out.resize(LIMBS_PER_JOB * batch_size, U256::ZERO);
    out
}

/// A field element as EZKL's JSON files hold it: 64 hex digits, little-endian, no `0x`.
pub(crate) fn to_felt(value: &U256) -> String {
    alloy::hex::encode(value.to_le_bytes::<32>())
}

/// The inverse of [`to_felt`]; `None` if the string is not 32 little-endian hex bytes.
pub(crate) fn from_felt(felt: &str) -> Option<U256> {
    let bytes: [u8; 32] = alloy::hex::decode(felt).ok()?.try_into().ok()?;
    Some(U256::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::b256;

    #[test]
    fn field_modulus_is_bn254_r() {
        let r: U256 =
            "21888242871839275222246405745257275088548364400416034343698204186575808495617"
                .parse()
                .unwrap();
        assert_eq!(FIELD_MODULUS, r);
    }

    #[test]
    fn limbs_split_big_endian() {
        let v = b256!("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
        let [hi, lo] = limbs(&v);
        assert_eq!(hi, U256::from(0x0102030405060708090a0b0c0d0e0f10u128));
        assert_eq!(lo, U256::from(0x1112131415161718191a1b1c1d1e1f20u128));
    }

    #[test]
    fn felt_round_trip_is_little_endian() {
        let v = U256::from(0x0102u64);
        let felt = to_felt(&v);
        assert_eq!(felt, format!("0201{}", "0".repeat(60)));
        assert_eq!(from_felt(&felt), Some(v));
        assert_eq!(from_felt("00"), None);
        assert_eq!(from_felt(&"zz".repeat(32)), None);
    }
}
