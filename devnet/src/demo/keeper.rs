//! The seam between a demo host and its keeper, and the one implementation it has today.
//!
//! [`HostKeeper`] is all a host asks of its keeper: take a finished result (signed, proven
//! later in a batch, landed), say how many are not landed yet, and send the host's chores
//! (claims, heartbeats, withdrawals) from its wallet. [`ProverKeeper`] implements it with the
//! keeper crate's public parts: one [`Prover`] pool shared by every host, a [`TxManager`] per
//! host (its own key and nonces), [`ResultSigner`] and the batching policy of
//! [`vouch_keeper::batcher`]. When the keeper runs as an embeddable service, only this module
//! changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::network::EthereumWallet;
use alloy::primitives::{B256, Bytes};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use tokio::sync::{Mutex, Notify, watch};
use tokio::task::JoinHandle;
use vouch_bindings::Deployment;
use vouch_keeper::batcher::{self, BatchPolicy, PendingJob};
use vouch_keeper::prover::{JobTuple, Prover};
use vouch_keeper::signing::ResultSigner;
use vouch_keeper::tx::{Landed, TxConfig, TxError, TxManager};

use super::progress::Stats;
use crate::Result;

/// The batch sizes the demo's prover loads (B=64 would never fill at the demo's pace).
pub const BATCH_SIZES: [usize; 2] = [1, 16];

/// What a demo host needs from its keeper.
pub trait HostKeeper: Send + Sync + 'static {
    /// Takes the result of a claimed job (due by `deadline`, chain time): signs it, queues it
    /// for a batch proof and returns the signature the renter keeps as evidence.
    fn submit(
        &self,
        result: JobTuple,
        deadline: u64,
    ) -> impl std::future::Future<Output = Result<Bytes>> + Send;

    /// Results taken but not landed yet (queued or being proven and sent).
    fn pending(&self) -> usize;

    /// Sends one of the host's other transactions (claim, heartbeat, withdraw) from its wallet.
    fn chore(
        &self,
        tx: TransactionRequest,
    ) -> impl std::future::Future<Output = Result<Landed>> + Send;

    /// The result signer, for the demo's scripted fault (a second, different signed result).
    fn signer(&self) -> &ResultSigner;
}

/// A host's keeper made of the keeper crate's parts; cheap to clone.
#[derive(Clone)]
pub struct ProverKeeper {
    inner: Arc<Inner>,
}

struct Inner {
    prover: Arc<Prover>,
    tx: TxManager,
    signer: ResultSigner,
    queue: Mutex<HashMap<B256, (JobTuple, PendingJob)>>,
    /// Queued plus in flight.
    pending: AtomicUsize,
    wake: Notify,
    policy: BatchPolicy,
    stats: Arc<Stats>,
}

/// How often the batch loop looks at the queue when nothing wakes it.
const TICK: Duration = Duration::from_millis(200);

impl ProverKeeper {
    /// A keeper for `key` (the host proves and sends from its own key) and its batch loop,
    /// which runs until `stop` turns true.
    pub async fn start(
        prover: Arc<Prover>,
        provider: DynProvider,
        key: PrivateKeySigner,
        deployment: Deployment,
        stats: Arc<Stats>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(ProverKeeper, JoinHandle<()>)> {
        let signer = ResultSigner::new(
            key.clone(),
            deployment.chain_id,
            deployment.contracts.slashing,
        );
        let config = TxConfig {
            // anvil mines at once: poll fast so a batch lands in tens of milliseconds.
            poll: Duration::from_millis(25),
            give_up_after: Duration::from_secs(60),
            ..TxConfig::default()
        };
        let tx = TxManager::new(provider, EthereumWallet::from(key), deployment, config).await?;
        let keeper = ProverKeeper {
            inner: Arc::new(Inner {
                prover,
                tx,
                signer,
                queue: Mutex::new(HashMap::new()),
                pending: AtomicUsize::new(0),
                wake: Notify::new(),
                policy: BatchPolicy {
                    sizes: BATCH_SIZES.to_vec(),
                    // A result waits at most two seconds for others to share its proof.
                    max_wait: Duration::from_secs(2),
                    land_time: Duration::from_secs(5),
                },
                stats,
            }),
        };
        let task = tokio::spawn({
            let keeper = keeper.clone();
            async move {
                loop {
                    tokio::select! {
                        _ = stop.changed() => {}
                        _ = keeper.inner.wake.notified() => {}
                        _ = tokio::time::sleep(TICK) => {}
                    }
                    if *stop.borrow() {
                        return;
                    }
                    keeper.flush().await;
                }
            }
        });
        Ok((keeper, task))
    }

    /// Proves and lands every batch the policy says is due.
    async fn flush(&self) {
        loop {
            let batch = {
                let queue = self.inner.queue.lock().await;
                let pending: Vec<PendingJob> = queue.values().map(|(_, p)| *p).collect();
                match batcher::next_batch(&pending, unix_now(), &self.inner.policy) {
                    Some(ids) => ids
                        .iter()
                        .filter_map(|id| queue.get(id).map(|(t, _)| *t))
                        .collect::<Vec<_>>(),
                    None => return,
                }
            };
            if batch.is_empty() {
                return;
            }
            self.prove_and_land(&batch).await;
            let mut queue = self.inner.queue.lock().await;
            for t in &batch {
                if queue.remove(&t.job_id).is_some() {
                    self.inner.pending.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    async fn prove_and_land(&self, batch: &[JobTuple]) {
        let stats = &self.inner.stats;
        let proof = match self.inner.prover.prove(batch).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(host = %self.inner.tx.from(), error = %e, "demo keeper: proof failed");
                Stats::add(&stats.failures, 1);
                return;
            }
        };
        Stats::add(&stats.proofs, 1);
        match self.inner.tx.land_proof(&proof).await {
            Ok(landed) => {
                Stats::add(&stats.batches, 1);
                Stats::add(&stats.proven_jobs, batch.len() as u64);
                Stats::add(&stats.proof_gas, landed.gas_used);
                tracing::debug!(
                    host = %self.inner.tx.from(),
                    jobs = batch.len(),
                    batch_size = proof.batch_size,
                    gas = landed.gas_used,
                    tx = %landed.tx_hash,
                    "demo keeper: batch landed"
                );
            }
            Err(e) => {
                // JobsChanged included: the demo never lets anyone else complete a host's job,
                // so any of these is a failure worth counting.
                tracing::warn!(host = %self.inner.tx.from(), error = %e, "demo keeper: batch not landed");
                Stats::add(&stats.failures, 1);
            }
        }
    }
}

impl HostKeeper for ProverKeeper {
    async fn submit(&self, result: JobTuple, deadline: u64) -> Result<Bytes> {
        let signature = self
            .inner
            .signer
            .sign(result.job_id, result.output_hash)
            .map_err(|e| crate::DevnetError::Demo {
                step: "signing a result".into(),
                reason: e.to_string(),
            })?;
        let pending = PendingJob {
            job_id: result.job_id,
            deadline,
            accepted_at: unix_now(),
        };
        let fresh = self
            .inner
            .queue
            .lock()
            .await
            .insert(result.job_id, (result, pending))
            .is_none();
        if fresh {
            self.inner.pending.fetch_add(1, Ordering::Relaxed);
        }
        Stats::add(&self.inner.stats.results, 1);
        self.inner.wake.notify_one();
        Ok(signature)
    }

    fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::Relaxed)
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

/// The batcher's clock (wall-clock seconds; the policy's waits are real time, not chain time).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
