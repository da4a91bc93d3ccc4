//! Subscription latency: from the indexer's commit of a block (the commit returned) to a
//! websocket client of the real server receiving its `jobCreated` event
//! (`graphql-transport-ws`). The blocks are committed through the indexer's write path by the
//! seeding tool (support/seed.rs) over a seeded database (200 hosts, 20,000 events):
//! - in-process, SQLite and PostgreSQL: the writer's store carries the in-process `Notifier`,
//!   the feed wakes on it; the clock is one `Instant`;
//! - across processes, PostgreSQL: this binary re-runs itself as the writer (`--writer URL`),
//!   the server's feed wakes on `LISTEN vouch_commits`; both sides stamp the wall clock of the
//!   same machine.
//!
//! `VOUCH_BENCH_EVENTS` (default 200) blocks per case, each after a random 0-50 ms pause.

#[path = "support/seed.rs"]
mod seed;

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vouch_indexer::notify::Notifier;
use vouch_indexer::store::SeaStore;
use vouch_testkit::{FreshPostgres, FreshSqlite};

const SCALE: seed::Scale = seed::Scale {
    hosts: 200,
    events: 20_000,
};

fn wall_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn count() -> usize {
    std::env::var("VOUCH_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Serves `db_url` with `feed` on a free port; a subscribed `jobCreated` client.
async fn subscribed(db_url: &str, feed: vouch_graphql::LiveFeed) -> Ws {
    let db = vouch_graphql::context::connect(db_url).await.unwrap();
    let cfg = vouch_graphql::ServeConfig::default();
    let read_timeout = cfg.read_timeout;
    let router = vouch_graphql::router(db, cfg, Some(feed)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vouch_graphql::serve_on(
        listener,
        router,
        read_timeout,
        std::future::pending(),
    ));
    let mut req = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    send(&mut ws, json!({"type": "connection_init", "payload": {}})).await;
    assert_eq!(recv(&mut ws).await["type"], "connection_ack");
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { jobCreated { jobId block txHash } }"}}),
    )
    .await;
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("no websocket message within 10 s")
            .expect("socket closed")
            .unwrap();
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "ping" || v["type"] == "pong" {
                continue;
            }
            return v;
        }
    }
}

/// The job id of the next `jobCreated` event.
async fn next_job(ws: &mut Ws) -> u64 {
    let m = recv(ws).await;
    assert_eq!(m["type"], "next", "{m}");
    m["payload"]["data"]["jobCreated"]["jobId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn report(case: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((q / 100.0) * (ms.len() - 1) as f64).round() as usize];
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    println!(
        "| {case} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
        p(50.0),
        p(95.0),
        ms[ms.len() - 1],
        mean,
        ms.len()
    );
}

/// Writer and server in one process.
async fn in_process(url: &str) -> Vec<f64> {
    let notifier = Notifier::in_process();
    let store = SeaStore::connect(url)
        .await
        .unwrap()
        .with_notifier(notifier.clone());
    let (_, mut seeder) = seed::seed_store(store.clone(), SCALE).await;
    let feed =
        vouch_graphql::LiveFeed::in_process(store.connection().clone(), seed::CHAIN_ID, &notifier)
            .await
            .unwrap();
    let mut ws = subscribed(url, feed).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let receiver = tokio::spawn(async move {
        loop {
            let id = next_job(&mut ws).await;
            if tx.send((id, Instant::now())).is_err() {
                return;
            }
        }
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut out = vec![];
    for _ in 0..count() {
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..50))).await;
        let id = seeder.live_job().await;
        let committed = Instant::now();
        let (got, at) = rx.recv().await.unwrap();
        assert_eq!(got, id);
        out.push(at.saturating_duration_since(committed).as_secs_f64() * 1e3);
    }
    receiver.abort();
    out
}

/// The server here, the writer a child process; matched by job id on wall-clock stamps.
async fn across_processes(url: &str) -> Vec<f64> {
    let exe = std::env::current_exe().unwrap();
    let mut child = tokio::process::Command::new(exe)
        .arg("--writer")
        .arg(url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdin = child.stdin.take().unwrap();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"));
    let feed = vouch_graphql::LiveFeed::listening(url, seed::CHAIN_ID)
        .await
        .unwrap();
    let mut ws = subscribed(url, feed).await;
    stdin.write_all(b"go\n").await.unwrap();
    stdin.flush().await.unwrap();
    let n = count();
    let receiver = tokio::spawn(async move {
        let mut got = HashMap::new();
        while got.len() < n {
            let id = next_job(&mut ws).await;
            got.insert(id, wall_micros());
        }
        got
    });
    let mut committed = HashMap::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        let mut it = line.split_whitespace();
        let (id, at): (u64, u64) = (
            it.next().unwrap().parse().unwrap(),
            it.next().unwrap().parse().unwrap(),
        );
        committed.insert(id, at);
    }
    let got = receiver.await.unwrap();
    let _ = child.wait().await;
    committed
        .iter()
        .map(|(id, at)| (got[id].saturating_sub(*at)) as f64 / 1e3)
        .collect()
}

/// The child: seeds `url`, says `ready`, waits for `go`, then commits the blocks, printing
/// `<job id> <wall micros>` after each commit returned.
async fn writer(url: &str) {
    let store = SeaStore::connect(url).await.unwrap();
    let (_, mut seeder) = seed::seed_store(store, SCALE).await;
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..count() {
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..50))).await;
        let id = seeder.live_job().await;
        println!("{id} {}", wall_micros());
        std::io::stdout().flush().unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(i) = args.iter().position(|a| a == "--writer") {
        rt.block_on(writer(&args[i + 1]));
        return;
    }
    rt.block_on(async {
        let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("load before: {}", load().trim());
        println!("| case | p50 ms | p95 ms | max ms | mean ms | events |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        let sqlite = FreshSqlite::create();
        report("SQLite, in-process", in_process(&sqlite.url).await);
        let pg = FreshPostgres::create().await;
        report("PostgreSQL, in-process", in_process(&pg.url).await);
        let pg2 = FreshPostgres::create().await;
        report(
            "PostgreSQL, across processes (LISTEN/NOTIFY)",
            across_processes(&pg2.url).await,
        );
        println!("load after: {}", load().trim());
    });
}
