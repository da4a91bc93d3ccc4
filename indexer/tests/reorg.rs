//! Reorgs on a real anvil chain (snapshot, blocks, revert, different blocks) at depths 1, 5
//! and 30, and reorgs that replace a job completion (a batch proven with a real EZKL proof) by
//! an expiry with a slash, and a slash and a governance vote by a different vote, followed
//! live by the indexer on SQLite and PostgreSQL: after the rollback and re-apply, every table
//! equals a fresh index of the canonical chain, on both databases.

#[path = "../../keeper/tests/common/mod.rs"]
mod common;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, Staking, VouchGovernor, VouchToken};
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::entity::{batch, job, slash, vote};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_indexer::{Indexer, IndexerConfig};
use vouch_keeper::prover::JobTuple;
use vouch_testkit::{FreshPostgres, FreshSqlite};
use world::World;

struct Chain {
    anvil: alloy::node_bindings::AnvilInstance,
    provider: DynProvider,
    deployment: Deployment,
    signer: PrivateKeySigner,
    _deployed: vouch_testkit::ScriptDeployment,
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

impl Chain {
    async fn new() -> Self {
        let anvil = vouch_testkit::anvil();
        let deployed = vouch_testkit::deploy_with_script(&anvil);
        let deployment = Deployment::load(&deployed.manifest).unwrap();
        let signer: PrivateKeySigner = deployed.deployer_key.parse().unwrap();
        let deployer = signer.address();
        let provider = wallet_provider(&anvil, &signer);
        let chain = Chain {
            anvil,
            provider,
            deployment,
            signer,
            _deployed: deployed,
        };
        // Votes follow the deployer's balance from here on: every transfer also changes a
        // mutable row (its delegation), not only appends one.
        let token = chain.token();
        token
            .delegate(deployer)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        chain
    }

    fn token(&self) -> VouchToken::VouchTokenInstance<&DynProvider> {
        VouchToken::new(self.deployment.contracts.vouch_token, &self.provider)
    }

    /// Exactly `blocks` blocks (automine: one transaction each) whose content depends on
    /// `salt`: transfers to salted addresses, and every third step an approve + stake of a
    /// salted amount (two blocks).
    async fn produce(&self, blocks: u64, salt: u64) {
        let start = self.provider.get_block_number().await.unwrap();
        let token = self.token();
        let staking = Staking::new(self.deployment.contracts.staking, &self.provider);
        for i in 0.. {
            let made = self.provider.get_block_number().await.unwrap() - start;
            if made >= blocks {
                break;
            }
            let amount = U256::from(1_000 + salt * 1_000 + i);
            if i % 3 == 2 && blocks - made >= 2 {
                let approve = token.approve(self.deployment.contracts.staking, amount);
                approve.send().await.unwrap().get_receipt().await.unwrap();
                staking
                    .stake(amount)
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
            } else {
                let to = Address::with_last_byte((salt * 64 + i) as u8 + 1);
                token
                    .transfer(to, amount)
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
            }
        }
    }

