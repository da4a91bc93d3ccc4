//! Reorgs on a real anvil chain (snapshot, blocks, revert, different blocks) at depths 1, 5
//! and 30, followed live by the indexer on SQLite and PostgreSQL: after the rollback and
//! re-apply, every table equals a fresh index of the canonical chain, on both databases.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{Staking, VouchToken};
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_indexer::{Indexer, IndexerConfig};
use vouch_testkit::{FreshPostgres, FreshSqlite};

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
