//! The DataLoaders that link objects to their neighbours (job.host, host.jobs, batch.jobs,
//! job.batch, job.dispute, job.verifiable, dispute.job, slash.host, host.stake, host.reputation,
//! proposal.votes): every key asked for while one level of a page resolves is loaded by one
//! query, so a page never costs a query per row. One loader per request, over the request's
//! read-only transaction.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, Value};
use tracing::Instrument;
use vouch_indexer::store::entity::{
    batch, dispute, host, job, reputation, slash, stake, verifiable_model, vote,
};

use crate::Error;
use crate::context::RequestCtx;

/// The loader of one request (keys below select the table).
#[derive(Clone)]
pub struct Db {
    tx: Arc<DatabaseTransaction>,
    backend: DbBackend,
    chain_id: i64,
}

pub type Loaders = DataLoader<Db>;

/// How long a loader collects keys before it queries. async-graphql's default (1 ms) split the
/// keys of one page level into several batches when the resolving thread was preempted on a
/// loaded machine (a page of 100 proven jobs cost 30-33 statements instead of 10;
/// `graphql/tests/query_count.rs`).
pub const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

pub fn for_request(ctx: &RequestCtx) -> Loaders {
    DataLoader::new(
        Db {
            tx: ctx.tx.clone(),
            backend: ctx.backend,
            chain_id: ctx.chain_id,
        },
        tokio::spawn,
    )
    .delay(BATCH_WINDOW)
}

type Res<K, V> = Result<HashMap<K, V>, Arc<Error>>;

fn err(e: sea_orm::DbErr) -> Arc<Error> {
    Arc::new(Error::Db(e))
}

/// A job by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobId(pub i64);
/// A host's `hosts` row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostOf(pub String);
/// A staker's `stakes` row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StakeOf(pub String);
/// The batch of a proof transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BatchOf(pub String);
/// A host's latest reputation change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LatestReputation(pub String);
/// A host's newest `n` jobs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostJobs(pub String, pub u32);
/// A host's slashes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostSlashes(pub String);
/// The dispute of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DisputeOf(pub i64);
/// The `verifiable_models` row of a model hash.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifiableModelOf(pub String);
/// The votes of a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VotesOf(pub String);

impl Db {
    async fn all<E: EntityTrait>(
        &self,
        table: &'static str,
        q: sea_orm::Select<E>,
    ) -> Result<Vec<E::Model>, Arc<Error>> {
        q.all(&*self.tx)
            .instrument(tracing::debug_span!("db.load", table))
            .await
            .map_err(err)
    }

    /// Rows of `table` ranked per `partition` by `order` (newest first), the first `n` of each.
    async fn top_per<M: sea_orm::FromQueryResult>(
        &self,
        table: &'static str,
        partition: &str,
        order: &str,
        keys: &[String],
        n: u32,
    ) -> Result<Vec<M>, Arc<Error>> {
        let marks = vec!["?"; keys.len()].join(", ");
        let sql = format!(
            "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {order}) AS rn \
             FROM {table} t WHERE chain_id = ? AND {partition} IN ({marks})) ranked WHERE rn <= ?"
        );
        let mut values: Vec<Value> = vec![self.chain_id.into()];
        values.extend(keys.iter().map(|k| Value::from(k.clone())));
        values.push(i64::from(n).into());
        let stmt = sea_orm::Statement::from_sql_and_values(
            self.backend,
            crate::context::bind_markers(self.backend, &sql),
            values,
        );
        M::find_by_statement(stmt)
            .all(&*self.tx)
            .instrument(tracing::debug_span!("db.load", table))
            .await
            .map_err(err)
    }
}

