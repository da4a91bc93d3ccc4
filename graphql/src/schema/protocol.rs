//! `protocol`: every governed parameter that changed since deployment (`parameters`), and the
//! totals: staked, escrowed per asset, jobs by state, slashed.

use std::collections::BTreeMap;

use async_graphql::{Context, Object, SimpleObject};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::{host, job, parameter, slash, stake};

use super::job::JobState;
use crate::context::req;
use crate::scalars::{Address, BigInt, sum_dec};

pub struct Parameter(pub parameter::Model);

#[Object]
impl Parameter {
    /// Manifest name of the contract, e.g. JobMarketplace.
    async fn contract(&self) -> &str {
        &self.0.contract
    }
    /// The setting, e.g. ProtocolFeeSet or SlashRateSet(1).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The arguments of the event that set it, as JSON text.
    async fn value(&self) -> &str {
        &self.0.value
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

#[derive(SimpleObject)]
pub struct AssetAmount {
    /// The zero address for ETH.
    pub token: Address,
    pub amount: BigInt,
}

#[derive(SimpleObject)]
pub struct StateCount {
    pub state: JobState,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct Protocol {
    pub parameters: Vec<Parameter>,
    /// Active plus unbonding stake of every staker.
    pub total_staked: BigInt,
    pub total_active_stake: BigInt,
    pub total_unbonding: BigInt,
    /// Payments of jobs not yet paid out, refunded or cancelled, per asset.
    pub escrowed: Vec<AssetAmount>,
    /// Every state, with zero counts too.
    pub jobs_by_state: Vec<StateCount>,
    pub job_count: i64,
    pub total_slashed: BigInt,
    pub slash_count: i64,
    pub registered_hosts: i64,
}

#[derive(Default)]
pub struct ProtocolQuery;

#[Object]
impl ProtocolQuery {
    async fn protocol(&self, ctx: &Context<'_>) -> async_graphql::Result<Protocol> {
        let r = req(ctx);
        let c = r.chain_id;
        let parameters = r
            .all(
                "parameters",
                parameter::Entity::find().filter(parameter::Column::ChainId.eq(c)),
            )
            .await?;
        let stakes = r
            .all(
                "stakes",
                stake::Entity::find().filter(stake::Column::ChainId.eq(c)),
            )
            .await?;
        let active = sum_dec(stakes.iter().map(|s| s.active.as_str()));
        let unbonding = sum_dec(stakes.iter().map(|s| s.unbonding.as_str()));
        #[derive(sea_orm::FromQueryResult)]
        struct ByState {
            state: String,
            n: i64,
        }
        let by_state: Vec<ByState> = r
            .raw(
                "jobs",
                "SELECT state, COUNT(*) AS n FROM jobs WHERE chain_id = ? GROUP BY state",
                vec![c.into()],
            )
            .await?;
        #[derive(sea_orm::FromQueryResult)]
        struct Escrow {
            token: String,
            payment: String,
        }
        let open: Vec<Escrow> = r
            .raw(
                "jobs",
                "SELECT token, payment FROM jobs WHERE chain_id = ? AND state IN ('Open', 'Claimed', 'Completed', 'Disputed')",
                vec![c.into()],
            )
            .await?;
        let mut escrow: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in open {
            escrow.entry(e.token).or_default().push(e.payment);
        }
        let slashes = r
            .all(
                "slashes",
                slash::Entity::find().filter(slash::Column::ChainId.eq(c)),
            )
            .await?;
        let registered = r
            .all(
                "hosts",
                host::Entity::find()
                    .filter(host::Column::ChainId.eq(c))
                    .filter(host::Column::Registered.eq(true)),
            )
            .await?
            .len();
        let states = [
            JobState::Open,
            JobState::Claimed,
            JobState::Completed,
            JobState::Disputed,
            JobState::Paid,
            JobState::Expired,
            JobState::Cancelled,
            JobState::Refunded,
        ];
        let count = |s: JobState| {
            by_state
                .iter()
                .find(|b| b.state == s.db())
                .map_or(0, |b| b.n)
        };
        let _ = job::Column::State;
        Ok(Protocol {
            parameters: parameters.into_iter().map(Parameter).collect(),
            total_staked: BigInt(sum_dec([active.as_str(), unbonding.as_str()])),
            total_active_stake: BigInt(active.clone()),
            total_unbonding: BigInt(unbonding.clone()),
            escrowed: escrow
                .into_iter()
                .map(|(token, p)| AssetAmount {
                    token: Address(token),
                    amount: BigInt(sum_dec(p.iter().map(String::as_str))),
                })
                .collect(),
            jobs_by_state: states
                .iter()
                .map(|s| StateCount {
                    state: *s,
                    count: count(*s),
                })
                .collect(),
            job_count: by_state.iter().map(|b| b.n).sum(),
            total_slashed: BigInt(sum_dec(slashes.iter().map(|s| s.amount.as_str()))),
            slash_count: slashes.len() as i64,
            registered_hosts: registered as i64,
        })
    }
}
