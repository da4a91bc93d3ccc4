//! The watcher's chores on a real anvil chain with the real deploy script: claims under a
//! price policy, heartbeats on their interval (through the spawned loop), expiry of another
//! host's overdue job (which slashes it), and alerts on dispute, slash and low stake.

mod common;
mod world;

use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256, keccak256, utils::parse_ether};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use vouch_keeper::host::job::{JobStatus, status_of};
use vouch_keeper::host::{Chain, TxConfig, TxManager};
use vouch_keeper::watcher::{Alert, ClaimPolicy, Watcher, WatcherConfig};
use world::{JOB_DURATION, World, mined, model};

/// A provider without a wallet (the sender signs) and a sender for anvil key `index`.
async fn sender(world: &World, index: usize) -> (Chain, TxManager) {
    let provider: DynProvider = ProviderBuilder::new()
        .connect_http(world.anvil.endpoint_url())
        .erased();
    let chain = Chain::new(provider.clone(), world.deployment.clone());
    let key: PrivateKeySigner = world.anvil.keys()[index].clone().into();
    let tx = TxManager::new(
        provider,
        EthereumWallet::from(key),
        world.deployment.clone(),
        TxConfig::default(),
    )
    .await
    .unwrap();
    (chain, tx)
}

/// The renter opens a job for `model_hash` paying `payment` wei; returns its id.
async fn open_job(world: &World, model_hash: B256, payment: u64, label: &str) -> U256 {
    let deadline = world.now().await + JOB_DURATION;
    let receipt = mined(
        world
            .marketplace()
            .createJob(
                model_hash,
                keccak256(label),
                Address::ZERO,
                alloy::primitives::Uint::from(payment),
                alloy::primitives::Uint::from(deadline),
                Address::ZERO,
                0,
            )
            .value(U256::from(payment))
            .from(world.renter),
    )
    .await;
    receipt
        .decoded_log::<vouch_bindings::contracts::JobMarketplace::JobCreated>()
        .unwrap()
        .jobId
}

async fn status(world: &World, id: U256) -> JobStatus {
    status_of(&world.marketplace().getJob(id).call().await.unwrap())
}

#[tokio::test]
async fn the_watcher_claims_only_the_jobs_its_price_policy_accepts() {
    let world = World::new().await;
    let good = open_job(&world, model(), 50_000_000_000_000_000, "good").await; // 0.05 ETH
    let other_model = open_job(
        &world,
        keccak256("another-model"),
        50_000_000_000_000_000,
        "other",
    )
    .await;
    let cheap = open_job(&world, model(), 10_000_000_000_000_000, "cheap").await; // 0.01 ETH
    let (chain, tx) = sender(&world, 2).await; // the operator
    let mut config = WatcherConfig::new(world.host);
    config.claim = Some(ClaimPolicy {
        models: vec![model()],
        min_payment_wei: parse_ether("0.04").unwrap(),
        min_time_left: 600,
    });
    let mut watcher = Watcher::new(config, chain, tx).await.unwrap();
    watcher.tick().await.unwrap();
    assert_eq!(watcher.stats().claimed, vec![good]);
    let job = world.marketplace().getJob(good).call().await.unwrap();
    assert_eq!(
        (status_of(&job), job.host, job.operator),
        (JobStatus::Claimed, world.host, world.operator)
    );
    assert_eq!(status(&world, other_model).await, JobStatus::Open);
    assert_eq!(status(&world, cheap).await, JobStatus::Open);
    // A later good job is claimed on the next tick; the declined ones are never retried.
    let later = open_job(&world, model(), 60_000_000_000_000_000, "later").await;
    watcher.tick().await.unwrap();
    assert_eq!(watcher.stats().claimed, vec![good, later]);
    assert_eq!(watcher.stats().failures.len(), 0);
    assert_eq!(status(&world, cheap).await, JobStatus::Open);
}

