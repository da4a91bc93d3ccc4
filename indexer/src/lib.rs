//! The Vouch indexer: mirrors every contract event into SQLite or PostgreSQL, keyed by
//! (chain_id, tx_hash, log_index), with adaptive backfill, live heads and reorg rollback
//! (DESIGN.md, "Indexer rules"). It is built in its own issue; this crate fixes its place in the
//! dependency order (bindings <- indexer <- graphql).
