//! The Vouch indexer: mirrors every contract event into SQLite or PostgreSQL, keyed by
//! (chain_id, tx_hash, log_index), with adaptive backfill, live heads and reorg rollback
//! (docs/indexer.md).

pub mod projections;
pub mod store;
