//! The prover end to end with real EZKL: prove, verify, tamper, cache, batches, padding.

mod common;

use alloy::primitives::{B256, U256};
use common::{job, jobs, prover, prover_with};
use vouch_keeper::prover::{
    BATCH_SIZES, CIRCUIT_VERSION, JobTuple, Proof, ProverError, instances_for,
};

/// Every proof is 2,048 bytes whatever the batch size (docs/benchmarks.md).
const PROOF_BYTES: usize = 2048;

#[tokio::test]
async fn prove_then_verify_is_valid() {
    let prover = prover().await;
    let tuple = job(7);
    let proof = prover.prove(&[tuple]).await.unwrap();
    assert_eq!(proof.batch_size, 1);
    assert_eq!(proof.circuit_version, CIRCUIT_VERSION);
    assert_eq!(proof.jobs, vec![tuple]);
    assert_eq!(proof.proof.len(), PROOF_BYTES);
    assert_eq!(proof.instances, instances_for(&[tuple], 1));
    assert_eq!(prover.manifest(1).unwrap().proof_bytes, PROOF_BYTES);
    assert!(prover.verify(&proof).await.unwrap());
}

/// Re-proves nothing: the proof's instances are recomputed for the changed tuple, so the
/// Halo2 verification itself must reject the old proof bytes.
fn with_job(proof: &Proof, job: JobTuple) -> Proof {
    Proof {
        jobs: vec![job],
        instances: instances_for(&[job], proof.batch_size),
        ..proof.clone()
    }
}

#[tokio::test]
async fn changing_any_value_makes_verification_fail() {
    let prover = prover().await;
    let tuple = job(1);
    let proof = prover.prove(&[tuple]).await.unwrap();
    assert!(prover.verify(&proof).await.unwrap());

    let flip = |mut v: B256| {
        v.0[31] ^= 1;
        v
    };
    let changed = [
        JobTuple {
            job_id: flip(tuple.job_id),
            ..tuple
        },
        JobTuple {
            model_hash: flip(tuple.model_hash),
            ..tuple
        },
        JobTuple {
            input_hash: flip(tuple.input_hash),
            ..tuple
        },
        JobTuple {
            output_hash: flip(tuple.output_hash),
            ..tuple
        },
        // the high limb too
        JobTuple {
            output_hash: B256::from(
                U256::from_be_bytes(tuple.output_hash.0) ^ (U256::from(1) << 200),
            ),
            ..tuple
        },
    ];
    for other in changed {
        // Consistent instances: the Halo2 proof itself fails (a halo2 error inside EZKL).
        assert!(
            !prover.verify(&with_job(&proof, other)).await.unwrap(),
            "{other:?}"
        );
        // Only the claimed job changed: the instances are not its layout.
        let claimed = Proof {
            jobs: vec![other],
            ..proof.clone()
        };
        assert!(!prover.verify(&claimed).await.unwrap(), "{other:?}");
    }
    // Only one instance changed.
    let mut instances = proof.instances.clone();
    instances[7] += U256::from(1);
    assert!(
        !prover
            .verify(&Proof {
                instances,
                ..proof.clone()
            })
            .await
            .unwrap()
    );
    // The untouched proof still verifies.
    assert!(prover.verify(&proof).await.unwrap());
}

#[tokio::test]
async fn changing_any_proof_byte_makes_verification_fail() {
    let prover = prover().await;
    let proof = prover.prove(&[job(2)]).await.unwrap();
    // Every 61st byte (a spread over commitments, evaluations and the opening proof), and both
    // ends: each is rejected as invalid, never as an error.
    let positions: Vec<usize> = (0..PROOF_BYTES)
        .step_by(61)
        .chain([1, PROOF_BYTES - 1])
        .collect();
    for pos in positions {
        let mut bytes = proof.proof.to_vec();
        bytes[pos] ^= 0x01;
        let tampered = Proof {
            proof: bytes.into(),
            ..proof.clone()
        };
        assert!(!prover.verify(&tampered).await.unwrap(), "byte {pos}");
    }
    // A truncated proof is invalid too.
    let short = Proof {
        proof: proof.proof.slice(..PROOF_BYTES - 32),
        ..proof.clone()
    };
    assert!(!prover.verify(&short).await.unwrap());
}

#[tokio::test]
async fn malformed_proofs_are_typed_errors() {
    let prover = prover().await;
    let proof = prover.prove(&[job(3)]).await.unwrap();
    let cases = [
        Proof {
            circuit_version: CIRCUIT_VERSION + 1,
            ..proof.clone()
        },
        Proof {
            batch_size: 2,
            ..proof.clone()
        },
        Proof {
            instances: proof.instances[..7].to_vec(),
            ..proof.clone()
        },
        Proof {
            jobs: vec![],
            ..proof.clone()
        },
        Proof {
            jobs: vec![job(3), job(4)],
            ..proof.clone()
        },
        Proof {
            proof: Default::default(),
            ..proof.clone()
        },
    ];
    for case in cases {
        let err = prover.verify(&case).await.unwrap_err();
        assert!(matches!(err, ProverError::MalformedProof(_)), "{err}");
    }
}

