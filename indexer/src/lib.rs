//! The Vouch indexer: mirrors every contract event into SQLite or PostgreSQL, keyed by
//! (chain_id, tx_hash, log_index), with adaptive backfill, live heads and reorg rollback
//! (docs/indexer.md).
//!
//! - [`source`]: the RPC side (logs, headers, retries, adaptive ranges);
//! - [`projections`]: events folded into the tables dApps query, in memory;
//! - [`store`]: entities, migrations, and the storage seams;
//! - [`indexer`]: the loop that joins them (backfill, follow, reorgs);
//! - [`metrics`]: counters for `/metrics`.

pub mod indexer;
pub mod metrics;
pub mod notify;
mod phases;
pub mod projections;
pub mod source;
pub mod store;

pub use indexer::{IndexError, Indexer, IndexerConfig, Progress};
pub use phases::PhaseTimes;
