//! Load bench of the GraphQL server: the real router served by `serve_on` on 127.0.0.1 over a
//! seeded database (10,000 hosts, 1,000,000 events, support/seed.rs), driven by 8 keep-alive
//! HTTP clients for `VOUCH_BENCH_SECS` (default 10) per query, on PostgreSQL and SQLite, with
//! the response cache off and on. Reports req/s, p50/p95/p99 and each query's throughput as a
//! ratio to `{ __typename }` measured in the same run.
//!
//! `VOUCH_BENCH_DB=postgres|sqlite` runs one database; `VOUCH_BENCH_CACHE=off|on` one mode.

#[path = "support/seed.rs"]
mod seed;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CONCURRENCY: usize = 8;

struct Query {
    name: &'static str,
    /// The requests a client cycles through (same query, its variables).
    bodies: Vec<Vec<u8>>,
    /// Checks the first answer of each body.
    check: fn(&Value, &seed::Summary),
}

fn body(query: &str, variables: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"query": query, "variables": variables})).unwrap()
}

fn queries(s: &seed::Summary, jobs: &[i64]) -> Vec<Query> {
    vec![
        Query {
            name: "floor { __typename }",
            bodies: vec![body("{ __typename }", json!({}))],
            check: |d, _| assert_eq!(d["__typename"], "Query"),
        },
        Query {
            name: "hosts page (50, model, by reputation)",
            bodies: vec![body(
                "query($m: Bytes32!) { hosts(filter: {model: $m, status: REGISTERED}, orderBy: REPUTATION, direction: DESC, first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { address endpoint region pricePerToken reputation models stake { active } } } }",
                json!({"m": s.model}),
            )],
            check: |d, s| {
                assert_eq!(d["hosts"]["totalCount"], s.model_hosts);
                assert_eq!(d["hosts"]["nodes"].as_array().unwrap().len(), 50);
            },
        },
        Query {
            name: "job with batch and host",
            bodies: jobs
                .iter()
                .map(|id| {
                    body(
                        "query($id: Int!) { job(id: $id) { id state payment fee renter createdAt { iso } completedAt { iso } host { address reputation stake { active } } batch { txHash batchSize jobCount proofHash jobIds time { iso } } } }",
                        json!({"id": id}),
                    )
                })
                .collect(),
            check: |d, _| {
                assert_eq!(d["job"]["state"], "PAID");
                assert!(d["job"]["batch"]["txHash"].is_string());
                assert!(d["job"]["host"]["address"].is_string());
            },
        },
        Query {
            name: "reputation history (500 points)",
            bodies: vec![body(
                "query($h: Address!) { host(address: $h) { reputation reputationHistory(first: 500) { pageInfo { hasNextPage } nodes { time { unix } oldScore newScore outcome weight } } } }",
                json!({"h": s.star_host}),
            )],
            check: |d, _| {
                let n = d["host"]["reputationHistory"]["nodes"].as_array().unwrap();
                assert_eq!(n.len(), 500);
            },
        },
        Query {
            name: "leaderboard page (50)",
            bodies: vec![body(
                "{ leaderboard(first: 50) { totalCount nodes { rank percentile reputation host { address region } } } }",
                json!({}),
            )],
            check: |d, s| {
                assert_eq!(d["leaderboard"]["totalCount"], s.registered_hosts);
                assert_eq!(d["leaderboard"]["nodes"][0]["rank"], 1);
            },
        },
    ]
}

