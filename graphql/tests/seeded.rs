//! The seeding tool of the benches (benches/support/seed.rs) at a CI scale (1,000 hosts,
//! 10,000 events) on SQLite and PostgreSQL: what the server answers equals what was seeded,
//! and the response cache never serves an answer older than the last commit (a live commit
//! and a rollback each change the next answer at once).

#[path = "../benches/support/seed.rs"]
mod seed;

use serde_json::{Value, json};
use vouch_indexer::store::{IndexWriter, SeaStore};
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
    assert_eq!(query(&http, &base, COUNTS, vars).await, d);
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
