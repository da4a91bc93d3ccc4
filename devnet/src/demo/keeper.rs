//! A demo host's keeper: the keeper service itself ([`Keeper::start`]), one per host, embedded
//! in the devnet process. Each has its intake API on its own 127.0.0.1 port, a durable SQLite
//! queue in the devnet's data directory, the pipeline (batcher, the one prover pool every host
//! shares, the host's transaction manager) and the watcher (heartbeats, alerts). The host's
//! "LLM node" posts each result to intake over HTTP, as a real node posts to `vouch keeper
//! run`, and keeps the signature the reply carries.
//!
//! [`HostKeeper`] is all a host asks of its keeper; [`ServiceKeeper`] implements it over a
//! running keeper.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, Bytes};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;
use vouch_keeper::batcher::BatchPolicy;
use vouch_keeper::intake::{SubmitReply, SubmitRequest};
use vouch_keeper::prover::Prover;
use vouch_keeper::queue::{Queue, ResultState};
use vouch_keeper::service::{Keeper, KeeperConfig, KeeperHandle};
use vouch_keeper::signing::ResultSigner;
use vouch_keeper::tx::{Landed, TxConfig, TxError, TxManager};
use vouch_keeper::watcher::WatcherConfig;

use super::progress::Stats;
use crate::{DevnetError, Result};

/// The batch sizes the demo's prover loads (B=64 would never fill at the demo's pace).
pub const BATCH_SIZES: [usize; 2] = [1, 16];

/// What a demo host needs from its keeper.
pub trait HostKeeper: Send + Sync + 'static {
    /// Hands the result of a claimed job to the keeper; returns the signature the renter
    /// keeps as evidence. The keeper proves it later, in a batch, and lands it.
    fn submit(
        &self,
        job_id: B256,
        output_hash: B256,
    ) -> impl std::future::Future<Output = Result<Bytes>> + Send;

    /// Results taken but not landed yet (queued, being proven or sent).
    fn pending(&self) -> impl std::future::Future<Output = Result<usize>> + Send;

    /// Sends one of the host's other transactions (claim, withdraw) from its wallet.
    fn chore(
        &self,
        tx: TransactionRequest,
    ) -> impl std::future::Future<Output = Result<Landed>> + Send;

    /// A signer of the host's key, for the demo's scripted fault (a second, different signed
    /// result, which intake itself refuses to sign).
    fn signer(&self) -> &ResultSigner;
}

/// A host's handle on its running keeper service; cheap to clone.
#[derive(Clone)]
pub struct ServiceKeeper {
    inner: Arc<Inner>,
}

struct Inner {
    /// `http://127.0.0.1:PORT`, the keeper's intake.
    url: String,
    http: reqwest::Client,
    queue: Queue,
    tx: TxManager,
    signer: ResultSigner,
    stats: Arc<Stats>,
}

impl ServiceKeeper {
    /// Starts the keeper service for `key` (the host is its own operator) with its queue at
    /// `queue_file` (made fresh: the chain is new each run). Returns the host's handle and the
    /// service's, which [`KeeperHandle::shutdown`] stops.
    pub async fn start(
        prover: Arc<Prover>,
        provider: DynProvider,
        key: PrivateKeySigner,
        deployment: Deployment,
        queue_file: &Path,
        stats: Arc<Stats>,
    ) -> Result<(ServiceKeeper, KeeperHandle)> {
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", queue_file.display()));
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| DevnetError::DataDir {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        let signer = ResultSigner::new(
            key.clone(),
            deployment.chain_id,
            deployment.contracts.slashing,
        );
        let host = key.address();
        let database = format!("sqlite://{}", queue_file.display());
        let mut config = KeeperConfig::new(provider, deployment, key, database, prover);
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.batch = BatchPolicy {
            sizes: BATCH_SIZES.to_vec(),
            // A result waits at most two seconds for others to share its proof.
            max_wait: Duration::from_secs(2),
            land_time: Duration::from_secs(5),
        };
        config.tx = TxConfig {
            // anvil mines at once: poll fast so a batch lands in tens of milliseconds.
            poll: Duration::from_millis(25),
            give_up_after: Duration::from_secs(60),
            ..TxConfig::default()
        };
        config.watcher = WatcherConfig {
            poll: Duration::from_secs(1),
            // Chain time: every round's clock jump (a day or more) makes the next one due.
            heartbeat_every: Some(Duration::from_secs(12 * 3_600)),
            ..WatcherConfig::new(host)
        };
        config.poll = Duration::from_millis(100);
        // One batch at a time per host: the five hosts share the prover's workers, so a second
        // batch in flight would only split a round's results into more, smaller proofs.
        config.max_in_flight = 1;
        config.shutdown_grace = Duration::from_secs(10);
        let handle = Keeper::start(config).await?;
        stats.add_keeper(handle.metrics().clone());
        let keeper = ServiceKeeper {
            inner: Arc::new(Inner {
                url: format!("http://{}", handle.addr()),
                http: reqwest::Client::new(),
                queue: handle.intake().queue().clone(),
                tx: handle.tx().clone(),
                signer,
                stats,
            }),
        };
        Ok((keeper, handle))
    }

    /// The keeper's intake, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }
}

fn posting(reason: impl std::fmt::Display) -> DevnetError {
    DevnetError::Demo {
        step: "posting a result to the keeper".into(),
        reason: reason.to_string(),
    }
}

impl HostKeeper for ServiceKeeper {
    async fn submit(&self, job_id: B256, output_hash: B256) -> Result<Bytes> {
        let request = SubmitRequest {
            job_id: job_id.to_string(),
            output: None,
            output_hash: Some(output_hash.to_string()),
            input: None,
        };
        let response = self
            .inner
            .http
            .post(format!("{}/v1/results", self.inner.url))
            .json(&request)
            .send()
            .await
            .map_err(posting)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(posting(format!("{status}: {body}")));
        }
        let reply: SubmitReply = response.json().await.map_err(posting)?;
        Stats::add(&self.inner.stats.results, 1);
        Ok(reply.signature)
    }

    async fn pending(&self) -> Result<usize> {
        let depth = self
            .inner
            .queue
            .depth()
            .await
            .map_err(|e| DevnetError::Demo {
                step: "reading a keeper's queue".into(),
                reason: e.to_string(),
            })?;
        Ok([
            ResultState::Accepted,
            ResultState::Proving,
            ResultState::Submitted,
        ]
        .iter()
        .map(|s| depth.get(s).copied().unwrap_or(0) as usize)
        .sum())
    }

    async fn chore(&self, tx: TransactionRequest) -> Result<Landed> {
        self.inner
            .tx
            .send(tx, None)
            .await
            .map_err(|e: TxError| e.into())
    }

    fn signer(&self) -> &ResultSigner {
        &self.inner.signer
    }
}
