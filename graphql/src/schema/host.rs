//! Hosts (NodeRegistry's `hosts` with their stake and reputation): `host`, `hosts` with its
//! filter and orders, and the `leaderboard` with ranks and percentiles.
//!
//! Hosts are a bounded set (each holds at least the minimum stake), and a host's reputation is
//! computed (decay), not stored, so `hosts` and `leaderboard` read the chain's hosts, stakes and
//! latest reputation rows in three queries and sort and page in memory, still by keyset
//! cursors (sort key, address).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::{checkpoint, host, stake};

use super::job::Job;
use super::reputation::{self, ReputationChange, StakeChange, score_now};
use super::slash::Slash;
use crate::context::req;
use crate::limits::page_cost;
use crate::loaders::{HostJobs, HostSlashes, LatestReputation, StakeOf, loaders};
use crate::pagination::{Conn, Direction, K, Key, PageArgs, dec_key, sorted_page};
use crate::scalars::{Address, BigInt, Bytes32, Time, cmp_dec};

/// A host; `reputation` is filled when the host came from a list that computed it.
pub struct Host(pub host::Model, pub Option<i64>);

/// A staker's position (Staking).
pub struct Stake(pub stake::Model);

#[Object]
impl Stake {
    async fn staker(&self) -> Address {
        Address(self.0.address.clone())
    }
    /// Counts for eligibility.
    async fn active(&self) -> BigInt {
        BigInt(self.0.active.clone())
    }
    async fn unbonding(&self) -> BigInt {
        BigInt(self.0.unbonding.clone())
    }
    async fn release_at(&self) -> Option<Time> {
        Time::opt(self.0.release_at)
    }
    async fn slashed_total(&self) -> BigInt {
        BigInt(self.0.slashed_total.clone())
    }
    async fn withdrawn_total(&self) -> BigInt {
        BigInt(self.0.withdrawn_total.clone())
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
impl Host {
    async fn address(&self) -> Address {
        Address(self.0.address.clone())
    }
    async fn endpoint(&self) -> &str {
        &self.0.endpoint
    }
    async fn region(&self) -> &str {
        &self.0.region
    }
    /// Advertised price per output token, wei.
    async fn price_per_token(&self) -> BigInt {
        BigInt(self.0.price_per_token.clone())
    }
    /// Model hashes served.
    async fn models(&self) -> Vec<Bytes32> {
        serde_json::from_str::<Vec<String>>(&self.0.models)
            .unwrap_or_default()
            .into_iter()
            .map(Bytes32)
            .collect()
    }
    /// The keeper's hot key, if named.
    async fn operator(&self) -> Option<Address> {
        self.0.operator.clone().map(Address)
    }
    /// Registered now.
    async fn registered(&self) -> bool {
        self.0.registered
    }
    async fn registered_at(&self) -> Option<Time> {
        Time::opt(self.0.registered_at)
    }
    async fn deregistered_at(&self) -> Option<Time> {
        Time::opt(self.0.deregistered_at)
    }
    async fn last_heartbeat(&self) -> Option<Time> {
        Time::opt(self.0.last_heartbeat)
    }
    /// The host's position in Staking.
    async fn stake(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Stake>> {
        Ok(loaders(ctx)
            .load_one(StakeOf(self.0.address.clone()))
            .await?
            .map(Stake))
    }
    /// ReputationRegistry's `scoreOf` at the latest indexed block: the last recorded score
    /// decayed toward 500 with the half-life (500 for a host with no change).
    async fn reputation(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        if let Some(r) = self.1 {
            return Ok(r);
        }
        let r = req(ctx);
        let latest = loaders(ctx)
            .load_one(LatestReputation(self.0.address.clone()))
            .await?;
        Ok(score_now(latest.as_ref(), r.now, r.half_life))
    }
    /// The newest jobs the host claimed or was offered (at most 100; `jobs(filter: {host})`
    /// pages through all).
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 0, maximum = 100))] first: u32,
    ) -> async_graphql::Result<Vec<Job>> {
        Ok(loaders(ctx)
            .load_one(HostJobs(self.0.address.clone(), first))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Job)
            .collect())
    }
    /// Every slash of the host, oldest first.
    async fn slashes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Slash>> {
        Ok(loaders(ctx)
            .load_one(HostSlashes(self.0.address.clone()))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Slash)
            .collect())
    }
    /// Reputation changes, a time series (oldest first by default).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn reputation_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "default ASC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<ReputationChange>> {
        reputation::history(
            ctx,
            &self.0.address,
            direction.unwrap_or(Direction::Asc),
            &PageArgs::new(first, after, last, before),
        )
        .await
    }
    /// Stake changes with the position after each (oldest first by default).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn stake_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "default ASC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<StakeChange>> {
        reputation::stake_history(
            ctx,
            &self.0.address,
            direction.unwrap_or(Direction::Asc),
            &PageArgs::new(first, after, last, before),
        )
        .await
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

/// Registered now, or not.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum HostStatus {
    Registered,
    Deregistered,
}

