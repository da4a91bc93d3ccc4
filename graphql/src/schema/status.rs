//! `indexerStatus`: how far the indexer got, from its checkpoint row.

use async_graphql::{Context, Object, SimpleObject};

use crate::context::req;
use crate::scalars::{Bytes32, Time};

#[derive(SimpleObject)]
pub struct IndexerStatus {
    pub chain_id: i64,
    /// Every block up to this one is indexed.
    pub indexed_block: i64,
    pub indexed_block_hash: Bytes32,
    /// The chain head the indexer saw at its last commit.
    pub head: i64,
    /// head - indexedBlock.
    pub lag: i64,
    /// Rows of blocks <= head - confirmations are final.
    pub confirmations: i64,
    pub final_block: i64,
    /// The common ancestor of the latest reorg, and its depth.
    pub last_reorg_block: Option<i64>,
    pub last_reorg_depth: Option<i64>,
    /// Wall-clock time of the last commit.
    pub updated_at: Time,
    /// Timestamp of the latest indexed block: the clock of reputation decay and proposal states.
    pub block_time: Time,
}

#[derive(Default)]
pub struct StatusQuery;

#[Object]
impl StatusQuery {
    /// Null until the indexer committed its first range.
    async fn indexer_status(&self, ctx: &Context<'_>) -> Option<IndexerStatus> {
        let r = req(ctx);
        let c = r.checkpoint.as_ref()?;
        Some(IndexerStatus {
            chain_id: c.chain_id,
            indexed_block: c.block_number,
            indexed_block_hash: Bytes32(c.block_hash.clone()),
            head: c.head,
            lag: (c.head - c.block_number).max(0),
            confirmations: c.confirmations,
            final_block: c.head - c.confirmations,
            last_reorg_block: c.last_reorg_block,
            last_reorg_depth: c.last_reorg_depth,
            updated_at: Time::at(c.updated_at),
            block_time: Time::at(r.now),
        })
    }
}