/// The latest reputation row of each host of `hosts` (all hosts when `None`), by one query.
pub async fn latest_reputations(
    tx: &DatabaseTransaction,
    backend: DbBackend,
    chain_id: i64,
    hosts: Option<&[String]>,
) -> Result<Vec<reputation::Model>, Error> {
    let (filter, mut values): (String, Vec<Value>) = match hosts {
        Some(h) => (
            format!(" AND host IN ({})", vec!["?"; h.len()].join(", ")),
            h.iter().map(|k| Value::from(k.clone())).collect(),
        ),
        None => (String::new(), vec![]),
    };
    values.insert(0, chain_id.into());
    let sql = format!(
        "SELECT chain_id, tx_hash, log_index, host, outcome, weight, old_score, new_score, block, timestamp FROM \
         (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY host ORDER BY block DESC, log_index DESC) AS rn \
         FROM reputation_history t WHERE chain_id = ?{filter}) ranked WHERE rn = 1"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(
        backend,
        crate::context::bind_markers(backend, &sql),
        values,
    );
    use sea_orm::FromQueryResult;
    Ok(reputation::Model::find_by_statement(stmt)
        .all(tx)
        .instrument(tracing::debug_span!(
            "db.query",
            table = "reputation_history"
        ))
        .await?)
}

impl Loader<JobId> for Db {
    type Value = job::Model;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[JobId]) -> Res<JobId, job::Model> {
        let q = job::Entity::find()
            .filter(job::Column::ChainId.eq(self.chain_id))
            .filter(job::Column::JobId.is_in(keys.iter().map(|k| k.0)));
        Ok(self
            .all("jobs", q)
            .await?
            .into_iter()
            .map(|j| (JobId(j.job_id), j))
            .collect())
    }
}

impl Loader<VerifiableModelOf> for Db {
    type Value = verifiable_model::Model;
    type Error = Arc<Error>;
    async fn load(
        &self,
        keys: &[VerifiableModelOf],
    ) -> Res<VerifiableModelOf, verifiable_model::Model> {
        let q = verifiable_model::Entity::find()
            .filter(verifiable_model::Column::ChainId.eq(self.chain_id))
            .filter(verifiable_model::Column::ModelHash.is_in(keys.iter().map(|k| k.0.clone())));
        Ok(self
            .all("verifiable_models", q)
            .await?
            .into_iter()
            .map(|m| (VerifiableModelOf(m.model_hash.clone()), m))
            .collect())
    }
}

impl Loader<HostOf> for Db {
    type Value = host::Model;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[HostOf]) -> Res<HostOf, host::Model> {
        let q = host::Entity::find()
            .filter(host::Column::ChainId.eq(self.chain_id))
            .filter(host::Column::Address.is_in(keys.iter().map(|k| k.0.clone())));
        Ok(self
            .all("hosts", q)
            .await?
            .into_iter()
            .map(|h| (HostOf(h.address.clone()), h))
            .collect())
    }
}

impl Loader<StakeOf> for Db {
    type Value = stake::Model;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[StakeOf]) -> Res<StakeOf, stake::Model> {
        let q = stake::Entity::find()
            .filter(stake::Column::ChainId.eq(self.chain_id))
            .filter(stake::Column::Address.is_in(keys.iter().map(|k| k.0.clone())));
        Ok(self
            .all("stakes", q)
            .await?
            .into_iter()
            .map(|s| (StakeOf(s.address.clone()), s))
            .collect())
    }
}

impl Loader<BatchOf> for Db {
    type Value = batch::Model;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[BatchOf]) -> Res<BatchOf, batch::Model> {
        let q = batch::Entity::find()
            .filter(batch::Column::ChainId.eq(self.chain_id))
            .filter(batch::Column::TxHash.is_in(keys.iter().map(|k| k.0.clone())));
        Ok(self
            .all("batches", q)
            .await?
            .into_iter()
            .map(|b| (BatchOf(b.tx_hash.clone()), b))
            .collect())
    }
}

