//! Sends NodeRegistry.heartbeat when the node's last heartbeat (on chain) is at least the
//! configured interval old, so restarts never double-send and a missed tick catches up.

use super::Watcher;
use crate::host::{HostError, Result};

pub(super) async fn maybe_beat(w: &mut Watcher, now: u64, every: u64) -> Result<()> {
    let registry = w.chain.registry();
    let node = registry
        .getNode(w.config.host)
        .call()
        .await
        .map_err(HostError::read("reading the node"))?;
    if node.registeredAt.to::<u64>() == 0 {
        return Ok(()); // not registered: nothing to show alive
    }
    if node.lastHeartbeat.to::<u64>().saturating_add(every) > now {
        return Ok(());
    }
    let request = registry.heartbeat(w.config.host).into_transaction_request();
    match w.tx.send(request, None).await {
        Ok(_) => {
            w.metrics
                .watcher_heartbeats
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            w.record(|s| s.heartbeats += 1);
        }
        Err(e) => {
            tracing::warn!(error = %e, "heartbeat failed");
            w.failed("heartbeat");
        }
    }
    Ok(())
}
