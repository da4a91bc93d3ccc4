//! High availability on PostgreSQL: two `vouch index` processes on one database and one
//! chain; the second waits as a standby behind the chain's advisory lock; SIGKILL of the first
//! releases the lock (PostgreSQL closes its session) and the second takes over within ~2 s,
//! resumes from the checkpoint and catches up: every log stored once, and the same tables as a
//! clean single-instance index.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Chain, Indexing, counts, digest, wait_indexed};

#[tokio::test]
async fn a_standby_takes_over_when_the_holder_is_killed() {
    let mut chain = Chain::start().await;
    chain.transfers(20, 10, 0).await;
    let db = vouch_testkit::FreshPostgres::create().await;
    let (_dir, dir) = support::data_dir();
    let flags = [
        "--reorg-window",
        "8",
        "--range-size",
        "4",
        "--concurrency",
        "2",
    ];

    let mut first = Indexing::spawn(chain.index(&dir, &db.url, &flags));
    first.wait_for("holding the indexer lease", Duration::from_secs(20));
    let mut second = Indexing::spawn(chain.index(&dir, &db.url, &flags));
    second.wait_for(
        "standby: another indexer holds chain 31337; waiting to take over",
        Duration::from_secs(20),
    );

    // The holder indexes the chain so far; the standby writes nothing meanwhile.
    let (head, logs) = (chain.head().await, chain.logs().await);
    wait_indexed(&db.url, head, logs, Duration::from_secs(30), "the holder").await;
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !second.stderr().contains("holding the indexer lease"),
        "both hold the lease:\n{}",
        second.stderr()
    );
    assert_eq!(
        second.stderr().matches("standby:").count(),
        1,
        "the standby says so once"
    );

    // More blocks, then the holder dies mid-follow.
    chain.transfers(10, 10, 1).await;
    first.kill();
    let killed = Instant::now();
    let took_over = second.wait_for("holding the indexer lease", Duration::from_secs(10));
    let takeover = took_over - killed;
    assert!(
        takeover < Duration::from_secs(3),
        "takeover took {takeover:?}"
    );

    chain.transfers(5, 10, 2).await;
    let (head, logs) = (chain.head().await, chain.logs().await);
    assert!(logs > 300, "a few hundred events: {logs}");
    wait_indexed(
        &db.url,
        head,
        logs,
        Duration::from_secs(30),
        "the new holder",
    )
    .await;
    let (total, distinct, _) = counts(&db.url).await;
    assert_eq!(total as usize, logs);
    assert_eq!(distinct, total, "no event stored twice");
    second.kill();

    assert_eq!(digest(&db.url).await, chain.clean_digest().await);
    eprintln!("takeover after SIGKILL: {takeover:?}");
}

#[tokio::test]
async fn a_standby_stops_cleanly_on_sigterm() {
    let chain = Chain::start().await;
    let db = vouch_testkit::FreshPostgres::create().await;
    let (_dir, dir) = support::data_dir();
    let mut first = Indexing::spawn(chain.index(&dir, &db.url, &[]));
    first.wait_for("holding the indexer lease", Duration::from_secs(20));
    let mut second = Indexing::spawn(chain.index(&dir, &db.url, &[]));
    second.wait_for("standby:", Duration::from_secs(20));
    support::signal(second.child.id(), "-TERM");
    let status = second.child.wait().unwrap();
    assert!(status.success(), "{}", second.stderr());
    first.kill();
}
