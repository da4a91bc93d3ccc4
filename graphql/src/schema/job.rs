//! Jobs (JobMarketplace's `jobs`): `job`, `jobs` with its filter, the links to the job's
//! host, batch, dispute and verifiable model, and the proof tier that completed it with the
//! output an inference proof published.

use async_graphql::{Context, InputObject, Object};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::job;

use super::batch::Batch;
use super::dispute::Dispute;
use super::host::Host;
use super::text_enum;
use crate::context::req;
use crate::limits::page_cost;
use crate::loaders::{BatchOf, DisputeOf, HostOf, VerifiableModelOf, loaders};
use crate::pagination::{Conn, Direction, K, PageArgs, sql_page};
use crate::scalars::{Address, BigInt, Bytes32, Time};

text_enum!(
    /// The marketplace state machine (docs/contracts.md).
    JobState { Open, Claimed, Completed, Disputed, Paid, Expired, Cancelled, Refunded }
);

/// Which proof completed a job (`jobs.proof_tier`).
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProofTier {
    /// A batch proof of the commitment circuit (BatchProven): binds the tuple, not the model.
    Commitment,
    /// The model's own circuit (InferenceProven): the output is the model's on the input.
    Inference,
}

impl ProofTier {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "commitment" => Some(ProofTier::Commitment),
            "inference" => Some(ProofTier::Inference),
            _ => None,
        }
    }
}

/// The `int256[]` of a published output (`abi.encode(int256[])`) as decimal strings; `None`
/// when the bytes are not that encoding (the contract checks them, so only a bug gets here).
fn decode_output(hex: &str) -> Option<Vec<BigInt>> {
    use alloy::sol_types::SolValue;
    let bytes = alloy::hex::decode(hex).ok()?;
    let values = <Vec<alloy::primitives::I256>>::abi_decode(&bytes).ok()?;
    Some(values.iter().map(|v| BigInt(v.to_string())).collect())
}

pub struct Job(pub job::Model);

