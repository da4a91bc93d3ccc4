//! The seeding tool of the GraphQL benches: fills a database with a synthetic but well-formed
//! protocol history (hosts, stakes, registrations with models and regions, heartbeats, jobs
//! created, claimed, proven in batches and paid, reputation changes, expiries with slashes)
//! through the indexer's own write path: each event is ABI-encoded as the contract emits it,
//! decoded by `vouch_bindings::events::decode`, folded by the indexer's projections and
//! committed through `IndexWriter::commit`, in ranges as a backfill commits them, the last block
//! as a live commit (with its window block). Deterministic: a seeded RNG, so the same scale
//! gives the same database (the counts in [`Summary`]).
//!
//! The full scale (10,000 hosts, 1,000,000 events) is cached under
//! `target/graphql-seed/` keyed by [`VERSION`] and the scale: a SQLite file, and a PostgreSQL
//! database of the same name; a marker file written after the last commit says it is complete.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Instant;

use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, B256, FixedBytes, LogData, U256, keccak256};
use alloy::sol_types::SolEvent;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{
    JobMarketplace as M, NodeRegistry as R, ProofSystem as P, ReputationRegistry as Rep,
    Slashing as S, Staking as St,
};
use vouch_bindings::events::{self, AddressBook};
use vouch_indexer::projections::{self, LogMeta, State};
use vouch_indexer::store::entity::{block, checkpoint};
use vouch_indexer::store::{Commit, IndexWriter, SeaStore};

/// Bump when the generated history changes: cached databases of another version are rebuilt.
pub const VERSION: u32 = 1;
pub const CHAIN_ID: u64 = 31337;
/// Models a host may serve; model 1 is the most common (about a third of the hosts).
pub const MODELS: u8 = 24;
pub const REGIONS: [&str; 6] = [
    "eu-west-1",
    "us-east-1",
    "us-west-2",
    "ap-south-1",
    "sa-east-1",
    "eu-central-1",
];
const RENTERS: u64 = 500;
/// Events per block (the bench chain of the indexer has ~29; a busy L2 block many more).
const EVENTS_PER_BLOCK: usize = 300;
/// Events per backfill commit.
const EVENTS_PER_COMMIT: usize = 50_000;
const VOUCH: u128 = 1_000_000_000_000_000_000;

/// How much to seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    pub hosts: usize,
    pub events: usize,
}

/// The benches' scale.
pub const FULL: Scale = Scale {
    hosts: 10_000,
    events: 1_000_000,
};

/// What was seeded (the same for both databases at one scale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scale: Scale,
    pub events: u64,
    pub hosts: u64,
    pub registered_hosts: u64,
    pub jobs: u64,
    pub jobs_paid: u64,
    pub jobs_expired: u64,
    pub batches: u64,
    pub slashes: u64,
    pub reputation_changes: u64,
    pub heartbeats: u64,
    /// The host with the longest reputation history, and its length.
    pub star_host: String,
    pub star_points: u64,
    /// 0x hash of model 1 and how many registered hosts serve it.
    pub model: String,
    pub model_hosts: u64,
    /// A paid job proven in a batch of more than one job.
    pub proven_job: u64,
    pub last_block: u64,
    pub seconds: f64,
}

pub fn model_hash(i: u8) -> B256 {
    B256::with_last_byte(i)
}

/// The synthetic deployment the logs come from (its addresses only need to be distinct).
pub fn deployment() -> Deployment {
    let contracts: serde_json::Map<String, serde_json::Value> = vouch_bindings::Contracts::NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let a = Address::with_last_byte(0x10 + i as u8);
            (name.to_string(), serde_json::Value::String(a.to_string()))
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "chainId": CHAIN_ID, "startBlock": 1, "contracts": contracts,
    }))
    .expect("a complete synthetic manifest")
}

fn account(kind: u8, i: u64) -> Address {
    let mut b = [0u8; 20];
    b[0] = kind;
    b[12..].copy_from_slice(&i.to_be_bytes());
    Address::from(b)
}
fn host_addr(i: usize) -> Address {
    account(0xa0, i as u64)
}
fn operator_addr(i: usize) -> Address {
    account(0xb0, i as u64)
}
fn renter_addr(i: u64) -> Address {
    account(0xc0, i)
}
const TREASURY: Address = Address::repeat_byte(0x77);

