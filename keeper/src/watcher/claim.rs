//! Claims the open offers the policy accepts, checking the job is still open and the host can
//! serve its model (a cheap read) before paying for a transaction.

use alloy::primitives::U256;

use super::{Verdict, Watcher};
use crate::host::HostError;

pub(super) async fn claim_offers(w: &mut Watcher, now: u64) {
    let Some(policy) = w.config.claim.clone() else {
        return;
    };
    let host = w.config.host;
    let ids: Vec<U256> = w.offers.keys().copied().collect();
    for id in ids {
        let offer = w.offers[&id].clone();
        match policy.judge(&offer, host, now) {
            Verdict::Claim => {}
            // Past the point of doing it in time, or never ours: forget it.
            verdict => {
                tracing::debug!(job = %id, ?verdict, "not claiming");
                w.offers.remove(&id);
                continue;
            }
        }
        match claim_one(w, id, offer.model_hash).await {
            Ok(true) => {
                tracing::info!(job = %id, "claimed job");
                w.metrics
                    .watcher_claims
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                w.record(|s| s.claimed.push(id));
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "claiming failed");
                w.failed("claim");
            }
        }
        // Claimed, gone, or failed (someone else was faster, most likely): never retried.
        w.offers.remove(&id);
    }
}

/// Claims `id` if it is still open and the host can serve it; Ok(false) if it was not sent.
async fn claim_one(
    w: &Watcher,
    id: U256,
    model: alloy::primitives::B256,
) -> crate::host::Result<bool> {
    let job = w
        .chain
        .marketplace()
        .getJob(id)
        .call()
        .await
        .map_err(HostError::read("reading a job"))?;
    if crate::host::job::status_of(&job) != crate::host::job::JobStatus::Open {
        return Ok(false);
    }
    let can = w
        .chain
        .registry()
        .canServe(w.config.host, model)
        .call()
        .await
        .map_err(HostError::read("reading canServe"))?;
    if !can {
        tracing::warn!(job = %id, model = %model, "policy names a model the host cannot serve (not registered for it, or stake below the minimum)");
        return Ok(false);
    }
    crate::host::ops::claim_job(&w.chain, &w.tx, id, w.config.host).await?;
    Ok(true)
}
