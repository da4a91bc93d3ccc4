//! Reputation: a host's score as ReputationRegistry's `scoreOf` computes it, its history as a
//! time series, and stake history (from Staking's events of the host).
//!
//! The score of a host is the `new_score` of its latest `reputation_history` row (500 when it
//! has none), decayed to the latest indexed block's timestamp with the half-life (the latest
//! `HalfLifeSet`, else 30 days): exactly the contract's `decay`, so it equals `scoreOf` at
//! that block.

use std::str::FromStr;

use alloy::primitives::U256;
use async_graphql::{Context, Enum, Object};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::{event, reputation};

use crate::context::req;
use crate::limits::page_cost;
use crate::pagination::{Conn, Direction, K, PageArgs, memory_page, sql_page};
use crate::scalars::{Address, BigInt, Bytes32, Time};

pub const NEUTRAL: i64 = 500;
const LN2: u128 = 693_147_180_559_945_309;
const ONE: u128 = 1_000_000_000_000_000_000;

/// `ReputationRegistry.decay`: the distance to 500 halves every `half_life`; whole half-lives
/// exactly, the fraction by the contract's 8-term series of e^-x; rounds toward 500.
pub fn decay(score: i64, elapsed: i64, half_life: i64) -> i64 {
    if score == NEUTRAL || elapsed <= 0 || half_life <= 0 {
        return score;
    }
    let above = score > NEUTRAL;
    let distance = (score - NEUTRAL).unsigned_abs() as u128;
    let (elapsed, half_life) = (elapsed as u128, half_life as u128);
    let halvings = elapsed / half_life;
    if halvings >= 16 {
        return NEUTRAL;
    }
    let x = (elapsed % half_life) * LN2 / half_life;
    let mut term = ONE;
    let mut sum = ONE;
    for k in 1..=8u128 {
        term = term * x / ONE / k;
        if k % 2 == 1 {
            sum -= term;
        } else {
            sum += term;
        }
    }
    let d = (distance * sum / (ONE << halvings)) as i64;
    if above { NEUTRAL + d } else { NEUTRAL - d }
}

/// The score now of a host whose latest change is `latest`.
pub fn score_now(latest: Option<&reputation::Model>, now: i64, half_life: i64) -> i64 {
    match latest {
        Some(r) => decay(r.new_score, now - r.timestamp, half_life),
        None => NEUTRAL,
    }
}

/// One reputation change (ReputationChanged).
pub struct ReputationChange(pub reputation::Model);

