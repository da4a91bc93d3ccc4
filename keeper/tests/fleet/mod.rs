//! Many hosts, each with its own keeper, against one anvil: the load test of
//! keeper/tests/many_keepers.rs (short, in CI) and keeper/benches/many_keepers.rs (100 keepers,
//! 5 minutes). Every host stakes the minimum and registers the model; its keeper
//! (`Keeper::start`, one SQLite queue each, one prover pool shared by all) claims the jobs
//! offered to it through its watcher (`--claim`'s policy); renters create jobs offered to each
//! host in turn; each host's node posts the result once its keeper has claimed the job. At the
//! end every created job must be completed on chain exactly once with its output, and no
//! keeper may have failed anything.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256, keccak256, utils::parse_ether};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use serde_json::json;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking, VouchToken};
use vouch_keeper::prover::Prover;
use vouch_keeper::queue::ResultState;
use vouch_keeper::service::{Keeper, KeeperConfig, KeeperHandle};
use vouch_keeper::watcher::ClaimPolicy;

use crate::world::{JOB_DURATION, PAYMENT_WEI, World, model};

/// The load: how many hosts, how long jobs are created, how fast.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    pub hosts: usize,
    /// How long renters create jobs.
    pub run: Duration,
    /// Jobs created per second, over all hosts.
    pub jobs_per_sec: f64,
    /// Renter accounts creating them (each sends one transaction at a time).
    pub renters: usize,
    /// The keepers' batch wait.
    pub batch_wait: Duration,
    /// The watchers' poll (how soon an offered job is claimed).
    pub watch_poll: Duration,
}

/// What the run did (every figure after the checks passed).
#[derive(Debug)]
pub struct FleetReport {
    pub hosts: usize,
    pub jobs: usize,
    pub created_in: Duration,
    /// From the first job created to the last confirmed.
    pub drained_in: Duration,
    pub proofs: u64,
    pub transactions: u64,
    pub claims: u64,
    pub gas_used: u64,
    pub setup: Duration,
}

impl FleetReport {
    pub fn print(&self) {
        println!(
            "{} keepers: {} jobs created in {:.1} s ({:.2}/s), all completed on chain exactly once after {:.1} s ({:.2} jobs/s)",
            self.hosts,
            self.jobs,
            self.created_in.as_secs_f64(),
            self.jobs as f64 / self.created_in.as_secs_f64(),
            self.drained_in.as_secs_f64(),
            self.jobs as f64 / self.drained_in.as_secs_f64()
        );
        println!(
            "{} claims, {} proofs, {} proof transactions ({:.1} jobs per transaction), {:.0} gas per job (proof transactions); setup {:.1} s; no error",
            self.claims,
            self.proofs,
            self.transactions,
            self.jobs as f64 / self.transactions.max(1) as f64,
            self.gas_used as f64 / self.jobs.max(1) as f64,
            self.setup.as_secs_f64()
        );
    }
}

/// Keys: 0-4 the world's accounts, 5.. renters, then the hosts.
const FIRST_RENTER: usize = 5;

