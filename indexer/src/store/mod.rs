//! Storage: the sea-orm entities, their migrations, and the seams the rest of the crate uses:
//! [`IndexWriter`] (what the indexer writes) and the read side the GraphQL crate queries.
//! The traits are apart from their implementation ([`SeaStore`], one sea-orm implementation
//! for both SQLite and PostgreSQL), as reth splits `storage-api` from `provider`.

pub mod entity;
mod row;
mod writer;

pub use row::{PROJECTION_TABLES, Row, RowKey};
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
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