#[tokio::test]
async fn bad_batches_are_typed_errors() {
    let prover = prover().await;
    assert!(matches!(
        prover.prove(&[]).await,
        Err(ProverError::EmptyBatch)
    ));
    let err = prover.prove(&jobs(0, 65)).await.unwrap_err();
    assert!(
        matches!(err, ProverError::TooManyJobs { jobs: 65, max: 64 }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "65 jobs do not fit one proof (at most 64): split them into several batches"
    );
}

#[tokio::test]
async fn cache_hit_returns_the_identical_proof() {
    let prover = prover().await;
    let batch = jobs(100, 3);
    let first = prover.prove(&batch).await.unwrap();
    let second = prover.prove(&batch).await.unwrap();
    assert_eq!(first, second);
    let stats = prover.cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.len), (1, 1, 1));
    // Another order of the same jobs is another batch.
    let mut reordered = batch.clone();
    reordered.swap(0, 2);
    let third = prover.prove(&reordered).await.unwrap();
    assert_ne!(third.proof, first.proof);
    assert_eq!(prover.cache_stats().misses, 2);

    // Without the cache, proving is randomized: another proof, just as valid.
    let uncached = prover_with(|c| c.cache_capacity = 0).await;
    let fresh = uncached.prove(&batch).await.unwrap();
    assert_ne!(fresh.proof, first.proof);
    assert_eq!(fresh.instances, first.instances);
    assert!(uncached.verify(&fresh).await.unwrap());
    assert!(uncached.verify(&first).await.unwrap());
}

#[tokio::test]
async fn batch_of_16_proves_and_verifies() {
    let prover = prover().await;
    let batch = jobs(200, 16);
    let proof = prover.prove(&batch).await.unwrap();
    assert_eq!(proof.batch_size, 16);
    assert_eq!(proof.instances.len(), 128);
    assert_eq!(proof.proof.len(), PROOF_BYTES);
    assert!(prover.verify(&proof).await.unwrap());
    // Swapping two jobs' slots breaks it.
    let mut swapped = batch.clone();
    swapped.swap(3, 4);
    let claimed = Proof {
        instances: instances_for(&swapped, 16),
        jobs: swapped,
        ..proof.clone()
    };
    assert!(!prover.verify(&claimed).await.unwrap());
}

#[tokio::test]
async fn partial_batches_are_padded_with_zero_slots() {
    let prover = prover().await;
    for (n, expected_b) in [(5, 16), (17, 64)] {
        let batch = jobs(300, n);
        let proof = prover.prove(&batch).await.unwrap();
        assert_eq!(proof.batch_size, expected_b);
        assert_eq!(proof.jobs, batch);
        assert_eq!(proof.instances.len(), 8 * expected_b);
        assert!(proof.instances[..8 * n].iter().any(|x| !x.is_zero()));
        assert!(
            proof.instances[8 * n..].iter().all(|x| x.is_zero()),
            "padding slots are zero"
        );
        assert!(prover.verify(&proof).await.unwrap());
        // A padding slot cannot be claimed as a real job: its instances would be non-zero.
        let mut more = batch.clone();
        more.push(job(999));
        let claimed = Proof {
            instances: instances_for(&more, expected_b),
            jobs: more,
            ..proof.clone()
        };
        assert!(!prover.verify(&claimed).await.unwrap());
    }
}

#[tokio::test]
async fn full_batch_of_64_proves_and_verifies() {
    let prover = prover().await;
    let proof = prover.prove(&jobs(400, 64)).await.unwrap();
    assert_eq!(proof.batch_size, 64);
    assert_eq!(proof.instances.len(), 512);
    assert!(prover.verify(&proof).await.unwrap());
}

#[tokio::test]
async fn only_the_configured_batch_sizes_are_loaded() {
    let prover = prover_with(|c| {
        c.batch_sizes = vec![16];
        c.workers = 1;
    })
    .await;
    assert_eq!(prover.config().batch_sizes, vec![16]);
    // One job still gets a proof, from the smallest loaded circuit that fits.
    let proof = prover.prove(&[job(5)]).await.unwrap();
    assert_eq!(proof.batch_size, 16);
    let err = prover.prove(&jobs(0, 17)).await.unwrap_err();
    assert!(matches!(err, ProverError::BatchSizeNotLoaded(64)), "{err}");
    assert_eq!(BATCH_SIZES, [1, 16, 64]);
}
