//! Receipts followed to the confirmation depth: a receipt counts only once `confirmations`
//! blocks (its own included) are on top of the chain *and* its block is still the chain's block
//! at that height; a receipt that disappears or moves to another block was reorged.

use alloy::eips::BlockNumberOrTag;
use alloy::network::ReceiptResponse;
use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;

use super::error::Result;
use super::retry::{self, Backoff};

/// Where a mined transaction stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Depth {
    /// Mined, fewer than the required blocks on top yet.
    Shallow,
    /// Mined, deep enough and still on the canonical chain.
    Confirmed,
    /// No longer on the chain (its block was replaced).
    ReorgedOut,
}

/// The receipt of the first of `hashes` that was mined, if any.
pub async fn find(
    provider: &DynProvider,
    hashes: &[B256],
    backoff: &Backoff,
) -> Result<Option<TransactionReceipt>> {
    for &hash in hashes.iter().rev() {
        let receipt = retry::rpc("eth_getTransactionReceipt", backoff, || {
            provider.get_transaction_receipt(hash).into_future()
        })
        .await?;
        if receipt.is_some() {
            return Ok(receipt);
        }
    }
    Ok(None)
}

/// Whether any of `hashes` is known to the node (mined or in its pool).
pub async fn known(provider: &DynProvider, hashes: &[B256], backoff: &Backoff) -> Result<bool> {
    for &hash in hashes {
        let tx = retry::rpc("eth_getTransactionByHash", backoff, || {
            provider.get_transaction_by_hash(hash).into_future()
        })
        .await?;
        if tx.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How deep `receipt` is now, re-reading it and the block at its height.
pub async fn depth(
    provider: &DynProvider,
    receipt: &TransactionReceipt,
    confirmations: u64,
    backoff: &Backoff,
) -> Result<Depth> {
    let hash = receipt.transaction_hash;
    let now = retry::rpc("eth_getTransactionReceipt", backoff, || {
        provider.get_transaction_receipt(hash).into_future()
    })
    .await?;
    let Some(now) = now else {
        return Ok(Depth::ReorgedOut);
    };
    if now.block_hash != receipt.block_hash {
        return Ok(Depth::ReorgedOut);
    }
    let number = receipt.block_number().unwrap_or_default();
    let head = retry::rpc("eth_blockNumber", backoff, || {
        provider.get_block_number().into_future()
    })
    .await?;
    if head + 1 < number + confirmations.max(1) {
        return Ok(Depth::Shallow);
    }
    let block = retry::rpc("eth_getBlockByNumber", backoff, || {
        provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .into_future()
    })
    .await?;
    match block {
        Some(b) if Some(b.header.hash) == receipt.block_hash => Ok(Depth::Confirmed),
        _ => Ok(Depth::ReorgedOut),
    }
}
