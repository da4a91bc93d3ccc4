//! Why the devnet could not start or stop. `is_bad_input` marks what the user fixes (a port in
//! use, a database that cannot be reached).

use std::path::PathBuf;

pub type Result<T, E = DevnetError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    #[error("{what} 127.0.0.1:{port} is in use: stop what holds it or pick another port")]
    PortInUse { what: &'static str, port: u16 },
    #[error("{what} {addr} cannot be bound ({reason}): pick a free local address")]
    AddrInUse {
        what: &'static str,
        addr: std::net::SocketAddr,
        reason: String,
    },
    #[error("cannot use the data directory {path}: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("cannot reach the database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error("anvil: {0}")]
    Chain(String),
    #[error(transparent)]
    Deploy(#[from] vouch_deployer::DeployError),
    #[error("indexer: {0}")]
    Index(String),
    #[error("GraphQL API: {0}")]
    Serve(String),
    #[error("the indexer is at block {indexed:?}, the chain at {head}")]
    Lagging { head: u64, indexed: Option<u64> },
    #[error("reading the index: {0}")]
    Store(#[from] sea_orm::DbErr),
    /// A step of the `--demo` script failed (a call reverted, the chain refused it).
    #[error("demo: {step}: {reason}")]
    Demo { step: String, reason: String },
    #[error("demo prover: {0}")]
    Prover(#[from] vouch_keeper::prover::ProverError),
    #[error("demo transaction: {0}")]
    Tx(#[from] vouch_keeper::tx::TxError),
    #[error("demo keeper: {0}")]
    Keeper(#[from] vouch_keeper::service::KeeperError),
}

impl DevnetError {
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            DevnetError::PortInUse { .. }
                | DevnetError::AddrInUse { .. }
                | DevnetError::DataDir { .. }
                | DevnetError::Database { .. }
        ) || matches!(self, DevnetError::Deploy(e) if e.is_bad_input())
    }
}

impl From<vouch_indexer::store::StoreError> for DevnetError {
    fn from(e: vouch_indexer::store::StoreError) -> Self {
        DevnetError::Index(e.to_string())
    }
}

impl From<vouch_indexer::source::SourceError> for DevnetError {
    fn from(e: vouch_indexer::source::SourceError) -> Self {
        DevnetError::Chain(e.to_string())
    }
}

impl From<vouch_indexer::IndexError> for DevnetError {
    fn from(e: vouch_indexer::IndexError) -> Self {
        DevnetError::Index(e.to_string())
    }
}

impl From<vouch_graphql::Error> for DevnetError {
    fn from(e: vouch_graphql::Error) -> Self {
        DevnetError::Serve(e.to_string())
    }
}
