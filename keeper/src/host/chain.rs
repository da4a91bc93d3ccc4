//! The chain as the host sees it: a read provider, the deployment, and the log scans that find
//! a host's jobs and slashes (by indexed topic, in bounded block ranges).

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use tracing::Instrument;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{
    JobMarketplace, NodeRegistry, ReputationRegistry, Slashing, Staking, VouchToken,
};

use super::error::{HostError, Result};

/// Blocks per `eth_getLogs` request: within what public RPC providers accept.
pub const LOG_RANGE: u64 = 10_000;

/// A provider and the deployment it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Chain {
    pub provider: DynProvider,
    pub deployment: Deployment,
}

impl Chain {
    pub fn new(provider: DynProvider, deployment: Deployment) -> Self {
        Chain {
            provider,
            deployment,
        }
    }

    pub fn marketplace(&self) -> JobMarketplace::JobMarketplaceInstance<&DynProvider> {
        JobMarketplace::new(self.deployment.contracts.job_marketplace, &self.provider)
    }

    pub fn staking(&self) -> Staking::StakingInstance<&DynProvider> {
        Staking::new(self.deployment.contracts.staking, &self.provider)
    }

    pub fn registry(&self) -> NodeRegistry::NodeRegistryInstance<&DynProvider> {
        NodeRegistry::new(self.deployment.contracts.node_registry, &self.provider)
    }

    pub fn token(&self) -> VouchToken::VouchTokenInstance<&DynProvider> {
        VouchToken::new(self.deployment.contracts.vouch_token, &self.provider)
    }

    pub fn reputation(&self) -> ReputationRegistry::ReputationRegistryInstance<&DynProvider> {
        ReputationRegistry::new(
            self.deployment.contracts.reputation_registry,
            &self.provider,
        )
    }

    pub fn slashing(&self) -> Slashing::SlashingInstance<&DynProvider> {
        Slashing::new(self.deployment.contracts.slashing, &self.provider)
    }

    /// The latest block's number and timestamp: the chain's clock, which deadlines and
    /// dispute windows are measured against.
    pub async fn head(&self) -> Result<(u64, u64)> {
        let block = self
            .provider
            .get_block_by_number(Default::default())
            .into_future()
            .instrument(tracing::debug_span!("rpc", method = "eth_getBlockByNumber"))
            .await
            .map_err(|e| HostError::Read {
                what: "reading the latest block",
                reason: e.to_string(),
            })?
            .ok_or(HostError::Read {
                what: "reading the latest block",
                reason: "the node has no latest block".into(),
            })?;
        Ok((block.header.number, block.header.timestamp))
    }

    /// Every log of event `E` from `address` in `from..=to` whose first indexed argument is
    /// `topic1` and second `topic2` (when given), in chain order, fetched `LOG_RANGE` blocks
    /// at a time.
    pub async fn logs<E: SolEvent>(
        &self,
        address: Address,
        topic1: Option<B256>,
        topic2: Option<B256>,
        from: u64,
        to: u64,
    ) -> Result<Vec<(E, Log)>> {
        let mut out = Vec::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start + LOG_RANGE - 1);
            let mut filter = Filter::new()
                .address(address)
                .event_signature(E::SIGNATURE_HASH)
                .from_block(start)
                .to_block(end);
            if let Some(t) = topic1 {
                filter = filter.topic1(t);
            }
            if let Some(t) = topic2 {
                filter = filter.topic2(t);
            }
            let logs = self
                .provider
                .get_logs(&filter)
                .instrument(tracing::debug_span!(
                    "rpc",
                    method = "eth_getLogs",
                    event = E::SIGNATURE,
                    start,
                    end
                ))
                .await
                .map_err(|e| HostError::Read {
                    what: "reading logs",
                    reason: e.to_string(),
                })?;
            for log in logs {
                let decoded = E::decode_log_data(log.data()).map_err(|e| HostError::Read {
                    what: "decoding a log",
                    reason: e.to_string(),
                })?;
                out.push((decoded, log));
            }
            start = end + 1;
        }
        Ok(out)
    }
}

/// An address as a 32-byte topic.
pub fn address_topic(address: Address) -> B256 {
    address.into_word()
}

/// A job id as a 32-byte topic.
pub fn id_topic(id: U256) -> B256 {
    B256::from(id)
}