    async fn indexer(&self, url: &str) -> Indexer<SeaStore> {
        let book = AddressBook::new(&self.deployment);
        let source =
            ChainSource::connect(&self.anvil.endpoint(), book.addresses(), Backoff::default())
                .await
                .unwrap();
        let store = SeaStore::connect(url).await.unwrap();
        let cfg = IndexerConfig {
            until_head: true,
            reorg_window: 64,
            confirmations: 2,
            ..IndexerConfig::default()
        };
        Indexer::open(source, store, &self.deployment, cfg)
            .await
            .unwrap()
    }
}

async fn catch_up(i: &mut Indexer<SeaStore>) {
    i.run(std::future::pending()).await.unwrap();
}

/// Indexes, reorgs `depth` blocks away (replacing them with `replacement` different blocks),
/// indexes again, and compares with fresh indexes of the canonical chain.
async fn reorg_case(depth: u64, replacement: u64) {
    let chain = Chain::new().await;
    chain.produce(3, 0).await;
    let (lite, pg) = (FreshSqlite::create(), FreshPostgres::create().await);
    let mut a = chain.indexer(&lite.url).await;
    let mut b = chain.indexer(&pg.url).await;
    catch_up(&mut a).await;
    catch_up(&mut b).await;

    let fork = chain.provider.anvil_snapshot().await.unwrap();
    let fork_block = chain.provider.get_block_number().await.unwrap();
    chain.produce(depth, 1).await;
    catch_up(&mut a).await;
    catch_up(&mut b).await;
    let before = a.store().digest(31337).await.unwrap();

    assert!(chain.provider.anvil_revert(fork).await.unwrap());
    // A new provider: the old one's nonce cache still counts the reverted transactions.
    let mut chain = chain;
    chain.provider = wallet_provider(&chain.anvil, &chain.signer);
    chain.produce(replacement, 2).await;
    let head = chain.provider.get_block_number().await.unwrap();
    assert_eq!(head, fork_block + replacement);
    catch_up(&mut a).await;
    catch_up(&mut b).await;

    let checkpoint = a.store().checkpoint(31337).await.unwrap().unwrap();
    assert_eq!(checkpoint.block_number as u64, head);
    assert_eq!(
        checkpoint.last_reorg_block,
        Some(fork_block as i64),
        "ancestor"
    );
    assert_eq!(checkpoint.last_reorg_depth, Some(depth as i64), "depth");

    let (fresh_lite, fresh_pg) = (FreshSqlite::create(), FreshPostgres::create().await);
    let mut c = chain.indexer(&fresh_lite.url).await;
    let mut d = chain.indexer(&fresh_pg.url).await;
    catch_up(&mut c).await;
    catch_up(&mut d).await;
    let canonical = c.store().digest(31337).await.unwrap();
    assert_ne!(before, canonical, "the reorg changed the data");
    assert_eq!(
        a.store().digest(31337).await.unwrap(),
        canonical,
        "SQLite after the reorg"
    );
    assert_eq!(
        b.store().digest(31337).await.unwrap(),
        canonical,
        "PostgreSQL after the reorg"
    );
    assert_eq!(
        d.store().digest(31337).await.unwrap(),
        canonical,
        "fresh PostgreSQL"
    );
}

#[tokio::test]
async fn reorg_of_depth_1_replaced_by_a_longer_chain() {
    reorg_case(1, 2).await;
}

#[tokio::test]
async fn reorg_of_depth_5_replaced_by_a_shorter_chain() {
    reorg_case(5, 3).await;
}

#[tokio::test]
async fn reorg_of_depth_30() {
    reorg_case(30, 31).await;
}

// Reorgs through the protocol's own state machines, on the keeper's test world (the real
// deployment, a staked and registered host with an operator, a renter, a stranger).

const DAY: u64 = 86_400;

/// A provider signing for the world's five accounts, with no nonce remembered from before a
/// revert.
fn world_provider(w: &World) -> DynProvider {
    let signers: Vec<PrivateKeySigner> = w.anvil.keys()[..5]
        .iter()
        .cloned()
        .map(Into::into)
        .collect();
    let mut wallet = EthereumWallet::from(signers[0].clone());
    for s in &signers[1..] {
        wallet.register_signer(s.clone());
    }
    ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(w.anvil.endpoint_url())
        .erased()
}

/// An indexer following the world's chain live (reorg window 64: every block journaled).
async fn world_indexer(w: &World, url: &str) -> Indexer<SeaStore> {
    let book = AddressBook::new(&w.deployment);
    let source = ChainSource::connect(&w.anvil.endpoint(), book.addresses(), Backoff::default())
        .await
        .unwrap();
    let store = SeaStore::connect(url).await.unwrap();
    let cfg = IndexerConfig {
        until_head: true,
        reorg_window: 64,
        confirmations: 2,
        ..IndexerConfig::default()
    };
    Indexer::open(source, store, &w.deployment, cfg)
        .await
        .unwrap()
}

/// Both live indexers (SQLite, PostgreSQL) of a world, with their databases.
struct Pair {
    lite: Indexer<SeaStore>,
    pg: Indexer<SeaStore>,
    _dbs: (FreshSqlite, FreshPostgres),
}

impl Pair {
    async fn new(w: &World) -> Pair {
        let (lite_db, pg_db) = (FreshSqlite::create(), FreshPostgres::create().await);
        let lite = world_indexer(w, &lite_db.url).await;
        let pg = world_indexer(w, &pg_db.url).await;
        Pair {
            lite,
            pg,
            _dbs: (lite_db, pg_db),
        }
    }

