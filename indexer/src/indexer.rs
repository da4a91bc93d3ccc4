//! The indexing loop: backfill in pipelined `eth_getLogs` ranges up to the reorg window, then
//! follow the head block by block, checking each block's parent hash against the recent-block
//! window and rolling back to the common ancestor on a mismatch (docs/indexer.md).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::B256;
use alloy::rpc::types::Log;
use futures::FutureExt;
use tokio::task::JoinHandle;
use tracing::{info, info_span, warn};
use vouch_bindings::Deployment;
use vouch_bindings::events::{self, AddressBook, DecodeError};

use crate::metrics;
use crate::phases::{Phase, PhaseTimes, Phases};
use crate::projections::{self, LogMeta, State};
use crate::source::{BlockRef, ChainSource, RangeSizer, SourceError};
use crate::store::entity::{block, checkpoint};
use crate::store::{Commit, IndexWriter, StoreError};

/// What can stop the indexer.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot decode a log: {0}")]
    Decode(#[from] DecodeError),
    #[error(
        "the RPC serves chain {got}, but the deployment manifest is for chain {expected}: point --rpc-url at the manifest's chain"
    )]
    ChainIdMismatch { expected: u64, got: u64 },
    #[error(
        "the database holds chain {chain_id} up to block {stored}, whose hash the node no longer knows and whose fork point lies deeper than the {window}-block reorg window: re-index into a fresh database"
    )]
    ReorgTooDeep {
        chain_id: u64,
        stored: u64,
        window: u64,
    },
    #[error("getLogs of blocks {from}..={to} failed at the smallest range: {source}")]
    Logs {
        from: u64,
        to: u64,
        source: alloy::transports::TransportError,
    },
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// Tuning and behaviour.
#[derive(Clone, Debug)]
pub struct IndexerConfig {
    /// Rows older than this many blocks are final (GraphQL's `final`).
    pub confirmations: u64,
    /// Blocks kept for reorg detection and undo; a deeper reorg stops the indexer.
    pub reorg_window: u64,
    /// `eth_getLogs` requests in flight during backfill.
    pub concurrency: usize,
    pub ranges: RangeSizer,
    /// Stop once the head is indexed instead of following it.
    pub until_head: bool,
    /// How often to look for a new head.
    pub poll: Duration,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        IndexerConfig {
            confirmations: 12,
            reorg_window: 128,
            concurrency: 4,
            ranges: RangeSizer::default(),
            until_head: false,
            poll: crate::source::POLL_INTERVAL,
        }
    }
}

/// Where the indexer is, for progress displays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub start: u64,
    pub indexed: u64,
    pub head: u64,
    pub events: u64,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// One chain's indexer over one store.
pub struct Indexer<S> {
    source: ChainSource,
    store: S,
    book: AddressBook,
    cfg: IndexerConfig,
    chain_id: u64,
    state: State,
    window: VecDeque<BlockRef>,
    next: u64,
    start: u64,
    head: u64,
    events: u64,
    last_reorg: Option<(i64, i64)>,
    progress: Option<ProgressFn>,
    heads: Option<crate::source::Heads>,
    phases: Arc<Phases>,
}

impl<S: IndexWriter> Indexer<S> {
    /// Checks the chain id, migrates the store and loads where it stopped.
    pub async fn open(
        source: ChainSource,
        store: S,
        deployment: &Deployment,
        cfg: IndexerConfig,
    ) -> Result<Self> {
        let got = source.chain_id().await?;
        if got != deployment.chain_id {
            return Err(IndexError::ChainIdMismatch {
                expected: deployment.chain_id,
                got,
            });
        }
        store.migrate().await?;
        let chain_id = got;
        let checkpoint = store.checkpoint(chain_id).await?;
        let next = checkpoint
            .as_ref()
            .map_or(deployment.start_block, |c| c.block_number as u64 + 1);
        let last_reorg = checkpoint
            .as_ref()
            .and_then(|c| Some((c.last_reorg_block?, c.last_reorg_depth?)));
        let rows = store.load_rows(chain_id).await?;
        let window = store
            .recent_blocks(chain_id)
            .await?
            .into_iter()
            .map(|b| BlockRef {
                number: b.number as u64,
                hash: b.hash.parse().unwrap_or_default(),
                parent_hash: b.parent_hash.parse().unwrap_or_default(),
                timestamp: b.timestamp as u64,
            })
            .collect();
        info!(chain_id, next, rows = rows.len(), "indexer opened");
        metrics::indexed(next.saturating_sub(1));
        Ok(Indexer {
            source,
            store,
            book: AddressBook::new(deployment),
            cfg,
            chain_id,
            state: State::new(chain_id, rows),
            window,
            next,
            start: next,
            head: 0,
            events: 0,
            last_reorg,
            progress: None,
            heads: None,
            phases: Arc::default(),
        })
    }

