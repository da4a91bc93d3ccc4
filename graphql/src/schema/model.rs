//! Verifiable models (ProofSystem's `verifiable_models`): the inference-tier verifier
//! governance installed per model hash, `verifiableModel` and `verifiableModels`.

use async_graphql::{Context, Object};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use vouch_indexer::store::entity::verifiable_model;

use crate::context::req;
use crate::limits::page_cost;
use crate::pagination::{Conn, Direction, K, PageArgs, sql_page};
use crate::scalars::{Address, Bytes32, Time};

pub struct VerifiableModel(pub verifiable_model::Model);

#[Object]
impl VerifiableModel {
    async fn model_hash(&self) -> Bytes32 {
        Bytes32(self.0.model_hash.clone())
    }
    /// The verifier contract of the last ModelVerifierSet (the zero address once removed).
    async fn verifier(&self) -> Address {
        Address(self.0.verifier.clone())
    }
    async fn circuit_version(&self) -> i64 {
        self.0.circuit_version
    }
    /// How the proof's public instances are built: `None` or `HashedInputOutput`.
    async fn layout(&self) -> &str {
        &self.0.layout
    }
    /// A verifier is installed now: jobs of the model complete only through it.
    async fn installed(&self) -> bool {
        self.0.installed
    }
    /// When the verifier was last set or removed.
    async fn set_at(&self) -> Time {
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
pub struct ModelQuery;

#[Object]
impl ModelQuery {
    /// The inference-tier verifier record of one model hash (also after its removal).
    async fn verifiable_model(
        &self,
        ctx: &Context<'_>,
        model_hash: Bytes32,
    ) -> async_graphql::Result<Option<VerifiableModel>> {
        let r = req(ctx);
        let q = verifiable_model::Entity::find()
            .filter(verifiable_model::Column::ChainId.eq(r.chain_id))
            .filter(verifiable_model::Column::ModelHash.eq(model_hash.0));
        Ok(r.one("verifiable_models", q).await?.map(VerifiableModel))
    }

    /// Every model that ever had an inference verifier, by model hash (ascending by
    /// default); `installed` narrows to the current or the removed ones.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn verifiable_models(
        &self,
        ctx: &Context<'_>,
        installed: Option<bool>,
        #[graphql(desc = "default ASC")] direction: Option<Direction>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<VerifiableModel>> {
        let r = req(ctx);
        let mut q = verifiable_model::Entity::find()
            .filter(verifiable_model::Column::ChainId.eq(r.chain_id));
        if let Some(i) = installed {
            q = q.filter(verifiable_model::Column::Installed.eq(i));
        }
        Ok(sql_page(
            r,
            "verifiable_models",
            q,
            vec![Expr::col(verifiable_model::Column::ModelHash).into()],
            direction.unwrap_or(Direction::Asc) == Direction::Desc,
            &PageArgs::new(first, after, last, before),
            |m| vec![K::S(m.model_hash.clone())],
            VerifiableModel,
        )
        .await?)
    }
}
