//! The storage layer against real databases: every test body runs on a fresh SQLite file and on
//! a fresh PostgreSQL database, and the cross-backend tests compare their digests.

use std::future::Future;
use std::time::Instant;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use vouch_indexer::store::entity::*;
use vouch_indexer::store::{
    Commit, IndexWriter, PROJECTION_TABLES, Row, RowKey, SeaStore, StoreError, UndoEntry,
};
use vouch_testkit::{FreshPostgres, FreshSqlite};

const CHAIN: u64 = 84532;
const C: i64 = CHAIN as i64;

/// Runs `body` on a migrated SQLite store, then on a migrated PostgreSQL store.
async fn on_both<F, Fut>(body: F)
where
    F: Fn(SeaStore, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = FreshSqlite::create();
    body(migrated(&sqlite.url).await, "sqlite").await;
    let pg = FreshPostgres::create().await;
    body(migrated(&pg.url).await, "postgres").await;
}

async fn migrated(url: &str) -> SeaStore {
    let store = SeaStore::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn hash(tag: &str, n: i64) -> String {
    format!("0x{tag}{n:062x}")
}

fn event(block: i64, log: i64) -> event::Model {
    event::Model {
        chain_id: C,
        tx_hash: hash("e", block * 100_000 + log),
        log_index: log,
        block_number: block,
        block_hash: hash("b", block),
        block_timestamp: 1_700_000_000 + block,
        contract: "JobMarketplace".into(),
        address: "0x5FbDB2315678afecb367f032d93F642f64180aa3".into(),
        event: "JobCreated".into(),
        args: format!(r#"{{"jobId":"{log}","payment":"1000000000000000000"}}"#),
    }
}

fn block(number: i64, fork: &str) -> block::Model {
    block::Model {
        chain_id: C,
        number,
        hash: hash(fork, number),
        parent_hash: hash(fork, number - 1),
        timestamp: 1_700_000_000 + number,
    }
}

fn checkpoint(number: i64, fork: &str) -> checkpoint::Model {
    checkpoint::Model {
        chain_id: C,
        block_number: number,
        block_hash: hash(fork, number),
        head: number + 2,
        confirmations: 12,
        last_reorg_block: None,
        last_reorg_depth: None,
        updated_at: 1_700_000_000,
    }
}

/// Mixed-case text whose order differs between bytewise and locale collations.
fn addr(i: i64) -> String {
    if i % 2 == 0 {
        format!("0xAb{i:038x}")
    } else {
        format!("0xaB{i:038x}")
    }
}

/// One row of every projection table, the `i`th of its table, as written at `block`.
fn rows_of_all_tables(i: i64, block: i64) -> Vec<Row> {
    let tx = hash("f", i);
    let amount = format!("{}", 10u128.pow(24) + (i as u128) * 7 + block as u128);
    vec![
        Row::Host(host::Model {
            chain_id: C,
            address: addr(i),
            endpoint: format!("https://host{i}.example"),
            region: "eu-west".into(),
            price_per_token: amount.clone(),
            models: r#"["0x01"]"#.into(),
            operator: (i % 3 == 0).then(|| addr(i + 1)),
            registered: i % 2 == 0,
            registered_at: Some(block),
            deregistered_at: None,
            last_heartbeat: Some(block * 2),
            block,
        }),
        Row::Stake(stake::Model {
            chain_id: C,
            address: addr(i),
            active: amount.clone(),
            unbonding: "0".into(),
            release_at: None,
            slashed_total: "0".into(),
            withdrawn_total: "5".into(),
            block,
        }),
        job(i, block, "Open"),
        Row::Batch(batch::Model {
            chain_id: C,
            tx_hash: tx.clone(),
            log_index: i,
            host: addr(i),
            submitter: addr(i + 7),
            batch_size: 8,
            circuit_version: 1,
            job_count: 2,
            proof_hash: hash("p", i),
            job_ids: r#"["1","2"]"#.into(),
            block,
            timestamp: block * 12,
        }),
        Row::Dispute(dispute::Model {
            chain_id: C,
            job_id: i,
            renter: addr(i + 1),
            host: addr(i),
            bond: amount.clone(),
            evidence_hash: hash("d", i),
            opened_at: block,
            rule_by: block + 100,
            status: "Open".into(),
            resolved_at: None,
            resolved_by: None,
            block,
        }),
        Row::Slash(slash::Model {
            chain_id: C,
            tx_hash: tx.clone(),
            log_index: i,
            host: addr(i),
            reason: "MissedDeadline".into(),
            job_id: i,
            amount: amount.clone(),
            beneficiary: addr(i + 2),
            beneficiary_share: "1".into(),
            treasury_share: "2".into(),
            block,
            timestamp: block * 12,
        }),
        Row::Equivocation(equivocation::Model {
            chain_id: C,
            job_id: i,
            host: addr(i),
            reporter: addr(i + 3),
            output_a: hash("a", i),
            output_b: hash("c", i),
            tx_hash: tx.clone(),
            block,
            timestamp: block * 12,
        }),
        Row::Reputation(reputation::Model {
            chain_id: C,
            tx_hash: tx.clone(),
            log_index: i,
            host: addr(i),
            outcome: "Completion".into(),
            weight: "10000".into(),
            old_score: 5000,
            new_score: 5000 + block,
            block,
            timestamp: block * 12,
        }),
        Row::Balance(balance::Model {
            chain_id: C,
            ledger: if i % 2 == 0 { "marketplace" } else { "bond" }.into(),
            account: addr(i),
            token: "0x0000000000000000000000000000000000000000".into(),
            amount: amount.clone(),
            credited_total: amount.clone(),
            withdrawn_total: "0".into(),
            block,
        }),
        Row::Transfer(transfer::Model {
            chain_id: C,
            tx_hash: tx.clone(),
            log_index: i,
            from_address: addr(i),
            to_address: addr(i + 1),
            value: amount.clone(),
            block,
            timestamp: block * 12,
        }),
        Row::Delegation(delegation::Model {
            chain_id: C,
            account: addr(i),
            delegate: (i % 2 == 1).then(|| addr(i + 1)),
            votes: amount.clone(),
            block,
        }),
        Row::Proposal(proposal::Model {
            chain_id: C,
            proposal_id: format!("{}", 10u128.pow(30) + i as u128),
            proposer: addr(i),
            description: "Raise the fee\nto 2%".into(),
            targets: "[]".into(),
            calldatas: "[]".into(),
            vote_start: block,
            vote_end: block + 50,
            state: "Active".into(),
            for_votes: amount.clone(),
            against_votes: "0".into(),
            abstain_votes: "0".into(),
            eta: None,
            created_block: block,
            block,
        }),
        Row::Vote(vote::Model {
            chain_id: C,
            proposal_id: format!("{}", 10u128.pow(30) + i as u128),
            voter: addr(i + 1),
            support: i % 3,
            weight: amount.clone(),
            reason: "ünïcode ✓".into(),
            tx_hash: tx,
            block,
            timestamp: block * 12,
        }),
        Row::Parameter(parameter::Model {
            chain_id: C,
            contract: "ReputationOracle".into(),
            name: format!("DeltaSet(Completion{i})"),
            value: format!(r#"{{"delta":"{block}"}}"#),
            block,
        }),
        Row::VerifiableModel(verifiable_model::Model {
            chain_id: C,
            model_hash: hash("model", i),
            verifier: hash("verifier", i),
            circuit_version: i,
            layout: "HashedInputOutput".into(),
            installed: i % 2 == 0,
            block,
            timestamp: block * 2,
        }),
    ]
}

fn job(i: i64, block: i64, state: &str) -> Row {
    Row::Job(job::Model {
        chain_id: C,
        job_id: i,
        renter: addr(i + 1),
        host: Some(addr(i)),
        offered_host: None,
        operator: None,
        token: "0x0000000000000000000000000000000000000000".into(),
        payment: format!("{}", 10u128.pow(20) + i as u128),
        fee: "100".into(),
        model_hash: hash("m", i),
        input_hash: hash("i", i),
        output_hash: None,
        deadline: block + 1000,
        min_reputation: 0,
        state: state.into(),
        created_at: block * 12,
        created_block: block,
        claimed_at: None,
        completed_at: None,
        released_at: None,
        expired_at: None,
        cancelled_at: None,
        refunded_at: None,
        slashed: false,
        batch_tx: None,
        reputation_weight: None,
        proof_tier: None,
        output: None,
        proof_hash: None,
        block,
    })
}

/// A sorted copy, to compare row sets regardless of load order.
fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(Row::key);
    rows
}

/// Block 10, final: rows 0..3 of every table, 5 events.
fn genesis_commit() -> Commit {
    Commit {
        chain_id: CHAIN,
        events: (0..5).map(|l| event(10, l)).collect(),
        rows: (0..3).flat_map(|i| rows_of_all_tables(i, 10)).collect(),
        undo: vec![],
        blocks: vec![block(10, "a")],
        checkpoint: Some(checkpoint(10, "a")),
        prune_through: None,
    }
}

/// Block `number` of fork `fork`, on top of `prior_rows`: changes row 0 of every table, creates
/// row `new` of every table, journals both, adds 3 events.
fn block_commit(number: i64, fork: &str, prior_rows: &[Row], new: i64) -> (Commit, Vec<Row>) {
    let changed = rows_of_all_tables(0, number);
    let created = rows_of_all_tables(new, number);
    let mut undo = Vec::new();
    for row in &changed {
        let prior = prior_rows.iter().find(|r| r.key() == row.key()).cloned();
        undo.push(UndoEntry {
            block_number: number as u64,
            key: row.key(),
            prior,
        });
    }
    for row in &created {
        undo.push(UndoEntry {
            block_number: number as u64,
            key: row.key(),
            prior: None,
        });
    }
    let mut after: Vec<Row> = prior_rows
        .iter()
        .filter(|r| !changed.iter().any(|c| c.key() == r.key()))
        .cloned()
        .collect();
    after.extend(changed.iter().cloned());
    after.extend(created.iter().cloned());
    let commit = Commit {
        chain_id: CHAIN,
        events: (0..3)
            .map(|l| {
                let mut e = event(number, l);
                e.block_hash = hash(fork, number);
                e.tx_hash = format!("{}{fork}", &e.tx_hash[..e.tx_hash.len() - 1]);
                e
            })
            .collect(),
        rows: changed.into_iter().chain(created).collect(),
        undo,
        blocks: vec![block(number, fork)],
        checkpoint: Some(checkpoint(number, fork)),
        prune_through: None,
    };
    (commit, sorted(after))
}

async fn event_count(store: &SeaStore) -> u64 {
    event::Entity::find()
        .filter(event::Column::ChainId.eq(C))
        .count(store.connection())
        .await
        .unwrap()
}

async fn undo_count(store: &SeaStore) -> u64 {
    undo::Entity::find()
        .filter(undo::Column::ChainId.eq(C))
        .count(store.connection())
        .await
        .unwrap()
}

#[tokio::test]
async fn migrate_twice_and_empty_store() {
    on_both(|store, db| async move {
        store.migrate().await.expect("second migrate");
        assert_eq!(store.checkpoint(CHAIN).await.unwrap(), None, "{db}");
        assert!(store.recent_blocks(CHAIN).await.unwrap().is_empty());
        assert!(store.load_rows(CHAIN).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn commit_then_load_rows_returns_the_exact_rows() {
    on_both(|store, db| async move {
        let commit = genesis_commit();
        let rows = commit.rows.clone();
        store.commit(commit).await.unwrap();
        assert_eq!(
            sorted(store.load_rows(CHAIN).await.unwrap()),
            sorted(rows),
            "{db}"
        );
        assert_eq!(
            store.checkpoint(CHAIN).await.unwrap(),
            Some(checkpoint(10, "a"))
        );
        assert_eq!(
            store.recent_blocks(CHAIN).await.unwrap(),
            vec![block(10, "a")]
        );
        assert_eq!(event_count(&store).await, 5);
        // Another chain's reads see none of it.
        assert!(store.load_rows(CHAIN + 1).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn recommitting_is_a_no_op() {
    on_both(|store, db| async move {
        store.commit(genesis_commit()).await.unwrap();
        let (next, after) = block_commit(11, "a", &genesis_commit().rows, 7);
        store.commit(next.clone()).await.unwrap();
        let digest = store.digest(CHAIN).await.unwrap();
        let (events, journal) = (event_count(&store).await, undo_count(&store).await);
        store.commit(next).await.unwrap();
        assert_eq!(store.digest(CHAIN).await.unwrap(), digest, "{db}");
        assert_eq!(
            event_count(&store).await,
            events,
            "{db}: no duplicate events"
        );
        assert_eq!(
            undo_count(&store).await,
            journal,
            "{db}: no duplicate undo entries"
        );
        assert_eq!(sorted(store.load_rows(CHAIN).await.unwrap()), after);
    })
    .await;
}

/// A commit whose events are partly stored already (PostgreSQL's direct COPY into `events`
/// meets a unique violation and falls back to staging): the stored ones are skipped, the new
/// ones written, each exactly once, and the rest of the commit lands.
#[tokio::test]
async fn a_commit_with_stored_and_new_events_writes_each_once() {
    on_both(|store, db| async move {
        store.commit(genesis_commit()).await.unwrap();
        let mut mixed = genesis_commit();
        mixed.events.extend((0..3).map(|l| event(11, l)));
        mixed.checkpoint = Some(checkpoint(11, "a"));
        store.commit(mixed).await.unwrap();
        assert_eq!(event_count(&store).await, 5 + 3, "{db}");
        let stored = event::Entity::find()
            .filter(event::Column::ChainId.eq(C))
            .filter(event::Column::BlockNumber.eq(11))
            .count(store.connection())
            .await
            .unwrap();
        assert_eq!(stored, 3, "{db}: the new block's events");
        let cp = store.checkpoint(CHAIN).await.unwrap().unwrap();
        assert_eq!(cp.block_number, 11, "{db}: the checkpoint moved with them");
    })
    .await;
}

#[tokio::test]
async fn rollback_restores_prior_images_and_deletes_created_rows() {
    on_both(|store, db| async move {
        let genesis = genesis_commit();
        let canonical = sorted(genesis.rows.clone());
        store.commit(genesis).await.unwrap();
        // Two blocks above the ancestor, both changing row 0: the oldest prior image must win.
        let (b11, after11) = block_commit(11, "x", &canonical, 20);
        let (b12, after12) = block_commit(12, "x", &after11, 21);
        store.commit(b11).await.unwrap();
        store.commit(b12).await.unwrap();
        assert_eq!(sorted(store.load_rows(CHAIN).await.unwrap()), after12);

        let done = store.rollback(CHAIN, 10, hash("a", 10)).await.unwrap();
        assert_eq!(done.events_removed, 6, "{db}");
        // Row 0 (restored) and rows 20, 21 (deleted) of each table.
        assert_eq!(
            done.rows_restored,
            3 * PROJECTION_TABLES.len() as u64,
            "{db}"
        );
        assert_eq!(
            sorted(store.load_rows(CHAIN).await.unwrap()),
            canonical,
            "{db}"
        );
        assert_eq!(event_count(&store).await, 5);
        assert_eq!(undo_count(&store).await, 0);
        assert_eq!(
            store.recent_blocks(CHAIN).await.unwrap(),
            vec![block(10, "a")]
        );
        let cp = store.checkpoint(CHAIN).await.unwrap().unwrap();
        assert_eq!((cp.block_number, cp.block_hash), (10, hash("a", 10)));
    })
    .await;
}

/// Commits the canonical history (genesis, then block 11 of fork "b") into `store`, optionally
/// after a fork "x" block 11 that is rolled back.
async fn canonical_history(store: &SeaStore, with_reorg: bool) -> String {
    let genesis = genesis_commit();
    let canonical = sorted(genesis.rows.clone());
    store.commit(genesis).await.unwrap();
    if with_reorg {
        let (stale, _) = block_commit(11, "x", &canonical, 30);
        store.commit(stale).await.unwrap();
        store.rollback(CHAIN, 10, hash("a", 10)).await.unwrap();
    }
    let (b11, _) = block_commit(11, "b", &canonical, 40);
    store.commit(b11).await.unwrap();
    store.digest(CHAIN).await.unwrap()
}

#[tokio::test]
async fn reorged_store_matches_a_fresh_one_on_both_backends() {
    let mut digests = Vec::new();
    let sqlite = [FreshSqlite::create(), FreshSqlite::create()];
    let pg = [FreshPostgres::create().await, FreshPostgres::create().await];
    for url in [&sqlite[0].url, &sqlite[1].url, &pg[0].url, &pg[1].url] {
        let store = migrated(url).await;
        let with_reorg = digests.len() % 2 == 0;
        digests.push(canonical_history(&store, with_reorg).await);
    }
    assert_eq!(digests[0], digests[1], "sqlite: reorged vs fresh");
    assert_eq!(digests[2], digests[3], "postgres: reorged vs fresh");
    assert_eq!(digests[0], digests[2], "sqlite vs postgres");
}

#[tokio::test]
async fn sqlite_and_postgres_hold_identical_data() {
    let (sqlite, pg) = (FreshSqlite::create(), FreshPostgres::create().await);
    let (a, b) = (migrated(&sqlite.url).await, migrated(&pg.url).await);
    for store in [&a, &b] {
        store.commit(genesis_commit()).await.unwrap();
        let (b11, _) = block_commit(11, "a", &genesis_commit().rows, 9);
        store.commit(b11).await.unwrap();
    }
    assert_eq!(
        a.digest(CHAIN).await.unwrap(),
        b.digest(CHAIN).await.unwrap()
    );
    assert_eq!(
        a.load_rows(CHAIN).await.unwrap(),
        b.load_rows(CHAIN).await.unwrap()
    );
    assert_ne!(
        a.digest(CHAIN).await.unwrap(),
        a.digest(CHAIN + 1).await.unwrap()
    );
}

#[tokio::test]
async fn a_large_commit_is_chunked_under_the_bind_limits() {
    on_both(|store, db| async move {
        let events: Vec<_> = (0..20_000)
            .map(|i| event(100 + i / 1000, i % 1000))
            .collect();
        // Jobs are the widest table (31 columns): 4,000 of them alone need 124,000 binds.
        let mut rows: Vec<Row> = (0..4_000).map(|i| job(i, 120, "Claimed")).collect();
        rows.extend((0..72).flat_map(|i| rows_of_all_tables(10_000 + i, 120)));
        rows.truncate(5_000);
        let expected = sorted(rows.clone());
        let commit = Commit {
            chain_id: CHAIN,
            events,
            rows,
            checkpoint: Some(checkpoint(119, "a")),
            ..Commit::default()
        };
        let started = Instant::now();
        store.commit(commit).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{db}: committed 20000 events + 5000 rows in {secs:.2}s = {:.0} rows/s",
            25_000.0 / secs
        );
        assert_eq!(event_count(&store).await, 20_000);
        assert_eq!(sorted(store.load_rows(CHAIN).await.unwrap()), expected);
    })
    .await;
}

#[tokio::test]
async fn prune_through_drops_final_blocks_and_undo_entries() {
    on_both(|store, db| async move {
        store.commit(genesis_commit()).await.unwrap();
        let mut rows = sorted(genesis_commit().rows);
        for n in 11..=14 {
            let (commit, after) = block_commit(n, "a", &rows, 50 + n);
            store.commit(commit).await.unwrap();
            rows = after;
        }
        let per_block = 2 * PROJECTION_TABLES.len() as u64;
        assert_eq!(undo_count(&store).await, 4 * per_block, "{db}");
        let (mut b15, _) = block_commit(15, "a", &rows, 65);
        b15.prune_through = Some(12);
        store.commit(b15).await.unwrap();
        let numbers: Vec<i64> = store
            .recent_blocks(CHAIN)
            .await
            .unwrap()
            .iter()
            .map(|b| b.number)
            .collect();
        assert_eq!(numbers, vec![13, 14, 15], "{db}");
        assert_eq!(undo_count(&store).await, 3 * per_block, "{db}");
    })
    .await;
}

#[tokio::test]
async fn a_commit_with_an_unreplayable_undo_key_writes_nothing() {
    on_both(|store, db| async move {
        let mut commit = genesis_commit();
        commit.undo.push(UndoEntry {
            block_number: 10,
            key: RowKey {
                table: "jobs",
                key: "not-a-job-id".into(),
            },
            prior: None,
        });
        let err = store.commit(commit).await.unwrap_err();
        assert!(matches!(err, StoreError::BadUndoKey { .. }), "{db}: {err}");
        assert_eq!(store.checkpoint(CHAIN).await.unwrap(), None);
        assert_eq!(event_count(&store).await, 0);
    })
    .await;
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in [
        "mysql://root@localhost/vouch",
        "sqlite::memory:",
        "vouch.sqlite",
    ] {
        let err = SeaStore::connect(url).await.unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedUrl { .. }),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn sqlite_file_is_created_in_wal_mode() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    let store = SeaStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert!(path.exists());
    let db = store.connection();
    for (pragma, want) in [("journal_mode", "wal"), ("synchronous", "1")] {
        let row = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                format!("PRAGMA {pragma}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let got: String = row
            .try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(got, want, "PRAGMA {pragma}");
    }
}

#[tokio::test]
async fn amounts_are_text_and_keys_start_with_the_chain() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    on_both(|store, db| async move {
        let conn = store.connection();
        let backend = conn.get_database_backend();
        let sql = match backend {
            DbBackend::Sqlite => {
                "SELECT type FROM pragma_table_info('balances') WHERE name = 'amount'"
            }
            _ => {
                "SELECT data_type AS type FROM information_schema.columns \
                  WHERE table_name = 'balances' AND column_name = 'amount'"
            }
        };
        let row = conn
            .query_one(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        let ty: String = row.try_get("", "type").unwrap();
        assert_eq!(ty.to_lowercase(), "text", "{db}");
        let sql = match backend {
            DbBackend::Sqlite => "SELECT name FROM pragma_table_info('balances') WHERE pk = 1",
            _ => {
                "SELECT a.attname AS name FROM pg_index i \
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                  WHERE i.indrelid = 'balances'::regclass AND i.indisprimary"
            }
        };
        let row = conn
            .query_one(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        let first: String = row.try_get("", "name").unwrap();
        assert_eq!(first, "chain_id", "{db}");
    })
    .await;
}
