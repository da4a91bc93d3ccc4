//! The durable result queue: every result intake accepted, its signature and where it is on its
//! way on-chain. SQLite by default, PostgreSQL optional; the same sea-orm migrations for both.
//!
//! The queue owns two guarantees:
//! - durability: [`Queue::insert`] returns only after the row is committed (SQLite in WAL mode
//!   with `synchronous=FULL`, PostgreSQL's default commit), so intake replies only after that;
//! - one output per job: the job id is the primary key and a row's output hash never changes,
//!   so once an output is stored no other can be stored for that job, across restarts. The
//!   signature intake hands out is the stored one, so a duplicate gets the same bytes back.
//!
//! States: `accepted -> proving -> submitted -> confirmed`, or `failed` with a reason. After a
//! restart [`Queue::recover`] puts `proving` and `submitted` rows back to `accepted`: the
//! service then checks each job on chain before proving it again (docs/keeper.md).

mod entity;
mod migration;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{B256, Bytes};
use sea_orm::sea_query::OnConflict;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sea_orm_migration::MigratorTrait;
use serde::{Deserialize, Serialize};

use entity::{Column, Entity};
pub use migration::Migrator;

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The database URL is neither SQLite nor PostgreSQL.
    #[error("database URL {url} is not supported: use sqlite://FILE or postgres://USER@HOST/DB")]
    UnsupportedUrl { url: String },
    /// The database refused or failed an operation.
    #[error("queue database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A stored row does not read back (written by something else, or a newer version).
    #[error("queue row for job {job_id} is unreadable: {reason}")]
    Corrupt { job_id: String, reason: String },
}

/// The queue's `Result` alias.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// Where a result is on its way on-chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultState {
    /// Durable, signed, waiting for a batch.
    Accepted,
    /// In a batch being proven.
    Proving,
    /// Its batch's transaction was sent (`tx_hash` set).
    Submitted,
    /// Completed on chain, confirmations deep (`tx_hash` set).
    Confirmed,
    /// Will not be completed by this keeper (`reason` says why).
    Failed,
}

impl ResultState {
    /// Every state, in order.
    pub const ALL: [ResultState; 5] = [
        Self::Accepted,
        Self::Proving,
        Self::Submitted,
        Self::Confirmed,
        Self::Failed,
    ];

    /// The state's name as stored and as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Proving => "proving",
            Self::Submitted => "submitted",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// One result in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedResult {
    pub job_id: B256,
    pub model_hash: B256,
    pub input_hash: B256,
    pub output_hash: B256,
    /// The job's deadline, unix seconds.
    pub deadline: u64,
    /// The operator's EIP-712 `Result(jobId, outputHash)` signature (65 bytes).
    pub signature: Bytes,
    pub state: ResultState,
    pub tx_hash: Option<B256>,
    pub reason: Option<String>,
    /// Unix seconds when intake accepted it.
    pub accepted_at: u64,
    /// A verifiable model's job: what the pipeline proves (one job per transaction through
    /// `submitInference`); `None` for the commitment tier (batched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceJob>,
}

/// The inference a verifiable model's job is completed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceJob {
    /// The model's name (circuits/models).
    pub model: String,
    /// The renter's input, as given (EZKL quantizes it; its Poseidon is the job's inputHash).
    pub input: Vec<f64>,
    /// The quantized output the witness computed (its Poseidon is the output hash).
    pub output: Vec<i128>,
}

// Inputs come from JSON numbers, which are never NaN, so equality is total.
impl Eq for InferenceJob {}

/// What [`Queue::insert`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The result is new and now durable.
    New(QueuedResult),
    /// The same output was stored before: the stored row (with its signature) is returned.
    Duplicate(QueuedResult),
    /// Another output was stored before for this job: nothing was written.
    Conflict(QueuedResult),
}

/// The durable queue over one database. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Queue {
    db: DatabaseConnection,
}

