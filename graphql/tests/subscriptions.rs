//! GraphQL subscriptions against real parts: anvil with the deploy script's contracts, the real
//! indexer following it, SQLite and PostgreSQL, the axum websocket endpoint, and a websocket
//! client speaking `graphql-transport-ws` (and one test the legacy `graphql-ws`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use async_graphql::{EmptyMutation, Object, Schema};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::JobMarketplace;
use vouch_bindings::events::AddressBook;
use vouch_graphql::subscriptions::{LiveFeed, Subscription, SubscriptionLimits, ws_route};
use vouch_indexer::notify::Notifier;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_indexer::{Indexer, IndexerConfig};
use vouch_testkit::{FreshPostgres, FreshSqlite};

const CHAIN: u64 = 31337;

struct Query;

#[Object]
impl Query {
    async fn dummy(&self) -> bool {
        true
    }
}

type TestSchema = Schema<Query, EmptyMutation, Subscription>;

// ---- the chain -------------------------------------------------------------------------------

struct Chain {
    anvil: alloy::node_bindings::AnvilInstance,
    provider: DynProvider,
    deployment: Deployment,
    signer: PrivateKeySigner,
    _deployed: vouch_testkit::ScriptDeployment,
}

impl Chain {
    fn new() -> Self {
        let anvil = vouch_testkit::anvil();
        let deployed = vouch_testkit::deploy_with_script(&anvil);
        let deployment = Deployment::load(&deployed.manifest).unwrap();
        let signer: PrivateKeySigner = deployed.deployer_key.parse().unwrap();
        let provider = wallet_provider(&anvil, &signer);
        Chain {
            anvil,
            provider,
            deployment,
            signer,
            _deployed: deployed,
        }
    }

    /// A new provider (after an anvil revert the old one's nonce cache is wrong).
    fn reconnect(&mut self) {
        self.provider = wallet_provider(&self.anvil, &self.signer);
    }

    /// createJob paid in ETH; returns the block it was mined in.
    async fn create_job(&self, salt: u8) -> u64 {
        let market = JobMarketplace::new(self.deployment.contracts.job_marketplace, &self.provider);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let payment = U256::from(10_000_000_000_000_000u64); // 0.01 ETH
        let receipt = market
            .createJob(
                B256::repeat_byte(0x11),
                B256::repeat_byte(salt),
                Address::ZERO,
                alloy::primitives::Uint::<96, 2>::from(10_000_000_000_000_000u64),
                alloy::primitives::Uint::<40, 1>::from(now + 3_600),
                Address::ZERO,
                0,
            )
            .value(payment)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "createJob reverted");
        receipt.block_number.unwrap()
    }

    async fn indexer(&self, store: SeaStore) -> Indexer<SeaStore> {
        let book = AddressBook::new(&self.deployment);
        let source =
            ChainSource::connect(&self.anvil.endpoint(), book.addresses(), Backoff::default())
                .await
                .unwrap();
        let cfg = IndexerConfig {
            reorg_window: 64,
            confirmations: 2,
            poll: Duration::from_millis(100),
            ..IndexerConfig::default()
        };
        Indexer::open(source, store, &self.deployment, cfg)
            .await
            .unwrap()
    }
}

fn wallet_provider(
    anvil: &alloy::node_bindings::AnvilInstance,
    signer: &PrivateKeySigner,
) -> DynProvider {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect_http(anvil.endpoint_url())
        .erased()
}

