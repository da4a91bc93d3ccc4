//! [`LiveFeed`]: one per server process. One task wakes on the database's commit notices (the
//! in-process [`Notifier`] or [`notify::listen`]), reads the `events` rows committed since the
//! last wake-up, in (block, log index) order, once for all subscribers, and fans them out on a
//! broadcast channel. Around a reorg, the events it delivered above the common ancestor go out
//! again with `reverted: true` (newest first) before the canonical ones.
//!
//! Reorgs are found from the data, not only from the notices: in one snapshot, the feed compares
//! the `blocks` window (number -> hash) with the one it recorded at its previous read; the
//! lowest block that changed its hash, or vanished above the new tip, gives the ancestor. So a
//! lost or coalesced notice (a PostgreSQL reconnect, two SQLite polls apart) never mixes forks.
//! A one-second tick re-reads even without a notice.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::warn;
use vouch_indexer::notify::{self, CommitNotice, Notifier};
use vouch_indexer::store::SeaStore;
use vouch_indexer::store::entity::{block, event, job};

/// One event as the feed delivers it.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedEvent {
    pub chain_id: u64,
    pub block: u64,
    pub block_hash: String,
    pub block_timestamp: i64,
    pub tx_hash: String,
    pub log_index: i64,
    pub contract: String,
    pub event: String,
    /// The decoded arguments (integers as decimal strings, addresses checksummed).
    pub args: serde_json::Map<String, serde_json::Value>,
    /// For JobMarketplace events: the job's renter and host (from `jobs` when first delivered).
    pub job: Option<JobParties>,
    /// Announced again because a reorg removed it.
    pub reverted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobParties {
    pub renter: String,
    pub host: Option<String>,
}

impl FeedEvent {
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(|v| v.as_str())
    }

    fn reverted(&self) -> FeedEvent {
        FeedEvent {
            reverted: true,
            ..self.clone()
        }
    }
}

/// Events fanned out to every subscriber; a subscriber further behind than this is dropped
/// with an error (it resubscribes).
pub const FEED_CAPACITY: usize = 16_384;
/// A re-read even without a notice.
pub const SAFETY_TICK: Duration = Duration::from_secs(1);
/// Delivered events kept for reverts: those of the last this many blocks (above the reorg
/// window of the indexer, 128 by default).
pub const TRACKED_BLOCKS: u64 = 256;
const PAGE: u64 = 1_000;

/// The process-wide live feed. Cheap to clone; the task stops when the last clone is dropped.
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Inner>,
}

struct Inner {
    tx: broadcast::Sender<Arc<FeedEvent>>,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed")
            .field("subscribers", &self.inner.tx.receiver_count())
            .finish()
    }
}

impl LiveFeed {
    /// A feed of chain `chain_id` in `db`, woken by `wakeups`. It delivers what is committed
    /// after this call.
    pub async fn start(
        db: DatabaseConnection,
        chain_id: u64,
        wakeups: impl Stream<Item = CommitNotice> + Send + 'static,
    ) -> Result<LiveFeed, sea_orm::DbErr> {
        let (tx, _) = broadcast::channel(FEED_CAPACITY);
        let mut reader = Reader {
            db,
            chain_id: chain_id as i64,
            cursor: (-1, -1),
            tracked: VecDeque::new(),
            window: BTreeMap::new(),
            tx: tx.clone(),
        };
        reader.start().await?;
        let task = tokio::spawn(reader.run(Box::pin(wakeups)));
        Ok(LiveFeed {
            inner: Arc::new(Inner { tx, task }),
        })
    }

    /// For an indexer in the same process: its store's [`Notifier`].
    pub async fn in_process(
        db: DatabaseConnection,
        chain_id: u64,
        notifier: &Notifier,
    ) -> Result<LiveFeed, sea_orm::DbErr> {
        Self::start(db, chain_id, notifier.stream()).await
    }

    /// For an indexer in another process: [`notify::listen`] on `db_url`, reading with a
    /// connection of its own.
    pub async fn listening(
        db_url: &str,
        chain_id: u64,
    ) -> Result<LiveFeed, vouch_indexer::store::StoreError> {
        let wakeups = notify::listen(db_url).await?;
        let store = SeaStore::connect(db_url).await?;
        Ok(Self::start(store.connection().clone(), chain_id, wakeups).await?)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.inner.tx.subscribe()
    }
}

struct Reader {
    db: DatabaseConnection,
    chain_id: i64,
    /// (block, log index) of the last event read.
    cursor: (i64, i64),
    /// Delivered events of the recent blocks, oldest first.
    tracked: VecDeque<Arc<FeedEvent>>,
    /// The `blocks` window at the last read.
    window: BTreeMap<i64, String>,
    tx: broadcast::Sender<Arc<FeedEvent>>,
}

