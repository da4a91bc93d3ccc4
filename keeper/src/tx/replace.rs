//! Replacement of stuck transactions: a transaction not mined `stuck_after` its last broadcast
//! is re-signed with the same nonce, gas limit and calldata and both fees raised by at least
//! `bump_percent` (nodes require +10% or +12.5% on both to accept a replacement), or to
//! today's estimate where that is higher, never above the cap. Whichever version is mined
//! counts: every hash sent for the nonce is watched.

use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::rpc::types::TransactionRequest;

use super::broadcast::{self, Signed};
use super::error::Result;
use super::fees::{self, Fees};

/// One nonce's transaction as sent so far: every version, the latest last.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub request: TransactionRequest,
    pub gas_limit: u64,
    pub chain_id: u64,
    pub versions: Vec<Signed>,
    pub last_broadcast: Instant,
}

impl InFlight {
    pub fn new(request: TransactionRequest, gas_limit: u64, chain_id: u64, first: Signed) -> Self {
        InFlight {
            request,
            gas_limit,
            chain_id,
            versions: vec![first],
            last_broadcast: Instant::now(),
        }
    }

    pub fn nonce(&self) -> u64 {
        self.latest().nonce
    }

    pub fn latest(&self) -> &Signed {
        self.versions.last().expect("at least one version")
    }

    pub fn hashes(&self) -> Vec<alloy::primitives::B256> {
        self.versions.iter().map(|v| v.hash).collect()
    }

    /// Replacements sent so far.
    pub fn replacements(&self) -> u32 {
        self.versions.len() as u32 - 1
    }

    /// Whether the latest version has waited `stuck_after` without being mined.
    pub fn is_stuck(&self, stuck_after: Duration) -> bool {
        self.last_broadcast.elapsed() >= stuck_after
    }

    /// The replacement of the latest version at fees bumped from it (see the module docs), or
    /// `None` when the cap leaves no room: the transaction then keeps waiting as it is.
    pub async fn replacement(
        &self,
        wallet: &EthereumWallet,
        current: Fees,
        bump_percent: u32,
        cap: u128,
    ) -> Result<Option<Signed>> {
        let Some(fees) = fees::bumped(self.latest().fees, current, bump_percent, cap) else {
            return Ok(None);
        };
        broadcast::sign(
            wallet,
            &self.request,
            self.chain_id,
            self.nonce(),
            self.gas_limit,
            fees,
        )
        .await
        .map(Some)
    }

    /// Records `signed` as the latest version, just broadcast.
    pub fn push(&mut self, signed: Signed) {
        self.versions.push(signed);
        self.last_broadcast = Instant::now();
    }
}