    async fn catch_up(&mut self) {
        catch_up(&mut self.lite).await;
        catch_up(&mut self.pg).await;
    }

    /// After a reorg back to `ancestor` of `depth` blocks: both databases record it and equal
    /// fresh indexes (SQLite and PostgreSQL) of the canonical chain.
    async fn assert_canonical(&self, w: &World, ancestor: u64, depth: u64) {
        for (name, i) in [("SQLite", &self.lite), ("PostgreSQL", &self.pg)] {
            let cp = i.store().checkpoint(31337).await.unwrap().unwrap();
            assert_eq!(
                cp.last_reorg_block,
                Some(ancestor as i64),
                "{name}: ancestor"
            );
            assert_eq!(cp.last_reorg_depth, Some(depth as i64), "{name}: depth");
        }
        let (fresh_lite, fresh_pg) = (FreshSqlite::create(), FreshPostgres::create().await);
        let mut c = world_indexer(w, &fresh_lite.url).await;
        let mut d = world_indexer(w, &fresh_pg.url).await;
        catch_up(&mut c).await;
        catch_up(&mut d).await;
        let canonical = c.store().digest(31337).await.unwrap();
        assert_eq!(
            d.store().digest(31337).await.unwrap(),
            canonical,
            "fresh PostgreSQL"
        );
        assert_eq!(
            self.lite.store().digest(31337).await.unwrap(),
            canonical,
            "SQLite"
        );
        assert_eq!(
            self.pg.store().digest(31337).await.unwrap(),
            canonical,
            "PostgreSQL"
        );
    }
}

/// What both databases hold for one job: state, batch transaction, slashed flag; and the
/// number of rows in `batches`, `slashes` and `votes`.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    state: String,
    batch_tx: Option<String>,
    slashed: bool,
    batches: u64,
    slashes: u64,
    votes: Vec<(String, i64)>,
}

async fn seen(i: &Indexer<SeaStore>, job_id: U256) -> Seen {
    let conn = i.store().connection();
    let j = job::Entity::find()
        .filter(job::Column::JobId.eq(job_id.to::<u64>() as i64))
        .one(conn)
        .await
        .unwrap()
        .expect("the job row");
    let mut votes: Vec<(String, i64)> = vote::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.voter, v.support))
        .collect();
    votes.sort();
    Seen {
        state: j.state,
        batch_tx: j.batch_tx,
        slashed: j.slashed,
        batches: batch::Entity::find().count(conn).await.unwrap(),
        slashes: slash::Entity::find().count(conn).await.unwrap(),
        votes,
    }
}

async fn both_seen(p: &Pair, job_id: U256) -> Seen {
    let lite = seen(&p.lite, job_id).await;
    assert_eq!(
        seen(&p.pg, job_id).await,
        lite,
        "SQLite and PostgreSQL agree"
    );
    lite
}

