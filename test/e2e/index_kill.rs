//! Crash safety: `vouch index` SIGKILLed at random moments (seeded, so a failing schedule can be
//! replayed with `VOUCH_KILL_SEED`) through a backfill of a few thousand events and the live
//! blocks after it, restarted each time, then run to the head: the tables equal a clean run's,
//! every log is stored once. On SQLite and on PostgreSQL.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Chain, Indexing, Rng, counts, digest};

const KILLS: usize = 12;

async fn kill_case(url: &str, seed: u64) {
    let mut chain = Chain::start().await;
    // ~3,600 events in 30 full blocks, spread over ~2,500 blocks of backfill.
    for round in 0..6 {
        chain.transfers(5, 60, round).await;
        chain.empty_blocks(400).await;
    }
    let (head, logs) = (chain.head().await, chain.logs().await);
    assert!(logs > 3_000, "a few thousand events: {logs}");
    let (_dir, dir) = support::data_dir();
    let flags = [
        "--concurrency",
        "2",
        "--range-size",
        "1",
        "--reorg-window",
        "24",
    ];

    let mut rng = Rng::new(seed);
    let mut positions = Vec::new();
    let started = Instant::now();
    let mut last = None;
    for kill in 0..KILLS {
        let mut run = Indexing::spawn(chain.index(&dir, url, &flags));
        if kill % 2 == 0 {
            // Anywhere: in start-up, migrations, the first fetches or a commit.
            std::thread::sleep(Duration::from_millis(rng.between(50, 800)));
        } else {
            // Just after this run's first commit, so that some kills land mid-backfill however
            // slow start-up is on a loaded machine (a run restarts at the smallest range, so a
            // commit is never the last one by far).
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline && last != Some(head as i64) {
                let now = support::try_counts(url).await.and_then(|c| c.2);
                if now.is_some() && now != last {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            std::thread::sleep(Duration::from_millis(rng.between(0, 100)));
        }
        assert!(
            run.child.try_wait().unwrap().is_none(),
            "vouch index exited on its own:\n{}",
            run.stderr()
        );
        run.kill();
        let (total, distinct, checkpoint) = support::try_counts(url).await.unwrap_or_default();
        assert_eq!(total, distinct, "no event stored twice after a kill");
        positions.push(checkpoint);
        last = checkpoint;
    }
    let killed_for = started.elapsed();
    let out = chain
        .index(&dir, url, &[&flags[..], &["--until-head"]].concat())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the final run: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (total, distinct, checkpoint) = counts(url).await;
    assert_eq!(checkpoint, Some(head as i64));
    assert_eq!(total as usize, logs);
    assert_eq!(distinct, total);
    assert_eq!(digest(url).await, chain.clean_digest().await, "seed {seed}");
    eprintln!(
        "seed {seed}: {KILLS} kills in {killed_for:?}, checkpoints after each: {positions:?} (head {head})"
    );
    let mid = positions
        .iter()
        .filter(|p| p.is_some_and(|b| b < head as i64))
        .count();
    assert!(mid >= 3, "too few kills landed mid-index: {positions:?}");
}

fn seed() -> u64 {
    std::env::var("VOUCH_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0001)
}

#[tokio::test]
async fn sigkill_at_random_moments_on_sqlite() {
    let db = vouch_testkit::FreshSqlite::create();
    kill_case(&db.url, seed()).await;
}

#[tokio::test]
async fn sigkill_at_random_moments_on_postgres() {
    let db = vouch_testkit::FreshPostgres::create().await;
    kill_case(&db.url, seed() + 1).await;
}
