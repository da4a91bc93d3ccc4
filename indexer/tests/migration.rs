//! A database made before the inference proof tier upgrades in place, on SQLite and
//! PostgreSQL: with `verifiable_models`, the three new `jobs` columns and migration 2's record
//! removed (the schema the previous binary left), a job row written then survives `migrate`,
//! gains null `proof_tier`/`output`/`proof_hash`, and the new columns and table take writes.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Statement};
use vouch_indexer::store::entity::{job, verifiable_model};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_testkit::{FreshPostgres, FreshSqlite};

/// Takes a migrated database back to the schema of migration 1 alone, as the binary before the
/// inference tier made it, with one job row in it.
async fn to_pre_inference_schema(store: &SeaStore) {
    let db = store.connection();
    let backend = db.get_database_backend();
    for sql in [
        "DROP TABLE verifiable_models",
        "ALTER TABLE jobs DROP COLUMN proof_tier",
        "ALTER TABLE jobs DROP COLUMN output",
        "ALTER TABLE jobs DROP COLUMN proof_hash",
        "DELETE FROM seaql_migrations WHERE version = 'm20261201_000002_inference_tier'",
        "INSERT INTO jobs (chain_id, job_id, renter, token, payment, fee, model_hash, input_hash, \
         deadline, min_reputation, state, created_at, created_block, slashed, block) VALUES \
         (31337, 7, '0xRenter', '0x0', '5', '1', '0xm', '0xi', 100, 0, 'Claimed', 10, 3, false, 4)",
    ] {
        db.execute(Statement::from_string(backend, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

async fn upgrades(url: &str, name: &str) {
    let store = SeaStore::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    to_pre_inference_schema(&store).await;
    store.migrate().await.expect("the old database upgrades");
    let db = store.connection();
    let old = job::Entity::find_by_id((31337i64, 7i64))
        .one(db)
        .await
        .unwrap()
        .expect("the old row survives");
    assert_eq!(
        (
            old.state.as_str(),
            old.block,
            &old.proof_tier,
            &old.output,
            &old.proof_hash
        ),
        ("Claimed", 4, &None, &None, &None),
        "{name}"
    );
    // The new columns and table take writes like the rest.
    let mut updated = old.clone();
    updated.proof_tier = Some("inference".into());
    updated.output = Some("0x01".into());
    updated.proof_hash = Some("0xp".into());
    // `reset_all`: every column is written (a model converts to unchanged values).
    job::Entity::update(job::ActiveModel::from(updated.clone()).reset_all())
        .exec(db)
        .await
        .unwrap();
    assert_eq!(
        job::Entity::find_by_id((31337i64, 7i64))
            .one(db)
            .await
            .unwrap(),
        Some(updated),
        "{name}"
    );
    let model = verifiable_model::Model {
        chain_id: 31337,
        model_hash: "0xm".into(),
        verifier: "0xV".into(),
        circuit_version: 2,
        layout: "HashedInputOutput".into(),
        installed: true,
        block: 5,
        timestamp: 50,
    };
    verifiable_model::Entity::insert(verifiable_model::ActiveModel::from(model.clone()))
        .exec_without_returning(db)
        .await
        .unwrap();
    assert_eq!(
        verifiable_model::Entity::find().all(db).await.unwrap(),
        vec![model],
        "{name}"
    );
    // A second run finds nothing to do.
    store.migrate().await.unwrap();
}

#[tokio::test]
async fn a_database_from_before_the_inference_tier_upgrades_on_sqlite_and_postgres() {
    let (lite, pg) = (FreshSqlite::create(), FreshPostgres::create().await);
    upgrades(&lite.url, "SQLite").await;
    upgrades(&pg.url, "PostgreSQL").await;
}
