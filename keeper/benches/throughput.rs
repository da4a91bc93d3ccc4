//! End-to-end throughput of one keeper (`service::Keeper::start`): results posted over HTTP to
//! intake, proven in batches by the real EZKL prover, landed on anvil, confirmed; and the gas
//! per job the keeper's proof transactions cost at each batch size.
//!
//!     bash script/setup.sh
//!     cargo bench -p vouch-keeper --bench throughput
//!
//! `VOUCH_BENCH_SECS` (default 60): how long results are fed; the jobs/s is what was
//! confirmed on chain in that window divided by it (ramp-up included). `VOUCH_BENCH_POSTERS`
//! (default 16) concurrent intake clients. Jobs are created and claimed before the clock
//! starts, many per block (automine off), on an anvil with `--prune-history 256` (old states dropped: a long run stays fast).
//! Results go to docs/benchmarks.md.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/world/mod.rs"]
mod world;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{Provider, ext::AnvilApi};
use alloy::signers::local::PrivateKeySigner;
use serde_json::json;
use vouch_bindings::contracts::JobMarketplace;
use vouch_keeper::batcher::BatchPolicy;
use vouch_keeper::prover::{JobTuple, Prover};
use vouch_keeper::queue::ResultState;
use vouch_keeper::service::{Keeper, KeeperConfig, KeeperHandle};
use world::{JOB_DURATION, PAYMENT_WEI, World, model};

