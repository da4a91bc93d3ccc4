//! Real EZKL proofs through the deployed ProofSystem on anvil: proofs complete jobs, one batch
//! transaction completes a whole batch, and every way of misusing a proof reverts with its own
//! error. Deployment is the real deploy script with the generated verifiers.

mod common;
mod world;

use alloy::primitives::{B256, U256, keccak256};
use alloy::providers::Provider;
use vouch_bindings::contracts::{JobMarketplace, ProofSystem};
use vouch_keeper::prover::{JobTuple, Proof};
use world::{PAYMENT_WEI, World, mined, ok};

fn marketplace_error(e: &alloy::contract::Error) -> JobMarketplace::JobMarketplaceErrors {
    e.as_decoded_interface_error::<JobMarketplace::JobMarketplaceErrors>()
        .unwrap_or_else(|| panic!("not a marketplace error: {e}"))
}

fn proof_system_error(e: &alloy::contract::Error) -> ProofSystem::ProofSystemErrors {
    e.as_decoded_interface_error::<ProofSystem::ProofSystemErrors>()
        .unwrap_or_else(|| panic!("not a proof-system error: {e}"))
}

const COMPLETED: u8 = 3;

/// Submitting `proof` from the operator reverts with `InvalidProof`.
async fn assert_invalid_proof(world: &World, proof: &Proof) {
    let err = world.try_submit(proof, world.operator).await.unwrap_err();
    assert!(
        matches!(
            proof_system_error(&err),
            ProofSystem::ProofSystemErrors::InvalidProof(_)
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_real_proof_completes_its_job() {
    let world = World::new().await;
    let prover = common::prover().await;
    let job = world.claimed_jobs(1, "single").await[0];

    let proof = prover.prove(&[job]).await.unwrap();
    assert_eq!(proof.batch_size, 1);
    let receipt = ok(world.submit(&proof, world.operator).await);

    let completed = receipt
        .decoded_log::<JobMarketplace::JobCompleted>()
        .expect("JobCompleted");
    assert_eq!(completed.jobId, U256::from_be_bytes(job.job_id.0));
    assert_eq!(
        (completed.host, completed.outputHash),
        (world.host, job.output_hash)
    );
    let proven = receipt
        .decoded_log::<ProofSystem::BatchProven>()
        .expect("BatchProven");
    assert_eq!(
        (proven.host, proven.submitter),
        (world.host, world.operator)
    );
    assert_eq!(
        (proven.batchSize, proven.circuitVersion, proven.jobCount),
        (1, 1, U256::from(1))
    );
    assert_eq!(proven.proofHash, keccak256(&proof.proof));

    let stored = world
        .marketplace()
        .getJob(completed.jobId)
        .call()
        .await
        .unwrap();
    assert_eq!(stored.status, COMPLETED);
    assert_eq!(stored.outputHash, job.output_hash);
    assert_eq!(
        (stored.modelHash, stored.inputHash),
        (job.model_hash, job.input_hash)
    );
}

#[tokio::test]
async fn one_transaction_completes_a_full_and_a_partial_batch() {
    let world = World::new().await;
    let prover = common::prover().await;

    for (n, label) in [(16usize, "full16"), (3, "partial16")] {
        let jobs = world.claimed_jobs(n, label).await;
        let proof = prover.prove(&jobs).await.unwrap();
        assert_eq!(proof.batch_size, 16);
        let receipt = ok(world.submit(&proof, world.host).await);
        let completed: Vec<_> = receipt
            .inner
            .logs()
            .iter()
            .filter_map(|l| l.log_decode::<JobMarketplace::JobCompleted>().ok())
            .map(|l| (l.inner.data.jobId, l.inner.data.outputHash))
            .collect();
        let expected: Vec<_> = jobs
            .iter()
            .map(|j| (U256::from_be_bytes(j.job_id.0), j.output_hash))
            .collect();
        assert_eq!(
            completed, expected,
            "{label}: every job of the batch, in order, in one transaction"
        );
        for j in &jobs {
            let stored = world
                .marketplace()
                .getJob(U256::from_be_bytes(j.job_id.0))
                .call()
                .await
                .unwrap();
            assert_eq!(
                (stored.status, stored.outputHash),
                (COMPLETED, j.output_hash)
            );
        }
    }
}

#[tokio::test]
async fn a_batch_of_64_completes_64_jobs_in_one_transaction() {
    let world = World::new().await;
    let prover = common::prover().await;
    let jobs = world.claimed_jobs(64, "b64").await;
    let proof = prover.prove(&jobs).await.unwrap();
    assert_eq!(proof.batch_size, 64);
    let receipt = ok(world.submit(&proof, world.operator).await);
    let completed = receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.log_decode::<JobMarketplace::JobCompleted>().is_ok())
        .count();
    assert_eq!(completed, 64);
    assert_eq!(
        world
            .marketplace()
            .activeJobsOf(world.host)
            .call()
            .await
            .unwrap(),
        U256::from(64),
        "unpaid jobs stay active"
    );
}

#[tokio::test]
async fn every_misuse_of_a_proof_reverts_with_its_own_error() {
    let world = World::new().await;
    let prover = common::prover().await;
    let jobs = world.claimed_jobs(2, "misuse").await;
    let (a, b) = (jobs[0], jobs[1]);
    let proof_a = prover.prove(&[a]).await.unwrap();
    let proof_b = prover.prove(&[b]).await.unwrap();

    // A tampered output hash: the chain builds instances from it, the proof does not match.
    let mut tampered = proof_a.clone();
    tampered.jobs[0].output_hash = keccak256("a different output");
    assert_invalid_proof(&world, &tampered).await;

    // Job b's proof submitted for job a (with b's output): instances carry a's id and hashes.
    let mut swapped = proof_b.clone();
    swapped.jobs[0].job_id = a.job_id;
    assert_invalid_proof(&world, &swapped).await;

    // One flipped proof byte.
    let mut flipped = proof_a.clone();
    let mut bytes = flipped.proof.to_vec();
    bytes[500] ^= 0x01;
    flipped.proof = bytes.into();
    assert_invalid_proof(&world, &flipped).await;

    // A wrong sender: refused before verification.
    let err = world
        .try_submit(&proof_a, world.stranger)
        .await
        .unwrap_err();
    match marketplace_error(&err) {
        JobMarketplace::JobMarketplaceErrors::NotHostOrOperator(e) => {
            assert_eq!(
                (e.jobId, e.caller),
                (U256::from_be_bytes(a.job_id.0), world.stranger)
            )
        }
        other => panic!("expected NotHostOrOperator, got {other:?}"),
    }

    // The real proof lands once; the same proof again is a replay of a completed job.
    ok(world.submit(&proof_a, world.operator).await);
    let err = world
        .try_submit(&proof_a, world.operator)
        .await
        .unwrap_err();
    match marketplace_error(&err) {
        JobMarketplace::JobMarketplaceErrors::WrongStatus(e) => {
            assert_eq!(
                (e.jobId, e.status),
                (U256::from_be_bytes(a.job_id.0), COMPLETED)
            )
        }
        other => panic!("expected WrongStatus, got {other:?}"),
    }
    // A failed submission sent as a real transaction reverts on-chain and changes nothing.
    let reverted = world.submit(&tampered_for(&proof_b), world.operator).await;
    assert!(!reverted.status());
    assert_eq!(
        world
            .marketplace()
            .getJob(U256::from_be_bytes(b.job_id.0))
            .call()
            .await
            .unwrap()
            .status,
        2
    );

    // An expired job: its valid proof comes too late.
    world.advance(world::JOB_DURATION + 1).await;
    let err = world
        .try_submit(&proof_b, world.operator)
        .await
        .unwrap_err();
    match marketplace_error(&err) {
        JobMarketplace::JobMarketplaceErrors::JobExpiredAt(e) => {
            assert_eq!(e.jobId, U256::from_be_bytes(b.job_id.0))
        }
        other => panic!("expected JobExpiredAt, got {other:?}"),
    }
}

fn tampered_for(proof: &Proof) -> Proof {
    let mut p = proof.clone();
    p.jobs[0].output_hash = B256::repeat_byte(0x42);
    p
}

#[tokio::test]
async fn full_flow_create_claim_prove_submit_and_get_paid_after_the_dispute_window() {
    let world = World::new().await;
    let prover = common::prover().await;
    let market = world.marketplace();

    let (id, _) = world.create_job("the prompt").await;
    world.claim(id).await;
    let tuple = JobTuple {
        job_id: B256::from(id),
        model_hash: world::model(),
        input_hash: keccak256("the prompt"),
        output_hash: keccak256("the completion"),
    };
    let proof = prover.prove(&[tuple]).await.unwrap();
    assert!(
        prover.verify(&proof).await.unwrap(),
        "verified off-chain first"
    );
    ok(world.submit(&proof, world.operator).await);

    // Inside the dispute window the payment is held.
    let err = market
        .releasePayments(vec![id])
        .from(world.stranger)
        .call()
        .await
        .unwrap_err();
    assert!(
        matches!(
            marketplace_error(&err),
            JobMarketplace::JobMarketplaceErrors::DisputeWindowOpen(_)
        ),
        "{err}"
    );

    let window = market.disputeWindow().call().await.unwrap();
    world.advance(window + 1).await;
    let released = mined(market.releasePayments(vec![id]).from(world.stranger)).await;
    let event = released
        .decoded_log::<JobMarketplace::PaymentReleased>()
        .expect("PaymentReleased");
    // The default protocol fee is 1% (above ETH's 0.0001 ETH minimum); a fee of a tenth of
    // ETH's 0.005 ETH credit fee earns a tenth of a completion's reputation.
    let fee = U256::from(PAYMENT_WEI / 100);
    let host_amount = U256::from(PAYMENT_WEI) - fee;
    assert_eq!(
        (
            event.host,
            event.hostAmount,
            event.fee,
            event.reputationWeight
        ),
        (world.host, host_amount, fee, U256::from(1_000))
    );
    assert_eq!(market.getJob(id).call().await.unwrap().status, 5, "Paid");

    let before = world.provider.get_balance(world.host).await.unwrap();
    let receipt = mined(
        market
            .withdraw(alloy::primitives::Address::ZERO)
            .from(world.host),
    )
    .await;
    let after = world.provider.get_balance(world.host).await.unwrap();
    let gas_cost = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(
        after + gas_cost - before,
        host_amount,
        "the host received exactly the payment less the protocol fee"
    );
    assert_eq!(
        market.activeJobsOf(world.host).call().await.unwrap(),
        U256::ZERO
    );
}
