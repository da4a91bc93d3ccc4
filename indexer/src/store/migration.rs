//! The schema as sea-orm migrations: [`Migrator`] with the initial migration that creates the
//! first 18 tables from their entities (columns are defined once, in `entity/`) and the indexes
//! the indexer and the GraphQL reads need, then the inference proof tier (`verifiable_models`
//! and three `jobs` columns). Only portable DDL: the same migrations run on SQLite and
//! PostgreSQL, and a database made by an older binary upgrades in place.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable, Schema,
};

use super::entity::*;

/// Every migration of the indexer schema, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateTables), Box::new(InferenceTier)]
    }
}

/// The initial schema.
struct CreateTables;

impl MigrationName for CreateTables {
    fn name(&self) -> &str {
        "m20251201_000001_create_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let schema = Schema::new(manager.get_database_backend());
        for table in tables(&schema) {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in TABLE_NAMES {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

const TABLE_NAMES: [&str; 18] = [
    "events",
    "blocks",
    "checkpoints",
    "undo_log",
    "hosts",
    "stakes",
    "jobs",
    "batches",
    "disputes",
    "slashes",
    "equivocations",
    "reputation_history",
    "balances",
    "transfers",
    "delegations",
    "proposals",
    "votes",
    "parameters",
];

fn tables(schema: &Schema) -> [TableCreateStatement; 18] {
    [
        table::<event::Entity>(schema),
        table::<block::Entity>(schema),
        table::<checkpoint::Entity>(schema),
        table::<undo::Entity>(schema),
        table::<host::Entity>(schema),
        table::<stake::Entity>(schema),
        table::<job::Entity>(schema),
        table::<batch::Entity>(schema),
        table::<dispute::Entity>(schema),
        table::<slash::Entity>(schema),
        table::<equivocation::Entity>(schema),
        table::<reputation::Entity>(schema),
        table::<balance::Entity>(schema),
        table::<transfer::Entity>(schema),
        table::<delegation::Entity>(schema),
        table::<proposal::Entity>(schema),
        table::<vote::Entity>(schema),
        table::<parameter::Entity>(schema),
    ]
}

/// The inference proof tier: `verifiable_models`, and on `jobs` the completing proof's tier,
/// the published output and the inference proof hash.
struct InferenceTier;

/// The `jobs` columns [`InferenceTier`] adds, all nullable text.
const INFERENCE_JOB_COLUMNS: [job::Column; 3] = [
    job::Column::ProofTier,
    job::Column::Output,
    job::Column::ProofHash,
];

impl MigrationName for InferenceTier {
    fn name(&self) -> &str {
        "m20261201_000002_inference_tier"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InferenceTier {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let schema = Schema::new(manager.get_database_backend());
        manager
            .create_table(table::<verifiable_model::Entity>(&schema))
            .await?;
        // The initial migration builds `jobs` from the entity as it is now, so on a fresh
        // database the columns exist already; only a database made before them lacks them.
        for column in INFERENCE_JOB_COLUMNS {
            if manager.has_column("jobs", column.as_str()).await? {
                continue;
            }
            let mut def = schema.get_column_def::<job::Entity>(column);
            def.text();
            manager
                .alter_table(
                    Table::alter()
                        .table(job::Entity)
                        .add_column(&mut def)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(verifiable_model::Entity)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        for column in INFERENCE_JOB_COLUMNS {
            if manager.has_column("jobs", column.as_str()).await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(job::Entity)
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// `CREATE TABLE IF NOT EXISTS` for an entity: what `Schema::create_table_from_entity` builds
/// (sea-orm's own column definitions, composite primary key in field order, so chain_id
/// first), except that strings are `TEXT`: sea-orm maps `String` to unbounded `varchar`, and
/// amounts, hashes and JSON are text of any length on both backends.
fn table<E: EntityTrait>(schema: &Schema) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(E::default().table_ref()).if_not_exists();
    for column in E::Column::iter() {
        let mut def = schema.get_column_def::<E>(column);
        if matches!(column.def().get_column_type(), ColumnType::String(_)) {
            def.text();
        }
        stmt.col(&mut def);
    }
    let pk: Vec<E::PrimaryKey> = E::PrimaryKey::iter().collect();
    // A single key column is declared on the column itself (undo_log's autoincrement id).
    if pk.len() > 1 {
        let mut index = Index::create();
        index
            .name(format!("pk-{}", E::default().table_name()))
            .primary();
        for key in pk {
            index.col(key);
        }
        stmt.primary_key(&mut index);
    }
    stmt
}

fn indexes() -> Vec<IndexCreateStatement> {
    fn index<E: EntityTrait>(name: &str, columns: &[E::Column]) -> IndexCreateStatement {
        let mut index = Index::create();
        index.name(name).table(E::default()).if_not_exists();
        for column in columns {
            index.col(*column);
        }
        index
    }
    vec![
        // Events of a block range in log order: backfill checks and rollback deletes.
        index::<event::Entity>(
            "idx-events-block",
            &[
                event::Column::ChainId,
                event::Column::BlockNumber,
                event::Column::LogIndex,
            ],
        ),
        index::<job::Entity>("idx-jobs-host", &[job::Column::ChainId, job::Column::Host]),
        index::<job::Entity>(
            "idx-jobs-renter",
            &[job::Column::ChainId, job::Column::Renter],
        ),
        index::<job::Entity>(
            "idx-jobs-state",
            &[job::Column::ChainId, job::Column::State],
        ),
        index::<reputation::Entity>(
            "idx-reputation_history-host",
            &[reputation::Column::ChainId, reputation::Column::Host],
        ),
        index::<slash::Entity>(
            "idx-slashes-host",
            &[slash::Column::ChainId, slash::Column::Host],
        ),
        index::<undo::Entity>(
            "idx-undo_log-block",
            &[undo::Column::ChainId, undo::Column::BlockNumber],
        ),
        // A block takes a row's prior image once: re-applying a commit adds no second entry.
        index::<undo::Entity>("uq-undo_log-block-row", &UNDO_UNIQUE)
            .unique()
            .to_owned(),
    ]
}

/// The undo-log columns of its uniqueness index, the conflict target of journal inserts.
pub(crate) const UNDO_UNIQUE: [undo::Column; 4] = [
    undo::Column::ChainId,
    undo::Column::BlockNumber,
    undo::Column::TableName,
    undo::Column::RowKey,
];