#[tokio::test]
async fn the_spawned_watcher_sends_heartbeats_on_its_interval_and_stops_on_shutdown() {
    let world = World::new().await;
    let (chain, tx) = sender(&world, 2).await;
    let registry = chain.registry();
    let registered = registry
        .getNode(world.host)
        .call()
        .await
        .unwrap()
        .lastHeartbeat
        .to::<u64>();
    let mut config = WatcherConfig::new(world.host);
    config.heartbeat_every = Some(Duration::from_secs(3600));
    config.poll = Duration::from_millis(100);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = Watcher::spawn(config, chain.clone(), tx, async move {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    // Within the interval: ticks, but no heartbeat.
    wait_for(|| handle.stats().ticks >= 3).await;
    assert_eq!(handle.stats().heartbeats, 0);
    assert_eq!(
        registry
            .getNode(world.host)
            .call()
            .await
            .unwrap()
            .lastHeartbeat
            .to::<u64>(),
        registered
    );
    // An hour later (chain time): exactly one heartbeat, at the new block's time.
    world.provider.anvil_increase_time_secs(3600).await;
    wait_for(|| handle.stats().heartbeats >= 1).await;
    let ticks = handle.stats().ticks;
    wait_for(|| handle.stats().ticks >= ticks + 3).await;
    assert_eq!(handle.stats().heartbeats, 1);
    let beat = registry
        .getNode(world.host)
        .call()
        .await
        .unwrap()
        .lastHeartbeat
        .to::<u64>();
    assert!(
        beat >= registered + 3600,
        "heartbeat at {beat}, registered at {registered}"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), handle.task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_watcher_expires_another_hosts_overdue_job_and_that_host_is_slashed() {
    let world = World::new().await;
    world
        .join_as_host(world.stranger, "https://h2.vouch.example:8443")
        .await;
    let id = open_job(&world, model(), 50_000_000_000_000_000, "theirs").await;
    mined(
        world
            .marketplace()
            .claimJob(id, world.stranger)
            .from(world.stranger),
    )
    .await;
    let (chain, tx) = sender(&world, 2).await;
    let mut config = WatcherConfig::new(world.host);
    config.expire_others = true;
    let mut watcher = Watcher::new(config, chain.clone(), tx).await.unwrap();
    watcher.tick().await.unwrap();
    assert_eq!(watcher.stats().expired, Vec::<U256>::new());
    let slash = chain
        .slashing()
        .slashAmount(world.stranger, 0)
        .call()
        .await
        .unwrap();
    assert_eq!(slash, parse_ether("50").unwrap()); // 5% of 1,000 VOUCH
    world.advance(JOB_DURATION + 1).await;
    watcher.tick().await.unwrap();
    assert_eq!(watcher.stats().expired, vec![id]);
    assert_eq!(status(&world, id).await, JobStatus::Expired);
    assert_eq!(
        chain
            .staking()
            .activeStakeOf(world.stranger)
            .call()
            .await
            .unwrap(),
        parse_ether("950").unwrap()
    );
    // Nothing more to do: the next tick sends nothing and fails nothing.
    watcher.tick().await.unwrap();
    assert_eq!(watcher.stats().expired, vec![id]);
    assert!(watcher.stats().failures.is_empty());
    // The watcher's own host's jobs are never its to expire (and were none here).
    assert!(watcher.stats().alerts.is_empty());
}

#[tokio::test]
async fn the_watcher_alerts_when_its_host_is_disputed_slashed_and_below_the_minimum_stake() {
    let world = World::new().await;
    let (chain, tx) = sender(&world, 2).await;
    let mut watcher = Watcher::new(WatcherConfig::new(world.host), chain.clone(), tx)
        .await
        .unwrap();
    watcher.tick().await.unwrap();
    assert!(watcher.stats().alerts.is_empty());

    // A completed job (real proof), then disputed by its renter.
    let prover = common::prover().await;
    let job = world.claimed_jobs(1, "disputed").await[0];
    let proof = prover.prove(&[job]).await.unwrap();
    world::ok(world.submit(&proof, world.operator).await);
    let disputed = U256::from_be_bytes(job.job_id.0);
    let bond = chain.slashing().disputeBond().call().await.unwrap();
    mined(
        world
            .marketplace()
            .disputeJob(disputed, keccak256("evidence"))
            .value(bond)
            .from(world.renter),
    )
    .await;
    watcher.tick().await.unwrap();
    assert_eq!(
        watcher.stats().alerts,
        vec![Alert::Disputed { job_id: disputed }]
    );

    // A claimed job left to its deadline, expired by a stranger: slashed 5%, now under 1,000.
    let (missed, _) = world.create_job("missed").await;
    world.claim(missed).await;
    world.advance(JOB_DURATION + 1).await;
    mined(
        world
            .marketplace()
            .expireJob(missed)
            .from(world.stranger)
            .gas(400_000),
    )
    .await;
    watcher.tick().await.unwrap();
    let fifty = parse_ether("50").unwrap();
    assert_eq!(
        watcher.stats().alerts,
        vec![
            Alert::Disputed { job_id: disputed },
            Alert::Slashed {
                job_id: missed,
                reason: 0,
                amount: fifty
            },
            Alert::LowStake {
                active: parse_ether("950").unwrap(),
                minimum: parse_ether("1000").unwrap()
            },
        ]
    );
    // Raised once: still low on the next tick, no new alert.
    watcher.tick().await.unwrap();
    assert_eq!(watcher.stats().alerts.len(), 3);
}

/// Waits (bounded, generously) until `done` holds.
async fn wait_for(done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

trait IncreaseTime {
    async fn anvil_increase_time_secs(&self, seconds: u64);
}

impl IncreaseTime for DynProvider {
    /// Moves the clock and mines a block, so the watcher's next head read sees the new time.
    async fn anvil_increase_time_secs(&self, seconds: u64) {
        use alloy::providers::ext::AnvilApi;
        self.anvil_increase_time(seconds).await.unwrap();
        self.anvil_mine(Some(1), None).await.unwrap();
    }
}
