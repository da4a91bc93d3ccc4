//! The transaction manager on a real chain: anvil, the real deploy script, real proofs. Each
//! test produces its fault for real: a stuck transaction (automine off), a reorg
//! (`anvil_reorg`), an RPC outage (anvil stopped and restarted from its dumped state), a
//! restart with a transaction pending, a nonce taken by another sender of the key, a job
//! completed by someone else, a revert.

mod common;
mod world;

use std::future::Future;
use std::time::{Duration, Instant};

use alloy::network::ReceiptResponse;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ext::AnvilApi};
use alloy::rpc::types::TransactionRequest;
use vouch_bindings::contracts::NodeRegistry;
use vouch_keeper::prover::Proof;
use vouch_keeper::tx::{Backoff, Landed, TxConfig, TxError, TxManager};
use world::World;

/// Quick polls and retries for tests; generous limits so load does not fail them.
fn test_config() -> TxConfig {
    TxConfig {
        poll: Duration::from_millis(100),
        stuck_after: Duration::from_secs(600),
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            attempts: 120,
        },
        give_up_after: Duration::from_secs(240),
        ..TxConfig::default()
    }
}

async fn manager(world: &World, account: Address, config: TxConfig) -> TxManager {
    TxManager::new(
        world.reader(),
        world.wallet_of(account),
        world.deployment.clone(),
        config,
    )
    .await
    .unwrap()
}

