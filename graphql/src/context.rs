//! What one request reads through: a read-only transaction (one snapshot on PostgreSQL), the
//! chain it serves, the checkpoint that says which rows are final, and the clock (the latest
//! indexed block's timestamp) that reputation decay and proposal states are judged by. Also the
//! database connection of the server (read-only on SQLite) and the query helpers, each in a
//! tracing span.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    AccessMode, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult, IsolationLevel, QueryFilter,
    QueryOrder, QuerySelect, Select, Statement, TransactionTrait, Value,
};
use tracing::Instrument;
use vouch_indexer::store::entity::{block, checkpoint, event, parameter};

use crate::{Error, Result};

/// ReputationRegistry's default half-life (30 days), used while no `HalfLifeSet` is indexed.
pub const DEFAULT_HALF_LIFE: i64 = 30 * 24 * 3600;

/// Opens the server's pool. SQLite connections are `query_only` (the indexer writes through its
/// own connections, WAL lets both run); PostgreSQL transactions are `READ ONLY` (see
/// [`RequestCtx::open`]), so a role with only `SELECT` is enough.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    let mut opts = if url.starts_with("sqlite://") {
        let path = url.trim_start_matches("sqlite://");
        let file = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(file).exists() {
            return Err(Error::BadInput(format!(
                "the database {url} does not exist: run `vouch index` first or pass --database"
            )));
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.map_sqlx_sqlite_opts(|o| o.pragma("query_only", "ON"));
        opts
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        ConnectOptions::new(url.to_owned())
    } else {
        return Err(Error::BadInput(format!(
            "database URL {url:?} is not supported: use sqlite://FILE or postgres://USER@HOST/DB"
        )));
    };
    opts.sqlx_logging(false)
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(4));
    Ok(Database::connect(opts).await?)
}

/// The state of one request.
pub struct RequestCtx {
    pub tx: Arc<DatabaseTransaction>,
    pub backend: DbBackend,
    pub chain_id: i64,
    pub checkpoint: Option<checkpoint::Model>,
    /// Every checkpoint row as this snapshot sees it, highest chain id first (the
    /// [`crate::cache`] version).
    pub version: Vec<checkpoint::Model>,
    /// Unix seconds of the latest indexed block (the wall clock while nothing is indexed).
    pub now: i64,
    /// ReputationRegistry's half-life in seconds.
    pub half_life: i64,
}

impl RequestCtx {
    /// Begins the request's read-only transaction and reads the checkpoint and the clock.
    /// `chain_id`: the chain to serve; `None` serves the one the checkpoints hold (the highest
    /// chain id when there are several).
    pub async fn open(db: &DatabaseConnection, chain_id: Option<i64>) -> Result<RequestCtx> {
        let backend = db.get_database_backend();
        let tx = match backend {
            DbBackend::Postgres => {
                db.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .instrument(tracing::debug_span!("db.begin"))
                .await?
            }
            // A deferred BEGIN on a query_only connection: one snapshot, never a write lock.
            _ => {
                db.begin()
                    .instrument(tracing::debug_span!("db.begin"))
                    .await?
            }
        };
        // Every chain's checkpoint (a handful of rows): the version of the snapshot for the
        // response cache, and the served chain's among them.
        let version = checkpoints(&tx).await?;
        let cp = version
            .iter()
            .find(|c| chain_id.is_none_or(|id| c.chain_id == id))
            .cloned();
        let chain_id = chain_id.or(cp.as_ref().map(|c| c.chain_id)).unwrap_or(0);
        let now = match &cp {
            Some(c) => latest_time(&tx, chain_id, c.block_number).await?,
            None => None,
        }
        .unwrap_or_else(wall_clock);
        let half_life = half_life(&tx, chain_id).await?;
        Ok(RequestCtx {
            tx: Arc::new(tx),
            backend,
            chain_id,
            checkpoint: cp,
            version,
            now,
            half_life,
        })
    }