#[Object]
impl Job {
    /// The marketplace's sequential job id.
    async fn id(&self) -> i64 {
        self.0.job_id
    }
    async fn renter(&self) -> Address {
        Address(self.0.renter.clone())
    }
    /// The host that claimed it (the offered host while Open).
    async fn host(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Host>> {
        let Some(h) = &self.0.host else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .load_one(HostOf(h.clone()))
            .await?
            .map(|h| Host(h, None)))
    }
    async fn host_address(&self) -> Option<Address> {
        self.0.host.clone().map(Address)
    }
    /// A direct offer to one host.
    async fn offered_host(&self) -> Option<Address> {
        self.0.offered_host.clone().map(Address)
    }
    /// The host's operator recorded at claim.
    async fn operator(&self) -> Option<Address> {
        self.0.operator.clone().map(Address)
    }
    /// Payment asset: the zero address for ETH.
    async fn token(&self) -> Address {
        Address(self.0.token.clone())
    }
    /// Escrowed payment, in the asset's smallest unit.
    async fn payment(&self) -> BigInt {
        BigInt(self.0.payment.clone())
    }
    /// Protocol fee fixed at creation.
    async fn fee(&self) -> BigInt {
        BigInt(self.0.fee.clone())
    }
    async fn model_hash(&self) -> Bytes32 {
        Bytes32(self.0.model_hash.clone())
    }
    async fn input_hash(&self) -> Bytes32 {
        Bytes32(self.0.input_hash.clone())
    }
    async fn output_hash(&self) -> Option<Bytes32> {
        self.0.output_hash.clone().map(Bytes32)
    }
    async fn deadline(&self) -> Time {
        Time::at(self.0.deadline)
    }
    async fn min_reputation(&self) -> i64 {
        self.0.min_reputation
    }
    async fn state(&self) -> Option<JobState> {
        JobState::parse(&self.0.state)
    }
    async fn created_at(&self) -> Time {
        Time::at(self.0.created_at)
    }
    async fn created_block(&self) -> i64 {
        self.0.created_block
    }
    async fn claimed_at(&self) -> Option<Time> {
        Time::opt(self.0.claimed_at)
    }
    async fn completed_at(&self) -> Option<Time> {
        Time::opt(self.0.completed_at)
    }
    /// When the payment was released to the host.
    async fn released_at(&self) -> Option<Time> {
        Time::opt(self.0.released_at)
    }
    async fn expired_at(&self) -> Option<Time> {
        Time::opt(self.0.expired_at)
    }
    async fn cancelled_at(&self) -> Option<Time> {
        Time::opt(self.0.cancelled_at)
    }
    async fn refunded_at(&self) -> Option<Time> {
        Time::opt(self.0.refunded_at)
    }
    /// Expired with a slash of the host.
    async fn slashed(&self) -> bool {
        self.0.slashed
    }
    /// The proof transaction that completed it.
    async fn proof_tx(&self) -> Option<Bytes32> {
        self.0.batch_tx.clone().map(Bytes32)
    }
    /// The batch (proof) that completed it.
    async fn batch(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Batch>> {
        let Some(tx) = &self.0.batch_tx else {
            return Ok(None);
        };
        Ok(loaders(ctx).load_one(BatchOf(tx.clone())).await?.map(Batch))
    }
    /// The dispute of the job, if one was opened.
    async fn dispute(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Dispute>> {
        Ok(loaders(ctx)
            .load_one(DisputeOf(self.0.job_id))
            .await?
            .map(Dispute))
    }
    /// Its model hash has an inference-tier verifier installed now (only such a proof can
    /// complete it).
    async fn verifiable(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(loaders(ctx)
            .load_one(VerifiableModelOf(self.0.model_hash.clone()))
            .await?
            .is_some_and(|m| m.installed))
    }
    /// The tier of the proof that completed it; null until completed.
    async fn proof_tier(&self) -> Option<ProofTier> {
        self.0.proof_tier.as_deref().and_then(ProofTier::parse)
    }
    /// The quantized output an inference proof published, decoded (signed decimals); null
    /// for commitment-tier or uncompleted jobs.
    async fn output(&self) -> Option<Vec<BigInt>> {
        self.0.output.as_deref().and_then(decode_output)
    }
    /// The published output bytes (`abi.encode(int256[])`) as 0x hex; null where none.
    async fn output_bytes(&self) -> Option<String> {
        self.0.output.clone()
    }
    /// The inference proof's hash (a commitment job's is its batch's `proofHash`).
    async fn inference_proof_hash(&self) -> Option<Bytes32> {
        self.0.proof_hash.clone().map(Bytes32)
    }
    /// Reputation weight of its release (basis points of one completion).
    async fn reputation_weight(&self) -> Option<BigInt> {
        self.0.reputation_weight.clone().map(BigInt)
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
pub struct JobFilter {
    pub renter: Option<Address>,
    /// The claiming (or offered) host.
    pub host: Option<Address>,
    pub state: Option<JobState>,
    pub model: Option<Bytes32>,
    /// Created at or after this unix time.
    pub created_after: Option<i64>,
    /// Created before this unix time.
    pub created_before: Option<i64>,
}

#[derive(Default)]
pub struct JobQuery;

#[Object]
impl JobQuery {
    async fn job(&self, ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<Job>> {
        let r = req(ctx);
        let q = job::Entity::find()
            .filter(job::Column::ChainId.eq(r.chain_id))
            .filter(job::Column::JobId.eq(id));
        Ok(r.one("jobs", q).await?.map(Job))
    }

    /// Jobs by filter, by id (newest first by default).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        filter: Option<JobFilter>,
        #[graphql(desc = "default DESC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Job>> {
        let r = req(ctx);
        let f = filter.unwrap_or_default();
        let mut q = job::Entity::find().filter(job::Column::ChainId.eq(r.chain_id));
        if let Some(a) = f.renter {
            q = q.filter(job::Column::Renter.eq(a.0));
        }
        if let Some(a) = f.host {
            q = q.filter(job::Column::Host.eq(a.0));
        }
        if let Some(s) = f.state {
            q = q.filter(job::Column::State.eq(s.db()));
        }
        if let Some(m) = f.model {
            q = q.filter(job::Column::ModelHash.eq(m.0));
        }
        if let Some(t) = f.created_after {
            q = q.filter(job::Column::CreatedAt.gte(t));
        }
        if let Some(t) = f.created_before {
            q = q.filter(job::Column::CreatedAt.lt(t));
        }
        let args = PageArgs::new(first, after, last, before);
        Ok(sql_page(
            r,
            "jobs",
            q,
            vec![Expr::col(job::Column::JobId).into()],
            direction.unwrap_or(Direction::Desc) == Direction::Desc,
            &args,
            |j| vec![K::I(j.job_id)],
            Job,
        )
        .await?)
    }
}