impl Loader<LatestReputation> for Db {
    type Value = reputation::Model;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[LatestReputation]) -> Res<LatestReputation, reputation::Model> {
        let hosts: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let rows = latest_reputations(&self.tx, self.backend, self.chain_id, Some(&hosts))
            .await
            .map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|r| (LatestReputation(r.host.clone()), r))
            .collect())
    }
}

impl Loader<HostJobs> for Db {
    type Value = Vec<job::Model>;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[HostJobs]) -> Res<HostJobs, Vec<job::Model>> {
        let mut by_n: HashMap<u32, Vec<String>> = HashMap::new();
        for k in keys {
            by_n.entry(k.1).or_default().push(k.0.clone());
        }
        let mut out: HashMap<HostJobs, Vec<job::Model>> =
            keys.iter().map(|k| (k.clone(), vec![])).collect();
        for (n, hosts) in by_n {
            #[derive(sea_orm::FromQueryResult)]
            struct Id {
                job_id: i64,
                host: Option<String>,
            }
            let ids: Vec<Id> = self
                .top_per("jobs", "host", "job_id DESC", &hosts, n)
                .await?;
            let jobs: HashMap<i64, job::Model> = self
                .load(&ids.iter().map(|i| JobId(i.job_id)).collect::<Vec<_>>())
                .await?
                .into_iter()
                .map(|(k, v)| (k.0, v))
                .collect();
            for id in ids {
                if let (Some(h), Some(j)) = (id.host, jobs.get(&id.job_id))
                    && let Some(list) = out.get_mut(&HostJobs(h, n))
                {
                    list.push(j.clone());
                }
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|j| std::cmp::Reverse(j.job_id));
        }
        Ok(out)
    }
}

impl Loader<HostSlashes> for Db {
    type Value = Vec<slash::Model>;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[HostSlashes]) -> Res<HostSlashes, Vec<slash::Model>> {
        let q = slash::Entity::find()
            .filter(slash::Column::ChainId.eq(self.chain_id))
            .filter(slash::Column::Host.is_in(keys.iter().map(|k| k.0.clone())));
        let mut out: HashMap<HostSlashes, Vec<slash::Model>> =
            keys.iter().map(|k| (k.clone(), vec![])).collect();
        for s in self.all("slashes", q).await? {
            out.entry(HostSlashes(s.host.clone())).or_default().push(s);
        }
        for list in out.values_mut() {
            list.sort_by_key(|s| (s.block, s.log_index));
        }
        Ok(out)
    }
}

impl Loader<DisputeOf> for Db {
    type Value = dispute::Model;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[DisputeOf]) -> Res<DisputeOf, dispute::Model> {
        let q = dispute::Entity::find()
            .filter(dispute::Column::ChainId.eq(self.chain_id))
            .filter(dispute::Column::JobId.is_in(keys.iter().map(|k| k.0)));
        Ok(self
            .all("disputes", q)
            .await?
            .into_iter()
            .map(|d| (DisputeOf(d.job_id), d))
            .collect())
    }
}

impl Loader<VotesOf> for Db {
    type Value = Vec<vote::Model>;
    type Error = Arc<Error>;
    async fn load(&self, keys: &[VotesOf]) -> Res<VotesOf, Vec<vote::Model>> {
        let q = vote::Entity::find()
            .filter(vote::Column::ChainId.eq(self.chain_id))
            .filter(vote::Column::ProposalId.is_in(keys.iter().map(|k| k.0.clone())));
        let mut out: HashMap<VotesOf, Vec<vote::Model>> =
            keys.iter().map(|k| (k.clone(), vec![])).collect();
        for v in self.all("votes", q).await? {
            out.entry(VotesOf(v.proposal_id.clone()))
                .or_default()
                .push(v);
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| (a.block, &a.voter).cmp(&(b.block, &b.voter)));
        }
        Ok(out)
    }
}

/// The request's loaders from a resolver's context.
pub fn loaders<'a>(ctx: &'a async_graphql::Context<'_>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}
