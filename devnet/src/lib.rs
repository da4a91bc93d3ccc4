//! A whole Vouch on one machine, for newcomers and end-to-end tests: the project's anvil, the
//! real deploy script (verified as `vouch deploy` verifies), the indexer following the chain
//! over websocket into SQLite or PostgreSQL, and the GraphQL API on the same store, woken by
//! the indexer's commits in-process. [`Devnet::start`] brings it up, [`Devnet::stop`] takes it
//! down in order (API, indexer at a commit boundary, anvil) and reports a [`Summary`].

mod chain;
pub mod demo;
mod error;
mod summary;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::node_bindings::AnvilInstance;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vouch_bindings::Deployment;
use vouch_bindings::events::AddressBook;
use vouch_indexer::notify::Notifier;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::SeaStore;
use vouch_indexer::{Indexer, IndexerConfig};

pub use error::{DevnetError, Result};
pub use summary::Summary;

/// How the devnet runs.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// Port of anvil's JSON-RPC (HTTP and websocket on one port).
    pub anvil_port: u16,
    /// Where the GraphQL API listens.
    pub listen: SocketAddr,
    /// `sqlite://FILE` or `postgres://...`; `None`: a fresh SQLite file in `data_dir`.
    pub database: Option<String>,
    /// Holds the SQLite file and the manifest; emptied at start (the chain is new each time).
    pub data_dir: PathBuf,
    /// Deploy for `--demo`: one of anvil's keys ([`demo::actors::COUNCIL`]) is appointed the
    /// arbitration council, which rules on the demo's dispute.
    pub demo: bool,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        DevnetConfig {
            anvil_port: 8545,
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            database: None,
            data_dir: PathBuf::from(".vouch/devnet"),
            demo: false,
        }
    }
}

/// Where the running devnet answers.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub rpc: String,
    pub ws: String,
    pub graphql: String,
    pub manifest: PathBuf,
    pub database: String,
    /// The data directory (the manifest, the default SQLite index, the demo keepers' queues).
    pub data_dir: PathBuf,
}

/// A running devnet.
pub struct Devnet {
    anvil: AnvilInstance,
    provider: DynProvider,
    deployment: Deployment,
    endpoints: Endpoints,
    started: Instant,
    stop_tx: watch::Sender<bool>,
    indexer: JoinHandle<vouch_indexer::indexer::Result<()>>,
    server: JoinHandle<vouch_graphql::Result<()>>,
    store: SeaStore,
}

impl Devnet {
    /// Starts anvil, deploys, and runs the indexer and the API. `progress` gets one line per
    /// step (they take seconds: the deployment sends its transactions one at a time).
    pub async fn start(config: DevnetConfig, progress: impl Fn(&str)) -> Result<Devnet> {
        let started = Instant::now();
        chain::check_port_free(config.anvil_port, "the anvil port (--anvil-port)")?;
        chain::check_addr_free(config.listen, "the GraphQL address (--listen)")?;
        // The network config is read before anything starts: a broken one is the user's to fix.
        let mut settings = vouch_deployer::network::NetworkConfig::for_chain(
            &vouch_deployer::network::networks_dir(),
            chain::CHAIN_ID,
        )?
        .map(|c| c.settings)
        .unwrap_or_default();
        let database = prepare_database(&config).await?;

        progress(&format!(
            "starting anvil on 127.0.0.1:{}",
            config.anvil_port
        ));
        let anvil = chain::start_anvil(config.anvil_port)?;
        let provider = ProviderBuilder::new()
            .connect_http(anvil.endpoint_url())
            .erased();

        progress("deploying every contract with script/Deploy.s.sol");
        let deployer: PrivateKeySigner = anvil.keys()[0].clone().into();
        let manifest = config.data_dir.join("deployment.json");
        let root = vouch_bindings::repository_root();
        if config.demo {
            let council = anvil
                .keys()
                .get(demo::actors::COUNCIL)
                .map(|k| PrivateKeySigner::from(k.clone()).address())
                .ok_or_else(|| {
                    DevnetError::Chain("anvil funds too few keys for the demo".into())
                })?;
            settings.arbitration_council = Some(council);
        }
        let url = anvil.endpoint();
        let request = vouch_deployer::DeployRequest {
            rpc_url: &url,
            signer: &deployer,
            settings: &settings,
            out: &manifest,
        };
        let deployment =
            tokio::task::block_in_place(|| vouch_deployer::run_deploy_script(&root, &request))?;
        vouch_deployer::verify_deployment(&provider, &deployment, deployer.address()).await?;

        progress("starting the indexer and the GraphQL API");
        let notifier = Notifier::in_process();
        let store = SeaStore::connect(&database)
            .await?
            .with_notifier(notifier.clone());
        let source = ChainSource::connect(
            &anvil.ws_endpoint(),
            AddressBook::new(&deployment).addresses(),
            Backoff::default(),
        )
        .await?;
        let cfg = IndexerConfig {
            // anvil mines each transaction in its own block and never reorgs on its own.
            confirmations: 0,
            ..IndexerConfig::default()
        };
        let mut indexer = Indexer::open(source, store.clone(), &deployment, cfg).await?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let indexer = tokio::spawn({
            let stop = stopped(stop_rx.clone());
            async move { indexer.run(stop).await }
        });

        let db = vouch_graphql::context::connect(&database).await?;
        let feed = vouch_graphql::LiveFeed::in_process(
            store.connection().clone(),
            deployment.chain_id,
            &notifier,
        )
        .await?;
        let serve = vouch_graphql::ServeConfig {
            listen: config.listen,
            chain_id: Some(deployment.chain_id as i64),
            ..vouch_graphql::ServeConfig::default()
        };
        // Bound here, before the devnet says it is up, so the address answers at once.
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| DevnetError::AddrInUse {
                what: "the GraphQL address (--listen)",
                addr: config.listen,
                reason: e.to_string(),
            })?;
        let read_timeout = serve.read_timeout;
        let router = vouch_graphql::router(db, serve, Some(feed))?;
        let server = tokio::spawn(vouch_graphql::serve_on(
            listener,
            router,
            read_timeout,
            stopped(stop_rx),
        ));

