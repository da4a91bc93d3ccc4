//! Revert data decoded to the contracts' custom errors, with the `sol!` bindings' error types.
//! A proof transaction can revert in ProofSystem or, bubbled up, in the JobMarketplace it calls;
//! the keeper's other calls reach NodeRegistry, Staking, Slashing and the token.

use alloy::primitives::Bytes;
use alloy::sol_types::{Revert, SolError, SolInterface};
use alloy::transports::TransportError;
use vouch_bindings::contracts::{
    JobMarketplace, NodeRegistry, ProofSystem, Slashing, Staking, VouchToken,
};

use super::error::TxError;

/// A decoded revert: the error's name and the error with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub name: String,
    pub reason: String,
}

impl From<Decoded> for TxError {
    fn from(d: Decoded) -> Self {
        TxError::Reverted {
            name: d.name,
            reason: d.reason,
        }
    }
}

/// The name and arguments of `error` from its `Debug` form, which `sol!` derives as
/// `Variant(Variant { field: value, .. })`: the inner part is kept.
fn describe<E: SolInterface + std::fmt::Debug>(error: &E) -> Decoded {
    let full = format!("{error:?}");
    let inner = match (full.find('('), full.ends_with(')')) {
        (Some(open), true) => full[open + 1..full.len() - 1].to_string(),
        _ => full.clone(),
    };
    let name = inner
        .split(|c: char| c == ' ' || c == '{' || c == '(')
        .next()
        .unwrap_or_default()
        .to_string();
    Decoded {
        name,
        reason: inner,
    }
}

/// Decodes `data` (an `eth_call`'s revert data) against every contract's errors, then
/// Solidity's `Error(string)`; unknown data is shown as hex.
pub fn decode(data: &[u8]) -> Decoded {
    macro_rules! try_each {
        ($($errors:ty),*) => {$(
            if let Ok(e) = <$errors as SolInterface>::abi_decode(data) {
                return describe(&e);
            }
        )*};
    }
    try_each!(
        ProofSystem::ProofSystemErrors,
        JobMarketplace::JobMarketplaceErrors,
        NodeRegistry::NodeRegistryErrors,
        Staking::StakingErrors,
        Slashing::SlashingErrors,
        VouchToken::VouchTokenErrors
    );
    if let Ok(r) = Revert::abi_decode(data) {
        return Decoded {
            name: "Error".into(),
            reason: format!("Error({:?})", r.reason),
        };
    }
    if data.is_empty() {
        return Decoded {
            name: "Revert".into(),
            reason: "reverted without data (out of gas, or a bare revert)".into(),
        };
    }
    Decoded {
        name: "Unknown".into(),
        reason: format!("unknown revert data {}", Bytes::copy_from_slice(data)),
    }
}

/// The decoded revert inside an RPC error, if the node answered with one.
pub fn from_rpc_error(error: &TransportError) -> Option<Decoded> {
    let payload = error.as_error_resp()?;
    if let Some(data) = payload.as_revert_data() {
        return Some(decode(&data));
    }
    // Some nodes answer "execution reverted" without data (a bare revert).
    payload
        .message
        .contains("revert")
        .then(|| decode(&[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, U256};

    #[test]
    fn custom_errors_decode_to_their_names_and_arguments() {
        let data = ProofSystem::BatchTooLarge {
            jobs: U256::from(65),
            batchSize: 64,
        }
        .abi_encode();
        assert_eq!(
            decode(&data),
            Decoded {
                name: "BatchTooLarge".into(),
                reason: "BatchTooLarge { jobs: 65, batchSize: 64 }".into()
            }
        );
        let caller = Address::repeat_byte(0xab);
        let data = JobMarketplace::NotHostOrOperator {
            jobId: U256::from(7),
            caller,
        }
        .abi_encode();
        let d = decode(&data);
        assert_eq!(d.name, "NotHostOrOperator");
        assert_eq!(
            d.reason,
            format!("NotHostOrOperator {{ jobId: 7, caller: {caller:?} }}")
        );
    }

    #[test]
    fn plain_reverts_and_unknown_data() {
        let data = Revert::from("nope").abi_encode();
        assert_eq!(decode(&data).reason, "Error(\"nope\")");
        assert_eq!(decode(&[]).name, "Revert");
        assert_eq!(decode(&[1, 2, 3, 4]).name, "Unknown");
    }
}
