//! The keeper as a service: [`Keeper::start`] runs one host's keeper (the intake API with the
//! operations endpoints on one listener, the [`Pipeline`] from accepted results to on-chain
//! completions, and the [`Watcher`]) until [`KeeperHandle::shutdown`]. Several keepers may run
//! in one process, sharing one prover. Process concerns (signals, arguments) stay in the binary.
//!
//! - `GET /healthz`: 200 `{"status":"ok", ...}` when the queue database and the chain answer,
//!   503 with the failing part otherwise.
//! - `GET /metrics`: Prometheus text ([`crate::metrics`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::batcher::BatchPolicy;
use crate::chain::ChainView;
use crate::host::{Chain, HostError};
use crate::intake::{self, Intake, IntakeConfig};
use crate::metrics::Metrics;
pub use crate::pipeline::{Pipeline, Reconciled, Step, StepError};
use crate::prover::Prover;
use crate::queue::{Queue, QueueError};
use crate::signing::ResultSigner;
use crate::tx::{TxConfig, TxError, TxManager};
use crate::watcher::{Watcher, WatcherConfig, WatcherHandle};

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The listen address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// The service's `Result` alias.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Every route of the keeper: intake, `/healthz`, `/metrics`.
pub fn router(intake: Intake) -> Router {
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(intake.clone());
    intake::router(intake).merge(ops)
}

/// Binds `listen` (fails at once when it cannot).
pub async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })
}

/// Serves [`router`] on `listener` until `shutdown` resolves; then intake is closed to new
/// results and the requests in flight are finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    intake: Intake,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let closing = intake.clone();
    axum::serve(listener, router(intake))
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.close();
        })
        .await
        .map_err(ServiceError::Serve)
}

