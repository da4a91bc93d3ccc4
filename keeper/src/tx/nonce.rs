//! The sender's nonces, tracked here rather than asked of the node for every transaction
//! (several transactions may be in flight at once) and never left with a gap: a nonce that was
//! reserved but not broadcast is given back, and after any doubt (a nonce error, a reorg, a
//! restart) the tracker resynchronises from the chain's pending transaction count.

use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider};
use tokio::sync::Mutex;

use super::error::Result;
use super::retry::{self, Backoff};

/// The next nonce to use, or `None` when it must be read from the chain first.
#[derive(Debug, Default)]
pub struct NonceTracker {
    next: Mutex<Option<u64>>,
}

impl NonceTracker {
    /// The next nonce, reserved for the caller (read from the chain's pending count when unknown).
    pub async fn reserve(
        &self,
        provider: &DynProvider,
        from: Address,
        backoff: &Backoff,
    ) -> Result<u64> {
        let mut next = self.next.lock().await;
        let nonce = match *next {
            Some(n) => n,
            None => pending_count(provider, from, backoff).await?,
        };
        *next = Some(nonce + 1);
        Ok(nonce)
    }

    /// Gives back `nonce`, reserved but never broadcast: the next reservation reuses it when it
    /// was the last one handed out; otherwise (others were reserved since) the tracker
    /// resynchronises, since the chain will report the gap as the pending count.
    pub async fn release(&self, nonce: u64) {
        let mut next = self.next.lock().await;
        *next = if *next == Some(nonce + 1) {
            Some(nonce)
        } else {
            None
        };
    }

    /// Forgets the tracked nonce: the next reservation reads the chain's pending count.
    pub async fn resync(&self) {
        *self.next.lock().await = None;
    }

    /// The nonce the next reservation would get, if tracked.
    pub async fn peek(&self) -> Option<u64> {
        *self.next.lock().await
    }
}

/// How many transactions of `from` the node knows, mined or pending: the next free nonce.
pub async fn pending_count(provider: &DynProvider, from: Address, backoff: &Backoff) -> Result<u64> {
    retry::rpc("eth_getTransactionCount", backoff, || {
        provider.get_transaction_count(from).pending().into_future()
    })
    .await
}

/// How many transactions of `from` are mined (the latest block's count).
pub async fn mined_count(provider: &DynProvider, from: Address, backoff: &Backoff) -> Result<u64> {
    retry::rpc("eth_getTransactionCount", backoff, || {
        provider.get_transaction_count(from).latest().into_future()
    })
    .await
}
