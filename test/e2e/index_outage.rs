//! RPC outages: the node (`anvil --dump-state`) is stopped mid-backfill and again while the
//! indexer follows the head, and restarted a few seconds later on the same port from its saved
//! state (`--load-state`). The running `vouch index` rides both out on its RPC retries (backoff
//! up to ~10 min) and resumes with no gap: every log stored once, the tables equal a fresh
//! index. Once into SQLite, once into PostgreSQL.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use support::{Chain, Indexing, anvil_on, counts, digest, free_port, stop_anvil, wait_indexed};

const OUTAGE: Duration = Duration::from_secs(3);

#[tokio::test]
async fn the_indexer_rides_out_node_restarts_mid_backfill_and_mid_tail() {
    let db = vouch_testkit::FreshSqlite::create();
    outage_case(&db.url).await;
}

#[tokio::test]
async fn the_indexer_rides_out_node_restarts_mid_backfill_and_mid_tail_on_postgres() {
    let db = vouch_testkit::FreshPostgres::create().await;
    outage_case(&db.url).await;
}

/// Both outages, with `vouch index --database url`.
async fn outage_case(url: &str) {
    let port = free_port();
    let (_state_dir, state_dir) = support::data_dir();
    let state = state_dir.join("anvil-state.json");
    let mut chain = Chain::start_on(anvil_on(port, &state, false)).await;
    for round in 0..4 {
        chain.transfers(5, 20, round).await;
        chain.empty_blocks(400).await;
    }
    let head = chain.head().await;
    let (_dir, dir) = support::data_dir();
    let mut run = Indexing::spawn(chain.index(
        &dir,
        url,
        &[
            "--concurrency",
            "2",
            "--range-size",
            "1",
            "--reorg-window",
            "16",
        ],
    ));

    // Mid-backfill: once some ranges are in, the node goes away.
    let mut before = None;
    for _ in 0..600 {
        if let Some((_, _, Some(b))) = support::try_counts(url).await
            && b > 200
        {
            before = Some(b);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = before.expect("the backfill started");
    stop_anvil(&mut chain.anvil);
    let (_, _, during) = counts(url).await;
    let during = during.unwrap();
    assert!(
        during < head as i64 - 16,
        "the outage began mid-backfill: checkpoint {during} of {head} (was {before})"
    );
    tokio::time::sleep(OUTAGE).await;
    assert!(run.child.try_wait().unwrap().is_none(), "{}", run.stderr());
    chain.anvil = anvil_on(port, &state, true);
    assert_eq!(
        chain.head().await,
        head,
        "the node restarted from its state"
    );
    let logs = chain.logs().await;
    wait_indexed(
        url,
        head,
        logs,
        Duration::from_secs(40),
        "after the first outage",
    )
    .await;

    // Mid-tail: new blocks, the node goes away while the indexer follows them, comes back,
    // more blocks.
    chain.transfers(3, 20, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_anvil(&mut chain.anvil);
    tokio::time::sleep(OUTAGE).await;
    chain.anvil = anvil_on(port, &state, true);
    chain.transfers(3, 20, 11).await;
    let (head, logs) = (chain.head().await, chain.logs().await);
    wait_indexed(
        url,
        head,
        logs,
        Duration::from_secs(40),
        "after the second outage",
    )
    .await;
    assert!(run.child.try_wait().unwrap().is_none(), "{}", run.stderr());
    let (total, distinct, _) = counts(url).await;
    assert_eq!(total as usize, logs);
    assert_eq!(distinct, total);
    run.kill();
    assert!(
        run.stderr().contains("RPC call failed; retrying"),
        "the indexer noticed the outage:\n{}",
        run.stderr()
    );
    assert_eq!(digest(url).await, chain.clean_digest().await);
}