async fn healthz(State(intake): State<Intake>) -> Response {
    let queue = intake.queue().depth().await;
    let chain = intake.chain().now().await;
    match (queue, chain) {
        (Ok(depth), Ok(now)) => Json(json!({
            "status": "ok",
            "chainTime": now,
            "queue": depth.iter().map(|(s, n)| (s.as_str(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .into_response(),
        (queue, chain) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "queue": queue.err().map(|e| e.to_string()),
                "chain": chain.err().map(|e| e.to_string()),
            })),
        )
            .into_response(),
    }
}

async fn metrics(State(intake): State<Intake>) -> Response {
    let queue = intake.queue();
    match (queue.depth().await, queue.oldest_unsettled().await) {
        (Ok(depth), Ok(oldest)) => {
            // Wall clock, as intake stamps `accepted_at`.
            let age = oldest.map_or(0, |at| crate::intake::unix_now().saturating_sub(at));
            (
                [("content-type", "text/plain; version=0.0.4")],
                intake.metrics().render(&depth, age),
            )
                .into_response()
        }
        (Err(e), _) | (_, Err(e)) => {
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
    }
}

/// Everything one keeper needs: the chain, the operator key, the host, the queue database, the
/// listen address, the shared prover and the policies. [`KeeperConfig::new`] gives defaults.
pub struct KeeperConfig {
    /// A provider without a wallet (the transaction manager signs itself).
    pub provider: DynProvider,
    pub deployment: Deployment,
    /// The operator key: signs results (EIP-712) and sends the proof transactions.
    pub key: PrivateKeySigner,
    /// The host whose claimed jobs this keeper serves.
    pub host: Address,
    /// `sqlite://FILE` or `postgres://...`.
    pub database: String,
    /// Where intake, `/healthz` and `/metrics` listen (port 0: any free port).
    pub listen: SocketAddr,
    pub token: Option<String>,
    pub max_body: usize,
    /// The prover; several keepers in one process may share one pool.
    pub prover: Arc<Prover>,
    pub batch: BatchPolicy,
    pub tx: TxConfig,
    /// The watcher's chores (alerts only by default).
    pub watcher: WatcherConfig,
    /// How often the pipeline looks at the queue when nothing wakes it.
    pub poll: Duration,
    /// Batches proven or landing at once.
    pub max_in_flight: usize,
    /// How long a shutdown waits for the batches in flight before parking them.
    pub shutdown_grace: Duration,
    /// How long a start waits for our own pending transactions before reconciling.
    pub reconcile_wait: Duration,
}

impl KeeperConfig {
    /// Defaults: the key's address as the host, 127.0.0.1:8100, no token, 64 KiB bodies,
    /// batches after 2 s or when full, the transaction manager's defaults, alerts only.
    pub fn new(
        provider: DynProvider,
        deployment: Deployment,
        key: PrivateKeySigner,
        database: String,
        prover: Arc<Prover>,
    ) -> Self {
        let host = key.address();
        KeeperConfig {
            provider,
            deployment,
            key,
            host,
            database,
            listen: SocketAddr::from(([127, 0, 0, 1], 8100)),
            token: None,
            max_body: intake::DEFAULT_MAX_BODY,
            batch: BatchPolicy::new(Duration::from_secs(2), Duration::from_secs(60)),
            prover,
            tx: TxConfig::default(),
            watcher: WatcherConfig::new(host),
            poll: Duration::from_millis(250),
            max_in_flight: 2,
            shutdown_grace: Duration::from_secs(30),
            reconcile_wait: Duration::from_secs(30),
        }
    }
}

/// Why a keeper could not start or stopped with an error. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("cannot open the queue: {0}")]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the transaction manager cannot start: {0}")]
    Tx(#[from] TxError),
    #[error("reconciling the results in flight failed: {0}")]
    Reconcile(#[from] StepError),
    #[error("the watcher cannot start: {0}")]
    Watcher(#[from] HostError),
    #[error("a keeper task ended abnormally: {0}")]
    Task(String),
}

/// A running keeper: intake and the operations endpoints, the pipeline and the watcher.
pub struct KeeperHandle {
    addr: SocketAddr,
    intake: Intake,
    reconciled: Reconciled,
    stop: tokio::sync::watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<Result<()>>>,
    pipeline: tokio::task::JoinHandle<()>,
    watcher: WatcherHandle,
    tx: TxManager,
}

/// The keeper as a library: [`Keeper::start`] runs one host's keeper on the current runtime.
pub struct Keeper;

impl Keeper {
    /// Opens the queue, reconciles what a previous run left in flight against the chain,
    /// binds the listener, and starts the server, the pipeline and the watcher.
    pub async fn start(config: KeeperConfig) -> std::result::Result<KeeperHandle, KeeperError> {
        let metrics = Arc::new(Metrics::default());
        let queue = Queue::open(&config.database).await?;
        let chain = ChainView::new(config.provider.clone(), config.deployment.clone());
        let wallet = EthereumWallet::from(config.key.clone());
        let tx = TxManager::new(
            config.provider.clone(),
            wallet,
            config.deployment.clone(),
            config.tx.clone(),
        )
        .await?;
        let pipeline = Arc::new(Pipeline {
            queue: queue.clone(),
            prover: config.prover.clone(),
            tx: tx.clone(),
            chain: chain.clone(),
            policy: config.batch.clone(),
            metrics: metrics.clone(),
            max_in_flight: config.max_in_flight,
        });
        let reconciled = pipeline.reconcile(config.reconcile_wait).await?;
        let signer = ResultSigner::new(
            config.key.clone(),
            config.deployment.chain_id,
            config.deployment.contracts.slashing,
        );
        let intake = Intake::with_metrics(
            queue,
            chain,
            signer,
            IntakeConfig {
                host: config.host,
                token: config.token.clone(),
                max_body: config.max_body,
            },
            metrics.clone(),
        )
        .with_prover(config.prover.clone());
        let listener = bind(config.listen).await?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServiceError::Listen {
                addr: config.listen,
                source,
            })?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let host_chain = Chain::new(config.provider.clone(), config.deployment.clone());
        let watcher = Watcher::new(config.watcher.clone(), host_chain, tx.clone())
            .await?
            .with_metrics(metrics)
            .start(until_stopped(stopped.clone()));
        let server = tokio::spawn(serve(
            listener,
            intake.clone(),
            until_stopped(stopped.clone()),
        ));
        let pipeline = tokio::spawn(pipeline.run(
            intake.clone(),
            config.poll,
            config.shutdown_grace,
            until_stopped(stopped),
        ));
        tracing::info!(%addr, host = %config.host, operator = %config.key.address(), ?reconciled, "keeper started");
        Ok(KeeperHandle {
            addr,
            intake,
            reconciled,
            stop,
            server: Some(server),
            pipeline,
            watcher,
            tx,
        })
    }
}

/// Resolves once `stop` says true (or its sender is gone).
async fn until_stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

impl KeeperHandle {
    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Intake (its queue, chain view and metrics).
    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    /// The keeper's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        self.intake.metrics()
    }

    /// What the start found in flight from a previous run and how it settled it.
    pub fn reconciled(&self) -> &Reconciled {
        &self.reconciled
    }

    /// The keeper's transaction manager, for the host's other transactions from the same key
    /// (claims, withdrawals) in a process that embeds the keeper: a second manager on the key
    /// would track its own nonces and collide with this one's.
    pub fn tx(&self) -> &TxManager {
        &self.tx
    }

    /// The watcher's statistics so far.
    pub fn watcher_stats(&self) -> crate::watcher::WatcherStats {
        self.watcher.stats()
    }

    /// Resolves when the server stopped by itself (it failed); a running keeper never does.
    /// Call [`KeeperHandle::shutdown`] after it to stop the rest.
    pub async fn failed(&mut self) -> std::result::Result<(), KeeperError> {
        let Some(server) = self.server.as_mut() else {
            return std::future::pending().await;
        };
        let outcome = server.await;
        self.server = None;
        match outcome {
            Ok(r) => r.map_err(Into::into),
            Err(e) => Err(KeeperError::Task(e.to_string())),
        }
    }

    /// Graceful shutdown: intake refuses new results and finishes the requests in flight, the
    /// pipeline starts no batch and finishes (or, after the grace period, parks) the ones in
    /// flight, the watcher ends its tick. Returns when all of it has stopped.
    pub async fn shutdown(self) -> std::result::Result<(), KeeperError> {
        let _ = self.stop.send(true);
        let task = |e: tokio::task::JoinError| KeeperError::Task(e.to_string());
        let pipeline = self.pipeline.await.map_err(task);
        let watcher = self.watcher.task.await.map_err(task);
        let server = match self.server {
            Some(server) => server.await.map_err(task)?.map_err(KeeperError::from),
            None => Ok(()),
        };
        pipeline?;
        watcher?;
        server
    }
}
