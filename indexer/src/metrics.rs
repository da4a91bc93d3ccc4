//! Process-wide indexer counters, rendered in the Prometheus text format by [`render`]. Plain
//! atomics: the hot path only increments them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static HEAD: AtomicU64 = AtomicU64::new(0);
static INDEXED: AtomicU64 = AtomicU64::new(0);
static EVENTS: AtomicU64 = AtomicU64::new(0);
static REORGS: AtomicU64 = AtomicU64::new(0);
static RPC_RETRIES: AtomicU64 = AtomicU64::new(0);
static RANGE_SHRINKS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn head(n: u64) {
    HEAD.store(n, Relaxed);
}
pub(crate) fn indexed(n: u64) {
    INDEXED.store(n, Relaxed);
}
pub(crate) fn events(n: u64) {
    EVENTS.fetch_add(n, Relaxed);
}
pub(crate) fn reorg() {
    REORGS.fetch_add(1, Relaxed);
}
pub(crate) fn rpc_retry() {
    RPC_RETRIES.fetch_add(1, Relaxed);
}
pub(crate) fn range_shrink() {
    RANGE_SHRINKS.fetch_add(1, Relaxed);
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub head: u64,
    pub indexed: u64,
    pub events: u64,
    pub reorgs: u64,
    pub rpc_retries: u64,
    pub range_shrinks: u64,
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        head: HEAD.load(Relaxed),
        indexed: INDEXED.load(Relaxed),
        events: EVENTS.load(Relaxed),
        reorgs: REORGS.load(Relaxed),
        rpc_retries: RPC_RETRIES.load(Relaxed),
        range_shrinks: RANGE_SHRINKS.load(Relaxed),
    }
}

/// The Prometheus exposition text of the counters.
pub fn render() -> String {
    let s = snapshot();
    let lag = s.head.saturating_sub(s.indexed);
    format!(
        "# TYPE vouch_indexer_head gauge\nvouch_indexer_head {}\n\
         # TYPE vouch_indexer_indexed_block gauge\nvouch_indexer_indexed_block {}\n\
         # TYPE vouch_indexer_lag_blocks gauge\nvouch_indexer_lag_blocks {lag}\n\
         # TYPE vouch_indexer_events_total counter\nvouch_indexer_events_total {}\n\
         # TYPE vouch_indexer_reorgs_total counter\nvouch_indexer_reorgs_total {}\n\
         # TYPE vouch_indexer_rpc_retries_total counter\nvouch_indexer_rpc_retries_total {}\n\
         # TYPE vouch_indexer_range_shrinks_total counter\nvouch_indexer_range_shrinks_total {}\n",
        s.head, s.indexed, s.events, s.reorgs, s.rpc_retries, s.range_shrinks
    )
}
