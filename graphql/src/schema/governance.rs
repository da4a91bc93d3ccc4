//! Governance: VouchGovernor's proposals with their votes and states.
//!
//! Executed, Queued and Canceled are stored (events mark them); the others follow
//! OpenZeppelin's `Governor.state` on the latest indexed block's timestamp: Pending while
//! `voteStart >= now`, Active while `voteEnd >= now`, then Succeeded when the quorum is reached
//! (for + abstain >= quorum) and for > against, else Defeated. The quorum is
//! `quorumNumerator / 100` of the supply (the token's supply is fixed at deployment: the sum of
//! its mints), with the numerator from the latest `QuorumNumeratorUpdated`.

use std::str::FromStr;

use alloy::primitives::U256;
use async_graphql::{Context, Enum, Object};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::{parameter, proposal, transfer, vote};

use crate::context::req;
use crate::limits::page_cost;
use crate::loaders::{VotesOf, loaders};
use crate::pagination::{Conn, Direction, K, PageArgs, dec_key, memory_page};
use crate::scalars::{Address, BigInt, Bytes32, Time, sum_dec};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProposalState {
    Pending,
    Active,
    Canceled,
    Defeated,
    Succeeded,
    Queued,
    Executed,
}

pub struct Proposal {
    row: proposal::Model,
    quorum: U256,
    now: i64,
}

fn num(s: &str) -> U256 {
    U256::from_str(s).unwrap_or_default()
}

impl Proposal {
    pub fn derived_state(&self) -> ProposalState {
        let p = &self.row;
        match p.state.as_str() {
            "Executed" => return ProposalState::Executed,
            "Canceled" => return ProposalState::Canceled,
            "Queued" => return ProposalState::Queued,
            _ => {}
        }
        if p.vote_start >= self.now {
            ProposalState::Pending
        } else if p.vote_end >= self.now {
            ProposalState::Active
        } else {
            let (f, a, ab) = (
                num(&p.for_votes),
                num(&p.against_votes),
                num(&p.abstain_votes),
            );
            if f.saturating_add(ab) >= self.quorum && f > a {
                ProposalState::Succeeded
            } else {
                ProposalState::Defeated
            }
        }
    }
}

pub struct Vote(pub vote::Model);

#[Object]
impl Vote {
    async fn voter(&self) -> Address {
        Address(self.0.voter.clone())
    }
    /// 0 against, 1 for, 2 abstain.
    async fn support(&self) -> i64 {
        self.0.support
    }
    async fn weight(&self) -> BigInt {
        BigInt(self.0.weight.clone())
    }
    async fn reason(&self) -> &str {
        &self.0.reason
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

#[Object]
impl Proposal {
    async fn id(&self) -> BigInt {
        BigInt(self.row.proposal_id.clone())
    }
    async fn proposer(&self) -> Address {
        Address(self.row.proposer.clone())
    }
    async fn description(&self) -> &str {
        &self.row.description
    }
    async fn targets(&self) -> Vec<Address> {
        serde_json::from_str::<Vec<String>>(&self.row.targets)
            .unwrap_or_default()
            .into_iter()
            .map(Address)
            .collect()
    }
    /// Call data per target, 0x hex.
    async fn calldatas(&self) -> Vec<String> {
        serde_json::from_str(&self.row.calldatas).unwrap_or_default()
    }
    async fn vote_start(&self) -> Time {
        Time::at(self.row.vote_start)
    }
    async fn vote_end(&self) -> Time {
        Time::at(self.row.vote_end)
    }
    /// Derived at the latest indexed block (module docs).
    async fn state(&self) -> ProposalState {
        self.derived_state()
    }
    async fn for_votes(&self) -> BigInt {
        BigInt(self.row.for_votes.clone())
    }
    async fn against_votes(&self) -> BigInt {
        BigInt(self.row.against_votes.clone())
    }
    async fn abstain_votes(&self) -> BigInt {
        BigInt(self.row.abstain_votes.clone())
    }
    /// Votes (for + abstain) needed.
    async fn quorum(&self) -> BigInt {
        BigInt(self.quorum.to_string())
    }
    /// When a queued proposal may execute.
    async fn eta(&self) -> Option<Time> {
        Time::opt(self.row.eta)
    }
    async fn created_block(&self) -> i64 {
        self.row.created_block
    }
    /// Every vote cast, oldest first.
    async fn votes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Vote>> {
        Ok(loaders(ctx)
            .load_one(VotesOf(self.row.proposal_id.clone()))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Vote)
            .collect())
    }
    async fn block(&self) -> i64 {
        self.row.block
    }
    #[graphql(name = "final")]
    async fn is_final(&self, ctx: &Context<'_>) -> bool {
        req(ctx).is_final(self.row.block)
    }
}

/// The quorum: numerator / 100 of the minted supply.
async fn quorum(ctx: &Context<'_>) -> async_graphql::Result<U256> {
    let r = req(ctx);
    let zero = "0x0000000000000000000000000000000000000000";
    let mints = r
        .all(
            "transfers",
            transfer::Entity::find()
                .filter(transfer::Column::ChainId.eq(r.chain_id))
                .filter(transfer::Column::FromAddress.eq(zero)),
        )
        .await?;
    let supply = num(&sum_dec(mints.iter().map(|t| t.value.as_str())));
    let p = r
        .one(
            "parameters",
            parameter::Entity::find()
                .filter(parameter::Column::ChainId.eq(r.chain_id))
                .filter(parameter::Column::Contract.eq("VouchGovernor"))
                .filter(parameter::Column::Name.eq("QuorumNumeratorUpdated")),
        )
        .await?;
    let numerator = p
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p.value).ok())
        .and_then(|v| {
            v.get("newQuorumNumerator")
                .and_then(|n| n.as_str().map(num))
        })
        .unwrap_or(U256::from(4));
    Ok(supply * numerator / U256::from(100))
}

#[derive(Default)]
pub struct GovernanceQuery;

#[Object]
impl GovernanceQuery {
    /// Proposals, newest first by default; optionally only those in `state`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        state: Option<ProposalState>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Proposal>> {
        let r = req(ctx);
        let quorum = quorum(ctx).await?;
        let rows = r
            .all(
                "proposals",
                proposal::Entity::find().filter(proposal::Column::ChainId.eq(r.chain_id)),
            )
            .await?;
        let items = rows
            .into_iter()
            .map(|row| Proposal {
                row,
                quorum,
                now: r.now,
            })
            .filter(|p| state.is_none_or(|s| p.derived_state() == s))
            .map(|p| {
                let [a, b] = dec_key(&p.row.proposal_id);
                (vec![K::I(p.row.created_block), a, b], p)
            })
            .collect();
        Ok(memory_page(
            items,
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            3,
            |p| p,
        )?)
    }

    async fn proposal(
        &self,
        ctx: &Context<'_>,
        id: BigInt,
    ) -> async_graphql::Result<Option<Proposal>> {
        let r = req(ctx);
        let q = proposal::Entity::find()
            .filter(proposal::Column::ChainId.eq(r.chain_id))
            .filter(proposal::Column::ProposalId.eq(id.0));
        let Some(row) = r.one("proposals", q).await? else {
            return Ok(None);
        };
        Ok(Some(Proposal {
            row,
            quorum: quorum(ctx).await?,
            now: r.now,
        }))
    }
}
