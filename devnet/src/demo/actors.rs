//! Who acts in the demo and how their calls reach the chain: anvil's ten funded development
//! keys, one role each (the table below is the only place a role gets its key), a provider that
//! signs for all of them, a send that waits for the receipt without the provider's polling
//! delay, and anvil's clock.

use std::time::{Duration, Instant};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use tracing::Instrument;

use crate::{DevnetError, Result};

pub type Receipt = <alloy::network::Ethereum as alloy::network::Network>::ReceiptResponse;

/// How many hosts the demo runs.
pub const HOSTS: usize = 5;

/// anvil's key index of each role.
pub const DEPLOYER: usize = 0;
pub const FIRST_HOST: usize = 1;
pub const RENTERS: [usize; 2] = [6, 7];
/// Reports equivocations and calls the permissionless chores (release, expire).
pub const CRANK: usize = 8;
/// Appointed arbitration council at deployment (`DevnetConfig::demo`).
pub const COUNCIL: usize = 9;

/// Explicit gas for the demo's own calls: an estimate made at one block time can fall short at
/// the next (reputation decay depends on the clock).
const GAS_LIMIT: u64 = 3_000_000;

/// The demo's accounts.
#[derive(Clone)]
pub struct Actors {
    pub deployer: PrivateKeySigner,
    pub hosts: Vec<PrivateKeySigner>,
    pub renters: Vec<PrivateKeySigner>,
    pub crank: PrivateKeySigner,
    pub council: PrivateKeySigner,
}

impl Actors {
    /// Roles from anvil's keys (it funds ten).
    pub fn from_keys(keys: &[PrivateKeySigner]) -> Result<Actors> {
        if keys.len() <= COUNCIL {
            return Err(DevnetError::Demo {
                step: "accounts".into(),
                reason: format!(
                    "anvil funds {} keys, the demo needs {}",
                    keys.len(),
                    COUNCIL + 1
                ),
            });
        }
        Ok(Actors {
            deployer: keys[DEPLOYER].clone(),
            hosts: keys[FIRST_HOST..FIRST_HOST + HOSTS].to_vec(),
            renters: RENTERS.iter().map(|&i| keys[i].clone()).collect(),
            crank: keys[CRANK].clone(),
            council: keys[COUNCIL].clone(),
        })
    }

    /// A provider that signs for every account but the hosts (each host's keeper signs its
    /// own transactions after it joined; see `hosts.rs`).
    pub fn provider(&self, url: &str, with_hosts: bool) -> Result<DynProvider> {
        let mut wallet = EthereumWallet::from(self.deployer.clone());
        let mut others = vec![self.crank.clone(), self.council.clone()];
        others.extend(self.renters.iter().cloned());
        if with_hosts {
            others.extend(self.hosts.iter().cloned());
        }
        for k in others {
            wallet.register_signer(k);
        }
        let url = url.parse().map_err(|e| DevnetError::Demo {
            step: "provider".into(),
            reason: format!("{url}: {e}"),
        })?;
        Ok(ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(url)
            .erased())
    }
}

/// Sends `call` with an explicit gas limit and waits for its receipt; a revert is an error
/// naming `step`. anvil mines on receipt of the transaction, so the receipt is polled at once
/// rather than at the provider's 250 ms interval.
pub async fn mined<P: Provider + Clone, D: CallDecoder + Clone>(
    provider: &DynProvider,
    step: &str,
    call: CallBuilder<P, D>,
) -> Result<Receipt> {
    let fail = |reason: String| DevnetError::Demo {
        step: step.to_string(),
        reason,
    };
    let call = call.gas(GAS_LIMIT);
    let replay = call.clone();
    let span = tracing::debug_span!("demo_call", step);
    let sent = async {
        let pending = call.send().await.map_err(|e| e.to_string())?;
        receipt(provider, *pending.tx_hash()).await
    };
    let receipt = sent.instrument(span).await.map_err(fail)?;
    if !receipt.status() {
        // Replayed on the parent block for the contract's reason.
        let parent = receipt.block_number.unwrap_or(1).saturating_sub(1);
        let why = replay
            .block(alloy::eips::BlockId::number(parent))
            .call_raw()
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "reverted".into());
        return Err(fail(why));
    }
    Ok(receipt)
}

/// The receipt of `hash`, polled every 20 ms for at most 30 s.
pub async fn receipt(provider: &DynProvider, hash: B256) -> std::result::Result<Receipt, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match provider.get_transaction_receipt(hash).await {
            Ok(Some(r)) => return Ok(r),
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Ok(None) => return Err(format!("no receipt for {hash} within 30 s")),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// anvil's clock: the latest block's timestamp.
pub async fn now(provider: &DynProvider) -> Result<u64> {
    let block = provider
        .get_block_by_number(Default::default())
        .await
        .map_err(|e| DevnetError::Chain(format!("eth_getBlockByNumber: {e}")))?
        .ok_or_else(|| DevnetError::Chain("no latest block".into()))?;
    Ok(block.header.timestamp)
}

/// Moves anvil's clock `seconds` forward and mines a block there, so days of protocol time
/// (dispute windows, votes, the timelock) pass in a moment.
pub async fn advance(provider: &DynProvider, seconds: u64) -> Result<()> {
    let chain = |e: alloy::transports::TransportError| DevnetError::Chain(e.to_string());
    provider
        .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (seconds,))
        .await
        .map_err(chain)?;
    provider
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await
        .map_err(chain)?;
    Ok(())
}

/// The address of each key, for display and calls.
pub fn addresses(keys: &[PrivateKeySigner]) -> Vec<Address> {
    keys.iter().map(|k| k.address()).collect()
}