#[derive(InputObject, Default)]
pub struct HostFilter {
    /// Serves this model hash.
    pub model: Option<Bytes32>,
    pub region: Option<String>,
    pub status: Option<HostStatus>,
    /// Active stake at least this (wei of VOUCH).
    pub min_stake: Option<BigInt>,
    /// Reputation (as `Host.reputation`) at least this.
    pub min_reputation: Option<i64>,
    /// Advertised price per token at most this.
    pub max_price: Option<BigInt>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum HostOrder {
    #[default]
    Reputation,
    Stake,
    RegisteredAt,
    Price,
}

impl HostOrder {
    /// Every order, each at the index `order as usize`.
    const ALL: [HostOrder; 4] = [
        HostOrder::Reputation,
        HostOrder::Stake,
        HostOrder::RegisteredAt,
        HostOrder::Price,
    ];
}

/// A host with what lists sort and filter it by.
struct Listed {
    host: host::Model,
    /// `host.models`, parsed once, in lower case.
    models: Vec<String>,
    active: String,
    reputation: i64,
}

/// The host listing of one database version: every host with its active stake and its
/// reputation at that version's clock (`RequestCtx::now` is the latest indexed block's time,
/// so the listing is a function of the version alone), sorted once by each order's key and
/// ranked once for the leaderboard. Built by the first request that reads a version, while the
/// requests reading the same version wait for it, then shared: a list query finds its cursor
/// by binary search, filters while it walks and builds only its page's nodes, instead of
/// loading every host, stake and reputation row (seconds per request under load) or sorting
/// and cloning the listing (tens of ms) per request: docs/benchmarks.md.
#[derive(Default)]
pub struct HostListing {
    latest: tokio::sync::Mutex<Option<ListingOf>>,
}

struct ListingOf {
    chain_id: i64,
    version: Vec<checkpoint::Model>,
    listing: Arc<Listing>,
}

struct Listing {
    hosts: Vec<Listed>,
    /// For each order (indexed by `HostOrder as usize`), (key, index into `hosts`) ascending.
    by_order: Vec<Vec<(Key, usize)>>,
    /// Registered hosts with their rank, ascending by (reputation, inverted address).
    leaderboard: Vec<(Key, Ranked)>,
}

#[derive(Clone, Copy)]
struct Ranked {
    host: usize,
    rank: i64,
    percentile: f64,
}

impl Listing {
    fn new(hosts: Vec<Listed>) -> Listing {
        let by_order = HostOrder::ALL
            .iter()
            .map(|&order| {
                let mut keys: Vec<(Key, usize)> = hosts
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (sort_key(l, order), i))
                    .collect();
                keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                keys
            })
            .collect();
        let mut scores: Vec<i64> = hosts
            .iter()
            .filter(|l| l.host.registered)
            .map(|l| l.reputation)
            .collect();
        scores.sort_unstable();
        let n = scores.len();
        let mut leaderboard: Vec<(Key, Ranked)> = hosts
            .iter()
            .enumerate()
            .filter(|(_, l)| l.host.registered)
            .map(|(i, l)| {
                let below = scores.partition_point(|s| *s < l.reputation);
                let not_above = scores.partition_point(|s| *s <= l.reputation);
                let ranked = Ranked {
                    host: i,
                    rank: (n - not_above) as i64 + 1,
                    percentile: if n > 1 {
                        100.0 * below as f64 / (n - 1) as f64
                    } else {
                        100.0
                    },
                };
                // Best first; ties by address ascending (the key is walked descending).
                let inv: String = l
                    .host
                    .address
                    .chars()
                    .map(|c| (b'~' - c as u8 + b'0') as char)
                    .collect();
                (vec![K::I(l.reputation), K::S(inv)], ranked)
            })
            .collect();
        leaderboard.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Listing {
            hosts,
            by_order,
            leaderboard,
        }
    }
}

/// Every host as the request's snapshot sees it (shared, see [`HostListing`]).
async fn listing(ctx: &Context<'_>) -> async_graphql::Result<Arc<Listing>> {
    let r = req(ctx);
    let Some(shared) = ctx.data_opt::<HostListing>() else {
        return Ok(Arc::new(Listing::new(load_hosts(ctx).await?)));
    };
    let mut latest = shared.latest.lock().await;
    if let Some(l) = latest.as_ref()
        && l.chain_id == r.chain_id
        && l.version == r.version
    {
        return Ok(l.listing.clone());
    }
    let listing = Arc::new(Listing::new(load_hosts(ctx).await?));
    *latest = Some(ListingOf {
        chain_id: r.chain_id,
        version: r.version.clone(),
        listing: listing.clone(),
    });
    Ok(listing)
}

