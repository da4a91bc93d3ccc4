//! Commit notifications: after every commit and rollback the store announces a
//! [`CommitNotice`], so live readers (the GraphQL subscriptions) wake up at once instead of
//! polling the tables.
//!
//! - in the same process: a [`Notifier`] (a `tokio::sync::broadcast` hub) handed to the store
//!   with [`SeaStore::with_notifier`]; it is sent right after the transaction commits;
//! - PostgreSQL, any process: `NOTIFY vouch_commits, '<json>'` is issued *inside* the commit and
//!   rollback transactions (PostgreSQL delivers it at commit, so a listener never sees a notice
//!   before the data), received with [`listen`] (sqlx `PgListener`);
//! - SQLite, another process: SQLite has no notifications, so [`listen`] polls the `checkpoints`
//!   rows every 200 ms: a higher block is a commit, a lower block, or a different hash at the
//!   same block, or a new `last_reorg_block`, is a rollback.
//!
//! The payload is small JSON: `{"chain_id":31337,"block":42,"kind":"Committed"}` or
//! `{"chain_id":31337,"block":40,"kind":{"RolledBack":{"ancestor":40}}}`.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tracing::warn;

use crate::store::entity::checkpoint;
use crate::store::{Result, SeaStore, StoreError};

/// The PostgreSQL channel the store notifies on.
pub const CHANNEL: &str = "vouch_commits";

/// How often [`listen`] reads the checkpoints of a SQLite database.
pub const SQLITE_POLL: Duration = Duration::from_millis(200);

/// One commit or rollback of one chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitNotice {
    pub chain_id: u64,
    /// The checkpoint after it: the last committed block (for a rollback, the ancestor).
    pub block: u64,
    pub kind: NoticeKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeKind {
    /// Blocks up to `block` were committed.
    Committed,
    /// Every block above `ancestor` was removed.
    RolledBack { ancestor: u64 },
}

impl CommitNotice {
    pub fn committed(chain_id: u64, block: u64) -> Self {
        CommitNotice {
            chain_id,
            block,
            kind: NoticeKind::Committed,
        }
    }

    pub fn rolled_back(chain_id: u64, ancestor: u64) -> Self {
        CommitNotice {
            chain_id,
            block: ancestor,
            kind: NoticeKind::RolledBack { ancestor },
        }
    }

    /// The NOTIFY payload.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a notice serializes")
    }
}

/// The in-process hub: every clone sends to and subscribes to the same channel.
#[derive(Clone, Debug)]
pub struct Notifier {
    tx: broadcast::Sender<CommitNotice>,
}

impl Notifier {
    /// A hub for an indexer and its readers in one process (capacity 1,024 notices; a receiver
    /// that falls further behind gets `Lagged` and should re-read the tables).
    pub fn in_process() -> Self {
        Notifier {
            tx: broadcast::channel(1024).0,
        }
    }

    pub fn send(&self, notice: CommitNotice) {
        // No receiver is not an error: nobody is listening yet.
        let _ = self.tx.send(notice);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CommitNotice> {
        self.tx.subscribe()
    }

    /// The notices from now on as a stream (a lag is skipped over: the next notice still comes).
    pub fn stream(&self) -> impl Stream<Item = CommitNotice> + Send + 'static {
        let rx = self.subscribe();
        futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(n) => return Some((n, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}

impl SeaStore {
    /// Also announces every commit and rollback on `notifier` (after the transaction commits).
    /// PostgreSQL's NOTIFY is sent either way.
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    pub fn notifier(&self) -> Option<&Notifier> {
        self.notifier.as_ref()
    }
}

/// Inside a commit or rollback transaction: NOTIFY on PostgreSQL (delivered at commit).
pub(crate) async fn in_transaction(
    txn: &DatabaseTransaction,
    notice: Option<&CommitNotice>,
) -> Result<()> {
    if let Some(n) = notice
        && txn.get_database_backend() == DbBackend::Postgres
    {
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), n.to_json().into()],
        ))
        .await?;
    }
    Ok(())
}

/// After the transaction committed: the in-process hub.
pub(crate) fn committed(store: &SeaStore, notice: Option<CommitNotice>) {
    if let (Some(hub), Some(n)) = (&store.notifier, notice) {
        hub.send(n);
    }
}

/// The notices of the database at `url` (`postgres://` by LISTEN, `sqlite://` by polling the
/// checkpoints), from now on, for as long as the stream is kept. Connection losses are ridden
/// out (reconnecting every second); notices of the outage are lost, so a reader should also
/// re-read its tables now and then.
pub async fn listen(url: &str) -> Result<Pin<Box<dyn Stream<Item = CommitNotice> + Send>>> {
    let (tx, rx) = mpsc::channel(256);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))))?;
        tokio::spawn(pg_loop(listener, tx));
    } else if url.starts_with("sqlite://") {
        let store = SeaStore::connect(url).await?;
        let seen = read_checkpoints(&store).await.unwrap_or_default();
        tokio::spawn(sqlite_loop(store, seen, tx));
    } else {
        return Err(StoreError::UnsupportedUrl {
            url: url.to_owned(),
        });
    }
    Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|n| (n, rx))
    })))
}

