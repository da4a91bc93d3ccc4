//! Disputes (Slashing's `disputes`, one per disputed job).

use async_graphql::{Context, InputObject, Object};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::dispute;

use super::host::Host;
use super::job::Job;
use super::text_enum;
use crate::context::req;
use crate::limits::page_cost;
use crate::loaders::{HostOf, JobId, loaders};
use crate::pagination::{Conn, Direction, K, PageArgs, sql_page};
use crate::scalars::{Address, BigInt, Bytes32, Time};

text_enum!(
    /// Where a dispute stands.
    DisputeStatus { Open, Upheld, Rejected, Lapsed }
);

pub struct Dispute(pub dispute::Model);

#[Object]
impl Dispute {
    async fn job_id(&self) -> i64 {
        self.0.job_id
    }
    async fn job(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Job>> {
        Ok(loaders(ctx).load_one(JobId(self.0.job_id)).await?.map(Job))
    }
    async fn renter(&self) -> Address {
        Address(self.0.renter.clone())
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
    /// The renter's bond (ETH wei).
    async fn bond(&self) -> BigInt {
        BigInt(self.0.bond.clone())
    }
    async fn evidence_hash(&self) -> Bytes32 {
        Bytes32(self.0.evidence_hash.clone())
    }
    async fn opened_at(&self) -> Time {
        Time::at(self.0.opened_at)
    }
    /// The ruling deadline.
    async fn rule_by(&self) -> Time {
        Time::at(self.0.rule_by)
    }
    async fn status(&self) -> Option<DisputeStatus> {
        DisputeStatus::parse(&self.0.status)
    }
    async fn resolved_at(&self) -> Option<Time> {
        Time::opt(self.0.resolved_at)
    }
    /// The arbiter, or who closed a lapsed dispute.
    async fn resolved_by(&self) -> Option<Address> {
        self.0.resolved_by.clone().map(Address)
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

#[derive(InputObject, Default)]
pub struct DisputeFilter {
    pub host: Option<Address>,
    pub renter: Option<Address>,
    pub status: Option<DisputeStatus>,
}

#[derive(Default)]
pub struct DisputeQuery;

#[Object]
impl DisputeQuery {
    /// Disputes by job id, newest first by default.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn disputes(
        &self,
        ctx: &Context<'_>,
        filter: Option<DisputeFilter>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Dispute>> {
        let r = req(ctx);
        let f = filter.unwrap_or_default();
        let mut q = dispute::Entity::find().filter(dispute::Column::ChainId.eq(r.chain_id));
        if let Some(h) = f.host {
            q = q.filter(dispute::Column::Host.eq(h.0));
        }
        if let Some(a) = f.renter {
            q = q.filter(dispute::Column::Renter.eq(a.0));
        }
        if let Some(s) = f.status {
            q = q.filter(dispute::Column::Status.eq(s.db()));
        }
        Ok(sql_page(
            r,
            "disputes",
            q,
            vec![Expr::col(dispute::Column::JobId).into()],
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            |d| vec![K::I(d.job_id)],
            Dispute,
        )
        .await?)
    }
}