impl Reader {
    /// Starts after the newest stored event.
    async fn start(&mut self) -> Result<(), sea_orm::DbErr> {
        let txn = self.snapshot().await?;
        if let Some(last) = event::Entity::find()
            .filter(event::Column::ChainId.eq(self.chain_id))
            .order_by_desc(event::Column::BlockNumber)
            .order_by_desc(event::Column::LogIndex)
            .one(&txn)
            .await?
        {
            self.cursor = (last.block_number, last.log_index);
        }
        self.window = self.read_window(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn run(
        mut self,
        mut wakeups: std::pin::Pin<Box<dyn Stream<Item = CommitNotice> + Send>>,
    ) {
        let mut tick = tokio::time::interval(SAFETY_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut listening = true;
        loop {
            tokio::select! {
                n = wakeups.next(), if listening => {
                    if n.is_none() {
                        warn!("live feed: the commit notices ended; reading every second");
                        listening = false;
                    }
                }
                _ = tick.tick() => {}
            }
            if let Err(e) = self.sync().await {
                warn!("live feed: cannot read new events: {e}");
            }
        }
    }

    async fn snapshot(&self) -> Result<DatabaseTransaction, sea_orm::DbErr> {
        let isolation = match self.db.get_database_backend() {
            DbBackend::Postgres => Some(IsolationLevel::RepeatableRead),
            _ => None,
        };
        self.db.begin_with_config(isolation, None).await
    }

    async fn read_window(
        &self,
        txn: &DatabaseTransaction,
    ) -> Result<BTreeMap<i64, String>, sea_orm::DbErr> {
        Ok(block::Entity::find()
            .filter(block::Column::ChainId.eq(self.chain_id))
            .all(txn)
            .await?
            .into_iter()
            .map(|b| (b.number, b.hash))
            .collect())
    }

    /// The newest block both windows agree on, when they disagree.
    fn ancestor(&self, now: &BTreeMap<i64, String>) -> Option<i64> {
        let top = now.keys().next_back().copied().unwrap_or(i64::MIN);
        self.window
            .iter()
            .find(|(n, h)| match now.get(n) {
                Some(h2) => h2 != *h,
                // Missing below the window's bottom: pruned (final); above its top: rolled back.
                None => **n > top,
            })
            .map(|(n, _)| n - 1)
    }

    async fn sync(&mut self) -> Result<(), sea_orm::DbErr> {
        let txn = self.snapshot().await?;
        let window = self.read_window(&txn).await?;
        if let Some(a) = self.ancestor(&window) {
            while self.tracked.back().is_some_and(|e| e.block as i64 > a) {
                let e = self.tracked.pop_back().expect("checked");
                let _ = self.tx.send(Arc::new(e.reverted()));
            }
            if self.cursor.0 > a {
                self.cursor = (a, i64::MAX);
            }
        }
        loop {
            let (b, li) = self.cursor;
            let rows = event::Entity::find()
                .filter(event::Column::ChainId.eq(self.chain_id))
                .filter(
                    Condition::any().add(event::Column::BlockNumber.gt(b)).add(
                        Condition::all()
                            .add(event::Column::BlockNumber.eq(b))
                            .add(event::Column::LogIndex.gt(li)),
                    ),
                )
                .order_by_asc(event::Column::BlockNumber)
                .order_by_asc(event::Column::LogIndex)
                .limit(PAGE)
                .all(&txn)
                .await?;
            let full = rows.len() as u64 == PAGE;
            let parties = self.parties(&txn, &rows).await?;
            for r in rows {
                self.cursor = (r.block_number, r.log_index);
                let e = Arc::new(to_feed(r, &parties));
                let _ = self.tx.send(e.clone());
                self.tracked.push_back(e);
            }
            if !full {
                break;
            }
        }
        txn.commit().await?;
        self.window = window;
        let keep_above = self.cursor.0 - TRACKED_BLOCKS as i64;
        while self
            .tracked
            .front()
            .is_some_and(|e| (e.block as i64) <= keep_above)
        {
            self.tracked.pop_front();
        }
        Ok(())
    }

    /// Renter and host of the jobs the marketplace events name.
    async fn parties(
        &self,
        txn: &DatabaseTransaction,
        rows: &[event::Model],
    ) -> Result<HashMap<i64, JobParties>, sea_orm::DbErr> {
        let mut ids: Vec<i64> = rows
            .iter()
            .filter(|r| r.contract == "JobMarketplace")
            .filter_map(|r| job_id(&r.args))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(job::Entity::find()
            .filter(job::Column::ChainId.eq(self.chain_id))
            .filter(job::Column::JobId.is_in(ids))
            .all(txn)
            .await?
            .into_iter()
            .map(|j| {
                (
                    j.job_id,
                    JobParties {
                        renter: j.renter,
                        host: j.host,
                    },
                )
            })
            .collect())
    }
}

fn job_id(args: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(args).ok()?;
    v.get("jobId")?.as_str()?.parse().ok()
}

fn to_feed(r: event::Model, parties: &HashMap<i64, JobParties>) -> FeedEvent {
    let args = match serde_json::from_str(&r.args) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let job = if r.contract == "JobMarketplace" {
        job_id(&r.args).and_then(|id| parties.get(&id).cloned())
    } else {
        None
    };
    FeedEvent {
        chain_id: r.chain_id as u64,
        block: r.block_number as u64,
        block_hash: r.block_hash,
        block_timestamp: r.block_timestamp,
        tx_hash: r.tx_hash,
        log_index: r.log_index,
        contract: r.contract,
        event: r.event,
        args,
        job,
        reverted: false,
    }
}