fn main() {
    tokio::runtime::Runtime::new()
        .expect("a tokio runtime")
        .block_on(run());
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run() {
    let secs = env_u64("VOUCH_BENCH_SECS", 60);
    let posters = env_u64("VOUCH_BENCH_POSTERS", 16) as usize;
    let anvil = alloy::node_bindings::Anvil::at(vouch_testkit::anvil_path())
        .args(["--prune-history", "256"])
        .spawn();
    let world = World::on(anvil).await;
    let prover = Arc::new(common::prover().await);

    // Gas per job by batch size: two full batches at each size, one size at a time.
    let mut gas_rows = Vec::new();
    for b in [1usize, 16, 64] {
        let jobs = bulk_claimed_jobs(&world, 2 * b, &format!("gas{b}")).await;
        let db = vouch_testkit::FreshSqlite::create();
        let mut cfg = config(&world, &db.url, prover.clone());
        cfg.batch = BatchPolicy {
            sizes: vec![b],
            max_wait: Duration::from_secs(600),
            land_time: Duration::from_secs(60),
        };
        let keeper = Keeper::start(cfg).await.unwrap();
        feed(&keeper, &jobs, 8, Duration::from_secs(600)).await;
        until_confirmed(&keeper, jobs.len() as u64).await;
        let m = keeper.metrics();
        let gas = m.gas_used.load(Ordering::Relaxed);
        let txs = m.transactions.load(Ordering::Relaxed);
        gas_rows.push((b, txs, gas / jobs.len() as u64, gas / txs.max(1)));
        keeper.shutdown().await.unwrap();
    }

    // Throughput: enough claimed jobs for 150 jobs/s over the window.
    let n = (150 * secs) as usize;
    let prep = Instant::now();
    let jobs = bulk_claimed_jobs(&world, n, "tp").await;
    println!(
        "prepared {n} claimed jobs in {:.1} s",
        prep.elapsed().as_secs_f64()
    );
    let db = vouch_testkit::FreshSqlite::create();
    let mut cfg = config(&world, &db.url, prover.clone());
    cfg.batch.max_wait = Duration::from_secs(1);
    let keeper = Arc::new(Keeper::start(cfg).await.unwrap());
    let load_before = load_average();
    let started = Instant::now();
    let window = Duration::from_secs(secs);
    let accepted = {
        let keeper = keeper.clone();
        let jobs = jobs.clone();
        tokio::spawn(async move { feed(&keeper, &jobs, posters, window).await })
    };
    tokio::time::sleep(window).await;
    let depth = keeper.intake().queue().depth().await.unwrap();
    let confirmed_in_window = depth[&ResultState::Confirmed];
    let accepted = accepted.await.unwrap();
    until_confirmed(&keeper, accepted as u64).await;
    let drained = started.elapsed();
    let load_after = load_average();
    let m = keeper.metrics();
    let gas = m.gas_used.load(Ordering::Relaxed);
    let txs = m.transactions.load(Ordering::Relaxed);
    let proofs = m.proofs.load(Ordering::Relaxed);
    let failed = depth[&ResultState::Failed];
    Arc::into_inner(keeper).unwrap().shutdown().await.unwrap();

    println!("\n| batch size | proof txs | gas per job | gas per tx |");
    println!("| ---: | ---: | ---: | ---: |");
    for (b, txs, per_job, per_tx) in gas_rows {
        println!("| {b} | {txs} | {per_job} | {per_tx} |");
    }
    println!(
        "\nthroughput: {} results accepted in {secs} s ({:.1}/s), {confirmed_in_window} confirmed on chain within the window: {:.1} jobs/s end to end",
        accepted,
        accepted as f64 / secs as f64,
        confirmed_in_window as f64 / secs as f64
    );
    println!(
        "all {accepted} confirmed after {:.1} s ({:.1} jobs/s); {proofs} proofs, {txs} transactions, {:.0} gas per job, {failed} failed",
        drained.as_secs_f64(),
        accepted as f64 / drained.as_secs_f64(),
        gas as f64 / accepted.max(1) as f64
    );
    println!("load average before: {load_before}; after: {load_after}");
}

fn config(world: &World, database: &str, prover: Arc<Prover>) -> KeeperConfig {
    let key: PrivateKeySigner = world.anvil.keys()[2].clone().into();
    let mut cfg = KeeperConfig::new(
        world.reader(),
        world.deployment.clone(),
        key,
        database.to_owned(),
        prover,
    );
    cfg.host = world.host;
    cfg.watcher = vouch_keeper::watcher::WatcherConfig::new(world.host);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.poll = Duration::from_millis(50);
    cfg.tx.poll = Duration::from_millis(20);
    cfg
}

/// Posts the jobs' results with `posters` concurrent clients until all are accepted or
/// `window` ends; returns how many were accepted.
async fn feed(keeper: &KeeperHandle, jobs: &[JobTuple], posters: usize, window: Duration) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let end = Instant::now() + window;
    let jobs: Arc<Vec<JobTuple>> = Arc::new(jobs.to_vec());
    let url = format!("http://{}/v1/results", keeper.addr());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..posters {
        let (next, accepted, jobs, url) =
            (next.clone(), accepted.clone(), jobs.clone(), url.clone());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            while Instant::now() < end {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let reply = client
                    .post(&url)
                    .json(&json!({ "jobId": format!("{:#x}", job.job_id), "outputHash": format!("{:#x}", job.output_hash) }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 202, "{}", reply.text().await.unwrap());
                accepted.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(t) = tasks.join_next().await {
        t.unwrap();
    }
    accepted.load(Ordering::Relaxed)
}

async fn until_confirmed(keeper: &KeeperHandle, n: u64) {
    let start = Instant::now();
    loop {
        let depth = keeper.intake().queue().depth().await.unwrap();
        if depth[&ResultState::Confirmed] >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "stuck at {depth:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `n` claimed jobs, many per block: automine off, every createJob sent with an explicit gas
/// limit, blocks mined until all are in, then the claims likewise.
async fn bulk_claimed_jobs(world: &World, n: usize, label: &str) -> Vec<JobTuple> {
    let p = &world.provider;
    let market = world.deployment.contracts.job_marketplace;
    let deadline = world.now().await + JOB_DURATION;
    p.anvil_set_auto_mine(false).await.unwrap();
    let mut renter_nonce = p.get_transaction_count(world.renter).await.unwrap();
    let mut hashes = Vec::with_capacity(n);
    let mut inputs = Vec::with_capacity(n);
    for i in 0..n {
        let input = keccak256(format!("{label} input {i}"));
        let call = JobMarketplace::createJobCall {
            modelHash: model(),
            inputHash: input,
            token: Address::ZERO,
            payment: alloy::primitives::Uint::from(PAYMENT_WEI),
            deadline: alloy::primitives::Uint::from(deadline),
            offeredHost: Address::ZERO,
            minReputation: 0,
        };
        let tx = alloy::rpc::types::TransactionRequest::default()
            .with_from(world.renter)
            .with_to(market)
            .with_call(&call)
            .with_value(U256::from(PAYMENT_WEI))
            .with_nonce(renter_nonce)
            .with_gas_limit(400_000)
            .with_max_fee_per_gas(10_000_000_000)
            .with_max_priority_fee_per_gas(1_000_000);
        renter_nonce += 1;
        hashes.push(*p.send_transaction(tx).await.unwrap().tx_hash());
        inputs.push(input);
    }
    mine_all(world, &hashes).await;
    let mut ids = Vec::with_capacity(n);
    for h in &hashes {
        let r = p.get_transaction_receipt(*h).await.unwrap().unwrap();
        assert!(r.status());
        ids.push(
            r.decoded_log::<JobMarketplace::JobCreated>()
                .expect("JobCreated")
                .jobId,
        );
    }
    let mut op_nonce = p.get_transaction_count(world.operator).await.unwrap();
    let mut claims = Vec::with_capacity(n);
    for id in &ids {
        let call = JobMarketplace::claimJobCall {
            jobId: *id,
            host: world.host,
        };
        let tx = alloy::rpc::types::TransactionRequest::default()
            .with_from(world.operator)
            .with_to(market)
            .with_call(&call)
            .with_nonce(op_nonce)
            .with_gas_limit(300_000)
            .with_max_fee_per_gas(10_000_000_000)
            .with_max_priority_fee_per_gas(1_000_000);
        op_nonce += 1;
        claims.push(*p.send_transaction(tx).await.unwrap().tx_hash());
    }
    mine_all(world, &claims).await;
    for h in &claims {
        assert!(
            p.get_transaction_receipt(*h)
                .await
                .unwrap()
                .unwrap()
                .status()
        );
    }
    p.anvil_set_auto_mine(true).await.unwrap();
    ids.iter()
        .zip(inputs)
        .enumerate()
        .map(|(i, (id, input))| JobTuple {
            job_id: B256::from(*id),
            model_hash: model(),
            input_hash: input,
            output_hash: keccak256(format!("{label} output {i}")),
        })
        .collect()
}

/// Mines blocks until every one of `hashes` has a receipt.
async fn mine_all(world: &World, hashes: &[B256]) {
    let p = &world.provider;
    let last = *hashes.last().expect("at least one transaction");
    for _ in 0..10_000 {
        p.anvil_mine(Some(1), None).await.unwrap();
        if p.get_transaction_receipt(last).await.unwrap().is_some() {
            return;
        }
    }
    panic!("transactions not mined");
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
