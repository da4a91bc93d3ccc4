//! Signing and broadcasting one transaction. Signing happens here, not in a provider filler,
//! so that the transaction's hash is known before it is sent: a broadcast whose answer was lost
//! is repeated with the very same bytes, and the node's "already known" then means success.

use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkWallet, TransactionBuilder};
use alloy::primitives::{B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;

use super::error::{Result, TxError};
use super::fees::Fees;
use super::retry::{self, Backoff};

/// A signed transaction ready to (re)broadcast.
#[derive(Debug, Clone)]
pub struct Signed {
    pub hash: B256,
    pub raw: Bytes,
    pub nonce: u64,
    pub fees: Fees,
}

/// Signs `request` (to, data, value, from) with the given nonce, gas limit and fees as an
/// EIP-1559 transaction of `chain_id`.
pub async fn sign(
    wallet: &EthereumWallet,
    request: &TransactionRequest,
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    fees: Fees,
) -> Result<Signed> {
    let request = request
        .clone()
        .with_chain_id(chain_id)
        .with_nonce(nonce)
        .with_gas_limit(gas_limit)
        .with_max_fee_per_gas(fees.max_fee_per_gas)
        .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
    let envelope = NetworkWallet::<alloy::network::Ethereum>::sign_request(wallet, request)
        .await
        .map_err(|e| TxError::Signing(e.to_string()))?;
    Ok(Signed {
        hash: *envelope.tx_hash(),
        raw: envelope.encoded_2718().into(),
        nonce,
        fees,
    })
}

/// How the node took a broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// In the node's pool now.
    Accepted,
    /// The node had it already (an earlier broadcast of the same bytes got through).
    AlreadyKnown,
    /// The nonce is used: by one of our transactions that was mined, or by another sender of
    /// the same key.
    NonceTooLow,
    /// Another transaction with this nonce is in the pool with fees this one does not beat.
    Underpriced,
}

/// Broadcasts `signed`, retrying transport failures with backoff.
pub async fn broadcast(provider: &DynProvider, signed: &Signed, backoff: &Backoff) -> Result<Sent> {
    let sent = retry::rpc("eth_sendRawTransaction", backoff, || async {
        match provider.send_raw_transaction(&signed.raw).await {
            Ok(_) => Ok(Ok(Sent::Accepted)),
            Err(e) => match e.as_error_resp().map(|p| p.message.to_lowercase()) {
                Some(m) => Ok(classify(&m).ok_or(m)),
                None => Err(e),
            },
        }
    })
    .await?;
    sent.map_err(TxError::Refused)
}

/// The node's refusal message, as far as it means something we handle.
fn classify(message: &str) -> Option<Sent> {
    if message.contains("already known")
        || message.contains("already imported")
        || message.contains("known transaction")
    {
        Some(Sent::AlreadyKnown)
    } else if message.contains("nonce too low")
        || message.contains("nonce has already been used")
        || message.contains("nonce is too low")
    {
        Some(Sent::NonceTooLow)
    } else if message.contains("underpriced") {
        Some(Sent::Underpriced)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_messages_are_classified() {
        assert_eq!(classify("already known"), Some(Sent::AlreadyKnown));
        assert_eq!(classify("transaction already imported"), Some(Sent::AlreadyKnown));
        assert_eq!(classify("nonce too low"), Some(Sent::NonceTooLow));
        assert_eq!(
            classify("replacement transaction underpriced"),
            Some(Sent::Underpriced)
        );
        assert_eq!(classify("insufficient funds for gas * price + value"), None);
    }
}