    /// Called after every commit with where the indexer is.
    pub fn on_progress(&mut self, f: impl Fn(Progress) + Send + Sync + 'static) {
        self.progress = Some(Arc::new(f));
    }

    /// Where the time went so far, per phase.
    pub fn phases(&self) -> PhaseTimes {
        self.phases.snapshot()
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The next block to index.
    pub fn next_block(&self) -> u64 {
        self.next
    }

    /// Indexes until `stop` resolves (or, with `until_head`, until the head is indexed).
    /// `stop` is checked between commits, so a stop never waits for a long backfill.
    pub async fn run(&mut self, stop: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::pin!(stop);
        loop {
            if (&mut stop).now_or_never().is_some() {
                return Ok(());
            }
            self.head = self.source.head().await?;
            metrics::head(self.head);
            let backfill_to = self.head.saturating_sub(self.cfg.reorg_window);
            if self.next <= backfill_to {
                if self.backfill(backfill_to, &mut stop).await? == Flow::Stop {
                    return Ok(());
                }
                continue;
            }
            if self.next <= self.head {
                while self.next <= self.head {
                    if (&mut stop).now_or_never().is_some() {
                        return Ok(());
                    }
                    self.follow(self.next).await?;
                }
                continue;
            }
            self.check_tip().await?;
            if self.cfg.until_head && self.next > self.head {
                return Ok(());
            }
            if self.heads.is_none() {
                self.heads = self.source.subscribe_heads().await;
            }
            // A websocket head wakes the loop at once; the poll interval stays as a floor
            // under a silent subscription (and is the only clock over HTTP).
            let wait = async {
                match &mut self.heads {
                    Some(heads) => {
                        let _ = tokio::time::timeout(self.cfg.poll * 10, heads.recv()).await;
                    }
                    None => tokio::time::sleep(self.cfg.poll).await,
                }
            };
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = wait => {}
            }
        }
    }

    /// Pipelined backfill of `next..=to`: up to `concurrency` ranges fetched at once (each with
    /// its last block's header, for the checkpoint), applied and committed strictly in order.
    async fn backfill<F: std::future::Future<Output = ()>>(
        &mut self,
        to: u64,
        stop: &mut std::pin::Pin<&mut F>,
    ) -> Result<Flow> {
        let sizer = Arc::new(Mutex::new(self.cfg.ranges));
        let mut inflight: VecDeque<JoinHandle<Result<Fetched>>> = VecDeque::new();
        let mut planned = self.next;
        // Range n+1 is decoded and folded while range n is written.
        let writer = Writer::spawn(
            self.store.clone(),
            self.progress.clone(),
            self.phases.clone(),
        );
        let flow = loop {
            while inflight.len() < self.cfg.concurrency && planned <= to {
                let size = sizer.lock().expect("sizer lock").size;
                let end = (planned + size - 1).min(to);
                inflight.push_back(tokio::spawn(fetch(
                    self.source.clone(),
                    sizer.clone(),
                    planned,
                    end,
                )));
                planned = end + 1;
            }
            let Some(handle) = inflight.pop_front() else {
                break Flow::Continue;
            };
            let waiting = Instant::now();
            let fetched = handle.await.expect("a fetch task panicked");
            self.phases.add(Phase::WaitingForLogs, waiting);
            let fetched = match fetched {
                Ok(f) => f,
                Err(e) => {
                    writer.finish().await?;
                    return Err(e);
                }
            };
            let commit = self.prepare(fetched, false).await?;
            let waiting = Instant::now();
            let sent = writer.send(commit).await;
            self.phases.add(Phase::WaitingForWriter, waiting);
            if !sent {
                break Flow::Continue; // the writer failed: finish() below returns its error
            }
            if stop.as_mut().now_or_never().is_some() {
                // Fetches still in flight are dropped; their ranges are fetched again on restart.
                for h in inflight.drain(..) {
                    h.abort();
                }
                break Flow::Stop;
            }
        };
        writer.finish().await?;
        Ok(flow)
    }

    /// Follows one block near the head: parent check, logs by block hash, one commit.
    async fn follow(&mut self, number: u64) -> Result<()> {
        let header = self.source.block(number).await?;
        if let Some(prev) = self.window.back()
            && prev.number + 1 == number
            && prev.hash != header.parent_hash
        {
            return self.reorg().await;
        }
        let logs = self.source.logs_at(header.hash).await?;
        self.apply_range(
            Fetched {
                from: number,
                to: number,
                logs,
                last: header,
            },
            true,
        )
        .await
    }