async fn load_hosts(ctx: &Context<'_>) -> async_graphql::Result<Vec<Listed>> {
    let r = req(ctx);
    let hosts = r
        .all(
            "hosts",
            host::Entity::find().filter(host::Column::ChainId.eq(r.chain_id)),
        )
        .await?;
    let stakes: HashMap<String, String> = r
        .all(
            "stakes",
            stake::Entity::find().filter(stake::Column::ChainId.eq(r.chain_id)),
        )
        .await?
        .into_iter()
        .map(|s| (s.address, s.active))
        .collect();
    let reps: HashMap<String, _> =
        crate::loaders::latest_reputations(r.conn(), r.backend, r.chain_id, None)
            .await?
            .into_iter()
            .map(|m| (m.host.clone(), m))
            .collect();
    Ok(hosts
        .into_iter()
        .map(|h| Listed {
            models: serde_json::from_str::<Vec<String>>(&h.models)
                .unwrap_or_default()
                .into_iter()
                .map(|m| m.to_ascii_lowercase())
                .collect(),
            active: stakes
                .get(&h.address)
                .cloned()
                .unwrap_or_else(|| "0".into()),
            reputation: score_now(reps.get(&h.address), r.now, r.half_life),
            host: h,
        })
        .collect())
}

/// `HostFilter` with its model in lower case, as `Listed::models` holds them.
struct Filter {
    f: HostFilter,
    model: Option<String>,
}

impl Filter {
    fn new(f: HostFilter) -> Filter {
        let model = f.model.as_ref().map(|m| m.0.to_ascii_lowercase());
        Filter { f, model }
    }

    fn matches(&self, l: &Listed) -> bool {
        let (h, f) = (&l.host, &self.f);
        if let Some(m) = &self.model {
            if !l.models.iter().any(|x| x == m) {
                return false;
            }
        }
        if f.region.as_ref().is_some_and(|r| *r != h.region) {
            return false;
        }
        match f.status {
            Some(HostStatus::Registered) if !h.registered => return false,
            Some(HostStatus::Deregistered) if h.registered => return false,
            _ => {}
        }
        if f.min_stake
            .as_ref()
            .is_some_and(|m| cmp_dec(&l.active, &m.0).is_lt())
        {
            return false;
        }
        if f.min_reputation.is_some_and(|m| l.reputation < m) {
            return false;
        }
        if f.max_price
            .as_ref()
            .is_some_and(|m| cmp_dec(&h.price_per_token, &m.0).is_gt())
        {
            return false;
        }
        true
    }
}

fn sort_key(l: &Listed, order: HostOrder) -> Key {
    let addr = K::S(l.host.address.clone());
    match order {
        HostOrder::Reputation => vec![K::I(l.reputation), addr],
        HostOrder::Stake => {
            let [a, b] = dec_key(&l.active);
            vec![a, b, addr]
        }
        HostOrder::RegisteredAt => vec![K::I(l.host.registered_at.unwrap_or(0)), addr],
        HostOrder::Price => {
            let [a, b] = dec_key(&l.host.price_per_token);
            vec![a, b, addr]
        }
    }
}

/// One place of the leaderboard.
#[derive(SimpleObject)]
pub struct LeaderboardEntry {
    /// 1 for the best; hosts of equal reputation share a rank.
    pub rank: i64,
    /// Share of the other ranked hosts with a lower reputation, in percent (100: the best,
    /// 0: the lowest; 100 when alone).
    pub percentile: f64,
    pub reputation: i64,
    pub host: Host,
}

#[derive(Default)]
pub struct HostQuery;

#[Object]
impl HostQuery {
    /// A host by address (registered or not).
    async fn host(
        &self,
        ctx: &Context<'_>,
        address: Address,
    ) -> async_graphql::Result<Option<Host>> {
        let r = req(ctx);
        let q = host::Entity::find()
            .filter(host::Column::ChainId.eq(r.chain_id))
            .filter(host::Column::Address.eq(address.0));
        Ok(r.one("hosts", q).await?.map(|h| Host(h, None)))
    }

    /// Hosts by filter, ordered by reputation (default), active stake, registration time or
    /// price; ties by address.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn hosts(
        &self,
        ctx: &Context<'_>,
        filter: Option<HostFilter>,
        #[graphql(desc = "default REPUTATION")] order_by: Option<HostOrder>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Host>> {
        let filter = Filter::new(filter.unwrap_or_default());
        let order_by = order_by.unwrap_or_default();
        let listing = listing(ctx).await?;
        let arity = match order_by {
            HostOrder::Stake | HostOrder::Price => 3,
            _ => 2,
        };
        Ok(sorted_page(
            &listing.by_order[order_by as usize],
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            arity,
            |&i| filter.matches(&listing.hosts[i]),
            |&i| {
                let l = &listing.hosts[i];
                Host(l.host.clone(), Some(l.reputation))
            },
        )?)
    }

    /// Registered hosts by reputation, best first, with rank and percentile.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn leaderboard(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<LeaderboardEntry>> {
        let listing = listing(ctx).await?;
        Ok(sorted_page(
            &listing.leaderboard,
            true,
            &PageArgs::new(first, after, last, before),
            2,
            |_| true,
            |r| {
                let l = &listing.hosts[r.host];
                LeaderboardEntry {
                    rank: r.rank,
                    percentile: r.percentile,
                    reputation: l.reputation,
                    host: Host(l.host.clone(), Some(l.reputation)),
                }
            },
        )?)
    }
}
