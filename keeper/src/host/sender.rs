//! A stand-in for the keeper's transaction manager (`crate::host::TxManager`, branch `tx`) with
//! the same `new` / `from` / `send` signatures, so host operations and the watcher switch to
//! it by changing the re-exports in `host/mod.rs` only. It sends through alloy's wallet filler
//! (nonce, fees, gas estimate) and waits for the receipt: no replacement of stuck
//! transactions, no reorg handling; those come with the real manager.

use std::time::Duration;

use alloy::network::{EthereumWallet, NetworkWallet, TransactionBuilder};
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use tracing::Instrument;
use vouch_bindings::Deployment;

/// The sender's result.
pub type Result<T, E = TxError> = std::result::Result<T, E>;

/// Why a transaction did not land (the variants host code relies on, as in `tx::TxError`).
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The call reverts; `reason` is the node's revert message with the custom error.
    #[error("the transaction reverts: {reason}")]
    Reverted { name: String, reason: String },
    /// The node failed or refused the transaction.
    #[error("the node refused the transaction: {0}")]
    Refused(String),
}

/// Settings (the subset of `tx::TxConfig` this sender uses).
#[derive(Debug, Clone)]
pub struct TxConfig {
    /// How long a receipt is waited for.
    pub receipt_timeout: Duration,
}

impl Default for TxConfig {
    fn default() -> Self {
        TxConfig {
            receipt_timeout: Duration::from_secs(120),
        }
    }
}

/// A landed transaction (the fields of `tx::Landed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub tx_hash: B256,
    pub block_number: u64,
    pub gas_used: u64,
    pub status: bool,
}

/// Sends transactions from one key. Cheap to clone.
#[derive(Clone)]
pub struct DirectSender {
    provider: DynProvider,
    from: Address,
    config: TxConfig,
}

impl DirectSender {
    /// A sender signing with `wallet`'s default signer through `provider`.
    pub async fn new(provider: DynProvider, wallet: EthereumWallet, _deployment: Deployment, config: TxConfig) -> Result<Self> {
        let from = NetworkWallet::<alloy::network::Ethereum>::default_signer_address(&wallet);
        let provider = ProviderBuilder::new().wallet(wallet).connect_provider(provider).erased();
        Ok(DirectSender { provider, from, config })
    }

    /// The sending address.
    pub fn from(&self) -> Address {
        self.from
    }

    /// Sends `tx` from this key (gas estimated unless `gas_limit` is given) and waits for its
    /// receipt. A revert found by the estimate is [`TxError::Reverted`].
    pub async fn send(&self, tx: TransactionRequest, gas_limit: Option<u64>) -> Result<Landed> {
        let span = tracing::info_span!("send", to = ?tx.to, from = %self.from);
        async {
            let mut tx = tx.with_from(self.from);
            if let Some(g) = gas_limit {
                tx = tx.with_gas_limit(g);
            }
            let pending = self.provider.send_transaction(tx).await.map_err(|e| {
                match e.as_error_resp().filter(|r| r.message.contains("revert")) {
                    Some(resp) => TxError::Reverted {
                        name: String::new(),
                        reason: resp.message.to_string(),
                    },
                    None => TxError::Refused(e.to_string()),
                }
            })?;
            let receipt = pending
                .with_timeout(Some(self.config.receipt_timeout))
                .get_receipt()
                .await
                .map_err(|e| TxError::Refused(e.to_string()))?;
            Ok(Landed {
                tx_hash: receipt.transaction_hash,
                block_number: receipt.block_number.unwrap_or_default(),
                gas_used: receipt.gas_used,
                status: receipt.status(),
            })
        }
        .instrument(span)
        .await
    }
}
