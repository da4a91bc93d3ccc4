//! The indexer's in-memory image of every projection row, and the bookkeeping of a commit in
//! the making: which rows changed (each is written once per commit, however many events
//! touched it) and, for blocks not yet final, the prior image of each row a block changed
//! (the reorg journal).

use std::collections::{HashMap, HashSet};

use crate::store::{Commit, Row, RowKey, UndoEntry};

/// Where one log sits on the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogMeta {
    pub block_number: u64,
    pub block_hash: String,
    pub block_timestamp: u64,
    pub tx_hash: String,
    pub log_index: u64,
}

/// Every projection row of one chain, plus the pending changes since the last commit.
#[derive(Debug, Default)]
pub struct State {
    pub(crate) chain_id: i64,
    rows: HashMap<RowKey, Row>,
    changed: Vec<RowKey>,
    changed_set: HashSet<RowKey>,
    undo: Vec<UndoEntry>,
    journaled: HashSet<(u64, RowKey)>,
    /// Blocks above this number are not final: their changes are journaled.
    journal_above: u64,
    /// The block being applied.
    block: u64,
    /// Jobs completed so far in the transaction being applied (tx hash, job ids): the
    /// `BatchProven` that follows them in the same transaction lists them.
    pub(crate) completed_in_tx: Option<(String, Vec<i64>)>,
}

impl State {
    pub fn new(chain_id: u64, rows: Vec<Row>) -> Self {
        State {
            chain_id: chain_id as i64,
            rows: rows.into_iter().map(|r| (r.key(), r)).collect(),
            ..State::default()
        }
    }

    /// Sets the finality boundary: changes by blocks above `block` are journaled.
    pub fn journal_above(&mut self, block: u64) {
        self.journal_above = block;
    }

    /// The block whose events are applied next.
    pub fn enter_block(&mut self, block: u64) {
        self.block = block;
    }

    pub fn get(&self, key: &RowKey) -> Option<&Row> {
        self.rows.get(key)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row at `key` for change: created by `make` when absent. Marks it changed and
    /// journals its prior image once per non-final block.
    pub fn entry(&mut self, key: RowKey, make: impl FnOnce() -> Row) -> &mut Row {
        if self.block > self.journal_above && !self.journaled.contains(&(self.block, key.clone())) {
            self.journaled.insert((self.block, key.clone()));
            self.undo.push(UndoEntry {
                block_number: self.block,
                key: key.clone(),
                prior: self.rows.get(&key).cloned(),
            });
        }
        if self.changed_set.insert(key.clone()) {
            self.changed.push(key.clone());
        }
        self.rows.entry(key).or_insert_with(make)
    }

    /// Sets a whole row (an appended record, e.g. a slash): journaled and marked like `entry`.
    pub fn put(&mut self, row: Row) {
        let slot = self.entry(row.key(), || row.clone());
        *slot = row;
    }

    /// Takes the pending changes into `commit` (rows in first-change order, journal in order).
    pub fn drain_into(&mut self, commit: &mut Commit) {
        for key in self.changed.drain(..) {
            if let Some(row) = self.rows.get(&key) {
                commit.rows.push(row.clone());
            }
        }
        self.changed_set.clear();
        commit.undo.append(&mut self.undo);
        self.journaled.clear();
    }

    /// Whether changes wait to be committed.
    pub fn has_pending(&self) -> bool {
        !self.changed.is_empty()
    }
}

/// Builds a [`RowKey`] of a projection table.
pub fn key(table: &'static str, key: impl Into<String>) -> RowKey {
    RowKey {
        table,
        key: key.into(),
    }
}
