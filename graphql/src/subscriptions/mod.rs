//! The live part of the API: GraphQL subscriptions over websocket.
//!
//! - [`Subscription`]: the subscription root (`jobCreated`, `jobUpdated`, `batchProven`,
//!   `slashed`, `reputationChanged`), each yielding its own small payload built from the
//!   `events` rows committed since the previous wake-up; every payload carries `reverted`
//!   (true: a reorg removed this event, announced again before the canonical ones);
//! - [`LiveFeed`]: one per process, put in the schema's data (`Schema::build(..).data(feed)`);
//! - [`ws_route`]: the websocket endpoint (both `graphql-transport-ws` and the legacy
//!   `graphql-ws`), with [`SubscriptionLimits`] (caps, connection-init timeout).

mod feed;
mod payload;
mod ws;

use async_graphql::{Context, Error, ErrorExtensions, InputObject, Result, Subscription as Sub};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

pub use feed::{FEED_CAPACITY, FeedEvent, JobParties, LiveFeed, SAFETY_TICK, TRACKED_BLOCKS};
pub use payload::{BatchProven, JobCreated, JobUpdate, ReputationChange, Slash};
pub use ws::{ConnectionSlots, Slot, SubscriptionLimits, serve_socket, ws_route};

/// The subscription root.
pub struct Subscription;

/// Which job updates to receive; every field given must match (addresses in any case).
#[derive(InputObject, Clone, Debug, Default)]
pub struct JobUpdateFilter {
    /// Decimal job id.
    pub job_id: Option<String>,
    pub host: Option<String>,
    pub renter: Option<String>,
}

fn same_addr(a: Option<&str>, want: &Option<String>) -> bool {
    match want {
        None => true,
        Some(w) => a.is_some_and(|a| a.eq_ignore_ascii_case(w)),
    }
}

#[Sub]
impl Subscription {
    /// Every new job (JobMarketplace `JobCreated`).
    async fn job_created(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<JobCreated>> + use<>> {
        events(ctx, |e| {
            (e.contract == "JobMarketplace" && e.event == "JobCreated").then(|| JobCreated::from(e))
        })
    }

    /// Every change of a job's state (created, claimed, completed, disputed, settled, paid,
    /// expired, cancelled), optionally of one job, host or renter.
    async fn job_updated(
        &self,
        ctx: &Context<'_>,
        filter: Option<JobUpdateFilter>,
    ) -> Result<impl Stream<Item = Result<JobUpdate>> + use<>> {
        let filter = filter.unwrap_or_default();
        events(ctx, move |e| {
            let u = JobUpdate::from_event(e)?;
            let keep = filter.job_id.as_ref().is_none_or(|id| *id == u.job_id)
                && same_addr(u.host.as_deref(), &filter.host)
                && same_addr(Some(&u.renter), &filter.renter);
            keep.then_some(u)
        })
    }

    /// Every proof batch accepted (ProofSystem `BatchProven`).
    async fn batch_proven(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<BatchProven>> + use<>> {
        events(ctx, |e| {
            (e.contract == "ProofSystem" && e.event == "BatchProven").then(|| BatchProven::from(e))
        })
    }

    /// Every slash (Slashing `Slashed`).
    async fn slashed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Slash>> + use<>> {
        events(ctx, |e| {
            (e.contract == "Slashing" && e.event == "Slashed").then(|| Slash::from(e))
        })
    }

    /// Every reputation change (ReputationRegistry `ReputationChanged`), optionally of one host.
    async fn reputation_changed(
        &self,
        ctx: &Context<'_>,
        host: Option<String>,
    ) -> Result<impl Stream<Item = Result<ReputationChange>> + use<>> {
        events(ctx, move |e| {
            (e.contract == "ReputationRegistry"
                && e.event == "ReputationChanged"
                && same_addr(e.arg("host"), &host))
            .then(|| ReputationChange::from(e))
        })
    }
}

/// The feed's events mapped by `pick`, holding a subscription slot for as long as the stream
/// lives. A subscriber that falls behind the feed by more than [`FEED_CAPACITY`] events gets
/// an error and its stream ends.
fn events<T, F>(ctx: &Context<'_>, pick: F) -> Result<impl Stream<Item = Result<T>> + use<T, F>>
where
    T: Send + 'static,
    F: Fn(&FeedEvent) -> Option<T> + Send + 'static,
{
    let feed = ctx
        .data::<LiveFeed>()
        .map_err(|_| Error::new("subscriptions are not available: the server has no live feed"))?;
    let slot = match ctx.data_opt::<ConnectionSlots>() {
        Some(slots) => Some(slots.acquire()?),
        None => None,
    };
    let rx = feed.subscribe();
    Ok(futures::stream::unfold(
        Some((rx, pick, slot)),
        |state| async move {
            let (mut rx, pick, slot) = state?;
            loop {
                match rx.recv().await {
                    Ok(e) => {
                        if let Some(item) = pick(&e) {
                            return Some((Ok(item), Some((rx, pick, slot))));
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        let err = Error::new(format!(
                            "this subscription fell {n} events behind the live feed and was ended: subscribe again"
                        ))
                        .extend_with(|_, x| x.set("code", "SUBSCRIPTION_LAGGED"));
                        return Some((Err(err), None));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    ))
}

/// The live feed of the chain the database at `url` holds (the first chain in its
/// checkpoints), woken by the indexer's commits from any process; `None` while nothing is
/// indexed yet (a server started before its indexer serves queries and refuses subscriptions).
pub async fn feed_for_database(
    url: &str,
    db: &sea_orm::DatabaseConnection,
) -> Result<Option<LiveFeed>, vouch_indexer::store::StoreError> {
    use sea_orm::{EntityTrait, QueryOrder};
    use vouch_indexer::store::entity::checkpoint;
    let Some(first) = checkpoint::Entity::find()
        .order_by_asc(checkpoint::Column::ChainId)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(LiveFeed::listening(url, first.chain_id as u64).await?))
}
