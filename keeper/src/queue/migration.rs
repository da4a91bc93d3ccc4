//! The queue's schema as sea-orm migrations: the same portable DDL on SQLite and PostgreSQL,
//! columns defined once, in `entity.rs`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::Schema;

use super::entity;

/// Every migration of the keeper's queue, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateResults), Box::new(AddInference)]
    }

    // The keeper's migrations live in their own table, so one database may also hold an
    // indexer's schema without the two migrators reading each other's history.
    fn migration_table_name() -> DynIden {
        Alias::new("keeper_migrations").into_iden()
    }
}

struct CreateResults;

impl MigrationName for CreateResults {
    fn name(&self) -> &str {
        "m20261201_000001_create_results"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateResults {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let schema = Schema::new(manager.get_database_backend());
        manager
            .create_table(schema.create_table_from_entity(entity::Entity))
            .await?;
        // The service reads the queue by state, earliest deadline first.
        manager
            .create_index(
                Index::create()
                    .name("results_state_deadline")
                    .table(entity::Entity)
                    .col(entity::Column::State)
                    .col(entity::Column::Deadline)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(entity::Entity).if_exists().to_owned())
            .await
    }
}

/// Adds `inference` (verifiable models' jobs) to a queue created before it existed. The first
/// migration builds the table from the entity, so a new queue has the column already.
struct AddInference;

impl MigrationName for AddInference {
    fn name(&self) -> &str {
        "m20261202_000002_add_inference"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddInference {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("results", "inference").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(entity::Entity)
                    .add_column(ColumnDef::new(entity::Column::Inference).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(entity::Entity)
                    .drop_column(entity::Column::Inference)
                    .to_owned(),
            )
            .await
    }
}
