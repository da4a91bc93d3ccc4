//! The transaction manager: lands the keeper's transactions (proofs, and any other call of the
//! host's chores) exactly once, through fee spikes, stuck transactions, RPC outages, restarts
//! and reorgs. One small module per concern, as alloy's provider fillers are:
//!
//! - [`nonce`]: own nonce tracking, resynchronised from the chain's pending count;
//! - [`fees`]: EIP-1559 fees from `eth_feeHistory`, with a cap;
//! - [`gas`]: explicit gas limits for proof transactions (estimates are wrong through the
//!   verifier's try/catch);
//! - [`broadcast`]: local signing (the hash is known before sending) and broadcast;
//! - [`replace`]: same-nonce replacement of stuck transactions, both fees bumped;
//! - [`receipts`]: receipts followed to the confirmation depth, reorgs detected;
//! - [`retry`]: exponential backoff with jitter for RPC failures, a span per RPC call;
//! - [`revert`]: revert data decoded to the contracts' custom errors;
//! - [`calls`]: the proof submission calls and the chain's view of a proof's jobs.
//!
//! One [`TxManager`] per sending key; clones share its state.

pub mod broadcast;
pub mod calls;
pub mod error;
pub mod fees;
pub mod gas;
pub mod nonce;
pub mod receipts;
pub mod replace;
pub mod retry;
pub mod revert;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, NetworkWallet, ReceiptResponse, TransactionBuilder};
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use tracing::Instrument;
use vouch_bindings::Deployment;

pub use calls::{JobsOnChain, ids_and_outputs, proof_calldata, proof_request};
pub use error::{Result, TxError};
pub use fees::Fees;
pub use gas::proof_gas_limit;
pub use retry::Backoff;

use broadcast::Sent;
use receipts::Depth;
use replace::InFlight;

use crate::prover::{Inference, Proof};

/// How the manager sends and waits.
#[derive(Debug, Clone, PartialEq)]
pub struct TxConfig {
    /// Blocks a receipt must have on top (its own included) before it counts as landed.
    pub confirmations: u64,
    /// The highest max fee per gas ever offered, in wei.
    pub max_fee_per_gas_cap: u128,
    /// The lowest priority fee (tip) offered, in wei per gas; the fee history's median is used
    /// when higher.
    pub priority_fee: u128,
    /// A transaction not mined this long after its last broadcast is replaced.
    pub stuck_after: Duration,
    /// Percent by which a replacement raises both fees; at least 13 (12.5% rounded up).
    pub bump_percent: u32,
    /// How often receipts and the head are polled.
    pub poll: Duration,
    /// Retries of failing RPC calls.
    pub backoff: Backoff,
    /// How long one transaction may take to land (replacements included) before
    /// [`TxError::NotLanded`].
    pub give_up_after: Duration,
}

impl Default for TxConfig {
    /// Works on anvil and on Base: 1 confirmation (raise it on a chain that reorgs), a 200 gwei
    /// cap (Base's base fee is ~0.01 gwei; mainnet-like spikes stay covered), a 0.01 gwei tip
    /// floor, replacement after 30 s (15 Base blocks) by +13%.
    fn default() -> Self {
        TxConfig {
            confirmations: 1,
            max_fee_per_gas_cap: 200_000_000_000,
            priority_fee: 10_000_000,
            stuck_after: Duration::from_secs(30),
            bump_percent: 13,
            poll: Duration::from_millis(500),
            backoff: Backoff::default(),
            give_up_after: Duration::from_secs(600),
        }
    }
}

/// A transaction that landed: mined, `confirmations` deep, successful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub tx_hash: B256,
    pub block_number: u64,
    pub gas_used: u64,
    /// Always true: a reverted transaction is [`TxError::Reverted`].
    pub status: bool,
    pub nonce: u64,
    /// Same-nonce replacements sent before one version was mined.
    pub replacements: u32,
    /// Times the transaction was sent afresh after a reorg dropped it or its nonce was lost.
    pub resubmissions: u32,
}