/// Waits (bounded, 120 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded, 120 s) until `get` returns something, and returns it.
async fn until_some<T, F, Fut>(what: &str, mut get: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = get().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The hashes and max fees of `from`'s transactions in anvil's pool (`txpool_content`).
async fn pooled(world: &World, from: Address) -> Vec<(B256, u128)> {
    let content: serde_json::Value = world
        .reader()
        .raw_request("txpool_content".into(), ())
        .await
        .unwrap();
    let mut out = Vec::new();
    for section in ["pending", "queued"] {
        let Some(senders) = content[section].as_object() else {
            continue;
        };
        for (sender, txs) in senders {
            if sender.parse::<Address>().ok() != Some(from) {
                continue;
            }
            for tx in txs.as_object().unwrap().values() {
                let hash: B256 = tx["hash"].as_str().unwrap().parse().unwrap();
                let fee = u128::from_str_radix(
                    tx["maxFeePerGas"].as_str().unwrap().trim_start_matches("0x"),
                    16,
                )
                .unwrap();
                out.push((hash, fee));
            }
        }
    }
    out
}

async fn completed_at(world: &World, job: B256) -> u64 {
    let stored = world
        .marketplace()
        .getJob(U256::from_be_bytes(job.0))
        .call()
        .await
        .unwrap();
    stored.completedAt.to::<u64>()
}

/// How many `JobCompleted` logs the canonical chain holds for `job`.
async fn completions(world: &World, job: B256) -> usize {
    let filter = alloy::rpc::types::Filter::new()
        .address(world.deployment.contracts.job_marketplace)
        .event_signature(
            <vouch_bindings::contracts::JobMarketplace::JobCompleted as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
        )
        .topic1(job)
        .from_block(0);
    world.provider.get_logs(&filter).await.unwrap().len()
}

async fn mined_nonce(world: &World, account: Address) -> u64 {
    world
        .provider
        .get_transaction_count(account)
        .latest()
        .await
        .unwrap()
}

fn heartbeat(world: &World) -> TransactionRequest {
    NodeRegistry::new(world.deployment.contracts.node_registry, &world.provider)
        .heartbeat(world.host)
        .into_transaction_request()
}

/// One claimed job and its B=1 proof.
async fn one_proof(world: &World, label: &str) -> Proof {
    let jobs = world.claimed_jobs(1, label).await;
    common::prover().await.prove(&jobs).await.unwrap()
}

fn assert_landed(landed: &Landed, nonce: u64, replacements: u32, resubmissions: u32) {
    assert!(landed.status);
    assert_eq!(landed.nonce, nonce, "{landed:?}");
    assert_eq!(landed.replacements, replacements, "{landed:?}");
    assert_eq!(landed.resubmissions, resubmissions, "{landed:?}");
}

#[tokio::test]
async fn a_stuck_transaction_is_replaced_with_bumped_fees_and_lands() {
    let world = World::new().await;
    let proof = one_proof(&world, "stuck").await;
    let job = proof.jobs[0].job_id;
    let config = TxConfig {
        stuck_after: Duration::from_secs(2),
        priority_fee: 1, // a low tip
        ..test_config()
    };
    let m = manager(&world, world.operator, config).await;
    let nonce = m.next_nonce().await.unwrap();
    world.provider.anvil_set_auto_mine(false).await.unwrap();

    let task = tokio::spawn({
        let m = m.clone();
        let proof = proof.clone();
        async move { m.land_proof(&proof).await }
    });
    let (first_hash, first_fee) = until_some("the first version in the pool", || async {
        pooled(&world, world.operator).await.first().copied()
    })
    .await;
    // Nothing is mined: after stuck_after the manager replaces it (same nonce, so anvil's pool
    // holds the replacement in its place).
    let (_, replaced_fee) = until_some("a replacement in the pool", || async {
        pooled(&world, world.operator)
            .await
            .into_iter()
            .find(|(h, _)| *h != first_hash)
    })
    .await;
    assert!(
        replaced_fee * 1000 >= first_fee * 1125,
        "bumped {first_fee} -> {replaced_fee}"
    );
    assert_eq!(pooled(&world, world.operator).await.len(), 1);

    // Mining resumes.
    world.provider.anvil_set_auto_mine(true).await.unwrap();
    world.provider.anvil_mine(Some(1), None).await.unwrap();
    let landed = task.await.unwrap().unwrap();
    assert!(landed.replacements >= 1, "{landed:?}");
    assert_eq!(landed.nonce, nonce);
    assert_ne!(landed.tx_hash, first_hash);
    let tx = world
        .provider
        .get_transaction_by_hash(landed.tx_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(alloy::consensus::Transaction::max_fee_per_gas(&tx) >= replaced_fee);
    assert_eq!(
        world
            .provider
            .get_transaction_receipt(first_hash)
            .await
            .unwrap(),
        None
    );
    assert_ne!(completed_at(&world, job).await, 0);
    assert_eq!(completions(&world, job).await, 1);
    assert_eq!(mined_nonce(&world, world.operator).await, nonce + 1);
}

#[tokio::test]
async fn a_reorg_that_drops_a_landed_batch_resubmits_it_and_it_lands() {
    let world = World::new().await;
    let jobs = world.claimed_jobs(3, "reorg").await;
    let proof = common::prover().await.prove(&jobs).await.unwrap();
    assert_eq!(proof.batch_size, 16);
    let config = TxConfig {
        confirmations: 3,
        ..test_config()
    };
    let m = manager(&world, world.operator, config).await;
    let nonce = m.next_nonce().await.unwrap();
    let task = tokio::spawn({
        let m = m.clone();
        let proof = proof.clone();
        async move { m.land_proof(&proof).await }
    });
    eventually("the batch mined", || async {
        completed_at(&world, jobs[0].job_id).await != 0
    })
    .await;
    let first_block = world.provider.get_block_number().await.unwrap();
    let first_hash = world
        .provider
        .get_block_by_number(first_block.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    // Let the manager see the receipt (it polls every 100 ms) before the block goes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!task.is_finished(), "3 confirmations need 2 more blocks");

    // Replace the batch's block with an empty one: the batch is gone from the chain.
    let _: serde_json::Value = world
        .reader()
        .raw_request("anvil_reorg".into(), (1u64, Vec::<()>::new()))
        .await
        .unwrap();
    assert_eq!(completed_at(&world, jobs[0].job_id).await, 0);

    // Blocks keep coming; the manager resubmits (automine mines it at once) and waits 3 deep.
    let miner = tokio::spawn({
        let p = world.reader();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = p.anvil_mine(Some(1), None).await;
            }
        }
    });
    let landed = task.await.unwrap().unwrap();
    miner.abort();
    assert_landed(&landed, nonce, 0, 1);
    assert!(landed.block_number > first_block, "{landed:?}");
    let now_at_first = world
        .provider
        .get_block_by_number(first_block.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    assert_ne!(now_at_first, first_hash);
    for job in &jobs {
        assert_ne!(completed_at(&world, job.job_id).await, 0);
        assert_eq!(completions(&world, job.job_id).await, 1);
    }
    assert_eq!(mined_nonce(&world, world.operator).await, nonce + 1);
}

/// A free local port (bound, then released for anvil).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn anvil_with_state(port: u16, state: &std::path::Path) -> alloy::node_bindings::AnvilInstance {
    alloy::node_bindings::Anvil::at(vouch_testkit::anvil_path())
        .port(port)
        .arg("--state")
        .arg(state.to_str().unwrap())
        .spawn()
}

/// Stops anvil as an operator would (SIGINT), so it dumps its state on the way out.
fn stop(anvil: &mut alloy::node_bindings::AnvilInstance) {
    let pid = anvil.child().id();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    anvil.child_mut().wait().unwrap();
}

#[tokio::test]
async fn an_rpc_outage_mid_batch_is_ridden_out_and_the_batch_lands_after_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("anvil-state.json");
    let port = free_port();
    let mut world = World::on(anvil_with_state(port, &state)).await;
    let proof = one_proof(&world, "outage").await;
    let job = proof.jobs[0].job_id;
    let m = manager(&world, world.operator, test_config()).await;
    let nonce = m.next_nonce().await.unwrap();
    world.provider.anvil_set_auto_mine(false).await.unwrap();
    let task = tokio::spawn({
        let m = m.clone();
        let proof = proof.clone();
        async move { m.land_proof(&proof).await }
    });
    let (sent_hash, _) = until_some("the batch's transaction in the pool", || async {
        pooled(&world, world.operator).await.first().copied()
    })
    .await;

    // The node goes away with the transaction in its pool (a restart loses the pool).
    stop(&mut world.anvil);
    let outage = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!task.is_finished());
    world.anvil = anvil_with_state(port, &state);

    let landed = task.await.unwrap().unwrap();
    assert!(outage.elapsed() >= Duration::from_secs(3));
    // The same signed bytes were broadcast again: same hash, same nonce.
    assert_landed(&landed, nonce, 0, 0);
    assert_eq!(landed.tx_hash, sent_hash);
    assert_ne!(completed_at(&world, job).await, 0);
    assert_eq!(completions(&world, job).await, 1);
    assert_eq!(mined_nonce(&world, world.operator).await, nonce + 1);
}