    /// A row of block `block` is final when `block <= head - confirmations`.
    pub fn is_final(&self, block: i64) -> bool {
        match &self.checkpoint {
            Some(c) => block <= c.head - c.confirmations,
            None => false,
        }
    }

    pub fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Every row of `select`, in a span named for the table.
    pub async fn all<E: EntityTrait>(
        &self,
        table: &'static str,
        select: Select<E>,
    ) -> Result<Vec<E::Model>> {
        Ok(select
            .all(self.conn())
            .instrument(tracing::debug_span!("db.query", table))
            .await?)
    }

    pub async fn one<E: EntityTrait>(
        &self,
        table: &'static str,
        select: Select<E>,
    ) -> Result<Option<E::Model>> {
        Ok(select
            .one(self.conn())
            .instrument(tracing::debug_span!("db.query", table))
            .await?)
    }

    /// Rows of a raw statement (`?` bind markers, rewritten to `$n` on PostgreSQL).
    pub async fn raw<M: FromQueryResult>(
        &self,
        table: &'static str,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<M>> {
        let stmt =
            Statement::from_sql_and_values(self.backend, bind_markers(self.backend, sql), values);
        Ok(M::find_by_statement(stmt)
            .all(self.conn())
            .instrument(tracing::debug_span!("db.query", table))
            .await?)
    }
}

/// Bind markers as the backend spells them: `?` for SQLite, `$1, $2, ...` for PostgreSQL.
pub fn bind_markers(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every checkpoint row, highest chain id first: the database's version (see [`crate::cache`]).
pub async fn checkpoints(conn: &impl ConnectionTrait) -> Result<Vec<checkpoint::Model>> {
    Ok(checkpoint::Entity::find()
        .order_by_desc(checkpoint::Column::ChainId)
        .all(conn)
        .instrument(tracing::debug_span!("db.query", table = "checkpoints"))
        .await?)
}

fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The timestamp of the checkpoint's block (from the recent-block window), else of the latest
/// indexed event.
async fn latest_time(tx: &DatabaseTransaction, chain_id: i64, number: i64) -> Result<Option<i64>> {
    let b = block::Entity::find()
        .filter(block::Column::ChainId.eq(chain_id))
        .filter(block::Column::Number.lte(number))
        .order_by_desc(block::Column::Number)
        .one(tx)
        .instrument(tracing::debug_span!("db.query", table = "blocks"))
        .await?;
    if let Some(b) = b {
        return Ok(Some(b.timestamp));
    }
    #[derive(FromQueryResult)]
    struct Max {
        t: Option<i64>,
    }
    let max = event::Entity::find()
        .select_only()
        .column_as(Expr::col(event::Column::BlockTimestamp).max(), "t")
        .filter(event::Column::ChainId.eq(chain_id))
        .into_model::<Max>()
        .one(tx)
        .instrument(tracing::debug_span!("db.query", table = "events"))
        .await?;
    Ok(max.and_then(|m| m.t))
}

/// The half-life from the latest `HalfLifeSet`, else the default.
async fn half_life(tx: &DatabaseTransaction, chain_id: i64) -> Result<i64> {
    let row = parameter::Entity::find()
        .filter(parameter::Column::ChainId.eq(chain_id))
        .filter(parameter::Column::Contract.eq("ReputationRegistry"))
        .filter(parameter::Column::Name.eq("HalfLifeSet"))
        .one(tx)
        .instrument(tracing::debug_span!("db.query", table = "parameters"))
        .await?;
    Ok(row
        .and_then(|r| first_number(&r.value))
        .filter(|h| *h > 0)
        .unwrap_or(DEFAULT_HALF_LIFE))
}

/// The first numeric value of a parameter's JSON object (numbers are decimal strings there).
pub fn first_number(json: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.as_object()?.values().find_map(|v| match v {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    })
}

/// The request state from a resolver's context.
pub fn req<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a RequestCtx {
    ctx.data_unchecked::<RequestCtx>()
}
