//! Live latency: from a block's mining to its rows committed, with the indexer following the
//! head of the saved bench chain (one transaction per block, mined by `evm_mine`).
//!
//!     cargo bench -p vouch-indexer --bench live_latency
//!
//! The indexer first catches up with the bench chain (backfill, then the default 128-block
//! window followed block by block), then, for each of SQLite and PostgreSQL and each of HTTP
//! and websocket, N (`VOUCH_BENCH_TXS`, default 200) heartbeats are sent one by one. Latency of
//! one block = the instant the indexer's `on_progress` reports the block committed minus the
//! instant anvil's answer to the `evm_mine` that mined it reached the sender (both in this
//! process). (With automine, anvil stalled with one heartbeat pending after ~80 blocks.) Between transactions the
//! sender waits a random 0-250 ms so blocks do not fall in phase with the poll interval.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::providers::ext::AnvilApi;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use rand::Rng;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::NodeRegistry;
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::SeaStore;
use vouch_indexer::{Indexer, IndexerConfig};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    tokio::runtime::Runtime::new()
        .expect("a tokio runtime")
        .block_on(run());
}

type Commits = Arc<Mutex<HashMap<u64, Instant>>>;

async fn run() {
    let n: usize = std::env::var("VOUCH_BENCH_TXS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let summary = support::load_summary();
    let deployment = Deployment::load(&support::deployment_file()).expect("deployment.json");
    let anvil = support::anvil_on_saved_chain();
    let signer: PrivateKeySigner = anvil.keys()[1 + support::HOSTS].clone().into();
    let host = PrivateKeySigner::from(anvil.keys()[1].clone()).address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url())
        .erased();
    let registry = NodeRegistry::new(deployment.contracts.node_registry, &provider);
    provider.anvil_set_auto_mine(false).await.unwrap();
    println!(
        "bench chain: {} events up to block {}; {} heartbeats per case; poll interval {:?} (load {})",
        summary.events,
        summary.head,
        n,
        IndexerConfig::default().poll,
        support::load_average()
    );

    let mut rows = Vec::new();
    for db in ["sqlite", "postgres"] {
        let (pg, lite);
        let url = if db == "postgres" {
            pg = vouch_testkit::FreshPostgres::create().await;
            pg.url.clone()
        } else {
            lite = vouch_testkit::FreshSqlite::create();
            lite.url.clone()
        };
        for (transport, endpoint) in [
            ("HTTP", anvil.endpoint()),
            ("websocket", anvil.ws_endpoint()),
        ] {
            // Same database: the websocket run resumes where the HTTP run stopped.
            let book = AddressBook::new(&deployment);
            let source = ChainSource::connect(&endpoint, book.addresses(), Backoff::default())
                .await
                .unwrap();
            let store = SeaStore::connect(&url).await.unwrap();
            let mut indexer = Indexer::open(source, store, &deployment, IndexerConfig::default())
                .await
                .unwrap();
            let commits: Commits = Arc::default();
            // Already indexed (the second transport resumes at the checkpoint): caught up.
            let resumed = indexer.next_block().saturating_sub(1);
            commits.lock().unwrap().insert(resumed, Instant::now());
            let c = commits.clone();
            indexer.on_progress(move |p| {
                c.lock().unwrap().insert(p.indexed, Instant::now());
            });
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let t = Instant::now();
            let task = tokio::spawn(async move {
                indexer
                    .run(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .map(|_| ())
            });
            let head = provider.get_block_number().await.unwrap();
            wait_for(&commits, head, Duration::from_secs(600)).await;
            println!(
                "{db} over {transport}: caught up with block {head} in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            let mut lat = Vec::with_capacity(n);
            for _ in 0..n {
                let pause = rand::rng().random_range(0..250);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                // Automine is off: the block is mined by evm_mine, and its answer's arrival is
                // the block's mining as the sender sees it.
                let pending = registry.heartbeat(host).send().await.unwrap();
                provider.evm_mine(None).await.unwrap();
                let mined_at = Instant::now();
                let receipt = provider
                    .get_transaction_receipt(*pending.tx_hash())
                    .await
                    .unwrap()
                    .expect("mined by evm_mine");
                let block = receipt.block_number.unwrap();
                let done = wait_for(&commits, block, Duration::from_secs(30)).await;
                lat.push(done.saturating_duration_since(mined_at).as_secs_f64() * 1e3);
            }
            let _ = stop_tx.send(());
            task.await.unwrap().unwrap();
            lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let mean = lat.iter().sum::<f64>() / lat.len() as f64;
            println!(
                "{db} over {transport}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms, mean {:.1} ms (load {})",
                support::percentile(&lat, 50.0),
                support::percentile(&lat, 95.0),
                lat.last().unwrap(),
                mean,
                support::load_average()
            );
            rows.push((db, transport, lat, mean));
        }
    }
    println!();
    println!("| database | transport | p50 | p95 | max | mean | blocks |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (db, transport, lat, mean) in rows {
        println!(
            "| {} | {transport} | {:.1} ms | {:.1} ms | {:.1} ms | {mean:.1} ms | {} |",
            if db == "postgres" {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            support::percentile(&lat, 50.0),
            support::percentile(&lat, 95.0),
            lat.last().unwrap(),
            lat.len()
        );
    }
}

/// Waits until `block` is committed; returns when the indexer reported it.
async fn wait_for(commits: &Commits, block: u64, timeout: Duration) -> Instant {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(at) = commits
            .lock()
            .unwrap()
            .iter()
            .filter(|(b, _)| **b >= block)
            .map(|(_, t)| *t)
            .min()
        {
            return at;
        }
        assert!(
            Instant::now() < deadline,
            "block {block} was not committed in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