/// Runs the load and checks it; panics on any error or lost job.
pub async fn run(config: FleetConfig, prover: Arc<Prover>) -> FleetReport {
    let setup_started = Instant::now();
    let first_host = FIRST_RENTER + config.renters;
    let accounts = first_host + config.hosts;
    let anvil = alloy::node_bindings::Anvil::at(vouch_testkit::anvil_path())
        .args([
            "--accounts",
            &accounts.to_string(),
            "--prune-history",
            "256",
        ])
        .spawn();
    let world = World::on(anvil).await;
    let keys: Vec<PrivateKeySigner> = world.anvil.keys().iter().cloned().map(Into::into).collect();
    assert_eq!(keys.len(), accounts, "anvil made the accounts asked for");
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let fleet: DynProvider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(world.anvil.endpoint_url())
        .erased();
    let hosts: Vec<PrivateKeySigner> = keys[first_host..].to_vec();
    join_hosts(&world, &fleet, &hosts).await;
    let from_block = world.provider.get_block_number().await.unwrap();

    // One keeper per host, the host key as its own operator; all share the prover.
    let mut dbs = Vec::new();
    let mut starting = tokio::task::JoinSet::new();
    for (i, key) in hosts.iter().enumerate() {
        let db = vouch_testkit::FreshSqlite::create();
        let mut cfg = KeeperConfig::new(
            world.reader(),
            world.deployment.clone(),
            key.clone(),
            db.url.clone(),
            prover.clone(),
        );
        dbs.push(db);
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        cfg.batch.max_wait = config.batch_wait;
        cfg.tx.poll = Duration::from_millis(100);
        cfg.watcher.poll = config.watch_poll;
        cfg.watcher.from_block = Some(from_block);
        cfg.watcher.claim = Some(ClaimPolicy {
            models: vec![model()],
            min_payment_wei: U256::ZERO,
            min_time_left: 600,
        });
        starting.spawn(async move { (i, Keeper::start(cfg).await.unwrap()) });
    }
    let mut started = BTreeMap::new();
    while let Some(done) = starting.join_next().await {
        let (i, keeper) = done.unwrap();
        started.insert(i, Arc::new(keeper));
    }
    let keepers: Vec<Arc<KeeperHandle>> = started.into_values().collect();
    let setup = setup_started.elapsed();

    // Nodes: each posts its host's results once the keeper claimed the job.
    let mut to_node = Vec::new();
    let mut nodes = tokio::task::JoinSet::new();
    for keeper in &keepers {
        let (send, receive) = tokio::sync::mpsc::unbounded_channel::<(U256, B256)>();
        to_node.push(send);
        nodes.spawn(node(keeper.clone(), receive));
    }

    // Renters: jobs offered to each host in turn, at the configured rate.
    let created_started = Instant::now();
    let until = created_started + config.run;
    let per_renter = Duration::from_secs_f64(config.renters as f64 / config.jobs_per_sec);
    let mut renters = tokio::task::JoinSet::new();
    for r in 0..config.renters {
        let renter = keys[FIRST_RENTER + r].address();
        let targets: Vec<(usize, Address)> = hosts
            .iter()
            .enumerate()
            .filter(|(i, _)| i % config.renters == r)
            .map(|(i, k)| (i, k.address()))
            .collect();
        let (fleet, market, to_node) = (
            fleet.clone(),
            world.deployment.contracts.job_marketplace,
            to_node.clone(),
        );
        renters.spawn(async move {
            let market = JobMarketplace::new(market, &fleet);
            let mut created = Vec::new();
            let mut tick = tokio::time::interval(per_renter);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n = 0usize;
            while Instant::now() < until {
                tick.tick().await;
                let (i, host) = targets[n % targets.len()];
                let label = format!("fleet {r} {n}");
                n += 1;
                let now = fleet
                    .get_block_by_number(Default::default())
                    .await
                    .unwrap()
                    .unwrap()
                    .header
                    .timestamp;
                let receipt = market
                    .createJob(
                        model(),
                        keccak256(format!("{label} input")),
                        Address::ZERO,
                        alloy::primitives::Uint::from(PAYMENT_WEI),
                        alloy::primitives::Uint::from(now + JOB_DURATION),
                        host,
                        0,
                    )
                    .value(U256::from(PAYMENT_WEI))
                    .from(renter)
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
                assert!(receipt.status(), "createJob reverted");
                let id = receipt
                    .decoded_log::<JobMarketplace::JobCreated>()
                    .unwrap()
                    .jobId;
                let output = keccak256(format!("{label} output"));
                to_node[i].send((id, output)).unwrap();
                created.push((B256::from(id), output, i));
            }
            created
        });
    }
    let mut jobs: Vec<(B256, B256, usize)> = Vec::new();
    while let Some(done) = renters.join_next().await {
        jobs.extend(done.unwrap());
    }
    let created_in = created_started.elapsed();
    drop(to_node);
    while let Some(done) = nodes.join_next().await {
        done.unwrap();
    }

    // Every job confirmed by its host's keeper (bounded).
    let mut expected = vec![0u64; keepers.len()];
    for (_, _, i) in &jobs {
        expected[*i] += 1;
    }
    let drain_started = Instant::now();
    for (i, keeper) in keepers.iter().enumerate() {
        loop {
            let depth = keeper.intake().queue().depth().await.unwrap();
            assert_eq!(depth[&ResultState::Failed], 0, "keeper {i} failed a result");
            if depth[&ResultState::Confirmed] == expected[i] {
                break;
            }
            assert!(
                drain_started.elapsed() < Duration::from_secs(900),
                "keeper {i} stuck at {depth:?}, {} expected",
                expected[i]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let drained_in = created_started.elapsed();

    // On chain: each job completed exactly once, with its output, and nothing else completed.
    let mut completed: BTreeMap<B256, Vec<B256>> = BTreeMap::new();
    for (job, output, _) in world.completions().await {
        completed.entry(job).or_default().push(output);
    }
    assert_eq!(
        completed.len(),
        jobs.len(),
        "completed jobs against created jobs"
    );
    for (job, output, _) in &jobs {
        assert_eq!(completed.get(job), Some(&vec![*output]), "job {job}");
    }

    // No keeper failed anything.
    let (mut proofs, mut transactions, mut claims, mut gas_used) = (0, 0, 0, 0);
    for (i, keeper) in keepers.iter().enumerate() {
        let m = keeper.metrics();
        let text = m.render(&Default::default(), 0);
        let failures: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("vouch_keeper_failures_total{")
                    || l.starts_with("vouch_watcher_failures_total{")
            })
            .collect();
        assert!(failures.is_empty(), "keeper {i}: {failures:?}");
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(load(&m.jobs_failed), 0, "keeper {i}");
        assert_eq!(
            load(&m.watcher_claims),
            expected[i],
            "keeper {i} claimed its offered jobs"
        );
        assert_eq!(
            load(&m.jobs_confirmed) + load(&m.jobs_already_done),
            expected[i],
            "keeper {i}"
        );
        proofs += load(&m.proofs);
        transactions += load(&m.transactions);
        claims += load(&m.watcher_claims);
        gas_used += load(&m.gas_used);
    }
    let mut stopping = tokio::task::JoinSet::new();
    for keeper in keepers {
        let keeper = Arc::into_inner(keeper).expect("the nodes are done");
        stopping.spawn(keeper.shutdown());
    }
    while let Some(done) = stopping.join_next().await {
        done.unwrap().unwrap();
    }
    drop(dbs);
    FleetReport {
        hosts: config.hosts,
        jobs: jobs.len(),
        created_in,
        drained_in,
        proofs,
        transactions,
        claims,
        gas_used,
        setup,
    }
}

/// Gives every host the minimum stake, stakes it and registers the model: the deployer's
/// transfers one after another, then each host's own transactions, the hosts at once.
async fn join_hosts(world: &World, fleet: &DynProvider, hosts: &[PrivateKeySigner]) {
    let c = world.deployment.contracts.clone();
    let stake = parse_ether("1000").unwrap();
    let token = VouchToken::new(c.vouch_token, fleet);
    let mut transfers = Vec::new();
    for h in hosts {
        transfers.push(
            token
                .transfer(h.address(), stake)
                .from(world.deployer)
                .send()
                .await
                .unwrap(),
        );
    }
    for t in transfers {
        assert!(t.get_receipt().await.unwrap().status());
    }
    let mut joining = tokio::task::JoinSet::new();
    for (i, h) in hosts.iter().enumerate() {
        let (fleet, host) = (fleet.clone(), h.address());
        joining.spawn(async move {
            let ok = |r: alloy::rpc::types::TransactionReceipt| assert!(r.status());
            let token = VouchToken::new(c.vouch_token, &fleet);
            ok(token
                .approve(c.staking, stake)
                .from(host)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap());
            let staking = Staking::new(c.staking, &fleet);
            ok(staking
                .stake(stake)
                .from(host)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap());
            let region = alloy::primitives::FixedBytes::<16>::right_padding_from(b"eu-west-1");
            let registry = NodeRegistry::new(c.node_registry, &fleet);
            ok(registry
                .register(
                    format!("https://h{i}.vouch.example:8443"),
                    region,
                    vec![model()],
                    alloy::primitives::Uint::from(2_000_000_000u64),
                )
                .from(host)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap());
        });
    }
    while let Some(done) = joining.join_next().await {
        done.unwrap();
    }
}

/// A host's node: for each job it was given, waits until its keeper's watcher claimed it, then
/// posts the result (202 expected); returns when the channel is closed and every job posted.
async fn node(
    keeper: Arc<KeeperHandle>,
    mut jobs: tokio::sync::mpsc::UnboundedReceiver<(U256, B256)>,
) {
    let client = reqwest::Client::new();
    let url = format!("http://{}/v1/results", keeper.addr());
    let mut waiting: Vec<(U256, B256, Instant)> = Vec::new();
    let mut open = true;
    while open || !waiting.is_empty() {
        if open {
            match tokio::time::timeout(Duration::from_millis(200), jobs.recv()).await {
                Ok(Some((id, output))) => waiting.push((id, output, Instant::now())),
                Ok(None) => open = false,
                Err(_) => {}
            }
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let claimed = keeper.watcher_stats().claimed;
        let mut still = Vec::new();
        for (id, output, since) in waiting.drain(..) {
            if !claimed.contains(&id) {
                assert!(
                    since.elapsed() < Duration::from_secs(300),
                    "job {id} was never claimed"
                );
                still.push((id, output, since));
                continue;
            }
            let reply = client
                .post(&url)
                .json(
                    &json!({ "jobId": format!("{:#x}", id), "outputHash": format!("{output:#x}") }),
                )
                .send()
                .await
                .unwrap();
            let status = reply.status();
            assert_eq!(status, 202, "job {id}: {}", reply.text().await.unwrap());
        }
        waiting = still;
    }
}
