//! [`SeaStore`]: the one [`IndexWriter`] implementation, over sea-orm, for SQLite and
//! PostgreSQL alike. Owns connecting (URL dispatch, SQLite durability pragmas) and the
//! transactions of commit and rollback; the per-table SQL lives in `table`, the journal
//! encoding in `journal`. A commit goes through a bulk path per backend: `pg` (COPY into
//! staging tables) or `sqlite` (prepared multi-row upserts).

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::sea_query::Expr;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::entity::{block, checkpoint, event, undo};
use super::migration::Migrator;
use super::row::Row;
use super::writer::{Commit, IndexWriter, Rollback};
use super::{Result, StoreError, journal, table};

/// An indexer database: a sea-orm connection pool to SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct SeaStore {
    db: DatabaseConnection,
    pub(crate) notifier: Option<crate::notify::Notifier>,
}

impl SeaStore {
    /// Connects to `sqlite://PATH` (the file is created if missing) or `postgres://...`
    /// (`postgresql://` too). Anything else is [`StoreError::UnsupportedUrl`].
    pub async fn connect(url: &str) -> Result<SeaStore> {
        let mut opts = if url.starts_with("sqlite://") {
            let mut opts = ConnectOptions::new(with_create_mode(url));
            // WAL + synchronous=NORMAL: a committed transaction survives a process crash (an OS
            // crash may lose the last ones, which the indexer re-reads from the chain), and
            // readers (the GraphQL side) do not block the writer.
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            });
            opts
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            ConnectOptions::new(url)
        } else {
            return Err(StoreError::UnsupportedUrl {
                url: url.to_owned(),
            });
        };
        // Statements carry thousands of binds: logging each one would drown every other log.
        opts.sqlx_logging(false);
        Ok(SeaStore {
            db: Database::connect(opts).await?,
            notifier: None,
        })
    }

    /// The underlying connection, for the read side.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A transaction whose reads see one snapshot (PostgreSQL's default, read committed, takes a
    /// new one per statement; SQLite transactions are serializable already).
    async fn snapshot(&self) -> Result<DatabaseTransaction> {
        let isolation = match self.db.get_database_backend() {
            DbBackend::Postgres => Some(IsolationLevel::RepeatableRead),
            _ => None,
        };
        Ok(self.db.begin_with_config(isolation, None).await?)
    }
}

/// `sqlite://PATH` opens read-write but does not create the file; `mode=rwc` does.
fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Chain ids and block numbers as the schema stores them (BIGINT); neither reaches 2^63.
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The last image of every row, in first-seen order: one INSERT may not upsert a key twice on
/// PostgreSQL ("ON CONFLICT DO UPDATE command cannot affect row a second time").
fn last_per_key<T, K: std::hash::Hash + Eq>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = HashSet::new();
    let mut out: Vec<T> = items
        .into_iter()
        .rev()
        .filter(|i| seen.insert(key(i)))
        .collect();
    out.reverse();
    out
}

impl IndexWriter for SeaStore {
    async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    async fn checkpoint(&self, chain_id: u64) -> Result<Option<checkpoint::Model>> {
        Ok(checkpoint::Entity::find_by_id(int(chain_id))
            .one(&self.db)
            .await?)
    }

    async fn recent_blocks(&self, chain_id: u64) -> Result<Vec<block::Model>> {
        Ok(block::Entity::find()
            .filter(block::Column::ChainId.eq(int(chain_id)))
            .order_by_asc(block::Column::Number)
            .all(&self.db)
            .await?)
    }

    async fn load_rows(&self, chain_id: u64) -> Result<Vec<Row>> {
        let span = tracing::info_span!("db.load_rows", chain_id);
        async {
            let txn = self.snapshot().await?;
            let rows = table::load_projections(&txn, int(chain_id)).await?;
            txn.commit().await?;
            Ok(rows)
        }
        .instrument(span)
        .await
    }