struct Figures {
    requests: usize,
    errors: usize,
    secs: f64,
    p50: f64,
    p95: f64,
    p99: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn drive(
    http: &reqwest::Client,
    url: &str,
    q: &Query,
    s: &seed::Summary,
    secs: f64,
) -> Figures {
    for b in &q.bodies {
        let r: Value = http
            .post(url)
            .header("content-type", "application/json")
            .body(b.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r.get("errors").is_none(), "{}: {r}", q.name);
        (q.check)(&r["data"], s);
    }
    let bodies: Arc<Vec<axum::body::Bytes>> = Arc::new(
        q.bodies
            .iter()
            .map(|b| axum::body::Bytes::from(b.clone()))
            .collect(),
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|w| {
            let (http, url, bodies) = (http.clone(), url.to_owned(), bodies.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(50_000);
                let mut errors = 0usize;
                let mut i = w;
                while Instant::now() < deadline {
                    let b = bodies[i % bodies.len()].clone();
                    i += 1;
                    let t = Instant::now();
                    let r = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(b)
                        .send()
                        .await
                        .unwrap();
                    let ok = r.status() == 200;
                    let body = r.bytes().await.unwrap();
                    // A timeout or any error is counted, not timed as a success.
                    if ok && body.starts_with(b"{\"data\":{") {
                        lat.push(t.elapsed().as_secs_f64() * 1e3);
                    } else {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = vec![];
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.unwrap();
        all.extend(lat);
        errors += e;
    }
    if all.is_empty() {
        all.push(f64::NAN);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Figures {
        requests: all.iter().filter(|x| !x.is_nan()).count(),
        errors,
        secs,
        p50: percentile(&all, 50.0),
        p95: percentile(&all, 95.0),
        p99: percentile(&all, 99.0),
    }
}

/// Serves `url` on its own runtime (so the clients' runtime does not share its workers).
fn start_server(url: String, cache: bool) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let db = vouch_graphql::context::connect(&url).await.unwrap();
            let mut cfg = vouch_graphql::ServeConfig::default();
            if !cache {
                cfg.response_cache = vouch_graphql::cache::CacheConfig::off();
            }
            let read_timeout = cfg.read_timeout;
            let router = vouch_graphql::router(db, cfg, None).unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            vouch_graphql::serve_on(listener, router, read_timeout, std::future::pending())
                .await
                .unwrap();
        });
    });
    rx.recv().unwrap()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let secs: f64 = std::env::var("VOUCH_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let dbs: Vec<String> = match std::env::var("VOUCH_BENCH_DB") {
        Ok(d) => vec![d],
        Err(_) => vec!["postgres".into(), "sqlite".into()],
    };
    let modes: Vec<bool> = match std::env::var("VOUCH_BENCH_CACHE").as_deref() {
        Ok("off") => vec![false],
        Ok("on") => vec![true],
        _ => vec![false, true],
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for db in &dbs {
            let (url, summary) = match db.as_str() {
                "postgres" => seed::cached_postgres(seed::FULL).await,
                "sqlite" => seed::cached_sqlite(seed::FULL).await,
                other => panic!("VOUCH_BENCH_DB={other}: postgres or sqlite"),
            };
            eprintln!("{db}: {summary:?}");
            // Paid jobs proven in batches: the seed's first, then every 97th job id up to 200.
            let jobs = proven_jobs(&url, 200).await;
            for &cache in &modes {
                let addr = start_server(url.clone(), cache);
                let url = format!("http://{addr}/graphql");
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(CONCURRENCY)
                    .build()
                    .unwrap();
                let qs = queries(&summary, &jobs);
                println!(
                    "\n## {db}, response cache {} ({secs} s per query, concurrency {CONCURRENCY}, load {})",
                    if cache { "on" } else { "off" },
                    load()
                );
                println!("| query | req/s | p50 ms | p95 ms | p99 ms | of floor | errors (timeouts) |");
                println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
                let mut floor = 0.0;
                for q in &qs {
                    let f = drive(&http, &url, q, &summary, secs).await;
                    let rps = f.requests as f64 / f.secs;
                    if floor == 0.0 {
                        floor = rps;
                    }
                    println!(
                        "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                        q.name,
                        rps,
                        f.p50,
                        f.p95,
                        f.p99,
                        rps / floor,
                        f.errors
                    );
                }
                println!("(load after: {})", load());
            }
        }
    });
}

/// Up to `n` paid jobs that a batch proved, spread over the history.
async fn proven_jobs(url: &str, n: usize) -> Vec<i64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    use vouch_indexer::store::entity::job;
    let db = sea_orm::Database::connect(url).await.unwrap();
    let total = job::Entity::find()
        .filter(job::Column::State.eq("Paid"))
        .select_only()
        .column(job::Column::JobId)
        .order_by_asc(job::Column::JobId)
        .into_tuple::<i64>()
        .all(&db)
        .await
        .unwrap();
    let step = (total.len() / n).max(1);
    total.into_iter().step_by(step).take(n).collect()
}