/// Lands transactions for one sending key. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct TxManager {
    inner: Arc<Inner>,
}

struct Inner {
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: u64,
    deployment: Deployment,
    config: TxConfig,
    nonces: nonce::NonceTracker,
}

/// How one attempt at a nonce ended, when not with an error.
enum Attempt {
    Landed(Landed),
    /// Dropped by a reorg, or its nonce was used by another transaction: send afresh.
    Lost,
}

impl TxManager {
    /// A manager sending from `wallet`'s default signer through `provider` (which needs no
    /// wallet of its own: transactions are signed here). The nonce is read from the chain's
    /// pending count now.
    pub async fn new(
        provider: DynProvider,
        wallet: EthereumWallet,
        deployment: Deployment,
        config: TxConfig,
    ) -> Result<Self> {
        let from = NetworkWallet::<alloy::network::Ethereum>::default_signer_address(&wallet);
        let chain_id = retry::rpc("eth_chainId", &config.backoff, || {
            provider.get_chain_id().into_future()
        })
        .await?;
        let nonces = nonce::NonceTracker::default();
        // Reserve-and-release reads the pending count once, so the tracker starts synced.
        let first = nonces.reserve(&provider, from, &config.backoff).await?;
        nonces.release(first).await;
        Ok(TxManager {
            inner: Arc::new(Inner {
                provider,
                wallet,
                from,
                chain_id,
                deployment,
                config,
                nonces,
            }),
        })
    }

    /// The sending address.
    pub fn from(&self) -> Address {
        self.inner.from
    }

    /// The configuration.
    pub fn config(&self) -> &TxConfig {
        &self.inner.config
    }

    /// The nonce the next transaction will take, if tracked (`None` until resynchronised).
    pub async fn next_nonce(&self) -> Option<u64> {
        self.inner.nonces.peek().await
    }

    /// Lands one proof (submitProof for B=1, submitBatch otherwise) with an explicit gas limit
    /// from its batch size, replacing it when stuck, resending it when a reorg drops it, and
    /// waiting `confirmations` deep. Before each send the proof's jobs are read from the chain:
    /// if any was completed (by us earlier, or anyone) or can no longer complete, nothing is
    /// sent and [`TxError::JobsChanged`] says which (re-proving the rest is the caller's job).
    /// A revert is found by a pre-flight `eth_call` and decoded ([`TxError::Reverted`]).
    pub async fn land_proof(&self, proof: &Proof) -> Result<Landed> {
        self.land_proof_reporting(proof, None).await
    }

    /// [`TxManager::land_proof`], also sending the hash of every version broadcast (the first,
    /// replacements, resubmissions) on `sent` as soon as the node took it, so the caller can
    /// record "submitted with this hash" while the transaction is still on its way.
    pub async fn land_proof_reporting(
        &self,
        proof: &Proof,
        sent: Option<&tokio::sync::mpsc::UnboundedSender<B256>>,
    ) -> Result<Landed> {
        let span = tracing::info_span!(
            "land_proof",
            batch_size = proof.batch_size,
            jobs = proof.jobs.len()
        );
        let request = calls::proof_request(&self.inner.deployment, self.inner.from, proof)?;
        let ids: Vec<B256> = proof.jobs.iter().map(|j| j.job_id).collect();
        self.land_completion(request, gas::proof_gas_limit(proof.batch_size), &ids, sent)
            .instrument(span)
            .await
    }

    /// Lands the inference proof of verifiable job `job_id` (`submitInference`, one job per
    /// transaction) as [`TxManager::land_proof_reporting`] lands a batch: an explicit gas
    /// limit from the proof's size, the job read from the chain before each send.
    pub async fn land_inference_reporting(
        &self,
        job_id: B256,
        inference: &Inference,
        sent: Option<&tokio::sync::mpsc::UnboundedSender<B256>>,
    ) -> Result<Landed> {
        let span = tracing::info_span!("land_inference", %job_id, model = %inference.model);
        let request =
            calls::inference_request(&self.inner.deployment, self.inner.from, job_id, inference);
        self.land_completion(
            request,
            gas::inference_gas_limit(inference.proof.len()),
            &[job_id],
            sent,
        )
        .instrument(span)
        .await
    }

