//! Cold backfill of the saved bench chain (bench_chain) against its eth_getLogs ceiling.
//!
//!     cargo bench -p vouch-indexer --bench backfill
//!
//! 1. The ceiling: plain `eth_getLogs` of the whole range through alloy, planned exactly as the
//!    indexer plans its backfill (the default `RangeSizer`: 2,000 blocks to start, halved after
//!    an answer over 10,000 logs, doubled after one under 5,000; 4 requests in flight), no
//!    decoding, no writes.
//! 2. The indexer cold into a fresh PostgreSQL database and a fresh SQLite file
//!    (`until_head`, `reorg_window` 4: all but the last 4 blocks are backfill), each in a child
//!    process of this binary (so VmHWM and getrusage are that run's alone), timed from
//!    `Indexer::open` to the last commit. Every event is checked to be stored.
//!
//! `VOUCH_BENCH_RUNS` (default 2) runs of each; `DATABASE_URL` picks the PostgreSQL server.

mod support;

use std::sync::Arc;
use std::time::Instant;

use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde::{Deserialize, Serialize};
use vouch_bindings::Deployment;
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource, RangeSizer};
use vouch_indexer::store::SeaStore;
use vouch_indexer::store::entity::event;
use vouch_indexer::{Indexer, IndexerConfig};

#[derive(Debug, Serialize, Deserialize)]
struct RunResult {
    db: String,
    events: u64,
    seconds: f64,
    peak_rss: u64,
    rss_before: u64,
    user: f64,
    sys: f64,
    commits: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let db = args[i + 1].clone();
        let endpoint = args[i + 2].clone();
        let r = rt.block_on(child(&db, &endpoint));
        println!("RESULT {}", serde_json::to_string(&r).unwrap());
        return;
    }
    rt.block_on(parent());
}

async fn parent() {
    let summary = support::load_summary();
    let deployment = Deployment::load(&support::deployment_file()).expect("deployment.json");
    let runs: usize = std::env::var("VOUCH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let t = Instant::now();
    let anvil = support::anvil_on_saved_chain();
    let provider = ProviderBuilder::new()
        .connect_http(anvil.endpoint_url())
        .erased();
    let head = provider.get_block_number().await.unwrap();
    println!(
        "anvil loaded the bench chain in {:.1} s: head {head}, {} events expected (load {})",
        t.elapsed().as_secs_f64(),
        summary.events,
        support::load_average()
    );
    assert_eq!(head, summary.head, "the saved chain's head");

    // 1. The ceiling.
    let book = AddressBook::new(&deployment);
    let addresses = book.addresses();
    let mut ceilings = Vec::new();
    for run in 0..runs.max(1) {
        let (logs, secs, ranges) =
            ceiling(&provider, &addresses, deployment.start_block, head).await;
        assert_eq!(logs, summary.events, "every log of the chain");
        println!(
            "ceiling run {}: {logs} logs in {secs:.2} s over {ranges} requests = {:.0} logs/s",
            run + 1,
            logs as f64 / secs
        );
        ceilings.push(secs);
    }
    let ceiling_secs = ceilings.iter().cloned().fold(f64::INFINITY, f64::min);
    let ceiling_rate = summary.events as f64 / ceiling_secs;

    // 2. The indexer, one child process per run.
    let exe = std::env::current_exe().unwrap();
    let mut results: Vec<RunResult> = Vec::new();
    for db in ["postgres", "sqlite"] {
        for run in 0..runs {
            let out = std::process::Command::new(&exe)
                .args(["--child", db, &anvil.endpoint()])
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("the child run");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "the {db} run failed:\n{text}");
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("RESULT "))
                .expect("a RESULT line");
            let r: RunResult = serde_json::from_str(line).unwrap();
            assert_eq!(r.events, summary.events, "{db}: every event stored");
            println!(
                "{db} run {}: {} events in {:.2} s = {:.0} events/s, peak RSS {:.0} MB, CPU {:.2} s user + {:.2} s sys (load {})",
                run + 1,
                r.events,
                r.seconds,
                r.events as f64 / r.seconds,
                r.peak_rss as f64 / 1e6,
                r.user,
                r.sys,
                support::load_average()
            );
            results.push(r);
        }
    }

    println!();
    println!(
        "Chain: {} events in blocks {}..={head} ({} jobs, {} batches of 64, {} hosts). Runs: {runs} per row, best shown, range in brackets.",
        summary.events, summary.start_block, summary.jobs, summary.batches, summary.hosts
    );
    println!();
    println!("| run | wall | events/s | of ceiling | peak RSS | CPU user + sys |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let cmin = ceilings.iter().cloned().fold(f64::INFINITY, f64::min);
    let cmax = ceilings.iter().cloned().fold(0.0, f64::max);
    println!(
        "| eth_getLogs ceiling (alloy, 4 in flight, default RangeSizer, no decoding or writes) | {cmin:.2} s ({cmin:.2}-{cmax:.2}) | {ceiling_rate:.0} | 1.00 | | |"
    );
    for db in ["postgres", "sqlite"] {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.db == db).collect();
        let best = rs
            .iter()
            .min_by(|a, b| a.seconds.partial_cmp(&b.seconds).unwrap())
            .unwrap();
        let max = rs.iter().map(|r| r.seconds).fold(0.0, f64::max);
        let rate = best.events as f64 / best.seconds;
        let rss_max = rs.iter().map(|r| r.peak_rss).max().unwrap();
        let rss_min = rs.iter().map(|r| r.peak_rss).min().unwrap();
        println!(
            "| indexer cold, {} | {:.2} s ({:.2}-{:.2}) | {:.0} ({:.0}-{:.0}) | {:.2} | {:.0} MB ({:.0}-{:.0}) | {:.2} + {:.2} s |",
            if db == "postgres" {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            best.seconds,
            best.seconds,
            max,
            rate,
            best.events as f64 / max,
            rate,
            rate / ceiling_rate,
            best.peak_rss as f64 / 1e6,
            rss_min as f64 / 1e6,
            rss_max as f64 / 1e6,
            best.user,
            best.sys
        );
    }
}

