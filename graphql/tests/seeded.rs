//! The seeding tool of the benches (benches/support/seed.rs) at a CI scale (1,000 hosts,
//! 10,000 events) on SQLite and PostgreSQL: what the server answers equals what was seeded,
//! and the response cache never serves an answer older than the last commit (a live commit
//! and a rollback each change the next answer at once).

#[path = "../benches/support/seed.rs"]
mod seed;

use serde_json::{Value, json};
use vouch_indexer::store::entity::host;
use vouch_indexer::store::{Commit, IndexWriter, Row, SeaStore};
use vouch_testkit::{FreshPostgres, FreshSqlite};

const SCALE: seed::Scale = seed::Scale {
    hosts: 1_000,
    events: 10_000,
};

async fn serve(url: &str) -> String {
    let db = vouch_graphql::context::connect(url).await.unwrap();
    let router = vouch_graphql::router(db, vouch_graphql::ServeConfig::default(), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vouch_graphql::serve_on(
        listener,
        router,
        std::time::Duration::from_secs(10),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

async fn query(http: &reqwest::Client, base: &str, q: &str, vars: Value) -> Value {
    let r: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({"query": q, "variables": vars}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

async fn cache_hits(http: &reqwest::Client, base: &str) -> u64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("vouch_graphql_response_cache_total{result=\"hit\"} "))
        .unwrap()
        .parse()
        .unwrap()
}

const COUNTS: &str = "query($h: Address!, $m: Bytes32!) {
  all: hosts(first: 1) { totalCount }
  registered: hosts(filter: {status: REGISTERED}, first: 1) { totalCount }
  serving: hosts(filter: {model: $m, status: REGISTERED}, first: 1) { totalCount }
  jobs(first: 1) { totalCount }
  paid: jobs(filter: {state: PAID}, first: 1) { totalCount }
  expired: jobs(filter: {state: EXPIRED}, first: 1) { totalCount }
  batches(first: 1) { totalCount }
  slashes(first: 1) { totalCount }
  host(address: $h) { reputationHistory(first: 1) { totalCount } }
  indexerStatus { indexedBlock }
}";

async fn check(url: &str, store: SeaStore) {
    let (s, mut seeder) = seed::seed_store(store.clone(), SCALE).await;
    assert!(s.events >= 9_900 && s.events <= 10_000, "{s:?}");
    assert_eq!(s.hosts, 1_000);
    let base = serve(url).await;
    let http = reqwest::Client::new();
    let vars = json!({"h": s.star_host, "m": s.model});
    let d = query(&http, &base, COUNTS, vars.clone()).await;
    assert_eq!(d["all"]["totalCount"], s.hosts);
    assert_eq!(d["registered"]["totalCount"], s.registered_hosts);
    assert_eq!(d["serving"]["totalCount"], s.model_hosts);
    assert_eq!(d["jobs"]["totalCount"], s.jobs);
    assert_eq!(d["paid"]["totalCount"], s.jobs_paid);
    assert_eq!(d["expired"]["totalCount"], s.jobs_expired);
    assert_eq!(d["batches"]["totalCount"], s.batches);
    assert_eq!(d["slashes"]["totalCount"], s.slashes);
    assert_eq!(d["host"]["reputationHistory"]["totalCount"], s.star_points);
    assert_eq!(d["indexerStatus"]["indexedBlock"], s.last_block);

    // The same request again is a cache hit with the same answer.
    let hits = cache_hits(&http, &base).await;
    assert_eq!(query(&http, &base, COUNTS, vars.clone()).await, d);
    assert!(cache_hits(&http, &base).await > hits);

    // A live commit: the very next answer has the new job.
    let ancestor = s.last_block;
    seeder.live_job().await;
    let after = query(&http, &base, COUNTS, vars.clone()).await;
    assert_eq!(after["jobs"]["totalCount"], s.jobs + 1);
    assert_eq!(after["indexerStatus"]["indexedBlock"], s.last_block + 1);

    // A rollback of that block: the next answer is the one before it again.
    let hash = format!(
        "{:#x}",
        alloy::primitives::keccak256(format!("seed-block-{ancestor}"))
    );
    let undone = store
        .rollback(seed::CHAIN_ID, ancestor, hash)
        .await
        .unwrap();
    assert_eq!(undone.events_removed, 1);
    assert_eq!(query(&http, &base, COUNTS, vars.clone()).await, d);

    // A commit that changes only the hosts: the host lists, built once per database version
    // and shared (schema::HostListing), show the newcomer in the very next answer.
    let mut cp = store.checkpoint(seed::CHAIN_ID).await.unwrap().unwrap();
    cp.block_number += 1;
    cp.block_hash = format!("{:#x}", alloy::primitives::keccak256("listing-test"));
    let newcomer = alloy::primitives::Address::repeat_byte(0xaa).to_checksum(None);
    let host = host::Model {
        chain_id: cp.chain_id,
        address: newcomer.clone(),
        endpoint: "https://newcomer.example".into(),
        region: "listing-test".into(),
        price_per_token: "1".into(),
        models: "[]".into(),
        operator: None,
        registered: true,
        registered_at: Some(1_800_000_000),
        deregistered_at: None,
        last_heartbeat: None,
        block: cp.block_number,
    };
    store
        .commit(Commit {
            chain_id: seed::CHAIN_ID,
            rows: vec![Row::Host(host)],
            checkpoint: Some(cp),
            ..Commit::default()
        })
        .await
        .unwrap();
    let listed = query(
        &http,
        &base,
        r#"{ all: hosts(first: 1) { totalCount }
             new: hosts(filter: {region: "listing-test"}, first: 5) { totalCount nodes { address } }
             board: leaderboard(first: 1) { totalCount } }"#,
        json!({}),
    )
    .await;
    assert_eq!(listed["all"]["totalCount"], s.hosts + 1);
    assert_eq!(listed["new"]["totalCount"], 1);
    assert_eq!(listed["new"]["nodes"][0]["address"], newcomer);
    assert_eq!(listed["board"]["totalCount"], s.registered_hosts + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_counts_and_cache_invalidation_on_sqlite() {
    let db = FreshSqlite::create();
    check(&db.url, SeaStore::connect(&db.url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_counts_and_cache_invalidation_on_postgres() {
    let db = FreshPostgres::create().await;
    check(&db.url, SeaStore::connect(&db.url).await.unwrap()).await;
}
