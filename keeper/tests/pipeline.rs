//! The whole keeper (`service::Keeper::start`) on a real chain (anvil, the real deploy script),
//! with the real EZKL prover and real databases: results posted over HTTP are proven in
//! batches and land on chain exactly once, in as few transactions as the batch size allows;
//! a result shows `submitted` with its transaction's hash while it lands; a keeper stopped
//! with its batch still pending is reconciled at the next start, never sent twice.

mod common;
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::providers::{Provider, ext::AnvilApi};
use serde_json::{Value, json};
use vouch_keeper::prover::{JobTuple, Prover};
use vouch_keeper::queue::ResultState;
use vouch_keeper::service::{Keeper, KeeperConfig, KeeperHandle};
use world::{World, output_text};

fn config(world: &World, database: &str, prover: Arc<Prover>) -> KeeperConfig {
    world.keeper_config(database, prover)
}

async fn post_result(keeper: &KeeperHandle, job: &JobTuple, text: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/results", keeper.addr()))
        .json(&json!({ "jobId": format!("{:#x}", job.job_id), "output": text }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(keeper: &KeeperHandle, path: &str) -> String {
    reqwest::get(format!("http://{}{path}", keeper.addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits (bounded) until `n` results are confirmed.
async fn until_confirmed(keeper: &KeeperHandle, n: u64, within: Duration) {
    let start = Instant::now();
    loop {
        let depth = keeper.intake().queue().depth().await.unwrap();
        if depth[&ResultState::Confirmed] == n {
            return;
        }
        assert!(start.elapsed() < within, "only {depth:?} after {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each job completed exactly once, with its result's output; returns the transactions.
async fn completed_once(world: &World, jobs: &[JobTuple]) -> BTreeSet<B256> {
    let completions = world.completions().await;
    let mut by_job: BTreeMap<B256, Vec<(B256, B256)>> = BTreeMap::new();
    for (job, output, tx) in completions {
        by_job.entry(job).or_default().push((output, tx));
    }
    assert_eq!(by_job.len(), jobs.len());
    for job in jobs {
        let seen = &by_job[&job.job_id];
        assert_eq!(
            seen.len(),
            1,
            "job {} completed {} times",
            job.job_id,
            seen.len()
        );
        assert_eq!(seen[0].0, job.output_hash);
    }
    by_job.values().map(|v| v[0].1).collect()
}

#[tokio::test]
async fn a_hundred_results_over_http_land_exactly_once_in_ceil_100_over_64_transactions() {
    let world = World::new().await;
    let prover = Arc::new(common::prover().await);
    let jobs = world.many_claimed_jobs(100, "pipeline").await;
    let db = vouch_testkit::FreshSqlite::create();
    let mut cfg = config(&world, &db.url, prover);
    // Long enough for all 100 to arrive: only the size or this limit flushes a batch.
    cfg.batch.max_wait = Duration::from_secs(5);
    let keeper = Keeper::start(cfg).await.unwrap();
    let keeper = Arc::new(keeper);

    let mut posts = tokio::task::JoinSet::new();
    for (i, job) in jobs.iter().enumerate() {
        let (keeper, job) = (keeper.clone(), *job);
        posts.spawn(async move { post_result(&keeper, &job, &output_text("pipeline", i)).await });
    }
    while let Some(reply) = posts.join_next().await {
        let (status, body) = reply.unwrap();
        assert_eq!(status, 202, "{body}");
    }
    until_confirmed(&keeper, 100, Duration::from_secs(120)).await;

    let txs = completed_once(&world, &jobs).await;
    assert_eq!(txs.len(), 2, "ceil(100/64) proof transactions");
    let rows = keeper
        .intake()
        .queue()
        .in_state(ResultState::Confirmed, 1000)
        .await
        .unwrap();
    let recorded: BTreeSet<B256> = rows.iter().map(|r| r.tx_hash.expect("a tx hash")).collect();
    assert_eq!(recorded, txs);
    let status: Value =
        serde_json::from_str(&get(&keeper, &format!("/v1/results/{:#x}", jobs[7].job_id)).await)
            .unwrap();
    assert_eq!(status["state"], "confirmed");
    let hash: B256 = status["txHash"].as_str().unwrap().parse().unwrap();
    assert!(txs.contains(&hash));

    // The operator sent the 100 claims and the 2 proofs, nothing else: no gap, no extra.
    let nonce = world
        .provider
        .get_transaction_count(world.operator)
        .await
        .unwrap();
    assert_eq!(nonce, 102);
    let metrics = get(&keeper, "/metrics").await;
    for line in [
        "vouch_keeper_queue_depth{state=\"confirmed\"} 100",
        "vouch_keeper_queue_depth{state=\"accepted\"} 0",
        "vouch_keeper_results_accepted_total 100",
        "vouch_keeper_proofs_total 2",
        "vouch_keeper_jobs_proven_total 100",
        "vouch_keeper_transactions_total 2",
        "vouch_keeper_jobs_confirmed_total 100",
        "vouch_keeper_proof_seconds_count 2",
        "vouch_keeper_tx_seconds_count 2",
        "vouch_keeper_replacements_total 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    let gas: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("vouch_keeper_gas_used_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!((2_500_000..6_000_000).contains(&gas), "gas {gas}");
    Arc::into_inner(keeper).unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn on_postgres_a_pending_batch_shows_submitted_and_a_restart_reconciles_it_without_resending()
{
    let world = World::new().await;
    let prover = Arc::new(common::prover().await);
    let jobs = world.many_claimed_jobs(16, "pg").await;
    let db = vouch_testkit::FreshPostgres::create().await;
    let mut cfg = config(&world, &db.url, prover.clone());
    // All 16 arrive within it: one batch.
    cfg.batch.max_wait = Duration::from_secs(5);
    cfg.shutdown_grace = Duration::ZERO;
    let keeper = Keeper::start(cfg).await.unwrap();
    // Blocks only when asked: the batch's transaction stays pending.
    world.provider.anvil_set_auto_mine(false).await.unwrap();
    for (i, job) in jobs.iter().enumerate() {
        let (status, body) = post_result(&keeper, job, &output_text("pg", i)).await;
        assert_eq!(status, 202, "{body}");
    }
    let path = format!("/v1/results/{:#x}", jobs[3].job_id);
    let start = Instant::now();
    let pending: B256 = loop {
        let status: Value = serde_json::from_str(&get(&keeper, &path).await).unwrap();
        if status["state"] == "submitted" {
            break status["txHash"]
                .as_str()
                .expect("submitted with its hash")
                .parse()
                .unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never submitted: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let tx = world
        .provider
        .get_transaction_by_hash(pending)
        .await
        .unwrap();
    assert!(tx.is_some(), "the reported hash is in the node's pool");
    // Stopped with no grace: the batch is parked in `submitted`.
    keeper.shutdown().await.unwrap();
    let queue = vouch_keeper::queue::Queue::open(&db.url).await.unwrap();
    assert_eq!(queue.depth().await.unwrap()[&ResultState::Submitted], 16);

    // The pending transaction lands while no keeper runs; the restart finds it on chain.
    world.provider.anvil_set_auto_mine(true).await.unwrap();
    world.provider.anvil_mine(Some(1), None).await.unwrap();
    let keeper = Keeper::start(config(&world, &db.url, prover))
        .await
        .unwrap();
    assert_eq!(keeper.reconciled().confirmed, 16);
    assert_eq!(keeper.reconciled().requeued, 0);
    let rows = queue.in_state(ResultState::Confirmed, 100).await.unwrap();
    assert_eq!(rows.len(), 16);
    assert!(rows.iter().all(|r| r.tx_hash == Some(pending)));
    let txs = completed_once(&world, &jobs).await;
    assert_eq!(txs, BTreeSet::from([pending]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let nonce = world
        .provider
        .get_transaction_count(world.operator)
        .await
        .unwrap();
    assert_eq!(nonce, 16 + 1, "16 claims and one proof");
    keeper.shutdown().await.unwrap();
}