    async fn commit(&self, mut commit: Commit) -> Result<()> {
        let span = tracing::info_span!(
            "db.commit",
            events = commit.events.len(),
            rows = commit.rows.len()
        );
        async move {
            let notice = (commit.checkpoint.as_ref()).map(|c| {
                crate::notify::CommitNotice::committed(commit.chain_id, c.block_number as u64)
            });
            // Refuse an entry rollback could not replay before anything is written.
            for entry in &commit.undo {
                journal::check_key(entry.key.table, &entry.key.key)?;
            }
            let rows = last_per_key(std::mem::take(&mut commit.rows), Row::key);
            let blocks = last_per_key(std::mem::take(&mut commit.blocks), |b| b.number);
            let undo = last_per_key(std::mem::take(&mut commit.undo), |e| {
                (e.block_number, e.key.clone())
            });

            if self.db.get_database_backend() == DbBackend::Postgres {
                // The bulk path: COPY into staging tables, one upsert per table (store/pg.rs).
                let bulk = Commit {
                    rows,
                    blocks,
                    undo,
                    ..commit
                };
                let payload = notice.as_ref().map(|n| n.to_json());
                super::pg::commit(self.db.get_postgres_connection_pool(), bulk, payload).await?;
                crate::notify::committed(self, notice);
                return Ok(());
            }
            // The bulk path: prepared multi-row upserts (store/sqlite.rs). SQLite has no
            // in-transaction notice: other processes poll the checkpoint.
            let bulk = Commit {
                rows,
                blocks,
                undo,
                ..commit
            };
            super::sqlite::commit(self.db.get_sqlite_connection_pool(), bulk).await?;
            crate::notify::committed(self, notice);
            Ok(())
        }
        .instrument(span)
        .await
    }

    async fn rollback(
        &self,
        chain_id: u64,
        ancestor: u64,
        ancestor_hash: String,
    ) -> Result<Rollback> {
        let span = tracing::info_span!("db.rollback", chain_id, ancestor);
        async move {
            let (chain, above) = (int(chain_id), int(ancestor));
            let txn = self.db.begin().await?;
            let journal_rows = undo::Entity::find()
                .filter(undo::Column::ChainId.eq(chain))
                .filter(undo::Column::BlockNumber.gt(above))
                .order_by_desc(undo::Column::Id)
                .all(&txn)
                .await?;
            let actions = journal::collapse(journal_rows)?;
            let rows_restored = actions.len() as u64;
            let mut restore = Vec::new();
            for action in actions {
                match action {
                    journal::Undo::Restore(row) => restore.push(*row),
                    journal::Undo::Delete { table, key } => {
                        journal::delete_row(&txn, chain, &table, &key).await?
                    }
                }
            }
            table::upsert_rows(&txn, restore).await?;
            undo::Entity::delete_many()
                .filter(undo::Column::ChainId.eq(chain))
                .filter(undo::Column::BlockNumber.gt(above))
                .exec(&txn)
                .await?;
            let events_removed = event::Entity::delete_many()
                .filter(event::Column::ChainId.eq(chain))
                .filter(event::Column::BlockNumber.gt(above))
                .exec(&txn)
                .await?
                .rows_affected;
            block::Entity::delete_many()
                .filter(block::Column::ChainId.eq(chain))
                .filter(block::Column::Number.gt(above))
                .exec(&txn)
                .await?;
            move_checkpoint(&txn, chain, above, ancestor_hash).await?;
            let notice = Some(crate::notify::CommitNotice::rolled_back(chain_id, ancestor));
            crate::notify::in_transaction(&txn, notice.as_ref()).await?;
            txn.commit().await?;
            crate::notify::committed(self, notice);
            Ok(Rollback {
                events_removed,
                rows_restored,
            })
        }
        .instrument(span)
        .await
    }

    async fn digest(&self, chain_id: u64) -> Result<String> {
        let span = tracing::info_span!("db.digest", chain_id);
        async {
            let chain = int(chain_id);
            let txn = self.snapshot().await?;
            let mut hasher = Sha256::new();
            let events = table::load_sorted::<event::Entity, _>(&txn, chain).await?;
            table::hash_table(&mut hasher, "events", &events);
            table::hash_projections(&txn, chain, &mut hasher).await?;
            txn.commit().await?;
            Ok(hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect())
        }
        .instrument(span)
        .await
    }
}

/// Sets the checkpoint to the ancestor, keeping its other fields (head, confirmations, reorg
/// record: the indexer's next commit rewrites them). A chain without one gets a minimal one.
async fn move_checkpoint(
    txn: &DatabaseTransaction,
    chain: i64,
    number: i64,
    hash: String,
) -> Result<()> {
    let updated = checkpoint::Entity::update_many()
        .col_expr(checkpoint::Column::BlockNumber, Expr::value(number))
        .col_expr(checkpoint::Column::BlockHash, Expr::value(hash.clone()))
        .filter(checkpoint::Column::ChainId.eq(chain))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        checkpoint::Entity::insert(checkpoint::ActiveModel {
            chain_id: ActiveValue::Set(chain),
            block_number: ActiveValue::Set(number),
            block_hash: ActiveValue::Set(hash),
            head: ActiveValue::Set(number),
            confirmations: ActiveValue::Set(0),
            last_reorg_block: ActiveValue::Set(None),
            last_reorg_depth: ActiveValue::Set(None),
            updated_at: ActiveValue::Set(now),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}
