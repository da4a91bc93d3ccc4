//! The indexer against a real anvil chain deployed by the real script: every log stored once,
//! and a restart resumes without a gap or duplicate.

use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use sea_orm::{EntityTrait, PaginatorTrait};
use vouch_bindings::Deployment;
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::entity::event;
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_indexer::{Indexer, IndexerConfig};

#[tokio::test]
async fn backfill_of_the_deployment_stores_every_log_once() {
    let anvil = vouch_testkit::anvil();
    let deployed = vouch_testkit::deploy_with_script(&anvil);
    let deployment = Deployment::load(&deployed.manifest).unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let book = AddressBook::new(&deployment);
    let all = provider
        .get_logs(&Filter::new().address(book.addresses()).from_block(0))
        .await
        .unwrap();
    assert!(
        all.len() > 50,
        "the deployment emits many events: {}",
        all.len()
    );

    let db = vouch_testkit::FreshSqlite::create();
    let store = SeaStore::connect(&db.url).await.unwrap();
    let source = ChainSource::connect(&anvil.endpoint(), book.addresses(), Backoff::default())
        .await
        .unwrap();
    let cfg = IndexerConfig {
        until_head: true,
        reorg_window: 4,
        ..IndexerConfig::default()
    };
    let mut indexer = Indexer::open(source, store, &deployment, cfg)
        .await
        .unwrap();
    indexer.run(std::future::pending()).await.unwrap();
    let head = provider.get_block_number().await.unwrap();
    assert_eq!(indexer.next_block(), head + 1);
    let store = indexer.store();
    let conn = store.connection();
    let stored = event::Entity::find().count(conn).await.unwrap();
    assert_eq!(stored as usize, all.len());
    let cp = store.checkpoint(31337).await.unwrap().unwrap();
    assert_eq!(cp.block_number as u64, head);
}

#[tokio::test]
async fn follows_new_blocks_over_websocket() {
    use alloy::network::EthereumWallet;
    use alloy::signers::local::PrivateKeySigner;
    use vouch_bindings::contracts::VouchToken;

    let anvil = vouch_testkit::anvil();
    let deployed = vouch_testkit::deploy_with_script(&anvil);
    let deployment = Deployment::load(&deployed.manifest).unwrap();
    let signer: PrivateKeySigner = deployed.deployer_key.parse().unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let book = AddressBook::new(&deployment);
    let db = vouch_testkit::FreshSqlite::create();
    let store = SeaStore::connect(&db.url).await.unwrap();
    let source = ChainSource::connect(&anvil.ws_endpoint(), book.addresses(), Backoff::default())
        .await
        .unwrap();
    // A poll interval far longer than the test: only the subscription can wake the loop.
    let cfg = IndexerConfig {
        reorg_window: 4,
        poll: std::time::Duration::from_secs(30),
        ..IndexerConfig::default()
    };
    let mut indexer = Indexer::open(source, store, &deployment, cfg)
        .await
        .unwrap();
    let reader = SeaStore::connect(&db.url).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        indexer
            .run(async {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
    });
    let count = || async {
        event::Entity::find()
            .count(reader.connection())
            .await
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count().await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "backfill did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // wait until caught up (the count stops moving), then send one transfer
    let mut last = 0;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let now = count().await;
        if now == last {
            break;
        }
        last = now;
    }
    let token = VouchToken::new(deployment.contracts.vouch_token, &provider);
    token
        .transfer(
            alloy::primitives::Address::with_last_byte(7),
            alloy::primitives::U256::from(5),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let sent = std::time::Instant::now();
    // The deployer has no delegate here, so the transfer is exactly one event.
    while count().await == last {
        assert!(
            sent.elapsed() < std::time::Duration::from_secs(5),
            "the new block was not indexed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(count().await, last + 1);
    stop_tx.send(()).unwrap();
    task.await.unwrap();
}
