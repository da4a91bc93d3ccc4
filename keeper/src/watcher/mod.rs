//! The watcher: the host's chores on chain, run beside the keeper's proving loop so an honest
//! host is never slashed for neglect. Each tick it reads the new blocks' events once and then
//! ([`claim`]) claims open jobs for its models under a [`ClaimPolicy`], ([`heartbeat`]) sends
//! a heartbeat when the last one is older than the configured interval, ([`expire`]) expires
//! other hosts' claimed jobs past their deadline (which refunds their renters and slashes those
//! hosts), and ([`alerts`]) raises an alert, a `warn` line and the metric counter
//! `vouch_watcher_alerts_total{kind}`, when this host is disputed, slashed or its active stake
//! drops below the minimum. Every transaction goes through the keeper's
//! [`TxManager`](crate::host::TxManager). [`Watcher::spawn`] runs it until a shutdown future
//! resolves. Its counters go to the keeper's [`Metrics`] (one registry, exported at the
//! keeper's `/metrics`): give it the keeper's with [`Watcher::with_metrics`].

pub mod alerts;
pub mod claim;
pub mod expire;
pub mod heartbeat;
pub mod policy;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, U256};
use tracing::Instrument;
use vouch_bindings::contracts::{JobMarketplace, Slashing};

pub use alerts::Alert;
pub use policy::{ClaimPolicy, Offer, Verdict};

use crate::host::TxManager;
use crate::host::chain::{Chain, address_topic};
use crate::host::{HostError, Result};
use crate::metrics::Metrics;

/// expireJob's gas limit. Its estimate depends on the block's clock (before the deadline the
/// call reverts cheaply; after it, it refunds, records reputation and slashes), so an estimate
/// taken a block early is wrong: a fixed, generous limit instead (it measures ~150k on anvil).
pub const EXPIRE_GAS_LIMIT: u64 = 400_000;

/// What the watcher does, and how often.
#[derive(Debug, Clone)]
pub struct WatcherConfig {
    /// The host whose chores these are (the sender is it or its operator).
    pub host: Address,
    /// Time between ticks.
    pub poll: Duration,
    /// Claim open jobs under this policy (None: never claim).
    pub claim: Option<ClaimPolicy>,
    /// Send a heartbeat when the last is at least this old (None: never). The registry sets no
    /// interval of its own: heartbeats only show liveness (docs/contracts.md).
    pub heartbeat_every: Option<Duration>,
    /// Expire other hosts' overdue claimed jobs.
    pub expire_others: bool,
    /// The gas limit of expireJob transactions.
    pub expire_gas_limit: u64,
    /// First block whose events the watcher reads (None: the deployment's start block), so
    /// jobs created and claimed before it started are claimed and expired too. Alerts are
    /// raised only for events from the block the watcher started at.
    pub from_block: Option<u64>,
}

impl WatcherConfig {
    /// Alerts only: no claims, heartbeats or expiries until switched on.
    pub fn new(host: Address) -> Self {
        WatcherConfig {
            host,
            poll: Duration::from_secs(5),
            claim: None,
            heartbeat_every: None,
            expire_others: false,
            expire_gas_limit: EXPIRE_GAS_LIMIT,
            from_block: None,
        }
    }
}

/// What the watcher has done since it started (also exported as metric counters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatcherStats {
    pub ticks: u64,
    pub claimed: Vec<U256>,
    pub expired: Vec<U256>,
    pub heartbeats: u64,
    pub alerts: Vec<Alert>,
    /// Chores that failed (a revert or an RPC error), by chore.
    pub failures: BTreeMap<&'static str, u64>,
}

/// The watcher's state between ticks.
pub struct Watcher {
    config: WatcherConfig,
    chain: Chain,
    tx: TxManager,
    /// Next block whose events are read.
    next_block: u64,
    /// Alerts are raised for events from this block on.
    alert_from: u64,
    /// Open offers seen and not yet judged final (job id -> offer).
    offers: BTreeMap<U256, Offer>,
    /// Other hosts' claimed jobs (job id -> deadline), until completed or expired.
    others: BTreeMap<U256, u64>,
    /// Whether the low-stake alert is raised (it fires once per drop below the minimum).
    stake_low: bool,
    stats: Arc<Mutex<WatcherStats>>,
    metrics: Arc<Metrics>,
}

impl Watcher {
    /// A watcher for `config.host`, sending through `tx`.
    pub async fn new(config: WatcherConfig, chain: Chain, tx: TxManager) -> Result<Self> {
        let (head, _) = chain.head().await?;
        let next_block = config.from_block.unwrap_or(chain.deployment.start_block);
        Ok(Watcher {
            config,
            chain,
            tx,
            next_block,
            alert_from: head,
            offers: BTreeMap::new(),
            others: BTreeMap::new(),
            stake_low: false,
            stats: Arc::default(),
            metrics: Arc::default(),
        })
    }