        let endpoints = Endpoints {
            rpc: anvil.endpoint(),
            ws: anvil.ws_endpoint(),
            graphql: format!("http://{}/graphql", config.listen),
            manifest,
            database,
            data_dir: config.data_dir.clone(),
        };
        Ok(Devnet {
            anvil,
            provider,
            deployment,
            endpoints,
            started,
            stop_tx,
            indexer,
            server,
            store,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// A provider signing nothing, on anvil's HTTP endpoint.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// anvil's funded development keys (the first one deployed).
    pub fn keys(&self) -> Vec<PrivateKeySigner> {
        self.anvil.keys().iter().cloned().map(Into::into).collect()
    }

    /// Waits (at most `timeout`) for the indexer to reach the chain's head.
    pub async fn wait_indexed(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let head = self
                .provider
                .get_block_number()
                .await
                .map_err(|e| DevnetError::Chain(format!("eth_blockNumber: {e}")))?;
            let indexed =
                summary::indexed_block(self.store.connection(), self.deployment.chain_id).await?;
            if indexed.is_some_and(|b| b >= head) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DevnetError::Lagging { head, indexed });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the devnet holds now, read from the index.
    pub async fn summary(&self) -> Result<Summary> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| DevnetError::Chain(format!("eth_blockNumber: {e}")))?;
        Summary::read(
            self.store.connection(),
            self.deployment.chain_id,
            head,
            self.started.elapsed(),
        )
        .await
    }

    /// Catches the indexer up (bounded), reads the summary, then stops the API, the indexer and
    /// anvil, in that order.
    pub async fn stop(self) -> Result<Summary> {
        // A summary of a lagging index would undercount; wait a little, then report what is there.
        let _ = self.wait_indexed(Duration::from_secs(10)).await;
        let summary = self.summary().await?;
        let _ = self.stop_tx.send(true);
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(DevnetError::Serve(e.to_string())),
            Err(e) => return Err(DevnetError::Serve(e.to_string())),
        }
        match self.indexer.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(DevnetError::Index(e.to_string())),
            Err(e) => return Err(DevnetError::Index(e.to_string())),
        }
        drop(self.anvil);
        Ok(summary)
    }
}

/// Resolves once `stop` turns true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// The database URL, with the default SQLite file made fresh: the chain starts empty each run,
/// and an index of an earlier chain would be another chain's data under the same id.
async fn prepare_database(config: &DevnetConfig) -> Result<String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| DevnetError::DataDir {
        path: config.data_dir.clone(),
        reason: e.to_string(),
    })?;
    match &config.database {
        Some(url) => {
            summary::reset(url).await?;
            Ok(url.clone())
        }
        None => {
            let file = config.data_dir.join("devnet.sqlite");
            for suffix in ["", "-wal", "-shm"] {
                let path = PathBuf::from(format!("{}{suffix}", file.display()));
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| DevnetError::DataDir {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                }
            }
            Ok(format!("sqlite://{}", file.display()))
        }
    }
}
