//! Alerts: this host disputed (a renter opened a dispute on one of its jobs), slashed (any
//! reason), or its active stake below the registry's minimum (it can then claim nothing).
//! Each is a `warn` line and one increment of `vouch_watcher_alerts_total{kind}` on the
//! keeper's [`Metrics`](crate::metrics::Metrics).

use alloy::primitives::U256;
use vouch_bindings::contracts::JobMarketplace;

use super::{Watcher, slashes_of};
use crate::host::{HostError, Result};

/// One alert raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    Disputed {
        job_id: U256,
    },
    Slashed {
        job_id: U256,
        reason: u8,
        amount: U256,
    },
    LowStake {
        active: U256,
        minimum: U256,
    },
}

impl Alert {
    /// The metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Alert::Disputed { .. } => "disputed",
            Alert::Slashed { .. } => "slashed",
            Alert::LowStake { .. } => "low_stake",
        }
    }
}

fn raise(w: &Watcher, alert: Alert) {
    match &alert {
        Alert::Disputed { job_id } => {
            tracing::warn!(alert = "disputed", job = %job_id, "ALERT: a renter disputed this host's result")
        }
        Alert::Slashed {
            job_id,
            reason,
            amount,
        } => {
            tracing::warn!(alert = "slashed", job = %job_id, reason, amount = %amount, "ALERT: this host was slashed")
        }
        Alert::LowStake { active, minimum } => tracing::warn!(
            alert = "low_stake", active = %active, minimum = %minimum,
            "ALERT: active stake is below the minimum; the host cannot claim jobs until it stakes more"
        ),
    }
    w.metrics.alerts.increment(alert.kind());
    w.record(|s| s.alerts.push(alert));
}

/// Disputes and slashes of this host in `from..=to`.
pub(super) async fn read_alerts(w: &mut Watcher, from: u64, to: u64) -> Result<()> {
    let market = w.chain.deployment.contracts.job_marketplace;
    // JobDisputed is indexed by job and renter, not host: look each job up (disputes are rare).
    for (e, _) in w
        .chain
        .logs::<JobMarketplace::JobDisputed>(market, None, None, from, to)
        .await?
    {
        let job = w
            .chain
            .marketplace()
            .getJob(e.jobId)
            .call()
            .await
            .map_err(HostError::read("reading a job"))?;
        if job.host == w.config.host {
            raise(w, Alert::Disputed { job_id: e.jobId });
        }
    }
    for e in slashes_of(&w.chain, w.config.host, from, to).await? {
        raise(
            w,
            Alert::Slashed {
                job_id: e.jobId,
                reason: e.reason,
                amount: e.amount,
            },
        );
    }
    Ok(())
}

/// Raises the low-stake alert when the active stake first drops below the minimum, and clears
/// it when it is back.
pub(super) async fn check_stake(w: &mut Watcher) -> Result<()> {
    let staking = w.chain.staking();
    let active = staking
        .activeStakeOf(w.config.host)
        .call()
        .await
        .map_err(HostError::read("reading the stake"))?;
    let minimum = staking
        .minimumStake()
        .call()
        .await
        .map_err(HostError::read("reading the minimum stake"))?;
    let low = active < minimum;
    if low && !w.stake_low {
        raise(w, Alert::LowStake { active, minimum });
    }
    w.stake_low = low;
    Ok(())
}
