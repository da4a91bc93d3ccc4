//! The operator's EIP-712 signature of a result: `Result(uint256 jobId, bytes32 outputHash)` in
//! the Slashing contract's domain (name "Vouch Slashing", version "1", the chain id and the
//! Slashing address), exactly what `Slashing.resultDigest` hashes and `reportEquivocation`
//! recovers. The renter keeps it as evidence of what the host answered.
//!
//! This module only signs; the rule that the keeper never signs two different outputs for one
//! job lives in intake, which signs only what the durable queue ([`crate::queue`]) accepts
//! as the job's one output and otherwise hands back the stored signature.
//!
//! Keys come from a hex string (flag or environment) or an encrypted keystore file; neither the
//! key nor the password is ever logged or put in an error message.

use std::fmt;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct, eip712_domain};

mod typed {
    alloy::sol! {
        /// The signed statement: job `jobId` produced output `outputHash`.
        struct Result {
            uint256 jobId;
            bytes32 outputHash;
        }
    }
}

/// Why a key could not be loaded or a result signed. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The hex private key is not 32 bytes of hex.
    #[error("the private key is not a valid secp256k1 key (expected 64 hex digits, 0x optional)")]
    BadPrivateKey,
    /// The keystore file cannot be read or decrypted.
    #[error("cannot open keystore {}: {reason}", .path.display())]
    Keystore { path: PathBuf, reason: String },
    /// The signer failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The signing `Result` alias.
pub type Result<T, E = SigningError> = std::result::Result<T, E>;

/// Signs results for one operator key in one deployment's Slashing domain.
#[derive(Clone)]
pub struct ResultSigner {
    signer: PrivateKeySigner,
    domain: Eip712Domain,
}

// Never print the key: only the address.
impl fmt::Debug for ResultSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultSigner")
            .field("address", &self.signer.address())
            .field("domain", &self.domain)
            .finish()
    }
}

impl ResultSigner {
    /// A signer for `key` in the domain of the Slashing contract at `slashing` on `chain_id`.
    pub fn new(key: PrivateKeySigner, chain_id: u64, slashing: Address) -> Self {
        Self {
            signer: key,
            domain: domain(chain_id, slashing),
        }
    }

    /// The operator address whose signatures these are.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The key itself, for the transaction wallet of the same operator.
    pub fn key(&self) -> &PrivateKeySigner {
        &self.signer
    }

    /// The EIP-712 digest `Slashing.resultDigest(jobId, outputHash)` returns.
    pub fn digest(&self, job_id: B256, output_hash: B256) -> B256 {
        result(job_id, output_hash).eip712_signing_hash(&self.domain)
    }

    /// The 65-byte signature (r, s, v with v in {27, 28}) of the digest: what OpenZeppelin's
    /// `ECDSA.recover` takes. Deterministic (RFC 6979): one (job, output) always gives the
    /// same bytes.
    pub fn sign(&self, job_id: B256, output_hash: B256) -> Result<Bytes> {
        let signature = self
            .signer
            .sign_hash_sync(&self.digest(job_id, output_hash))
            .map_err(|e| SigningError::Sign(e.to_string()))?;
        Ok(Bytes::copy_from_slice(&signature.as_bytes()))
    }
}

/// The Slashing contract's EIP-712 domain (contracts/Slashing.sol: `EIP712("Vouch Slashing", "1")`).
pub fn domain(chain_id: u64, slashing: Address) -> Eip712Domain {
    eip712_domain! {
        name: "Vouch Slashing",
        version: "1",
        chain_id: chain_id,
        verifying_contract: slashing,
    }
}

/// Who signed `signature` over `Result(job_id, output_hash)` in `domain`, if it parses.
pub fn recover(
    domain: &Eip712Domain,
    job_id: B256,
    output_hash: B256,
    signature: &[u8],
) -> Option<Address> {
    let signature = alloy::primitives::Signature::try_from(signature).ok()?;
    let digest = result(job_id, output_hash).eip712_signing_hash(domain);
    signature.recover_address_from_prehash(&digest).ok()
}

fn result(job_id: B256, output_hash: B256) -> typed::Result {
    typed::Result {
        jobId: U256::from_be_bytes(job_id.0),
        outputHash: output_hash,
    }
}

/// A private key from 64 hex digits (`0x` optional). The one parser is
/// [`crate::host::wallet::key_from_hex`]; this maps its error.
pub fn key_from_hex(hex: &str) -> Result<PrivateKeySigner> {
    crate::host::wallet::key_from_hex(hex).map_err(|_| SigningError::BadPrivateKey)
}

/// A private key from an encrypted (Web3 secret storage) keystore file. The one loader is
/// [`crate::host::wallet::load_keystore`]; this says in `reason` why it failed, never with
/// the key or the password.
pub fn key_from_keystore(path: &Path, password: &str) -> Result<PrivateKeySigner> {
    use crate::host::HostError;
    let secret = crate::host::Secret::new(password);
    crate::host::wallet::load_keystore(path, &secret).map_err(|e| SigningError::Keystore {
        path: path.to_path_buf(),
        reason: match e {
            HostError::NoKeystore { .. } => "no such file".into(),
            HostError::WrongPassword { .. } => "wrong password".into(),
            HostError::BadKeystore { .. } => "not a keystore (an encrypted JSON key)".into(),
            HostError::Io { source, .. } => source.to_string(),
            other => other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANVIL_KEY_2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

    #[test]
    fn the_type_string_is_the_contracts() {
        assert_eq!(
            typed::Result::eip712_encode_type(),
            "Result(uint256 jobId,bytes32 outputHash)"
        );
    }

    #[test]
    fn signatures_are_deterministic_and_recover_to_the_operator() {
        let key = key_from_hex(ANVIL_KEY_2).unwrap();
        let slashing = Address::repeat_byte(0x55);
        let signer = ResultSigner::new(key, 31337, slashing);
        let (job, output) = (B256::with_last_byte(7), B256::repeat_byte(0xaa));
        let a = signer.sign(job, output).unwrap();
        assert_eq!(a.len(), 65);
        assert_eq!(a, signer.sign(job, output).unwrap());
        assert!(a[64] == 27 || a[64] == 28);
        let domain = domain(31337, slashing);
        assert_eq!(recover(&domain, job, output, &a), Some(signer.address()));
        // Another chain or contract is another domain: the signature does not carry over.
        assert_ne!(
            recover(&super::domain(1, slashing), job, output, &a),
            Some(signer.address())
        );
    }

    #[test]
    fn bad_keys_say_so_without_the_key() {
        let err = key_from_hex("0x1234secret").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the private key is not a valid secp256k1 key (expected 64 hex digits, 0x optional)"
        );
        let debug = format!(
            "{:?}",
            ResultSigner::new(key_from_hex(ANVIL_KEY_2).unwrap(), 1, Address::ZERO)
        );
        assert!(!debug.contains("5de4111a"), "{debug}");
    }
}
