//! What can go wrong landing a transaction, as one typed error.

use alloy::primitives::B256;

/// The transaction manager's result.
pub type Result<T, E = TxError> = std::result::Result<T, E>;

/// Why a transaction did not land.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The call reverts (found by the pre-flight `eth_call` or replayed after a failed receipt).
    /// `name` is the contract's custom error (e.g. `NotHostOrOperator`), `reason` the error with
    /// its arguments (e.g. `NotHostOrOperator { jobId: 7, caller: 0x.. }`).
    #[error("the transaction reverts: {reason}")]
    Reverted { name: String, reason: String },
    /// Some of the proof's jobs no longer need this proof: `done` were completed on chain
    /// (by an earlier transaction of ours or someone else's), `gone` can no longer complete
    /// (expired, cancelled, unknown). Nothing was sent; prove the rest again.
    #[error("{} of the batch's jobs are already completed and {} can no longer complete", done.len(), gone.len())]
    JobsChanged { done: Vec<B256>, gone: Vec<B256> },
    /// The node kept failing (after the configured retries with backoff).
    #[error("the RPC node failed after {attempts} attempts: {source}")]
    Rpc {
        attempts: u32,
        #[source]
        source: alloy::transports::TransportError,
    },
    /// The node refused the transaction for a reason retrying cannot fix (insufficient funds,
    /// an invalid transaction).
    #[error("the node refused the transaction: {0}")]
    Refused(String),
    /// The next block's base fee is above the configured cap: the transaction cannot land.
    #[error("the base fee {base_fee} wei is above the cap of {cap} wei per gas; raise max_fee_per_gas_cap or wait")]
    FeeCapExceeded { base_fee: u128, cap: u128 },
    /// No receipt within `TxConfig::give_up_after`; the transaction may still land later.
    #[error("transaction {tx_hash} (nonce {nonce}) did not land within {waited_secs} s")]
    NotLanded {
        tx_hash: B256,
        nonce: u64,
        waited_secs: u64,
    },
    /// The wallet could not sign (wrong key for `from`, or an incomplete request).
    #[error("could not sign the transaction: {0}")]
    Signing(String),
    /// The proof cannot be submitted at all (no jobs, or more than its batch size).
    #[error("the proof cannot be submitted: {0}")]
    BadProof(String),
}