    /// Sends a transaction that completes `job_ids` until it lands, unless one of them changed
    /// on chain first.
    async fn land_completion(
        &self,
        request: TransactionRequest,
        gas_limit: u64,
        job_ids: &[B256],
        sent: Option<&tokio::sync::mpsc::UnboundedSender<B256>>,
    ) -> Result<Landed> {
        let inner = &self.inner;
        let mut resubmissions = 0;
        {
            loop {
                let seen = calls::jobs_on_chain(
                    &inner.provider,
                    &inner.deployment,
                    job_ids,
                    &inner.config.backoff,
                )
                .await?;
                if !seen.done.is_empty() || !seen.gone.is_empty() {
                    tracing::info!(
                        done = seen.done.len(),
                        gone = seen.gone.len(),
                        "jobs changed on chain; not sending"
                    );
                    return Err(TxError::JobsChanged {
                        done: seen.done,
                        gone: seen.gone,
                    });
                }
                match self
                    .attempt(&request, gas_limit, resubmissions, sent)
                    .await?
                {
                    Attempt::Landed(landed) => return Ok(landed),
                    Attempt::Lost => resubmissions += 1,
                }
            }
        }
    }

    /// Any other call (heartbeat, claimJob, expireJob, stake...) through the same nonce, fee,
    /// replacement and confirmation logic. `tx` needs `to`, `input` and, if any, `value`;
    /// `from`, nonce, fees and chain id are set here. Without `gas_limit` the gas is estimated
    /// (a failing estimate is the call's revert, decoded) with a 20% margin.
    pub async fn send(&self, tx: TransactionRequest, gas_limit: Option<u64>) -> Result<Landed> {
        let span = tracing::info_span!("send", to = ?tx.to);
        async {
            let inner = &self.inner;
            let request = tx.with_from(inner.from);
            let gas_limit = match gas_limit {
                Some(g) => g,
                None => {
                    let estimate = retry::rpc("eth_estimateGas", &inner.config.backoff, || {
                        inner.provider.estimate_gas(request.clone()).into_future()
                    })
                    .await
                    .map_err(revert_or_rpc)?;
                    gas::with_estimate_margin(estimate)
                }
            };
            let mut resubmissions = 0;
            loop {
                match self
                    .attempt(&request, gas_limit, resubmissions, None)
                    .await?
                {
                    Attempt::Landed(landed) => return Ok(landed),
                    Attempt::Lost => resubmissions += 1,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// One nonce's worth: pre-flight, reserve a nonce, sign, broadcast, then watch until a
    /// version is mined and confirmed, replacing it when stuck and rebroadcasting it when the
    /// node lost it.
    async fn attempt(
        &self,
        request: &TransactionRequest,
        gas_limit: u64,
        resubmissions: u32,
        sent: Option<&tokio::sync::mpsc::UnboundedSender<B256>>,
    ) -> Result<Attempt> {
        // The receiver may be gone (the caller stopped listening): that is not our failure.
        let report = |hash: B256| {
            if let Some(sent) = sent {
                let _ = sent.send(hash);
            }
        };
        let inner = &self.inner;
        let cfg = &inner.config;
        let backoff = &cfg.backoff;
        self.preflight(request, gas_limit).await?;
        let fees = fees::estimate(
            &inner.provider,
            cfg.priority_fee,
            cfg.max_fee_per_gas_cap,
            backoff,
        )
        .await?;
        let nonce = inner
            .nonces
            .reserve(&inner.provider, inner.from, backoff)
            .await?;
        let first = match broadcast::sign(
            &inner.wallet,
            request,
            inner.chain_id,
            nonce,
            gas_limit,
            fees,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                inner.nonces.release(nonce).await;
                return Err(e);
            }
        };
        let mut flight = InFlight::new(request.clone(), gas_limit, inner.chain_id, first);
        tracing::info!(nonce, hash = %flight.latest().hash, max_fee = fees.max_fee_per_gas, tip = fees.max_priority_fee_per_gas, "sending");
        match broadcast::broadcast(&inner.provider, flight.latest(), backoff).await {
            Ok(Sent::Accepted | Sent::AlreadyKnown) => report(flight.latest().hash),
            Ok(Sent::NonceTooLow) => {
                // Someone else (another process with this key) used the nonce: resync, resend.
                tracing::warn!(nonce, "nonce already used; resynchronising from the chain");
                inner.nonces.resync().await;
                return Ok(Attempt::Lost);
            }
            Ok(Sent::Underpriced) => {
                // A transaction of this key we do not track holds the nonce in the pool:
                // replace it like a stuck one of ours on the next round.
                flight.last_broadcast = Instant::now() - cfg.stuck_after;
            }
            Err(e) => {
                // Never broadcast: give the nonce back so no gap is left.
                inner.nonces.release(nonce).await;
                return Err(e);
            }
        }

        let started = Instant::now();
        let mut mined: Option<TransactionReceipt> = None;
        loop {
            if started.elapsed() > cfg.give_up_after {
                // The nonce may still be taken by a version of this transaction: resync.
                inner.nonces.resync().await;
                return Err(TxError::NotLanded {
                    tx_hash: flight.latest().hash,
                    nonce,
                    waited_secs: started.elapsed().as_secs(),
                });
            }
            tokio::time::sleep(cfg.poll).await;

            if let Some(receipt) = &mined {
                match receipts::depth(&inner.provider, receipt, cfg.confirmations, backoff).await? {
                    Depth::Shallow => continue,
                    Depth::Confirmed => {
                        return self
                            .finish(receipt, &flight, request, resubmissions)
                            .await
                            .map(Attempt::Landed);
                    }
                    Depth::ReorgedOut => {
                        tracing::warn!(hash = %receipt.transaction_hash, block = ?receipt.block_number, "transaction reorged out");
                        mined = None;
                        // Still in the pool (some nodes re-add reorged transactions): wait for it.
                        if receipts::known(&inner.provider, &flight.hashes(), backoff).await? {
                            continue;
                        }
                        inner.nonces.resync().await;
                        return Ok(Attempt::Lost);
                    }
                }
            }

            if let Some(receipt) =
                receipts::find(&inner.provider, &flight.hashes(), backoff).await?
            {
                tracing::info!(hash = %receipt.transaction_hash, block = ?receipt.block_number, "mined");
                if cfg.confirmations <= 1 {
                    return self
                        .finish(&receipt, &flight, request, resubmissions)
                        .await
                        .map(Attempt::Landed);
                }
                mined = Some(receipt);
                continue;
            }

            // Not mined. Lost by the node (a restart without its pool, a reorg)?
            if !receipts::known(&inner.provider, &flight.hashes(), backoff).await? {
                let used = nonce::mined_count(&inner.provider, inner.from, backoff).await?;
                if used > nonce {
                    // The nonce went to another transaction (ours would have a receipt; check
                    // once more, it may have been mined between the two reads).
                    if receipts::find(&inner.provider, &flight.hashes(), backoff)
                        .await?
                        .is_some()
                    {
                        continue;
                    }
                    tracing::warn!(nonce, "nonce used by another transaction; resynchronising");
                    inner.nonces.resync().await;
                    return Ok(Attempt::Lost);
                }
                tracing::warn!(nonce, hash = %flight.latest().hash, "the node lost the transaction; rebroadcasting");
                match broadcast::broadcast(&inner.provider, flight.latest(), backoff).await? {
                    Sent::Accepted | Sent::AlreadyKnown | Sent::Underpriced => {}
                    Sent::NonceTooLow => continue, // mined meanwhile, or taken: the next round tells
                }
                flight.last_broadcast = Instant::now();
                continue;
            }

            if flight.is_stuck(cfg.stuck_after) {
                let current = match fees::estimate(
                    &inner.provider,
                    cfg.priority_fee,
                    cfg.max_fee_per_gas_cap,
                    backoff,
                )
                .await
                {
                    Ok(f) => f,
                    // The base fee is above the cap now: the bump is capped, below.
                    Err(TxError::FeeCapExceeded { .. }) => flight.latest().fees,
                    Err(e) => return Err(e),
                };
                match flight
                    .replacement(
                        &inner.wallet,
                        current,
                        cfg.bump_percent,
                        cfg.max_fee_per_gas_cap,
                    )
                    .await?
                {
                    None => {
                        tracing::warn!(
                            nonce,
                            "stuck, and the fee cap leaves no room for a replacement; waiting"
                        );
                        flight.last_broadcast = Instant::now();
                    }
                    Some(next) => {
                        tracing::info!(nonce, old = %flight.latest().hash, new = %next.hash, max_fee = next.fees.max_fee_per_gas, tip = next.fees.max_priority_fee_per_gas, "replacing a stuck transaction");
                        match broadcast::broadcast(&inner.provider, &next, backoff).await? {
                            Sent::Accepted | Sent::AlreadyKnown => {
                                report(next.hash);
                                flight.push(next)
                            }
                            // The pool wants more: count the version, bump again next round.
                            Sent::Underpriced => flight.push(next),
                            Sent::NonceTooLow => {} // a version was mined: the next round finds it
                        }
                    }
                }
            }
        }
    }

    /// Pre-flight `eth_call` at the latest block: a revert is decoded and nothing is sent.
    async fn preflight(&self, request: &TransactionRequest, gas_limit: u64) -> Result<()> {
        let inner = &self.inner;
        let call = request.clone().with_gas_limit(gas_limit);
        retry::rpc("eth_call", &inner.config.backoff, || {
            inner.provider.call(call.clone()).into_future()
        })
        .await
        .map(|_| ())
        .map_err(revert_or_rpc)
    }

    /// A confirmed receipt as [`Landed`], or its revert decoded (replayed as an `eth_call` on
    /// the state before its block).
    async fn finish(
        &self,
        receipt: &TransactionReceipt,
        flight: &InFlight,
        request: &TransactionRequest,
        resubmissions: u32,
    ) -> Result<Landed> {
        let block_number = receipt.block_number().unwrap_or_default();
        if !receipt.status() {
            let inner = &self.inner;
            let call = request.clone().with_gas_limit(flight.gas_limit);
            let replay = retry::rpc("eth_call", &inner.config.backoff, || {
                inner
                    .provider
                    .call(call.clone())
                    .block(block_number.saturating_sub(1).into())
                    .into_future()
            })
            .await;
            return Err(match replay {
                Err(e) => revert_or_rpc(e),
                Ok(_) => TxError::Reverted {
                    name: "Revert".into(),
                    reason: format!(
                        "reverted on chain ({} of {} gas used) but not when replayed",
                        receipt.gas_used(),
                        flight.gas_limit
                    ),
                },
            });
        }
        Ok(Landed {
            tx_hash: receipt.transaction_hash,
            block_number,
            gas_used: receipt.gas_used(),
            status: true,
            nonce: flight.nonce(),
            replacements: flight.replacements(),
            resubmissions,
        })
    }
}

/// An RPC failure as the decoded revert it carries, else as [`TxError::Rpc`].
fn revert_or_rpc(e: TxError) -> TxError {
    match e {
        TxError::Rpc { source, attempts } => match revert::from_rpc_error(&source) {
            Some(decoded) => decoded.into(),
            None => TxError::Rpc { source, attempts },
        },
        other => other,
    }
}
