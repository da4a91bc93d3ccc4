//! The schema as sea-orm migrations: [`Migrator`] with one migration that creates all 18 tables
//! from their entities (columns are defined once, in `entity/`) and the indexes the indexer and
//! the GraphQL reads need. Only portable DDL: the same migration runs on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ColumnTrait, ColumnType, EntityTrait, Iterable, Schema};

use super::entity::*;

/// Every migration of the indexer schema, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateTables)]
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