#[Object]
impl ReputationChange {
    async fn host(&self) -> Address {
        Address(self.0.host.clone())
    }
    /// Completion, Expiry, DisputeUpheld or Equivocation.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// Basis points of one outcome (10000 = one full completion or incident).
    async fn weight(&self) -> BigInt {
        BigInt(self.0.weight.clone())
    }
    async fn old_score(&self) -> i64 {
        self.0.old_score
    }
    async fn new_score(&self) -> i64 {
        self.0.new_score
    }
    async fn time(&self) -> Time {
        Time::at(self.0.timestamp)
    }
    async fn tx_hash(&self) -> Bytes32 {
        Bytes32(self.0.tx_hash.clone())
    }
    async fn log_index(&self) -> i64 {
        self.0.log_index
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

/// The reputation history of one host, oldest first by default (`direction: DESC` newest).
pub async fn history(
    ctx: &Context<'_>,
    host: &str,
    direction: Direction,
    args: &PageArgs,
) -> async_graphql::Result<Conn<ReputationChange>> {
    use sea_orm::sea_query::Expr;
    let r = req(ctx);
    let q = reputation::Entity::find()
        .filter(reputation::Column::ChainId.eq(r.chain_id))
        .filter(reputation::Column::Host.eq(host));
    Ok(sql_page(
        r,
        "reputation_history",
        q,
        vec![
            Expr::col(reputation::Column::Block).into(),
            Expr::col(reputation::Column::LogIndex).into(),
        ],
        direction == Direction::Desc,
        args,
        |m| vec![K::I(m.block), K::I(m.log_index)],
        ReputationChange,
    )
    .await?)
}

/// What a stake change was.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum StakeChangeKind {
    Staked,
    UnstakeRequested,
    Withdrawn,
    Slashed,
}

/// One change of a staker's position, with the position after it.
#[derive(Clone, async_graphql::SimpleObject)]
pub struct StakeChange {
    pub kind: StakeChangeKind,
    /// What moved (for a slash: from active and unbonding together).
    pub amount: BigInt,
    /// Active stake after the change.
    pub active: BigInt,
    /// Unbonding stake after the change.
    pub unbonding: BigInt,
    pub time: Time,
    pub tx_hash: Bytes32,
    pub log_index: i64,
    pub block: i64,
    #[graphql(name = "final")]
    pub is_final: bool,
}

fn arg(args: &serde_json::Value, name: &str) -> U256 {
    args.get(name)
        .and_then(|v| v.as_str())
        .and_then(|s| U256::from_str(s).ok())
        .unwrap_or_default()
}

/// Every Staking event of `staker`, folded into the position after each one.
pub async fn stake_changes(
    ctx: &Context<'_>,
    staker: &str,
) -> async_graphql::Result<Vec<StakeChange>> {
    let r = req(ctx);
    let q = event::Entity::find()
        .filter(event::Column::ChainId.eq(r.chain_id))
        .filter(event::Column::Contract.eq("Staking"))
        .filter(event::Column::Event.is_in([
            "Staked",
            "UnstakeRequested",
            "Withdrawn",
            "StakeSlashed",
        ]))
        .filter(event::Column::Args.like(format!("%\"staker\":\"{staker}\"%")));
    let mut rows = r.all("events", q).await?;
    rows.sort_by_key(|e| (e.block_number, e.log_index));
    let (mut active, mut unbonding) = (U256::ZERO, U256::ZERO);
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let a: serde_json::Value = serde_json::from_str(&e.args).unwrap_or_default();
        if a.get("staker").and_then(|s| s.as_str()) != Some(staker) {
            continue;
        }
        let (kind, amount) = match e.event.as_str() {
            "Staked" => {
                active = arg(&a, "active");
                (StakeChangeKind::Staked, arg(&a, "amount"))
            }
            "UnstakeRequested" => {
                let amount = arg(&a, "amount");
                active = active.saturating_sub(amount);
                unbonding = arg(&a, "unbonding");
                (StakeChangeKind::UnstakeRequested, amount)
            }
            "Withdrawn" => {
                let amount = arg(&a, "amount");
                unbonding = unbonding.saturating_sub(amount);
                (StakeChangeKind::Withdrawn, amount)
            }
            _ => {
                let (fa, fu) = (arg(&a, "fromActive"), arg(&a, "fromUnbonding"));
                active = active.saturating_sub(fa);
                unbonding = unbonding.saturating_sub(fu);
                (StakeChangeKind::Slashed, fa.saturating_add(fu))
            }
        };
        out.push(StakeChange {
            kind,
            amount: BigInt(amount.to_string()),
            active: BigInt(active.to_string()),
            unbonding: BigInt(unbonding.to_string()),
            time: Time::at(e.block_timestamp),
            tx_hash: Bytes32(e.tx_hash.clone()),
            log_index: e.log_index,
            block: e.block_number,
            is_final: r.is_final(e.block_number),
        });
    }
    Ok(out)
}

pub async fn stake_history(
    ctx: &Context<'_>,
    staker: &str,
    direction: Direction,
    args: &PageArgs,
) -> async_graphql::Result<Conn<StakeChange>> {
    let items = stake_changes(ctx, staker)
        .await?
        .into_iter()
        .map(|c| (vec![K::I(c.block), K::I(c.log_index)], c))
        .collect();
    Ok(memory_page(
        items,
        direction == Direction::Desc,
        args,
        2,
        |c| c,
    )?)
}

#[derive(Default)]
pub struct ReputationQuery;

#[Object]
impl ReputationQuery {
    /// A host's reputation changes (a time series to plot), oldest first by default.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn reputation_history(
        &self,
        ctx: &Context<'_>,
        host: Address,
        #[graphql(desc = "default ASC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<ReputationChange>> {
        history(
            ctx,
            &host.0,
            direction.unwrap_or(Direction::Asc),
            &PageArgs::new(first, after, last, before),
        )
        .await
    }

    /// A staker's stake changes with the position after each, oldest first by default.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn stake_history(
        &self,
        ctx: &Context<'_>,
        staker: Address,
        #[graphql(desc = "default ASC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<StakeChange>> {
        stake_history(
            ctx,
            &staker.0,
            direction.unwrap_or(Direction::Asc),
            &PageArgs::new(first, after, last, before),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::decay;

    #[test]
    fn decay_halves_the_distance() {
        let h = 30 * 86_400;
        assert_eq!(decay(600, 0, h), 600);
        assert_eq!(decay(600, h, h), 550);
        assert_eq!(decay(400, 2 * h, h), 475);
        assert_eq!(decay(1000, 16 * h, h), 500);
        let half_day = decay(600, h / 2, h);
        assert!((570..=571).contains(&half_day), "{half_day}");
    }
}