/// The indexer following the chain in a task; records when each block was committed.
struct Running {
    commits: Arc<Mutex<HashMap<u64, Instant>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(mut indexer: Indexer<SeaStore>) -> Running {
        let commits = Arc::new(Mutex::new(HashMap::new()));
        let c = commits.clone();
        indexer.on_progress(move |p| {
            c.lock().unwrap().insert(p.indexed, Instant::now());
        });
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            indexer
                .run(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Running {
            commits,
            stop: Some(stop),
            task,
        }
    }

    /// Waits until block `n` is committed; its commit time.
    async fn committed(&self, n: u64) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(t) = self.commits.lock().unwrap().get(&n) {
                return *t;
            }
            assert!(Instant::now() < deadline, "block {n} was not indexed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}

// ---- the server and a websocket client -------------------------------------------------------

async fn serve(feed: LiveFeed, limits: SubscriptionLimits) -> String {
    let schema: TestSchema = Schema::build(Query, EmptyMutation, Subscription)
        .data(feed)
        .finish();
    let app = axum::Router::new().route("/graphql", ws_route(schema, limits));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("ws://{addr}/graphql")
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    ws: Ws,
    legacy: bool,
}

impl Client {
    async fn connect(url: &str, protocol: &str) -> Client {
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(
            resp.headers()["sec-websocket-protocol"].to_str().unwrap(),
            protocol
        );
        Client {
            ws,
            legacy: protocol == "graphql-ws",
        }
    }

    async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// The next JSON message (skipping pings/keep-alives), within `within`.
    async fn recv(&mut self, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("no message in time")
                .expect("socket closed")
                .unwrap();
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["type"].as_str() {
                    Some("ka") | Some("ping") | Some("pong") => continue,
                    _ => return v,
                }
            }
        }
    }

    async fn init(&mut self) {
        self.send(json!({"type": "connection_init", "payload": {}}))
            .await;
        let ack = self.recv(Duration::from_secs(5)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    async fn subscribe(&mut self, id: &str, query: &str) {
        let kind = if self.legacy { "start" } else { "subscribe" };
        self.send(json!({"id": id, "type": kind, "payload": {"query": query}}))
            .await;
    }

    /// The next data payload (`next`, or `data` in the legacy protocol): (id, data).
    async fn next_data(&mut self, within: Duration) -> (String, Value) {
        let m = self.recv(within).await;
        let want = if self.legacy { "data" } else { "next" };
        assert_eq!(m["type"], want, "{m}");
        assert!(m["payload"]["errors"].is_null(), "{m}");
        (
            m["id"].as_str().unwrap().to_owned(),
            m["payload"]["data"].clone(),
        )
    }
}

const JOB_CREATED: &str = "subscription { jobCreated { jobId renter token payment fee inputHash block txHash reverted } }";

fn job_updated(renter: Address) -> String {
    format!(
        r#"subscription {{ jobUpdated(filter: {{renter: "{renter}"}}) {{ jobId state event host renter block txHash reverted }} }}"#
    )
}

/// Subscribes, lets the server start the streams, sends a createJob and checks both payloads
/// arrive within 1 s of the indexer's commit of that block.
async fn job_created_case(chain: &Chain, running: &Running, client: &mut Client) {
    let renter = chain.signer.address();
    client.subscribe("1", JOB_CREATED).await;
    client.subscribe("2", &job_updated(renter)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let block = chain.create_job(0x22).await;
    let committed = running.committed(block).await;
    let mut got = HashMap::new();
    for _ in 0..2 {
        let (id, data) = client.next_data(Duration::from_secs(5)).await;
        let late = committed.elapsed();
        assert!(
            late < Duration::from_secs(1),
            "{id} came {late:?} after the commit"
        );
        got.insert(id, data);
    }
    let created = &got["1"]["jobCreated"];
    assert_eq!(created["jobId"], "1", "{created}");
    assert_eq!(created["renter"], renter.to_checksum(None));
    assert_eq!(created["token"], Address::ZERO.to_checksum(None));
    assert_eq!(created["payment"], "10000000000000000");
    assert_eq!(
        created["inputHash"],
        format!("{:#x}", B256::repeat_byte(0x22))
    );
    assert_eq!(created["block"], block);
    assert_eq!(created["reverted"], false);
    let update = &got["2"]["jobUpdated"];
    assert_eq!(update["state"], "Open", "{update}");
    assert_eq!(update["event"], "JobCreated");
    assert_eq!(update["renter"], renter.to_checksum(None));
    assert_eq!(update["txHash"], created["txHash"]);
}

/// Waits until the indexer has caught up with the chain's head.
async fn caught_up(chain: &Chain, running: &Running) {
    let head = chain.provider.get_block_number().await.unwrap();
    running.committed(head).await;
}

// ---- tests -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_created_in_process_sqlite() {
    let chain = Chain::new();
    let db = FreshSqlite::create();
    let hub = Notifier::in_process();
    let store = SeaStore::connect(&db.url)
        .await
        .unwrap()
        .with_notifier(hub.clone());
    store.migrate().await.unwrap();
    let running = Running::start(chain.indexer(store).await).await;
    caught_up(&chain, &running).await;

    let reader = SeaStore::connect(&db.url).await.unwrap();
    let feed = LiveFeed::in_process(reader.connection().clone(), CHAIN, &hub)
        .await
        .unwrap();
    let url = serve(feed, SubscriptionLimits::default()).await;
    let mut client = Client::connect(&url, "graphql-transport-ws").await;
    client.init().await;
    job_created_case(&chain, &running, &mut client).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_created_across_processes_postgres() {
    let chain = Chain::new();
    let db = FreshPostgres::create().await;
    // The indexer with a store of its own, no in-process hub: only NOTIFY reaches the server.
    let store = SeaStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let running = Running::start(chain.indexer(store).await).await;
    caught_up(&chain, &running).await;

    // Through the server's own router, as `vouch serve` runs it: the feed found from the
    // database's checkpoints, queries and the websocket both at /graphql.
    let served = SeaStore::connect(&db.url).await.unwrap();
    let feed = vouch_graphql::subscriptions::feed_for_database(&db.url, served.connection())
        .await
        .unwrap()
        .expect("an indexed chain");
    let app = vouch_graphql::router(
        served.connection().clone(),
        vouch_graphql::ServeConfig::default(),
        Some(feed),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut client = Client::connect(&format!("ws://{addr}/graphql"), "graphql-transport-ws").await;
    client.init().await;
    job_created_case(&chain, &running, &mut client).await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_created_across_processes_sqlite_poll_legacy_protocol() {
    let chain = Chain::new();
    let db = FreshSqlite::create();
    let store = SeaStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let running = Running::start(chain.indexer(store).await).await;
    caught_up(&chain, &running).await;

    let feed = LiveFeed::listening(&db.url, CHAIN).await.unwrap();
    let url = serve(feed, SubscriptionLimits::default()).await;
    let mut client = Client::connect(&url, "graphql-ws").await;
    client.init().await;
    job_created_case(&chain, &running, &mut client).await;
    running.stop().await;
}

/// A job created in a block that a reorg removes: the subscriber gets it again with
/// `reverted: true`, then the job of the canonical chain.
async fn reorg_case(db_url: &str) {
    let mut chain = Chain::new();
    let store = SeaStore::connect(db_url).await.unwrap();
    store.migrate().await.unwrap();
    let running = Running::start(chain.indexer(store).await).await;
    caught_up(&chain, &running).await;
    let feed = LiveFeed::listening(db_url, CHAIN).await.unwrap();
    let url = serve(feed, SubscriptionLimits::default()).await;
    let mut client = Client::connect(&url, "graphql-transport-ws").await;
    client.init().await;
    client.subscribe("1", JOB_CREATED).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let fork = chain.provider.anvil_snapshot().await.unwrap();
    let orphan_block = chain.create_job(0xaa).await;
    let (_, first) = client.next_data(Duration::from_secs(5)).await;
    let first = first["jobCreated"].clone();
    assert_eq!(
        first["inputHash"],
        format!("{:#x}", B256::repeat_byte(0xaa))
    );
    assert_eq!(first["reverted"], false);

    assert!(chain.provider.anvil_revert(fork).await.unwrap());
    chain.reconnect();
    // Two blocks: the canonical chain is longer, the job lands at the orphan's height again.
    chain.provider.anvil_mine(Some(1), None).await.unwrap();
    let canonical_block = chain.create_job(0xbb).await;
    assert_eq!(canonical_block, orphan_block + 1);
    let (_, reverted) = client.next_data(Duration::from_secs(10)).await;
    let reverted = reverted["jobCreated"].clone();
    assert_eq!(reverted["reverted"], true, "{reverted}");
    assert_eq!(reverted["txHash"], first["txHash"]);
    assert_eq!(reverted["inputHash"], first["inputHash"]);
    let (_, new) = client.next_data(Duration::from_secs(10)).await;
    let new = new["jobCreated"].clone();
    assert_eq!(new["reverted"], false, "{new}");
    assert_eq!(new["inputHash"], format!("{:#x}", B256::repeat_byte(0xbb)));
    assert_eq!(new["jobId"], "1", "the job counter was reverted too");
    assert_eq!(new["block"], canonical_block);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reorg_announces_reverted_then_canonical_postgres() {
    let db = FreshPostgres::create().await;
    reorg_case(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reorg_announces_reverted_then_canonical_sqlite_poll() {
    let db = FreshSqlite::create();
    reorg_case(&db.url).await;
}

/// A feed over an empty database, for the tests that need no chain.
async fn idle_feed() -> (FreshSqlite, LiveFeed) {
    let db = FreshSqlite::create();
    let store = SeaStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let hub = Notifier::in_process();
    let feed = LiveFeed::in_process(store.connection().clone(), CHAIN, &hub)
        .await
        .unwrap();
    (db, feed)
}

/// Counts (accepted, refused) among `n` subscriptions sent at once: a refused one answers
/// with an error and completes; an accepted one stays silent.
async fn subscribe_many(client: &mut Client, prefix: &str, n: usize) -> Vec<String> {
    for i in 0..n {
        client.subscribe(&format!("{prefix}{i}"), JOB_CREATED).await;
    }
    let mut errors = Vec::new();
    loop {
        let m = match tokio::time::timeout(Duration::from_secs(2), client.ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t).unwrap(),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("socket ended: {other:?}"),
            Err(_) => break,
        };
        match m["type"].as_str() {
            Some("next") => errors.push(
                m["payload"]["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
            Some("complete") => {}
            _ => panic!("unexpected {m}"),
        }
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscriptions_beyond_the_caps_are_refused() {
    let (_db, feed) = idle_feed().await;
    let limits = SubscriptionLimits::new(150, 100, Duration::from_secs(5));
    let url = serve(feed, limits.clone()).await;
    let mut a = Client::connect(&url, "graphql-transport-ws").await;
    a.init().await;
    let errors = subscribe_many(&mut a, "a", 1_000).await;
    assert_eq!(errors.len(), 900, "100 of 1,000 accepted on one connection");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("too many subscriptions on this connection: at most 100")),
        "{:?}",
        errors[0]
    );
    assert_eq!(limits.active(), 100);

    let mut b = Client::connect(&url, "graphql-transport-ws").await;
    b.init().await;
    let errors = subscribe_many(&mut b, "b", 60).await;
    assert_eq!(errors.len(), 10, "the server-wide cap of 150");
    assert!(
        errors[0].contains("the server is at its limit of 150 concurrent subscriptions"),
        "{}",
        errors[0]
    );

    // Completing subscriptions frees their slots (which 100 of a's were accepted depends on
    // the order the server first polled them: complete them all).
    for i in 0..1_000 {
        a.send(json!({"id": format!("a{i}"), "type": "complete"}))
            .await;
    }
    wait_active(&limits, 50).await;
    let errors = subscribe_many(&mut b, "c", 10).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(limits.active(), 60);
    // A closed socket frees its slots.
    drop(b);
    wait_active(&limits, 0).await;
}

async fn wait_active(limits: &SubscriptionLimits, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while limits.active() != n {
        assert!(
            Instant::now() < deadline,
            "{} subscriptions active, expected {n}",
            limits.active()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_silent_websocket_is_closed() {
    let (_db, feed) = idle_feed().await;
    let url = serve(feed, SubscriptionLimits::default()).await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut c = Client::connect(&url, protocol).await;
        let opened = Instant::now();
        let msg = tokio::time::timeout(Duration::from_secs(8), c.ws.next())
            .await
            .expect("the server closes a silent socket");
        let waited = opened.elapsed();
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4408, "{protocol}");
                assert!(frame.reason.contains("initialisation timeout"));
            }
            other => panic!("{protocol}: expected a close frame, got {other:?}"),
        }
        assert!(
            waited >= Duration::from_millis(4_500) && waited < Duration::from_secs(7),
            "{protocol}: closed after {waited:?}"
        );
    }
    // A socket that does init stays open past the timeout.
    let mut c = Client::connect(&url, "graphql-transport-ws").await;
    c.init().await;
    assert!(
        tokio::time::timeout(Duration::from_secs(6), c.ws.next())
            .await
            .is_err(),
        "an initialised socket is kept"
    );
}