async fn pg_loop(
    mut listener: sea_orm::sqlx::postgres::PgListener,
    tx: mpsc::Sender<CommitNotice>,
) {
    loop {
        let got = tokio::select! {
            _ = tx.closed() => return,
            got = listener.try_recv() => got,
        };
        match got {
            Ok(Some(n)) => match serde_json::from_str::<CommitNotice>(n.payload()) {
                Ok(notice) => {
                    if tx.send(notice).await.is_err() {
                        return;
                    }
                }
                Err(e) => warn!(
                    payload = n.payload(),
                    "ignoring a malformed commit notice: {e}"
                ),
            },
            // The connection was lost; the next try_recv reconnects and listens again.
            Ok(None) => warn!("commit notifications: connection lost, reconnecting"),
            Err(e) => {
                warn!("commit notifications: {e}; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Per chain: (block, hash, last reorg ancestor).
type Seen = HashMap<i64, (i64, String, Option<i64>)>;

async fn read_checkpoints(store: &SeaStore) -> Result<Seen> {
    Ok(checkpoint::Entity::find()
        .all(store.connection())
        .await?
        .into_iter()
        .map(|c| {
            (
                c.chain_id,
                (c.block_number, c.block_hash, c.last_reorg_block),
            )
        })
        .collect())
}

async fn sqlite_loop(store: SeaStore, mut seen: Seen, tx: mpsc::Sender<CommitNotice>) {
    let mut tick = tokio::time::interval(SQLITE_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tx.closed() => return,
            _ = tick.tick() => {}
        }
        let now = match read_checkpoints(&store).await {
            Ok(now) => now,
            Err(e) => {
                warn!("commit notifications: cannot read the checkpoints: {e}");
                continue;
            }
        };
        for (chain, (block, hash, reorg)) in &now {
            for notice in changes(*chain, seen.get(chain), (*block, hash, *reorg)) {
                if tx.send(notice).await.is_err() {
                    return;
                }
            }
        }
        seen = now;
    }
}

/// What a change of one checkpoint row between two polls means.
fn changes(
    chain: i64,
    before: Option<&(i64, String, Option<i64>)>,
    (block, hash, reorg): (i64, &String, Option<i64>),
) -> Vec<CommitNotice> {
    let chain_id = chain as u64;
    let Some((old_block, old_hash, old_reorg)) = before else {
        return vec![CommitNotice::committed(chain_id, block as u64)];
    };
    let mut out = Vec::new();
    let mut ancestor = None;
    if block < *old_block {
        ancestor = Some(block);
    } else if block == *old_block && hash != old_hash {
        ancestor = Some(block - 1);
    }
    // A rollback and the re-commit of a longer chain between two polls: the checkpoint records
    // the ancestor of its latest reorg.
    if reorg != *old_reorg
        && let Some(r) = reorg
        && r < *old_block
    {
        ancestor = Some(ancestor.map_or(r, |a: i64| a.min(r)));
    }
    if let Some(a) = ancestor {
        out.push(CommitNotice::rolled_back(chain_id, a.max(0) as u64));
    }
    if block > *old_block || (ancestor.is_some() && block > ancestor.unwrap_or(block)) {
        out.push(CommitNotice::committed(chain_id, block as u64));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        let n = CommitNotice::rolled_back(31337, 40);
        assert_eq!(
            n.to_json(),
            r#"{"chain_id":31337,"block":40,"kind":{"RolledBack":{"ancestor":40}}}"#
        );
        assert_eq!(
            serde_json::from_str::<CommitNotice>(&n.to_json()).unwrap(),
            n
        );
        assert_eq!(
            CommitNotice::committed(1, 2).to_json(),
            r#"{"chain_id":1,"block":2,"kind":"Committed"}"#
        );
    }

    #[test]
    fn checkpoint_changes() {
        let h = |s: &str| s.to_owned();
        let old = (10, h("a"), None);
        assert_eq!(
            changes(1, Some(&old), (12, &h("b"), None)),
            vec![CommitNotice::committed(1, 12)]
        );
        assert_eq!(
            changes(1, Some(&old), (8, &h("c"), None)),
            vec![CommitNotice::rolled_back(1, 8)]
        );
        assert_eq!(
            changes(1, Some(&old), (10, &h("d"), None)),
            vec![
                CommitNotice::rolled_back(1, 9),
                CommitNotice::committed(1, 10)
            ]
        );
        assert_eq!(
            changes(1, Some(&old), (13, &h("e"), Some(7))),
            vec![
                CommitNotice::rolled_back(1, 7),
                CommitNotice::committed(1, 13)
            ]
        );
        assert!(changes(1, Some(&old), (10, &h("a"), None)).is_empty());
    }
}