    /// While idle: the stored tip must still be on the chain (a rollback shortens it).
    async fn check_tip(&mut self) -> Result<()> {
        let Some(tip) = self.window.back().cloned() else {
            return Ok(());
        };
        match self.source.block(tip.number).await {
            Ok(b) if b.hash == tip.hash => Ok(()),
            Ok(_) | Err(SourceError::MissingBlock(_)) => self.reorg().await,
            Err(e) => Err(e.into()),
        }
    }

    /// Rolls the store and the state back to the newest window block still on the chain.
    async fn reorg(&mut self) -> Result<()> {
        let stored = self.next.saturating_sub(1);
        let mut ancestor = None;
        for b in self.window.iter().rev() {
            match self.source.block(b.number).await {
                Ok(c) if c.hash == b.hash => {
                    ancestor = Some(b.clone());
                    break;
                }
                Ok(_) | Err(SourceError::MissingBlock(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let Some(ancestor) = ancestor else {
            return Err(IndexError::ReorgTooDeep {
                chain_id: self.chain_id,
                stored,
                window: self.cfg.reorg_window,
            });
        };
        let depth = stored - ancestor.number;
        warn!(
            ancestor = ancestor.number,
            depth, "reorg: rolling back to the common ancestor"
        );
        let span = info_span!("db.rollback", ancestor = ancestor.number, depth);
        let _g = span.enter();
        drop(_g);
        let done = self
            .store
            .rollback(
                self.chain_id,
                ancestor.number,
                format!("{:#x}", ancestor.hash),
            )
            .await?;
        info!(
            events_removed = done.events_removed,
            rows_restored = done.rows_restored,
            "rolled back"
        );
        self.state = State::new(self.chain_id, self.store.load_rows(self.chain_id).await?);
        while self
            .window
            .back()
            .is_some_and(|b| b.number > ancestor.number)
        {
            self.window.pop_back();
        }
        self.next = ancestor.number + 1;
        self.last_reorg = Some((ancestor.number as i64, depth as i64));
        metrics::reorg();
        Ok(())
    }

    /// Decodes, folds and commits a range (the live path: one block, written at once).
    async fn apply_range(&mut self, fetched: Fetched, live: bool) -> Result<()> {
        let pending = self.prepare(fetched, live).await?;
        let n = pending.commit.events.len() as u64;
        self.store.commit(pending.commit).await?;
        metrics::events(n);
        metrics::indexed(pending.progress.indexed);
        if let Some(p) = &self.progress {
            p(pending.progress);
        }
        Ok(())
    }

    /// Decodes and folds a range's logs into the commit of its events, rows, journal, window
    /// blocks and checkpoint (one transaction), and moves the indexer past it.
    async fn prepare(&mut self, fetched: Fetched, live: bool) -> Result<Pending> {
        let mut clock = Instant::now();
        let Fetched {
            from,
            to,
            mut logs,
            last,
        } = fetched;
        logs.sort_by_key(|l| (l.block_number, l.log_index));
        // Everything of a backfill range is older than the reorg window: final, no journal.
        self.state.journal_above(if live { 0 } else { to });
        let timestamps = self.timestamps(&logs, &last).await?;
        let mut commit = Commit {
            chain_id: self.chain_id,
            ..Commit::default()
        };
        for log in &logs {
            let decoded = events::decode(&self.book, log)?;
            clock = self.phases.add(Phase::Decoding, clock);
            let Some(decoded) = decoded else {
                continue;
            };
            let number = log.block_number.unwrap_or(to);
            let meta = LogMeta {
                block_number: number,
                block_hash: format!("{:#x}", log.block_hash.unwrap_or_default()),
                block_timestamp: timestamps[&number],
                tx_hash: format!("{:#x}", log.transaction_hash.unwrap_or_default()),
                log_index: log.log_index.unwrap_or_default(),
            };
            projections::apply(&mut self.state, &meta, &decoded);
            commit.events.push(projections::event_row(
                self.chain_id,
                &meta,
                log.address(),
                decoded,
            ));
            clock = self.phases.add(Phase::Folding, clock);
        }
        self.state.drain_into(&mut commit);
        self.phases.add(Phase::Folding, clock);
        if live {
            commit.blocks.push(block::Model {
                chain_id: self.chain_id as i64,
                number: last.number as i64,
                hash: format!("{:#x}", last.hash),
                parent_hash: format!("{:#x}", last.parent_hash),
                timestamp: last.timestamp as i64,
            });
            commit.prune_through = Some(to.saturating_sub(self.cfg.reorg_window));
        }
        commit.checkpoint = Some(checkpoint::Model {
            chain_id: self.chain_id as i64,
            block_number: to as i64,
            block_hash: format!("{:#x}", last.hash),
            head: self.head.max(to) as i64,
            confirmations: self.cfg.confirmations as i64,
            last_reorg_block: self.last_reorg.map(|r| r.0),
            last_reorg_depth: self.last_reorg.map(|r| r.1),
            updated_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        });
        let n = commit.events.len() as u64;
        if live {
            self.window.push_back(last);
            while self.window.len() as u64 > self.cfg.reorg_window {
                self.window.pop_front();
            }
        }
        self.next = to + 1;
        self.events += n;
        let _ = from;
        Ok(Pending {
            commit,
            progress: Progress {
                start: self.start,
                indexed: to,
                head: self.head,
                events: self.events,
            },
        })
    }

    /// Each log's block time: the log's `blockTimestamp` where the node gives it, else the
    /// block header (fetched concurrently, once per block).
    async fn timestamps(&self, logs: &[Log], last: &BlockRef) -> Result<HashMap<u64, u64>> {
        let mut known = HashMap::from([(last.number, last.timestamp)]);
        let mut missing = Vec::new();
        for l in logs {
            let n = l.block_number.unwrap_or(last.number);
            match l.block_timestamp {
                Some(t) => {
                    known.insert(n, t);
                }
                None if !known.contains_key(&n) => missing.push(n),
                None => {}
            }
        }
        missing.sort_unstable();
        missing.dedup();
        let fetched =
            futures::future::try_join_all(missing.into_iter().map(|n| self.source.block(n)))
                .await?;
        for b in fetched {
            known.insert(b.number, b.timestamp);
        }
        Ok(known)
    }
}

/// A prepared commit and where the indexer will be once it is written.
struct Pending {
    commit: Commit,
    progress: Progress,
}

/// The backfill's writer: commits prepared ranges in order, one at a time, with at most one
/// more waiting, so the next range is folded while the database writes.
struct Writer {
    tx: tokio::sync::mpsc::Sender<Pending>,
    task: JoinHandle<Result<()>>,
}

impl Writer {
    fn spawn<S: IndexWriter>(
        store: S,
        progress: Option<ProgressFn>,
        phases: Arc<Phases>,
    ) -> Writer {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Pending>(1);
        let task = tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let n = p.commit.events.len() as u64;
                let writing = Instant::now();
                store.commit(p.commit).await?;
                phases.add(Phase::Writing, writing);
                metrics::events(n);
                metrics::indexed(p.progress.indexed);
                if let Some(f) = &progress {
                    f(p.progress);
                }
            }
            Ok(())
        });
        Writer { tx, task }
    }

    /// Queues a commit; false when the writer stopped on an error (`finish` returns it).
    async fn send(&self, pending: Pending) -> bool {
        self.tx.send(pending).await.is_ok()
    }

    /// Waits until every queued commit is written.
    async fn finish(self) -> Result<()> {
        drop(self.tx);
        self.task.await.expect("the writer task panicked")
    }
}

/// Whether the loop goes on.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// One range's logs and its last block's header.
struct Fetched {
    from: u64,
    to: u64,
    logs: Vec<Log>,
    last: BlockRef,
}

/// Fetches `from..=to`, splitting the range in halves while the provider refuses it.
async fn fetch(
    source: ChainSource,
    sizer: Arc<Mutex<RangeSizer>>,
    from: u64,
    to: u64,
) -> Result<Fetched> {
    let header = source.block(to);
    let logs = fetch_logs(&source, &sizer, from, to);
    let (last, logs) = tokio::join!(header, logs);
    Ok(Fetched {
        from,
        to,
        logs: logs?,
        last: last?,
    })
}

async fn fetch_logs(
    source: &ChainSource,
    sizer: &Mutex<RangeSizer>,
    from: u64,
    to: u64,
) -> Result<Vec<Log>> {
    let mut pending = vec![(from, to)];
    let mut out = Vec::new();
    let mut failures_at_min = 0u32;
    while let Some((a, b)) = pending.pop() {
        match source.logs_once(a, b).await {
            Ok(logs) => {
                sizer
                    .lock()
                    .expect("sizer lock")
                    .success(b - a + 1, logs.len());
                out.extend(logs);
                failures_at_min = 0;
            }
            Err(e) => {
                let can_split = sizer.lock().expect("sizer lock").failure(b - a + 1) && b > a;
                if can_split {
                    metrics::range_shrink();
                    let mid = a + (b - a) / 2;
                    // Later half first onto the stack, so the earlier half is fetched first.
                    pending.push((mid + 1, b));
                    pending.push((a, mid));
                } else {
                    failures_at_min += 1;
                    if failures_at_min >= crate::source::Backoff::default().max_attempts {
                        return Err(IndexError::Logs {
                            from: a,
                            to: b,
                            source: e,
                        });
                    }
                    metrics::rpc_retry();
                    tokio::time::sleep(crate::source::Backoff::default().delay(failures_at_min))
                        .await;
                    pending.push((a, b));
                }
            }
        }
    }
    Ok(out)
}

/// The 0x form of a block hash as stored.
pub fn hash_text(h: B256) -> String {
    format!("{h:#x}")
}