    /// Counts into `metrics` (the keeper's registry) instead of a registry of its own.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The registry the watcher counts into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Starts the watcher on the runtime; it stops after the tick in progress once `shutdown`
    /// resolves. The handle gives the shared statistics.
    pub async fn spawn(
        config: WatcherConfig,
        chain: Chain,
        tx: TxManager,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<WatcherHandle> {
        Ok(Watcher::new(config, chain, tx).await?.start(shutdown))
    }

    /// Runs this watcher on the runtime until `shutdown` resolves (see [`Watcher::spawn`]).
    pub fn start(self, shutdown: impl Future<Output = ()> + Send + 'static) -> WatcherHandle {
        let stats = self.stats.clone();
        let task = tokio::spawn(self.run(shutdown));
        WatcherHandle { stats, task }
    }

    /// Ticks every `poll` until `shutdown` resolves. A failing tick is logged and counted,
    /// and the next one tries again: the chain is the state, so nothing is lost.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "watcher tick failed; retrying next tick");
                self.failed("tick");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        tracing::info!("watcher stopped");
    }

    /// One round of chores: read new events, then claim, expire, heartbeat and alert.
    pub async fn tick(&mut self) -> Result<()> {
        let span =
            tracing::info_span!("watcher_tick", host = %self.config.host, from = self.next_block);
        async {
            let (head, now) = self.chain.head().await?;
            if self.next_block <= head {
                self.read_events(self.next_block, head).await?;
                self.next_block = head + 1;
            }
            if self.config.claim.is_some() {
                claim::claim_offers(self, now).await;
            }
            if self.config.expire_others {
                expire::expire_overdue(self, now).await;
            }
            if let Some(every) = self.config.heartbeat_every {
                heartbeat::maybe_beat(self, now, every.as_secs()).await?;
            }
            alerts::check_stake(self).await?;
            self.stats.lock().expect("stats lock").ticks += 1;
            self.metrics
                .watcher_ticks
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// A copy of the statistics so far.
    pub fn stats(&self) -> WatcherStats {
        self.stats.lock().expect("stats lock").clone()
    }

    /// Reads the events of `from..=to` that the chores need.
    async fn read_events(&mut self, from: u64, to: u64) -> Result<()> {
        let market = self.chain.deployment.contracts.job_marketplace;
        if self.config.claim.is_some() {
            for (e, _) in self
                .chain
                .logs::<JobMarketplace::JobCreated>(market, None, None, from, to)
                .await?
            {
                self.offers.insert(
                    e.jobId,
                    Offer {
                        model_hash: e.modelHash,
                        token: e.token,
                        payment: U256::from(e.payment),
                        fee: U256::from(e.fee),
                        deadline: e.deadline.to::<u64>(),
                        offered_host: e.offeredHost,
                    },
                );
            }
        }
        let claimed = self
            .chain
            .logs::<JobMarketplace::JobClaimed>(market, None, None, from, to)
            .await?;
        for (e, _) in claimed {
            // Claimed by anyone: no longer an offer.
            self.offers.remove(&e.jobId);
            if self.config.expire_others && e.host != self.config.host {
                let job = self
                    .chain
                    .marketplace()
                    .getJob(e.jobId)
                    .call()
                    .await
                    .map_err(HostError::read("reading a job"))?;
                self.others.insert(e.jobId, job.deadline.to::<u64>());
            }
        }
        let alert_from = from.max(self.alert_from);
        if alert_from <= to {
            alerts::read_alerts(self, alert_from, to).await?;
        }
        Ok(())
    }

    fn failed(&self, chore: &'static str) {
        *self
            .stats
            .lock()
            .expect("stats lock")
            .failures
            .entry(chore)
            .or_default() += 1;
        self.metrics.watcher_failures.increment(chore);
    }

    fn record(&self, f: impl FnOnce(&mut WatcherStats)) {
        f(&mut self.stats.lock().expect("stats lock"));
    }
}

/// A running watcher: its statistics and its task.
pub struct WatcherHandle {
    pub stats: Arc<Mutex<WatcherStats>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl WatcherHandle {
    /// A copy of the statistics so far.
    pub fn stats(&self) -> WatcherStats {
        self.stats.lock().expect("stats lock").clone()
    }
}

/// Slashed events of `host` in `from..=to`.
async fn slashes_of(
    chain: &Chain,
    host: Address,
    from: u64,
    to: u64,
) -> Result<Vec<Slashing::Slashed>> {
    Ok(chain
        .logs::<Slashing::Slashed>(
            chain.deployment.contracts.slashing,
            Some(address_topic(host)),
            None,
            from,
            to,
        )
        .await?
        .into_iter()
        .map(|(e, _)| e)
        .collect())
}
