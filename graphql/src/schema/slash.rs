//! Slashes (Slashing's `Slashed`) and proven equivocations.

use async_graphql::{Context, InputObject, Object};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::{equivocation, slash};

use super::host::Host;
use super::job::Job;
use super::text_enum;
use crate::context::req;
use crate::limits::page_cost;
use crate::loaders::{HostOf, JobId, loaders};
use crate::pagination::{Conn, Direction, K, PageArgs, sql_page};
use crate::scalars::{Address, BigInt, Bytes32, Time};

text_enum!(
    /// Why a host was slashed.
    SlashReason { MissedDeadline, DisputeUpheld, Equivocation }
);

pub struct Slash(pub slash::Model);

#[Object]
impl Slash {
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
    async fn reason(&self) -> Option<SlashReason> {
        SlashReason::parse(&self.0.reason)
    }
    async fn job_id(&self) -> i64 {
        self.0.job_id
    }
    async fn job(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Job>> {
        Ok(loaders(ctx).load_one(JobId(self.0.job_id)).await?.map(Job))
    }
    /// Taken from the host's stake (VOUCH wei).
    async fn amount(&self) -> BigInt {
        BigInt(self.0.amount.clone())
    }
    /// The renter (deadline, dispute) or the reporter (equivocation).
    async fn beneficiary(&self) -> Address {
        Address(self.0.beneficiary.clone())
    }
    async fn beneficiary_share(&self) -> BigInt {
        BigInt(self.0.beneficiary_share.clone())
    }
    async fn treasury_share(&self) -> BigInt {
        BigInt(self.0.treasury_share.clone())
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

pub struct Equivocation(pub equivocation::Model);

#[Object]
impl Equivocation {
    async fn job_id(&self) -> i64 {
        self.0.job_id
    }
    async fn job(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Job>> {
        Ok(loaders(ctx).load_one(JobId(self.0.job_id)).await?.map(Job))
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
    async fn reporter(&self) -> Address {
        Address(self.0.reporter.clone())
    }
    async fn output_a(&self) -> Bytes32 {
        Bytes32(self.0.output_a.clone())
    }
    async fn output_b(&self) -> Bytes32 {
        Bytes32(self.0.output_b.clone())
    }
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32(self.0.tx_hash.clone())
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

#[derive(InputObject, Default)]
pub struct SlashFilter {
    pub host: Option<Address>,
    pub reason: Option<SlashReason>,
    pub job_id: Option<i64>,
}

#[derive(Default)]
pub struct SlashQuery;

#[Object]
impl SlashQuery {
    /// Slashes, newest first by default.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn slashes(
        &self,
        ctx: &Context<'_>,
        filter: Option<SlashFilter>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Slash>> {
        let r = req(ctx);
        let f = filter.unwrap_or_default();
        let mut q = slash::Entity::find().filter(slash::Column::ChainId.eq(r.chain_id));
        if let Some(h) = f.host {
            q = q.filter(slash::Column::Host.eq(h.0));
        }
        if let Some(reason) = f.reason {
            q = q.filter(slash::Column::Reason.eq(reason.db()));
        }
        if let Some(j) = f.job_id {
            q = q.filter(slash::Column::JobId.eq(j));
        }
        Ok(sql_page(
            r,
            "slashes",
            q,
            vec![
                Expr::col(slash::Column::Block).into(),
                Expr::col(slash::Column::LogIndex).into(),
            ],
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            |s| vec![K::I(s.block), K::I(s.log_index)],
            Slash,
        )
        .await?)
    }

    /// Proven equivocations, newest first by default.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn equivocations(
        &self,
        ctx: &Context<'_>,
        host: Option<Address>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Equivocation>> {
        let r = req(ctx);
        let mut q =
            equivocation::Entity::find().filter(equivocation::Column::ChainId.eq(r.chain_id));
        if let Some(h) = host {
            q = q.filter(equivocation::Column::Host.eq(h.0));
        }
        Ok(sql_page(
            r,
            "equivocations",
            q,
            vec![
                Expr::col(equivocation::Column::Block).into(),
                Expr::col(equivocation::Column::JobId).into(),
            ],
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            |e| vec![K::I(e.block), K::I(e.job_id)],
            Equivocation,
        )
        .await?)
    }
}
