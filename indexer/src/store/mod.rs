//! Storage: the sea-orm entities, their migrations, and the seams the rest of the crate uses:
//! [`IndexWriter`] (what the indexer writes) and the read side the GraphQL crate queries.
//! The traits are apart from their implementation ([`SeaStore`], one sea-orm implementation
//! for both SQLite and PostgreSQL, with bulk write paths: COPY on PostgreSQL, prepared multi-row upserts on SQLite), as reth splits
//! `storage-api` from `provider`.

pub mod entity;
mod journal;
mod lease;
pub mod migration;
mod pg;
mod row;
mod sea;
mod sqlite;
mod table;
mod writer;

pub use lease::{LEASE_POLL, Lease, lease_key};
pub use row::{PROJECTION_TABLES, Row, RowKey};
pub use sea::SeaStore;
pub use writer::{Commit, IndexWriter, Rollback, UndoEntry};

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("database URL {url} is not supported: use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedUrl { url: String },
    #[error("stored row of {table} is corrupt: {source}")]
    CorruptRow {
        table: &'static str,
        source: serde_json::Error,
    },
    /// An undo entry whose key is not the primary key of a projection row (see [`Row::key`]);
    /// rejected when the commit carrying it is written, so the journal can always be replayed.
    #[error("undo entry for {table} has key {key:?}, which is not a primary key of that table")]
    BadUndoKey { table: String, key: String },
    /// PostgreSQL's bulk write path (COPY, staging tables) failed.
    #[error("database error: {0}")]
    Pg(sea_orm::sqlx::Error),
    /// SQLite's bulk write path (prepared multi-row upserts) failed.
    #[error("database error: {0}")]
    Sqlite(sea_orm::sqlx::Error),
    /// A column type the bulk write paths do not know (the schema uses integers, text,
    /// booleans).
    #[error("cannot bulk-write {table}.{column}: unsupported value {value}")]
    Unencodable {
        table: String,
        column: String,
        value: String,
    },
    /// The connection holding the PostgreSQL advisory lock of the chain failed.
    #[error("indexer lease connection: {0}")]
    Lease(sea_orm::sqlx::Error),
    /// The advisory lock is no longer held (its session ended): another indexer may be
    /// writing the chain now, so this one stops.
    #[error("lost the indexer lease of chain {chain_id}: another indexer may hold it now")]
    LeaseLost { chain_id: u64 },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
