//! The DataLoaders keep the number of SQL statements of a page independent of its size: the
//! server runs over a connection with sqlx's statement log on, and a `tracing` layer counts
//! the statements (`sqlx::query` events, one per statement sent to the real database) of each
//! request. A page of 3 jobs and a page of every job (28), each job with its host (and the
//! host's stake and reputation), batch and dispute, cost the same number of statements, on
//! SQLite and PostgreSQL. The scenario proves no batch, so the batch loaders are counted over
//! a database filled by the benches' seeding tool (benches/support/seed.rs): pages of 3 and of
//! 100 paid jobs, each with its host and its batch (and the batch's jobs).

mod common;
#[path = "../benches/support/seed.rs"]
mod seed;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Api, OPEN_JOBS, World};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use vouch_testkit::{FreshPostgres, FreshSqlite};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);
/// The counter is process-wide: the tests of this file take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static COUNTING: std::sync::Once = std::sync::Once::new();

fn count_statements() {
    COUNTING.call_once(|| {
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(CountStatements),
        )
        .unwrap()
    });
}

/// Counts sqlx's per-statement events.
struct CountStatements;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountStatements {
    fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if e.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The server over `url` with every statement logged (the server's own pool turns the log
/// off; the router takes any connection).
async fn logged_server(url: &str) -> Api {
    let mut opts = sea_orm::ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Info);
    let db = sea_orm::Database::connect(opts).await.unwrap();
    let router = vouch_graphql::router(db, vouch_graphql::ServeConfig::default(), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Api {
        addr,
        http: reqwest::Client::new(),
    }
}

const PAGE: &str = "query($n: Int) { jobs(first: $n, direction: ASC) { nodes { id host { address stake { active } reputation } batch { txHash } dispute { status } } } }";

/// (statements, jobs, jobs with a host) of one page of `n` jobs.
async fn page(api: &Api, n: usize) -> (usize, usize, usize) {
    let before = STATEMENTS.load(Ordering::SeqCst);
    let d = api.query(PAGE, json!({"n": n})).await;
    let after = STATEMENTS.load(Ordering::SeqCst);
    let nodes = d["jobs"]["nodes"].as_array().unwrap();
    let hosted = nodes.iter().filter(|j| !j["host"].is_null()).count();
    (after - before, nodes.len(), hosted)
}

async fn check(api: &Api) -> usize {
    let all = OPEN_JOBS + 3;
    let (small, n_small, hosted_small) = page(api, 3).await;
    let (large, n_large, hosted_large) = page(api, all).await;
    assert_eq!((n_small, hosted_small), (3, 2), "jobs 1 and 3 have hosts");
    assert_eq!((n_large, hosted_large), (all, 2));
    assert_eq!(
        small, large,
        "a page of 3 jobs cost {small} statements, a page of {all} cost {large}"
    );
    // Begin, the checkpoint, the clock, the half-life, the page, its count, the hosts, their
    // stakes, their reputations, the disputes, commit: a bound well under one per row.
    assert!(large <= 16, "{large} statements for one page");
    large
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_costs_the_same_statements_whatever_its_size() {
    count_statements();
    let _turn = SERIAL.lock().await;
    let world = World::new().await;
    let sqlite = FreshSqlite::create();
    world.index(&sqlite.url).await;
    let on_sqlite = check(&logged_server(&sqlite.url).await).await;
    let pg = FreshPostgres::create().await;
    world.index(&pg.url).await;
    let on_pg = check(&logged_server(&pg.url).await).await;
    eprintln!("statements per page: SQLite {on_sqlite}, PostgreSQL {on_pg}");
}

const BATCHED: &str = "query($n: Int) { jobs(filter: {state: PAID}, first: $n, direction: ASC) { nodes { id host { address stake { active } reputation } batch { txHash jobCount jobs { id state } } } } }";

/// (statements, jobs, jobs with a host and a batch listing them) of a page of `n` paid jobs.
async fn batched_page(api: &Api, n: usize) -> (usize, usize, usize) {
    let before = STATEMENTS.load(Ordering::SeqCst);
    let d = api.query(BATCHED, json!({"n": n})).await;
    let after = STATEMENTS.load(Ordering::SeqCst);
    let nodes = d["jobs"]["nodes"].as_array().unwrap();
    let linked = nodes
        .iter()
        .filter(|j| {
            j["host"]["address"].is_string()
                && j["batch"]["jobs"]
                    .as_array()
                    .is_some_and(|js| js.iter().any(|b| b["id"] == j["id"]))
        })
        .count();
    (after - before, nodes.len(), linked)
}

async fn check_batched(url: &str) -> usize {
    let scale = seed::Scale {
        hosts: 50,
        events: 3_000,
    };
    let s = seed::seed(url, scale).await;
    assert!(s.jobs_paid >= 100, "{s:?}");
    let api = logged_server(url).await;
    // The fewest statements of three tries: a loader's batch window (5 ms) can close early
    // when the resolving thread is preempted on a loaded machine, splitting a level in two;
    // a query per row would cost 100 more on every try.
    let mut tries = vec![];
    for _ in 0..3 {
        tries.push((batched_page(&api, 3).await, batched_page(&api, 100).await));
    }
    let small = tries.iter().map(|t| t.0.0).min().unwrap();
    let large = tries.iter().map(|t| t.1.0).min().unwrap();
    let ((_, n_small, linked_small), (_, n_large, linked_large)) = tries[0];
    assert_eq!((n_small, linked_small), (3, 3));
    assert_eq!((n_large, linked_large), (100, 100));
    assert_eq!(
        small, large,
        "a page of 3 proven jobs cost {small} statements, a page of 100 cost {large}"
    );
    assert!(large <= 16, "{large} statements for one page");
    large
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_loaders_cost_the_same_statements_whatever_the_page() {
    count_statements();
    let _turn = SERIAL.lock().await;
    let sqlite = FreshSqlite::create();
    let on_sqlite = check_batched(&sqlite.url).await;
    let pg = FreshPostgres::create().await;
    let on_pg = check_batched(&pg.url).await;
    eprintln!("statements per page of proven jobs: SQLite {on_sqlite}, PostgreSQL {on_pg}");
}
