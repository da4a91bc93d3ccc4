//! Batches (ProofSystem's `BatchProven`, one per proof transaction) and the jobs each proved.

use async_graphql::{Context, Object};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::batch;

use super::host::Host;
use super::job::Job;
use crate::context::req;
use crate::limits::page_cost;
use crate::loaders::{HostOf, JobId, loaders};
use crate::pagination::{Conn, Direction, K, PageArgs, sql_page};
use crate::scalars::{Address, Bytes32, Time};

pub struct Batch(pub batch::Model);

impl Batch {
    fn ids(&self) -> Vec<i64> {
        serde_json::from_str::<Vec<serde_json::Value>>(&self.0.job_ids)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => s.parse().ok(),
                serde_json::Value::Number(n) => n.as_i64(),
                _ => None,
            })
            .collect()
    }
}

#[Object]
impl Batch {
    /// The proof transaction.
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32(self.0.tx_hash.clone())
    }
    async fn log_index(&self) -> i64 {
        self.0.log_index
    }
    async fn host(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Host>> {
        Ok(loaders(ctx)
            .load_one(HostOf(self.0.host.clone()))
            .await?
            .map(|h| Host(h, None)))
    }
    async fn host_address(&self) -> Address {
        Address(self.0.host.clone())
    }
    /// Host or operator that sent the proof.
    async fn submitter(&self) -> Address {
        Address(self.0.submitter.clone())
    }
    /// Circuit batch size (1, 16 or 64).
    async fn batch_size(&self) -> i64 {
        self.0.batch_size
    }
    async fn circuit_version(&self) -> i64 {
        self.0.circuit_version
    }
    async fn job_count(&self) -> i64 {
        self.0.job_count
    }
    async fn proof_hash(&self) -> Bytes32 {
        Bytes32(self.0.proof_hash.clone())
    }
    async fn job_ids(&self) -> Vec<i64> {
        self.ids()
    }
    /// The jobs the proof completed, in the batch's order.
    async fn jobs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Job>> {
        let ids = self.ids();
        let found = loaders(ctx)
            .load_many(ids.iter().map(|i| JobId(*i)))
            .await?;
        Ok(ids
            .iter()
            .filter_map(|i| found.get(&JobId(*i)).cloned().map(Job))
            .collect())
    }
    async fn time(&self) -> Time {
        Time::at(self.0.timestamp)
    }
    /// Block of the row's last change.
    async fn block(&self) -> i64 {
        self.0.block
    }
    /// The row's block is at least `confirmations` deep (see indexerStatus).
    #[graphql(name = "final")]
    async fn is_final(&self, ctx: &async_graphql::Context<'_>) -> bool {
        crate::context::req(ctx).is_final(self.0.block)
    }
}

#[derive(Default)]
pub struct BatchQuery;

#[Object]
impl BatchQuery {
    /// Proof batches, newest first by default; optionally of one host.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn batches(
        &self,
        ctx: &Context<'_>,
        host: Option<Address>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Batch>> {
        let r = req(ctx);
        let mut q = batch::Entity::find().filter(batch::Column::ChainId.eq(r.chain_id));
        if let Some(h) = host {
            q = q.filter(batch::Column::Host.eq(h.0));
        }
        Ok(sql_page(
            r,
            "batches",
            q,
            vec![
                Expr::col(batch::Column::Block).into(),
                Expr::col(batch::Column::LogIndex).into(),
            ],
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            |b| vec![K::I(b.block), K::I(b.log_index)],
            Batch,
        )
        .await?)
    }
}