#[tokio::test]
async fn after_a_restart_with_a_pending_tx_the_nonce_resyncs_from_the_chain_without_a_gap() {
    let world = World::new().await;
    let before = manager(&world, world.operator, test_config()).await;
    let nonce = before.next_nonce().await.unwrap();
    world.provider.anvil_set_auto_mine(false).await.unwrap();
    let task = tokio::spawn({
        let m = before.clone();
        let tx = heartbeat(&world);
        async move { m.send(tx, None).await }
    });
    eventually("the heartbeat in the pool", || async {
        !pooled(&world, world.operator).await.is_empty()
    })
    .await;
    let (pending_hash, _) = pooled(&world, world.operator).await[0];
    // The keeper dies with its transaction pending.
    task.abort();
    drop(before);

    let after = manager(&world, world.operator, test_config()).await;
    assert_eq!(after.next_nonce().await, Some(nonce + 1));
    world.provider.anvil_set_auto_mine(true).await.unwrap();
    world.provider.anvil_mine(Some(1), None).await.unwrap();
    let landed = after.send(heartbeat(&world), None).await.unwrap();
    assert_landed(&landed, nonce + 1, 0, 0);
    let first = world
        .provider
        .get_transaction_receipt(pending_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(first.status());
    assert_eq!(mined_nonce(&world, world.operator).await, nonce + 2);
}

#[tokio::test]
async fn a_nonce_taken_by_another_sender_of_the_key_is_resynced_and_the_call_lands() {
    let world = World::new().await;
    let m = manager(&world, world.operator, test_config()).await;
    let nonce = m.next_nonce().await.unwrap();
    // Another process with the same key sends first and takes the tracked nonce.
    world::mined(
        NodeRegistry::new(world.deployment.contracts.node_registry, &world.provider)
            .heartbeat(world.host)
            .from(world.operator),
    )
    .await;
    let landed = m.send(heartbeat(&world), None).await.unwrap();
    assert_landed(&landed, nonce + 1, 0, 1);
    assert_eq!(m.next_nonce().await, Some(nonce + 2));
    assert_eq!(mined_nonce(&world, world.operator).await, nonce + 2);
}

#[tokio::test]
async fn a_job_completed_by_someone_else_is_reported_done_and_never_resubmitted() {
    let world = World::new().await;
    let prover = common::prover().await;
    let jobs = world.claimed_jobs(2, "idem").await;
    let both = prover.prove(&jobs).await.unwrap();
    let first_only = prover.prove(&jobs[..1]).await.unwrap();
    // The host's own key (not the keeper's operator key) lands the first job.
    world::ok(world.submit(&first_only, world.host).await);

    let m = manager(&world, world.operator, test_config()).await;
    let nonce = m.next_nonce().await.unwrap();
    match m.land_proof(&both).await {
        Err(TxError::JobsChanged { done, gone }) => {
            assert_eq!(done, vec![jobs[0].job_id]);
            assert_eq!(gone, Vec::<B256>::new());
        }
        other => panic!("expected JobsChanged, got {other:?}"),
    }
    // Nothing was sent.
    assert_eq!(mined_nonce(&world, world.operator).await, nonce);
    assert_eq!(m.next_nonce().await, Some(nonce));

    // The rest, proven again, lands; landing it once more sends nothing.
    let rest = prover.prove(&jobs[1..]).await.unwrap();
    let landed = m.land_proof(&rest).await.unwrap();
    assert_landed(&landed, nonce, 0, 0);
    match m.land_proof(&rest).await {
        Err(TxError::JobsChanged { done, gone }) => {
            assert_eq!(done, vec![jobs[1].job_id]);
            assert!(gone.is_empty());
        }
        other => panic!("expected JobsChanged, got {other:?}"),
    }
    assert_eq!(mined_nonce(&world, world.operator).await, nonce + 1);
    for job in &jobs {
        assert_eq!(completions(&world, job.job_id).await, 1);
    }
}

#[tokio::test]
async fn reverts_are_decoded_to_the_contracts_custom_errors() {
    let world = World::new().await;
    let proof = one_proof(&world, "revert").await;
    let id = U256::from_be_bytes(proof.jobs[0].job_id.0);
    // A stranger's keeper submits a proof of a job claimed by another host.
    let m = manager(&world, world.stranger, test_config()).await;
    let nonce = m.next_nonce().await.unwrap();
    match m.land_proof(&proof).await {
        Err(TxError::Reverted { name, reason }) => {
            assert_eq!(name, "NotHostOrOperator");
            assert_eq!(
                reason,
                format!("NotHostOrOperator {{ jobId: {id}, caller: {:?} }}", world.stranger)
            );
        }
        other => panic!("expected a revert, got {other:?}"),
    }
    // A heartbeat for a host it does not operate, through `send` (the estimate reverts).
    match m.send(heartbeat(&world), None).await {
        Err(TxError::Reverted { name, reason }) => {
            assert_eq!(name, "NotAuthorized");
            assert_eq!(
                reason,
                format!(
                    "NotAuthorized {{ caller: {:?}, host: {:?} }}",
                    world.stranger, world.host
                )
            );
        }
        other => panic!("expected a revert, got {other:?}"),
    }
    assert_eq!(mined_nonce(&world, world.stranger).await, nonce);
    assert_eq!(m.next_nonce().await, Some(nonce));
}

#[tokio::test]
async fn send_lands_other_calls_and_land_proof_a_batch_within_its_gas_limit() {
    let world = World::new().await;
    let jobs = world.claimed_jobs(16, "full").await;
    let proof = common::prover().await.prove(&jobs).await.unwrap();
    let m = manager(&world, world.operator, test_config()).await;
    let nonce = m.next_nonce().await.unwrap();
    let beat = m.send(heartbeat(&world), None).await.unwrap();
    assert_landed(&beat, nonce, 0, 0);
    let landed = m.land_proof(&proof).await.unwrap();
    assert_landed(&landed, nonce + 1, 0, 0);
    let receipt = world
        .provider
        .get_transaction_receipt(landed.tx_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(receipt.gas_used(), landed.gas_used);
    let tx = world
        .provider
        .get_transaction_by_hash(landed.tx_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        alloy::consensus::Transaction::gas_limit(&tx),
        vouch_keeper::tx::proof_gas_limit(16)
    );
    for job in &jobs {
        assert_eq!(completions(&world, job.job_id).await, 1);
    }
}
