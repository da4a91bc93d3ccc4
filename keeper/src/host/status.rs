//! `vouch host status`: one read of everything a host operator watches: stake (active,
//! unbonding, locked, against the minimum), registration, reputation, jobs in flight, payments
//! pending and claimable, slashes and missed deadlines, and, if the local keeper's URL is
//! given, its queue depth by state (from its Prometheus `/metrics`).

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use serde::Serialize;
use vouch_bindings::contracts::Slashing;

use super::chain::{Chain, address_topic};
use super::error::{HostError, Result};
use super::ops::{ETH, jobs_of, region_text};

/// The keeper's queue-depth gauge, one sample per result state.
pub const QUEUE_DEPTH_METRIC: &str = "vouch_keeper_queue_depth";
/// At most this much of a `/metrics` reply is read.
const MAX_METRICS_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HostStatus {
    pub host: Address,
    pub block: u64,
    pub chain_time: u64,
    pub node: Option<Node>,
    pub stake: Stake,
    /// ReputationRegistry.scoreOf (0..1000).
    pub reputation: u16,
    /// Claimed, not yet completed: (job id, deadline).
    pub open_jobs: Vec<OpenJob>,
    /// Completed jobs still in their dispute window, and the wei they will pay.
    pub pending_jobs: Vec<U256>,
    pub pending_wei: U256,
    /// Completed jobs past their window, not yet released (`vouch host claim` releases them).
    pub releasable_jobs: Vec<U256>,
    pub releasable_wei: U256,
    /// Wei the marketplace holds for the host now (`vouch host claim` withdraws it).
    pub claimable_wei: U256,
    pub disputed_jobs: Vec<U256>,
    pub expired_jobs: Vec<U256>,
    pub slashes: Vec<Slash>,
    /// The local keeper's results by state, when its URL was given.
    pub queue: Option<BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub endpoint: String,
    pub region: String,
    pub price_per_token: U256,
    pub operator: Address,
    pub registered_at: u64,
    pub last_heartbeat: u64,
    pub model_count: u16,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Stake {
    pub active: U256,
    pub unbonding: U256,
    /// When the unbonding stake becomes withdrawable (0: nothing unbonding).
    pub release_at: u64,
    /// What unfinished jobs lock against withdrawal.
    pub locked: U256,
    pub minimum: U256,
    pub has_minimum: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OpenJob {
    pub id: U256,
    pub deadline: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Slash {
    pub job_id: U256,
    /// MissedDeadline, DisputeUpheld or Equivocation.
    pub reason: String,
    /// VOUCH (wei) taken.
    pub amount: U256,
    pub block: u64,
}

/// Reads `host`'s status; `keeper_url` (e.g. `http://127.0.0.1:8100`) adds its queue depth.
pub async fn status(chain: &Chain, host: Address, keeper_url: Option<&str>) -> Result<HostStatus> {
    let (block, now) = chain.head().await?;
    let registry = chain.registry();
    let node = if registry
        .isRegistered(host)
        .call()
        .await
        .map_err(HostError::read("reading the registration"))?
    {
        let n = registry
            .getNode(host)
            .call()
            .await
            .map_err(HostError::read("reading the node"))?;
        Some(Node {
            endpoint: n.endpoint,
            region: region_text(&n.region),
            price_per_token: U256::from(n.pricePerToken),
            operator: n.operator,
            registered_at: n.registeredAt.to::<u64>(),
            last_heartbeat: n.lastHeartbeat.to::<u64>(),
            model_count: n.modelCount,
        })
    } else {
        None
    };
    let staking = chain.staking();
    let position = staking
        .positionOf(host)
        .call()
        .await
        .map_err(HostError::read("reading the stake"))?;
    let minimum = staking
        .minimumStake()
        .call()
        .await
        .map_err(HostError::read("reading the minimum stake"))?;
    let locked = staking
        .lockedStakeOf(host)
        .call()
        .await
        .map_err(HostError::read("reading the locked stake"))?;
    let active = U256::from(position.active);
    let stake = Stake {
        active,
        unbonding: U256::from(position.unbonding),
        release_at: position.releaseAt,
        locked,
        minimum,
        has_minimum: active >= minimum,
    };
    let reputation = chain
        .reputation()
        .scoreOf(host)
        .call()
        .await
        .map_err(HostError::read("reading the reputation"))?;
    let claimable_wei = chain
        .marketplace()
        .claimable(host, ETH)
        .call()
        .await
        .map_err(HostError::read("reading the claimable payments"))?;

    let mut status = HostStatus {
        host,
        block,
        chain_time: now,
        node,
        stake,
        reputation,
        open_jobs: vec![],
        pending_jobs: vec![],
        pending_wei: U256::ZERO,
        releasable_jobs: vec![],
        releasable_wei: U256::ZERO,
        claimable_wei,
        disputed_jobs: vec![],
        expired_jobs: vec![],
        slashes: vec![],
        queue: None,
    };
    use crate::host::job::JobStatus as S;
    for (id, job) in jobs_of(chain, host).await? {
        let net = U256::from(job.payment) - U256::from(job.fee);
        match crate::host::job::status_of(&job) {
            S::Claimed => status.open_jobs.push(OpenJob {
                id,
                deadline: job.deadline.to::<u64>(),
            }),
            S::Completed => {
                let ends = chain
                    .marketplace()
                    .disputeWindowEnd(id)
                    .call()
                    .await
                    .map_err(HostError::read("reading a dispute window"))?;
                if U256::from(now) > ends {
                    status.releasable_jobs.push(id);
                    status.releasable_wei += net;
                } else {
                    status.pending_jobs.push(id);
                    status.pending_wei += net;
                }
            }
            S::Disputed => status.disputed_jobs.push(id),
            S::Expired => status.expired_jobs.push(id),
            _ => {}
        }
    }
    let slashed = chain
        .logs::<Slashing::Slashed>(
            chain.deployment.contracts.slashing,
            Some(address_topic(host)),
            None,
            chain.deployment.start_block,
            block,
        )
        .await?;
    status.slashes = slashed
        .into_iter()
        .map(|(e, log)| Slash {
            job_id: e.jobId,
            reason: reason_name(e.reason),
            amount: e.amount,
            block: log.block_number.unwrap_or_default(),
        })
        .collect();
    if let Some(url) = keeper_url {
        status.queue = Some(queue_depth(url).await?);
    }
    Ok(status)
}

fn reason_name(reason: u8) -> String {
    match reason {
        0 => "MissedDeadline".into(),
        1 => "DisputeUpheld".into(),
        2 => "Equivocation".into(),
        n => format!("Reason{n}"),
    }
}

/// The keeper's queue depth by state, read from its `/metrics`.
pub async fn queue_depth(url: &str) -> Result<BTreeMap<String, u64>> {
    let endpoint = format!("{}/metrics", url.trim_end_matches('/'));
    let fail = |reason: String| HostError::Keeper {
        url: endpoint.clone(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(&endpoint)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let body = response.bytes().await.map_err(|e| fail(e.to_string()))?;
    if body.len() > MAX_METRICS_BYTES {
        return Err(fail(format!("reply larger than {MAX_METRICS_BYTES} bytes")));
    }
    Ok(parse_queue_depth(&String::from_utf8_lossy(&body)))
}

/// The `vouch_keeper_queue_depth{state="..."} N` samples of a Prometheus text exposition.
pub fn parse_queue_depth(text: &str) -> BTreeMap<String, u64> {
    let mut depth = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(QUEUE_DEPTH_METRIC) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('{') else {
            continue;
        };
        let Some((labels, value)) = rest.split_once('}') else {
            continue;
        };
        let state = labels
            .split(',')
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == "state")
            .map(|(_, v)| v.trim().trim_matches('"').to_owned());
        let value = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok());
        if let (Some(state), Some(value)) = (state, value) {
            depth.insert(state, value as u64);
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_depth_is_read_from_the_prometheus_text() {
        let text = "# HELP vouch_keeper_queue_depth Results by state\n\
            # TYPE vouch_keeper_queue_depth gauge\n\
            vouch_keeper_queue_depth{state=\"accepted\"} 12\n\
            vouch_keeper_queue_depth{state=\"proving\"} 3\n\
            vouch_keeper_queue_depth_other{state=\"x\"} 9\n\
            vouch_keeper_queue_depth{instance=\"a\",state=\"confirmed\"} 100 1700000000\n";
        let depth = parse_queue_depth(text);
        assert_eq!(
            depth,
            BTreeMap::from([
                ("accepted".into(), 12),
                ("confirmed".into(), 100),
                ("proving".into(), 3)
            ])
        );
    }
}
