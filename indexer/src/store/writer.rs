//! The write side of storage: what the indexer hands the database, and the trait both backends
//! implement. One [`Commit`] is one database transaction: a crash leaves either all of it or
//! none, and the checkpoint in it says which.

use std::future::Future;

use super::Result;
use super::entity::{block, checkpoint, event};
use super::row::{Row, RowKey};

/// The prior image of a row, taken when a block that is not yet final first changes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndoEntry {
    /// The block whose change this undoes.
    pub block_number: u64,
    pub key: RowKey,
    /// The row before the block; `None`: the block created it.
    pub prior: Option<Row>,
}

/// Everything one range (backfill) or one block (live) adds, written in one transaction.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    pub chain_id: u64,
    /// New event rows; an event already stored (same chain, tx hash, log index) is skipped.
    pub events: Vec<event::Model>,
    /// The final image of every projection row the range changed, each once (upserted).
    pub rows: Vec<Row>,
    /// Prior images for the rows changed by blocks not yet final, in the order taken.
    pub undo: Vec<UndoEntry>,
    /// The range's blocks that enter the recent-block window.
    pub blocks: Vec<block::Model>,
    /// The new checkpoint: the range's last block.
    pub checkpoint: Option<checkpoint::Model>,
    /// Blocks and undo entries at or below this number are final and may be dropped.
    pub prune_through: Option<u64>,
}

/// What a rollback did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rollback {
    pub events_removed: u64,
    /// Distinct projection rows put back: prior images restored plus created rows deleted.
    pub rows_restored: u64,
}

/// What the indexer needs from a database. A handle is cheap to clone (a connection pool):
/// the backfill writes from a task of its own. Implemented once over sea-orm for SQLite and
/// PostgreSQL ([`super::SeaStore`]).
pub trait IndexWriter: Clone + Send + Sync + 'static {
    /// Creates or upgrades the schema (idempotent).
    fn migrate(&self) -> impl Future<Output = Result<()>> + Send;
    fn checkpoint(
        &self,
        chain_id: u64,
    ) -> impl Future<Output = Result<Option<checkpoint::Model>>> + Send;
    /// The recent-block window, ascending by number.
    fn recent_blocks(
        &self,
        chain_id: u64,
    ) -> impl Future<Output = Result<Vec<block::Model>>> + Send;
    /// Every projection row of a chain: the indexer's in-memory state on start.
    fn load_rows(&self, chain_id: u64) -> impl Future<Output = Result<Vec<Row>>> + Send;
    /// Writes a commit in one transaction; re-applying one already written changes nothing.
    fn commit(&self, commit: Commit) -> impl Future<Output = Result<()>> + Send;
    /// Undoes every block above `ancestor`: the journal replayed backwards (restoring prior
    /// images, deleting created rows), events and window blocks above it deleted, the
    /// checkpoint moved to `ancestor` (whose hash is `ancestor_hash`).
    fn rollback(
        &self,
        chain_id: u64,
        ancestor: u64,
        ancestor_hash: String,
    ) -> impl Future<Output = Result<Rollback>> + Send;
    /// SHA-256 over every row of every table of a chain (events and projections), in a
    /// canonical order and encoding, identical for SQLite and PostgreSQL holding the same data.
    fn digest(&self, chain_id: u64) -> impl Future<Output = Result<String>> + Send;
}