impl Queue {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://...` and runs the
    /// migrations.
    #[tracing::instrument(name = "queue_open", skip_all)]
    pub async fn open(url: &str) -> Result<Self> {
        let mut opts = if url.starts_with("sqlite:") {
            let mut opts = ConnectOptions::new(with_create_mode(url));
            // FULL: a reply follows a commit that survives a power loss, not only a crash.
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(std::time::Duration::from_secs(10))
            });
            opts
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            ConnectOptions::new(url)
        } else {
            return Err(QueueError::UnsupportedUrl { url: url.into() });
        };
        opts.sqlx_logging(false);
        let db = Database::connect(opts).await?;
        Migrator::up(&db, None).await?;
        Ok(Self { db })
    }

    /// Stores `result` unless its job has a row already; says which happened. Atomic: of two
    /// concurrent inserts for one job exactly one is `New`.
    #[tracing::instrument(name = "queue_insert", skip_all, fields(job_id = %result.job_id))]
    pub async fn insert(&self, result: &QueuedResult) -> Result<Inserted> {
        let row = entity::ActiveModel {
            job_id: ActiveValue::Set(hex(&result.job_id)),
            model_hash: ActiveValue::Set(hex(&result.model_hash)),
            input_hash: ActiveValue::Set(hex(&result.input_hash)),
            output_hash: ActiveValue::Set(hex(&result.output_hash)),
            deadline: ActiveValue::Set(int(result.deadline)),
            signature: ActiveValue::Set(result.signature.to_string()),
            state: ActiveValue::Set(result.state.as_str().into()),
            tx_hash: ActiveValue::Set(result.tx_hash.as_ref().map(hex)),
            reason: ActiveValue::Set(result.reason.clone()),
            accepted_at: ActiveValue::Set(int(result.accepted_at)),
            updated_at: ActiveValue::Set(now_ms()),
            inference: ActiveValue::Set(
                result
                    .inference
                    .as_ref()
                    .map(|i| serde_json::to_string(i).expect("an inference serializes")),
            ),
        };
        let inserted = Entity::insert(row)
            .on_conflict(OnConflict::column(Column::JobId).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        let stored = self
            .get(result.job_id)
            .await?
            .expect("the row was just inserted or existed");
        Ok(if inserted == 1 {
            Inserted::New(stored)
        } else if stored.output_hash == result.output_hash {
            Inserted::Duplicate(stored)
        } else {
            Inserted::Conflict(stored)
        })
    }

    /// The result of `job_id`, if intake ever accepted one.
    #[tracing::instrument(name = "queue_get", skip_all, fields(%job_id))]
    pub async fn get(&self, job_id: B256) -> Result<Option<QueuedResult>> {
        Entity::find_by_id(hex(&job_id))
            .one(&self.db)
            .await?
            .map(decode)
            .transpose()
    }

    /// Up to `limit` results in `state`, earliest deadline first.
    #[tracing::instrument(name = "queue_in_state", skip_all, fields(state = state.as_str()))]
    pub async fn in_state(&self, state: ResultState, limit: u64) -> Result<Vec<QueuedResult>> {
        Entity::find()
            .filter(Column::State.eq(state.as_str()))
            .order_by_asc(Column::Deadline)
            .order_by_asc(Column::JobId)
            .limit(limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Moves `job_ids` to `state`, setting `tx_hash` and `reason` (both replaced, `None`
    /// clears). Returns how many rows changed.
    #[tracing::instrument(name = "queue_set_state", skip_all, fields(jobs = job_ids.len(), state = state.as_str()))]
    pub async fn set_state(
        &self,
        job_ids: &[B256],
        state: ResultState,
        tx_hash: Option<B256>,
        reason: Option<&str>,
    ) -> Result<u64> {
        if job_ids.is_empty() {
            return Ok(0);
        }
        let updated = Entity::update_many()
            .col_expr(Column::State, state.as_str().into())
            .col_expr(Column::TxHash, tx_hash.as_ref().map(hex).into())
            .col_expr(Column::Reason, reason.map(str::to_owned).into())
            .col_expr(Column::UpdatedAt, now_ms().into())
            .filter(Column::JobId.is_in(job_ids.iter().map(hex)))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected)
    }

    /// After a restart: every `proving` or `submitted` result back to `accepted` (the service
    /// checks the chain before proving it again). Returns how many moved.
    #[tracing::instrument(name = "queue_recover", skip_all)]
    pub async fn recover(&self) -> Result<u64> {
        let updated = Entity::update_many()
            .col_expr(Column::State, ResultState::Accepted.as_str().into())
            .col_expr(Column::UpdatedAt, now_ms().into())
            .filter(Column::State.is_in([
                ResultState::Proving.as_str(),
                ResultState::Submitted.as_str(),
            ]))
            .exec(&self.db)
            .await?;
        Ok(updated.rows_affected)
    }

    /// When intake accepted the oldest result not yet settled (`accepted`, `proving` or
    /// `submitted`), unix seconds; None when every result is `confirmed` or `failed`.
    #[tracing::instrument(name = "queue_oldest_unsettled", skip_all)]
    pub async fn oldest_unsettled(&self) -> Result<Option<u64>> {
        let oldest = Entity::find()
            .filter(Column::State.is_in([
                ResultState::Accepted.as_str(),
                ResultState::Proving.as_str(),
                ResultState::Submitted.as_str(),
            ]))
            .order_by_asc(Column::AcceptedAt)
            .limit(1)
            .one(&self.db)
            .await?;
        oldest
            .map(|row| {
                u64::try_from(row.accepted_at).map_err(|e| QueueError::Corrupt {
                    job_id: row.job_id.clone(),
                    reason: format!("accepted_at: {e}"),
                })
            })
            .transpose()
    }

    /// How many results are in each state (every state present, zero included).
    #[tracing::instrument(name = "queue_depth", skip_all)]
    pub async fn depth(&self) -> Result<BTreeMap<ResultState, u64>> {
        let mut depth = BTreeMap::new();
        for state in ResultState::ALL {
            let n = Entity::find()
                .filter(Column::State.eq(state.as_str()))
                .count(&self.db)
                .await?;
            depth.insert(state, n);
        }
        Ok(depth)
    }
}

fn decode(row: entity::Model) -> Result<QueuedResult> {
    let corrupt = |reason: String| QueueError::Corrupt {
        job_id: row.job_id.clone(),
        reason,
    };
    let b256 = |field: &str, v: &str| {
        v.parse::<B256>()
            .map_err(|e| corrupt(format!("{field} {v:?}: {e}")))
    };
    Ok(QueuedResult {
        job_id: b256("job_id", &row.job_id)?,
        model_hash: b256("model_hash", &row.model_hash)?,
        input_hash: b256("input_hash", &row.input_hash)?,
        output_hash: b256("output_hash", &row.output_hash)?,
        deadline: u64::try_from(row.deadline).map_err(|e| corrupt(format!("deadline: {e}")))?,
        signature: row
            .signature
            .parse()
            .map_err(|e| corrupt(format!("signature: {e}")))?,
        state: ResultState::parse(&row.state)
            .ok_or_else(|| corrupt(format!("state {:?}", row.state)))?,
        tx_hash: row
            .tx_hash
            .as_deref()
            .map(|h| b256("tx_hash", h))
            .transpose()?,
        reason: row.reason.clone(),
        accepted_at: u64::try_from(row.accepted_at)
            .map_err(|e| corrupt(format!("accepted_at: {e}")))?,
        inference: row
            .inference
            .as_deref()
            .map(|json| serde_json::from_str(json).map_err(|e| corrupt(format!("inference: {e}"))))
            .transpose()?,
    })
}

fn hex(value: &B256) -> String {
    format!("{value:#x}")
}

/// Unix seconds as the schema stores them (BIGINT); none reaches 2^63.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
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
