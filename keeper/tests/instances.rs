//! The public instance layout against an independent computation (hex string slicing and
//! decimal constants), the exact order the on-chain ProofSystem builds.

use alloy::primitives::{B256, U256, b256};
use vouch_keeper::prover::{FIELD_MODULUS, JobTuple, instances_for, limbs};

/// hi and lo limbs by cutting the 64 hex digits in two, no arithmetic shared with the crate.
fn split(value: &B256) -> [U256; 2] {
    let hex = alloy::hex::encode(value.0);
    [
        U256::from_str_radix(&hex[..32], 16).unwrap(),
        U256::from_str_radix(&hex[32..], 16).unwrap(),
    ]
}

fn tuple(seed: u8) -> JobTuple {
    let v = |k: u8| {
        B256::from(std::array::from_fn::<u8, 32, _>(|i| {
            seed.wrapping_mul(31)
                .wrapping_add(k)
                .wrapping_add(i as u8 * 7)
        }))
    };
    JobTuple {
        job_id: v(1),
        model_hash: v(2),
        input_hash: v(3),
        output_hash: v(4),
    }
}

#[test]
fn layout_matches_an_independent_computation() {
    let jobs: Vec<JobTuple> = (0..5).map(tuple).collect();
    let instances = instances_for(&jobs, 16);
    assert_eq!(instances.len(), 128);
    for (slot, job) in jobs.iter().enumerate() {
        let expected: Vec<U256> = [job.job_id, job.model_hash, job.input_hash, job.output_hash]
            .iter()
            .flat_map(split)
            .collect();
        assert_eq!(
            &instances[8 * slot..8 * slot + 8],
            expected.as_slice(),
            "slot {slot}"
        );
    }
    assert!(instances[40..].iter().all(U256::is_zero));
    assert!(
        instances
            .iter()
            .all(|x| *x < U256::from(1) << 128 && *x < FIELD_MODULUS)
    );
}

#[test]
fn layout_of_a_known_tuple() {
    let job = JobTuple {
        job_id: B256::from(U256::from(42)),
        model_hash: b256!("0x00000000000000000000000000000001ffffffffffffffffffffffffffffffff"),
        input_hash: b256!("0xffffffffffffffffffffffffffffffff00000000000000000000000000000000"),
        output_hash: b256!("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"),
    };
    let max = U256::MAX >> 128;
    let expected = [
        U256::ZERO,
        U256::from(42),
        U256::from(1),
        max,
        max,
        U256::ZERO,
        U256::from(1339673755198158349044581307228491536u128), // 0x0102..0f10
        U256::from(22690724228668807036942595891182575392u128), // 0x1112..1f20
    ];
    assert_eq!(instances_for(&[job], 1), expected.to_vec());
    assert_eq!(limbs(&job.output_hash), [expected[6], expected[7]]);
    let padded = instances_for(&[job], 16);
    assert_eq!(&padded[..8], expected.as_slice());
    assert_eq!(padded[8..], vec![U256::ZERO; 120]);
}

#[test]
#[should_panic(expected = "2 jobs do not fit a batch of 1")]
fn too_many_jobs_for_the_batch_size_panics() {
    instances_for(&[tuple(1), tuple(2)], 1);
}
