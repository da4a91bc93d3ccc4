//! Expires other hosts' claimed jobs once their deadline has passed: the renter is refunded
//! and the host slashed (JobMarketplace.expireJob). Anyone may call it; a keeper doing so keeps
//! the market honest. Sent with an explicit gas limit (see [`super::EXPIRE_GAS_LIMIT`]).

use alloy::primitives::U256;

use super::Watcher;
use crate::host::HostError;

pub(super) async fn expire_overdue(w: &mut Watcher, now: u64) {
    let overdue: Vec<U256> = w
        .others
        .iter()
        .filter(|(_, d)| now > **d)
        .map(|(id, _)| *id)
        .collect();
    for id in overdue {
        match expire_one(w, id).await {
            Ok(true) => {
                tracing::info!(job = %id, "expired another host's overdue job");
                w.metrics
                    .watcher_expiries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                w.record(|s| s.expired.push(id));
                w.others.remove(&id);
            }
            // Completed in time, or expired by someone else: nothing to do, ever.
            Ok(false) => {
                w.others.remove(&id);
            }
            // Kept: tried again next tick.
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "expiring failed");
                w.failed("expire");
            }
        }
    }
}

async fn expire_one(w: &Watcher, id: U256) -> crate::host::Result<bool> {
    let job = w
        .chain
        .marketplace()
        .getJob(id)
        .call()
        .await
        .map_err(HostError::read("reading a job"))?;
    if crate::host::job::status_of(&job) != crate::host::job::JobStatus::Claimed {
        return Ok(false);
    }
    let request = w
        .chain
        .marketplace()
        .expireJob(id)
        .into_transaction_request();
    let landed =
        w.tx.send(request, Some(w.config.expire_gas_limit))
            .await
            .map_err(HostError::tx("expireJob"))?;
    Ok(landed.status)
}