/// eth_getLogs of start..=head as the indexer's backfill plans it; (logs, seconds, requests).
async fn ceiling(
    provider: &alloy::providers::DynProvider,
    addresses: &[alloy::primitives::Address],
    start: u64,
    head: u64,
) -> (u64, f64, usize) {
    let cfg = IndexerConfig::default();
    let sizer = Arc::new(std::sync::Mutex::new(cfg.ranges));
    let t = Instant::now();
    let mut inflight = std::collections::VecDeque::new();
    let mut planned = start;
    let mut total = 0u64;
    let mut requests = 0;
    loop {
        while inflight.len() < cfg.concurrency && planned <= head {
            let size = sizer.lock().unwrap().size;
            let end = (planned + size - 1).min(head);
            let p = provider.clone();
            let filter = Filter::new()
                .address(addresses.to_vec())
                .from_block(planned)
                .to_block(end);
            let s = sizer.clone();
            let span = end - planned + 1;
            inflight.push_back(tokio::spawn(async move {
                let logs = p.get_logs(&filter).await.expect("eth_getLogs");
                s.lock().unwrap().success(span, logs.len());
                logs.len() as u64
            }));
            requests += 1;
            planned = end + 1;
        }
        let Some(h) = inflight.pop_front() else {
            break;
        };
        total += h.await.unwrap();
    }
    let _: RangeSizer = cfg.ranges;
    (total, t.elapsed().as_secs_f64(), requests)
}

async fn child(db: &str, endpoint: &str) -> RunResult {
    let deployment = Deployment::load(&support::deployment_file()).expect("deployment.json");
    let (pg, lite);
    let url = if db == "postgres" {
        pg = vouch_testkit::FreshPostgres::create().await;
        pg.url.clone()
    } else {
        lite = vouch_testkit::FreshSqlite::create();
        lite.url.clone()
    };
    let rss_before = support::rss();
    let (u0, s0) = support::cpu();
    let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let t = Instant::now();
    let book = AddressBook::new(&deployment);
    let source = ChainSource::connect(endpoint, book.addresses(), Backoff::default())
        .await
        .unwrap();
    let store = SeaStore::connect(&url).await.unwrap();
    let cfg = IndexerConfig {
        until_head: true,
        reorg_window: 4,
        ..IndexerConfig::default()
    };
    let mut indexer = Indexer::open(source, store, &deployment, cfg)
        .await
        .unwrap();
    let c = commits.clone();
    indexer.on_progress(move |_| {
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    indexer.run(std::future::pending()).await.unwrap();
    let seconds = t.elapsed().as_secs_f64();
    let (u1, s1) = support::cpu();
    let peak_rss = support::peak_rss();
    let stored = event::Entity::find()
        .count(indexer.store().connection())
        .await
        .unwrap();
    drop(indexer);
    RunResult {
        db: db.to_owned(),
        events: stored,
        seconds,
        peak_rss,
        rss_before,
        user: (u1 - u0).as_secs_f64(),
        sys: (s1 - s0).as_secs_f64(),
        commits: commits.load(std::sync::atomic::Ordering::Relaxed),
    }
}