fn region(s: &str) -> FixedBytes<16> {
    let mut b = [0u8; 16];
    b[..s.len()].copy_from_slice(s.as_bytes());
    FixedBytes(b)
}

/// One synthetic host's state as the contracts would hold it.
struct HostSim {
    addr: Address,
    models: Vec<u8>,
    registered: bool,
    score: u16,
    active: U256,
}

/// Builds the history and commits it.
pub struct Seeder<W: IndexWriter> {
    store: W,
    book: AddressBook,
    deployment: Deployment,
    rng: StdRng,
    state: State,
    commit: Commit,
    block: u64,
    block_time: u64,
    in_block: usize,
    log_index: u64,
    tx_counter: u64,
    next_job: u64,
    hosts: Vec<HostSim>,
    s: Summary,
    /// Reputation changes of host 0.
    star_points: u64,
}

impl<W: IndexWriter> Seeder<W> {
    fn address_of(&self, contract: &str) -> Address {
        self.deployment
            .contracts
            .all()
            .into_iter()
            .find(|(n, _)| *n == contract)
            .map(|(_, a)| a)
            .expect("contract in the table")
    }

    /// Emits one transaction: its logs in order, in the current block (a new block when full).
    async fn tx(&mut self, logs: Vec<(&'static str, LogData)>) {
        if self.in_block + logs.len() > EVENTS_PER_BLOCK && self.in_block > 0 {
            self.next_block().await;
        }
        self.tx_counter += 1;
        let tx_hash = keccak256(format!("seed-tx-{}", self.tx_counter));
        let block_hash = keccak256(format!("seed-block-{}", self.block));
        for (contract, data) in logs {
            let address = self.address_of(contract);
            let log = alloy::rpc::types::Log {
                inner: alloy::primitives::Log { address, data },
                block_hash: Some(block_hash),
                block_number: Some(self.block),
                block_timestamp: Some(self.block_time),
                transaction_hash: Some(tx_hash),
                transaction_index: Some(0),
                log_index: Some(self.log_index),
                removed: false,
            };
            let decoded = events::decode(&self.book, &log)
                .expect("a synthetic log decodes")
                .expect("a synthetic log is a Vouch event");
            let meta = LogMeta {
                block_number: self.block,
                block_hash: format!("{block_hash:#x}"),
                block_timestamp: self.block_time,
                tx_hash: format!("{tx_hash:#x}"),
                log_index: self.log_index,
            };
            projections::apply(&mut self.state, &meta, &decoded);
            self.commit
                .events
                .push(projections::event_row(CHAIN_ID, &meta, address, decoded));
            self.log_index += 1;
            self.in_block += 1;
            self.s.events += 1;
        }
    }

    async fn next_block(&mut self) {
        if self.commit.events.len() >= EVENTS_PER_COMMIT {
            self.flush(false).await;
        }
        self.block += 1;
        self.block_time += 2;
        self.in_block = 0;
        self.log_index = 0;
    }

    /// Commits what is pending, through the indexer's writer. `live`: as the indexer commits a
    /// followed block (its hash enters the recent-block window).
    async fn flush(&mut self, live: bool) {
        let mut commit = std::mem::take(&mut self.commit);
        commit.chain_id = CHAIN_ID;
        self.state.drain_into(&mut commit);
        let hash = format!("{:#x}", keccak256(format!("seed-block-{}", self.block)));
        if live {
            commit.blocks.push(block::Model {
                chain_id: CHAIN_ID as i64,
                number: self.block as i64,
                hash: hash.clone(),
                parent_hash: format!("{:#x}", keccak256(format!("seed-block-{}", self.block - 1))),
                timestamp: self.block_time as i64,
            });
            commit.prune_through = Some(self.block.saturating_sub(128));
        }
        commit.checkpoint = Some(checkpoint::Model {
            chain_id: CHAIN_ID as i64,
            block_number: self.block as i64,
            block_hash: hash,
            head: self.block as i64,
            confirmations: 12,
            last_reorg_block: None,
            last_reorg_depth: None,
            updated_at: self.block_time as i64,
        });
        self.store.commit(commit).await.expect("seed commit");
    }

    fn renter(&mut self) -> Address {
        renter_addr(self.rng.random_range(0..RENTERS))
    }

    async fn setup_hosts(&mut self, n: usize) {
        for i in 0..n {
            let addr = host_addr(i);
            let mut models = vec![];
            // Model 1 for about a third of the hosts; one to three others.
            if self.rng.random_bool(0.34) {
                models.push(1u8);
            }
            for _ in 0..self.rng.random_range(1..=3) {
                let m = self.rng.random_range(2..=MODELS);
                if !models.contains(&m) {
                    models.push(m);
                }
            }
            let stake = U256::from(self.rng.random_range(1_000..50_000u128) * VOUCH);
            let reg = REGIONS[self.rng.random_range(0..REGIONS.len())];
            let price = U96::from(self.rng.random_range(10..500u64));
            self.tx(vec![(
                "Staking",
                St::Staked {
                    staker: addr,
                    amount: stake,
                    active: stake,
                }
                .encode_log_data(),
            )])
            .await;
            self.tx(vec![
                (
                    "NodeRegistry",
                    R::NodeRegistered {
                        host: addr,
                        endpoint: format!("https://h{i}.{reg}.example"),
                        region: region(reg),
                        pricePerToken: price,
                        models: models.iter().map(|m| model_hash(*m)).collect(),
                    }
                    .encode_log_data(),
                ),
                (
                    "NodeRegistry",
                    R::OperatorSet {
                        host: addr,
                        operator: operator_addr(i),
                    }
                    .encode_log_data(),
                ),
            ])
            .await;
            self.hosts.push(HostSim {
                addr,
                models,
                registered: true,
                score: 500,
                active: stake,
            });
        }
    }

    fn job_created(&mut self, id: u64, renter: Address, model: u8, payment: u64) -> LogData {
        M::JobCreated {
            jobId: U256::from(id),
            renter,
            modelHash: model_hash(model),
            inputHash: keccak256(format!("input-{id}")),
            token: Address::ZERO,
            payment: U96::from(payment),
            deadline: U40::from(self.block_time + 3600),
            fee: U96::from(payment / 50),
            offeredHost: Address::ZERO,
            minReputation: 0,
        }
        .encode_log_data()
    }

    /// One batch: `b` jobs created by renters, claimed by the host's operator, proven in one
    /// transaction (the `JobCompleted`s then `BatchProven`), paid in one release transaction
    /// with the host's reputation change.
    async fn batch(&mut self, h: usize, b: usize, pay: bool) {
        let addr = self.hosts[h].addr;
        let mut ids = vec![];
        let mut payments = vec![];
        for _ in 0..b {
            self.next_job += 1;
            let id = self.next_job;
            let models = self.hosts[h].models.clone();
            let model = models[self.rng.random_range(0..models.len())];
            let payment = self.rng.random_range(1_000_000u64..100_000_000_000_000);
            let renter = self.renter();
            let created = self.job_created(id, renter, model, payment);
            self.tx(vec![("JobMarketplace", created)]).await;
            ids.push(id);
            payments.push(payment);
        }
        self.s.jobs += b as u64;
        for id in &ids {
            self.tx(vec![(
                "JobMarketplace",
                M::JobClaimed {
                    jobId: U256::from(*id),
                    host: addr,
                    by: operator_addr(h),
                    operator: operator_addr(h),
                }
                .encode_log_data(),
            )])
            .await;
        }
        let mut proof: Vec<(&'static str, LogData)> = ids
            .iter()
            .map(|id| {
                (
                    "JobMarketplace",
                    M::JobCompleted {
                        jobId: U256::from(*id),
                        host: addr,
                        outputHash: keccak256(format!("output-{id}")),
                    }
                    .encode_log_data(),
                )
            })
            .collect();
        let size = [1u16, 16, 64]
            .into_iter()
            .find(|s| *s as usize >= b)
            .unwrap_or(64);
        proof.push((
            "ProofSystem",
            P::BatchProven {
                host: addr,
                submitter: operator_addr(h),
                batchSize: size,
                circuitVersion: 1,
                jobCount: U256::from(b),
                proofHash: keccak256(format!("proof-{}", ids[0])),
            }
            .encode_log_data(),
        ));
        self.tx(proof).await;
        self.s.batches += 1;
        if b > 1 && self.s.proven_job == 0 && pay {
            self.s.proven_job = ids[0];
        }
        if !pay {
            return;
        }
        let mut release = vec![];
        let mut weight = U256::ZERO;
        for (id, payment) in ids.iter().zip(&payments) {
            let fee = U256::from(payment / 50);
            let host_amount = U256::from(*payment) - fee;
            weight += U256::from(*payment);
            release.push((
                "JobMarketplace",
                M::PaymentReleased {
                    jobId: U256::from(*id),
                    host: addr,
                    token: Address::ZERO,
                    hostAmount: host_amount,
                    fee,
                    reputationWeight: U256::from(*payment),
                }
                .encode_log_data(),
            ));
            release.push((
                "JobMarketplace",
                M::Credited {
                    account: addr,
                    token: Address::ZERO,
                    amount: host_amount,
                }
                .encode_log_data(),
            ));
            release.push((
                "JobMarketplace",
                M::Credited {
                    account: TREASURY,
                    token: Address::ZERO,
                    amount: fee,
                }
                .encode_log_data(),
            ));
        }
        let old = self.hosts[h].score;
        let new = old + (1000 - old).div_ceil(25).min(1000 - old);
        self.hosts[h].score = new;
        release.push((
            "ReputationRegistry",
            Rep::ReputationChanged {
                host: addr,
                outcome: 0,
                weight,
                oldScore: old,
                newScore: new,
            }
            .encode_log_data(),
        ));
        self.tx(release).await;
        self.s.jobs_paid += b as u64;
        self.s.reputation_changes += 1;
        if h == 0 {
            self.star_points += 1;
        }
    }

    /// A claimed job past its deadline: expired by a renter, the host slashed.
    async fn expiry(&mut self, h: usize) {
        let addr = self.hosts[h].addr;
        self.next_job += 1;
        let id = self.next_job;
        let renter = self.renter();
        let model = self.hosts[h].models[0];
        let payment = 5_000_000_000_000_000u64;
        let created = self.job_created(id, renter, model, payment);
        self.tx(vec![("JobMarketplace", created)]).await;
        self.tx(vec![(
            "JobMarketplace",
            M::JobClaimed {
                jobId: U256::from(id),
                host: addr,
                by: operator_addr(h),
                operator: operator_addr(h),
            }
            .encode_log_data(),
        )])
        .await;
        let amount = self.hosts[h].active / U256::from(100);
        self.hosts[h].active -= amount;
        let old = self.hosts[h].score;
        let new = old - old / 10;
        self.hosts[h].score = new;
        let share = amount / U256::from(2);
        self.tx(vec![
            (
                "JobMarketplace",
                M::JobExpired {
                    jobId: U256::from(id),
                    host: addr,
                    by: renter,
                    refund: U256::from(payment),
                    slashed: true,
                }
                .encode_log_data(),
            ),
            (
                "JobMarketplace",
                M::Credited {
                    account: renter,
                    token: Address::ZERO,
                    amount: U256::from(payment),
                }
                .encode_log_data(),
            ),
            (
                "Staking",
                St::StakeSlashed {
                    staker: addr,
                    fromActive: amount,
                    fromUnbonding: U256::ZERO,
                    to: TREASURY,
                }
                .encode_log_data(),
            ),
            (
                "Slashing",
                S::Slashed {
                    host: addr,
                    reason: 0,
                    jobId: U256::from(id),
                    amount,
                    beneficiary: renter,
                    beneficiaryShare: share,
                    treasuryShare: amount - share,
                }
                .encode_log_data(),
            ),
            (
                "ReputationRegistry",
                Rep::ReputationChanged {
                    host: addr,
                    outcome: 1,
                    weight: U256::from(payment),
                    oldScore: old,
                    newScore: new,
                }
                .encode_log_data(),
            ),
        ])
        .await;
        if h == 0 {
            self.star_points += 1;
        }
        self.s.jobs += 1;
        self.s.jobs_expired += 1;
        self.s.slashes += 1;
        self.s.reputation_changes += 1;
    }

    async fn heartbeat(&mut self, h: usize) {
        let at = U40::from(self.block_time);
        let host = self.hosts[h].addr;
        self.tx(vec![(
            "NodeRegistry",
            R::Heartbeat { host, at }.encode_log_data(),
        )])
        .await;
        self.s.heartbeats += 1;
    }

    async fn run(&mut self, scale: Scale) {
        self.setup_hosts(scale.hosts).await;
        // The star host takes enough batches for a history well over 500 points.
        let rounds_left = |s: &Self| scale.events.saturating_sub(s.s.events as usize) / 60;
        let star_share = (560.0 / rounds_left(self).max(1) as f64).min(0.5);
        // Jobs left open or claimed at the end (unpaid, unproven): the last 2% of the budget.
        let tail = scale.events / 50;
        while (self.s.events as usize) + tail < scale.events {
            let r: f64 = self.rng.random();
            if r < 0.02 {
                let h = self.rng.random_range(0..self.hosts.len());
                self.expiry(h).await;
            } else if r < 0.025 {
                // A host leaves (never the star host).
                let h = self.rng.random_range(1..self.hosts.len());
                if self.hosts[h].registered {
                    let host = self.hosts[h].addr;
                    self.tx(vec![(
                        "NodeRegistry",
                        R::NodeDeregistered { host }.encode_log_data(),
                    )])
                    .await;
                    self.hosts[h].registered = false;
                }
            } else {
                let h = if self.rng.random_bool(star_share) {
                    0
                } else {
                    let registered = loop {
                        let h = self.rng.random_range(0..self.hosts.len());
                        if self.hosts[h].registered {
                            break h;
                        }
                    };
                    registered
                };
                let b = self.rng.random_range(1..=16);
                self.batch(h, b, true).await;
            }
            for _ in 0..self.rng.random_range(0..=10) {
                let h = self.rng.random_range(0..self.hosts.len());
                if self.hosts[h].registered {
                    self.heartbeat(h).await;
                }
            }
        }
        // The tail: proven but unpaid batches, claimed jobs, open jobs.
        while (self.s.events as usize) + 40 < scale.events {
            let h = self.rng.random_range(1..self.hosts.len());
            match self.rng.random_range(0..3) {
                0 if self.hosts[h].registered => self.batch(h, 4, false).await,
                1 if self.hosts[h].registered => {
                    self.next_job += 1;
                    let id = self.next_job;
                    let renter = self.renter();
                    let m = self.hosts[h].models[0];
                    let created = self.job_created(id, renter, m, 1_000_000_000);
                    self.tx(vec![("JobMarketplace", created)]).await;
                    self.tx(vec![(
                        "JobMarketplace",
                        M::JobClaimed {
                            jobId: U256::from(id),
                            host: self.hosts[h].addr,
                            by: operator_addr(h),
                            operator: operator_addr(h),
                        }
                        .encode_log_data(),
                    )])
                    .await;
                    self.s.jobs += 1;
                }
                _ => {
                    self.next_job += 1;
                    let id = self.next_job;
                    let renter = self.renter();
                    let m = self.rng.random_range(1..=MODELS);
                    let created = self.job_created(id, renter, m, 2_000_000_000);
                    self.tx(vec![("JobMarketplace", created)]).await;
                    self.s.jobs += 1;
                }
            }
        }
        // The head block, committed as the indexer commits a followed block.
        self.flush(false).await;
        self.next_block().await;
        let h = 0;
        self.heartbeat(h).await;
        self.flush(true).await;
        self.s.last_block = self.block;
        self.s.star_host = events::checksummed(self.hosts[0].addr);
        self.s.star_points = self.star_points;
        self.s.hosts = self.hosts.len() as u64;
        self.s.registered_hosts = self.hosts.iter().filter(|h| h.registered).count() as u64;
        self.s.model = format!("{:#x}", model_hash(1));
        self.s.model_hosts = self
            .hosts
            .iter()
            .filter(|h| h.registered && h.models.contains(&1))
            .count() as u64;
    }
}

/// Seeds `scale` into the empty database at `url` (migrating it first).
pub async fn seed(url: &str, scale: Scale) -> Summary {
    let store = SeaStore::connect(url)
        .await
        .expect("connect the seed database");
    seed_store(store, scale).await.0
}

/// Seeds `scale` through `store` (migrated first); the seeder goes on committing live blocks.
pub async fn seed_store(store: SeaStore, scale: Scale) -> (Summary, Seeder<SeaStore>) {
    let started = Instant::now();
    store.migrate().await.expect("migrate");
    let deployment = deployment();
    let mut seeder = Seeder {
        book: AddressBook::new(&deployment),
        deployment,
        store,
        rng: StdRng::seed_from_u64(0x5eed_0000 + VERSION as u64),
        state: State::new(CHAIN_ID, vec![]),
        commit: Commit::default(),
        block: 1,
        block_time: 1_767_225_600, // 2026-01-01
        in_block: 0,
        log_index: 0,
        tx_counter: 0,
        next_job: 0,
        hosts: vec![],
        s: Summary {
            scale,
            events: 0,
            hosts: 0,
            registered_hosts: 0,
            jobs: 0,
            jobs_paid: 0,
            jobs_expired: 0,
            batches: 0,
            slashes: 0,
            reputation_changes: 0,
            heartbeats: 0,
            star_host: String::new(),
            star_points: 0,
            model: String::new(),
            model_hosts: 0,
            proven_job: 0,
            last_block: 0,
            seconds: 0.0,
        },
        star_points: 0,
    };
    // Backfill commits are final: nothing is journaled.
    seeder.state.journal_above(u64::MAX);
    seeder.run(scale).await;
    seeder.s.seconds = started.elapsed().as_secs_f64();
    (seeder.s.clone(), seeder)
}

impl<W: IndexWriter> Seeder<W> {
    /// One new block holding one `JobCreated`, committed as the indexer commits a followed
    /// block; returns the job id once the commit returned.
    pub async fn live_job(&mut self) -> u64 {
        // As the indexer follows the head: every block journaled for a reorg.
        self.state.journal_above(0);
        self.next_block().await;
        self.next_job += 1;
        let id = self.next_job;
        let renter = self.renter();
        let created = self.job_created(id, renter, 1, 1_000_000_000);
        self.tx(vec![("JobMarketplace", created)]).await;
        self.flush(true).await;
        id
    }
}

fn seed_dir() -> PathBuf {
    vouch_testkit::workspace_root().join("target/graphql-seed")
}

fn seed_name(scale: Scale) -> String {
    format!("vouch_seed_v{VERSION}_{}h_{}e", scale.hosts, scale.events)
}

fn read_marker(path: &std::path::Path) -> Option<Summary> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The SQLite file of `scale`, seeded once (cached under target/graphql-seed/).
pub async fn cached_sqlite(scale: Scale) -> (String, Summary) {
    let dir = seed_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let name = seed_name(scale);
    let file = dir.join(format!("{name}.sqlite"));
    let marker = dir.join(format!("{name}.sqlite.done"));
    let url = format!("sqlite://{}", file.display());
    if let Some(s) = read_marker(&marker).filter(|_| file.exists()) {
        eprintln!("seed: reusing {}", file.display());
        return (url, s);
    }
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
    }
    eprintln!("seed: seeding {} ({scale:?}) ...", file.display());
    let s = seed(&url, scale).await;
    eprintln!("seed: {} events in {:.1} s", s.events, s.seconds);
    std::fs::write(&marker, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    (url, s)
}

/// The PostgreSQL database of `scale` on the server of `DATABASE_URL` (the local server by
/// default), seeded once; the marker file lives under target/graphql-seed/.
pub async fn cached_postgres(scale: Scale) -> (String, Summary) {
    use sea_orm::sqlx::{Connection, Executor, PgConnection};
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let dir = seed_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let name = seed_name(scale);
    let marker = dir.join(format!("{name}.pg.done"));
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    let url = url.to_string();
    let mut conn = PgConnection::connect(&admin).await.expect("PostgreSQL");
    let exists: Option<(i32,)> =
        sea_orm::sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
    if let Some(s) = read_marker(&marker).filter(|_| exists.is_some()) {
        eprintln!("seed: reusing PostgreSQL database {name}");
        return (url, s);
    }
    conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
        .await
        .unwrap();
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .unwrap();
    eprintln!("seed: seeding PostgreSQL database {name} ({scale:?}) ...");
    let s = seed(&url, scale).await;
    eprintln!("seed: {} events in {:.1} s", s.events, s.seconds);
    // Fresh statistics for the planner, as autovacuum would give after a while.
    let mut db = PgConnection::connect(&url).await.unwrap();
    db.execute("ANALYZE").await.unwrap();
    std::fs::write(&marker, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    (url, s)
}
