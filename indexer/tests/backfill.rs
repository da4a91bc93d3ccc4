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