/// A job completed by a real B=1 proof is reorged away; the canonical chain instead lets the
/// job expire, which refunds the renter and slashes the host.
#[tokio::test]
async fn reorg_replaces_a_proven_job_completion_by_an_expiry_with_a_slash() {
    let prover = tokio::spawn(common::prover());
    let mut w = World::new().await;
    let (id, _) = w.create_job("reorged completion").await;
    w.claim(id).await;
    let mut pair = Pair::new(&w).await;
    pair.catch_up().await;
    let claimed = both_seen(&pair, id).await;
    assert_eq!((claimed.state.as_str(), claimed.batches), ("Claimed", 0));

    let fork = w.provider.anvil_snapshot().await.unwrap();
    let ancestor = w.provider.get_block_number().await.unwrap();
    let tuple = JobTuple {
        job_id: B256::from(id),
        model_hash: world::model(),
        input_hash: keccak256("reorged completion"),
        output_hash: keccak256("reorged completion output"),
    };
    let proof = prover.await.unwrap().prove(&[tuple]).await.unwrap();
    assert_eq!(proof.batch_size, 1);
    let proven = world::ok(w.submit(&proof, w.operator).await);
    assert_eq!(proven.block_number, Some(ancestor + 1));
    pair.catch_up().await;
    let completed = both_seen(&pair, id).await;
    assert_eq!(
        completed,
        Seen {
            state: "Completed".into(),
            batch_tx: Some(format!("{:#x}", proven.transaction_hash)),
            slashed: false,
            batches: 1,
            slashes: 0,
            votes: vec![],
        }
    );

    assert!(w.provider.anvil_revert(fork).await.unwrap());
    w.provider = world_provider(&w);
    w.advance(world::JOB_DURATION + 1).await;
    world::mined(w.marketplace().expireJob(id).from(w.stranger)).await;
    pair.catch_up().await;
    let expired = both_seen(&pair, id).await;
    assert_eq!(
        expired,
        Seen {
            state: "Expired".into(),
            batch_tx: None,
            slashed: true,
            batches: 0,
            slashes: 1,
            votes: vec![],
        }
    );
    pair.assert_canonical(&w, ancestor, 1).await;
}

/// A slash (an expired claimed job) and a governance vote for a proposal are reorged away
/// (3 blocks); the canonical chain holds a vote against by the same voter instead, and the job
/// is still claimed.
#[tokio::test]
async fn reorg_removes_a_slash_and_replaces_a_governance_vote() {
    let mut w = World::new().await;
    let c = w.deployment.contracts.clone();
    let token = VouchToken::new(c.vouch_token, &w.provider);
    world::mined(token.delegate(w.deployer).from(w.deployer)).await;
    let (id, _) = w.create_job("reorged slash").await;
    w.claim(id).await;
    w.advance(10).await;
    let gov = VouchGovernor::new(c.vouch_governor, &w.provider);
    let targets = vec![c.job_marketplace];
    let values = vec![U256::ZERO];
    let calldatas: Vec<Bytes> = vec![
        JobMarketplace::setProtocolFeeCall { feeBps: 300 }
            .abi_encode()
            .into(),
    ];
    let proposed = world::mined(
        gov.propose(targets, values, calldatas, "Raise the fee to 3%".into())
            .from(w.deployer),
    )
    .await;
    let proposal = proposed
        .decoded_log::<VouchGovernor::ProposalCreated>()
        .expect("ProposalCreated")
        .proposalId;
    // Past the voting delay and the job's deadline.
    w.advance(DAY + 1).await;
    let mut pair = Pair::new(&w).await;
    pair.catch_up().await;
    assert_eq!(both_seen(&pair, id).await.state, "Claimed");

    let fork = w.provider.anvil_snapshot().await.unwrap();
    let ancestor = w.provider.get_block_number().await.unwrap();
    world::mined(w.marketplace().expireJob(id).from(w.stranger)).await;
    let gov = VouchGovernor::new(c.vouch_governor, &w.provider);
    world::mined(gov.castVote(proposal, 1).from(w.deployer)).await;
    world::mined(token.transfer(w.renter, U256::from(7)).from(w.deployer)).await;
    pair.catch_up().await;
    let voter = w.deployer.to_checksum(None);
    assert_eq!(
        both_seen(&pair, id).await,
        Seen {
            state: "Expired".into(),
            batch_tx: None,
            slashed: true,
            batches: 0,
            slashes: 1,
            votes: vec![(voter.clone(), 1)],
        }
    );

    assert!(w.provider.anvil_revert(fork).await.unwrap());
    w.provider = world_provider(&w);
    let gov = VouchGovernor::new(c.vouch_governor, &w.provider);
    world::mined(gov.castVote(proposal, 0).from(w.deployer)).await;
    pair.catch_up().await;
    assert_eq!(
        both_seen(&pair, id).await,
        Seen {
            state: "Claimed".into(),
            batch_tx: None,
            slashed: false,
            batches: 0,
            slashes: 0,
            votes: vec![(voter, 0)],
        }
    );
    pair.assert_canonical(&w, ancestor, 3).await;
}
