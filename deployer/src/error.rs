//! What can go wrong deploying or verifying, one variant per cause. `is_bad_input` separates
//! what the user fixes (flags, files, the chain they pointed at) from failures.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};

pub type Result<T, E = DeployError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("cannot read network config {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error(
        "chain {chain_id} needs a production SRS, but the verifiers in contracts/generated were made from the development SRS ({srs}), whose creator could forge proofs: set up the circuits with a ceremony SRS, or pass --allow-dev-srs for a throwaway test deployment"
    )]
    DevSrsRefused { chain_id: u64, srs: String },
    #[error("circuit artifacts are missing or unreadable ({0}): run `bash script/setup.sh`")]
    Artifacts(String),
    #[error("cannot reach the RPC at {url}: {reason}")]
    Rpc { url: String, reason: String },
    #[error(
        "a deployment manifest already exists at {0}: pass --out FILE for a new one, or --force to replace it"
    )]
    ManifestExists(PathBuf),
    #[error("cannot run forge at {path}: {reason} (run `bash script/setup.sh`)")]
    ForgeMissing { path: PathBuf, reason: String },
    #[error("the deploy script failed (exit {status}): {tail}")]
    ScriptFailed { status: i32, tail: String },
    #[error(transparent)]
    Manifest(#[from] vouch_bindings::ManifestError),
    #[error("the manifest is for chain {manifest}, but the RPC serves chain {rpc}")]
    ChainMismatch { manifest: u64, rpc: u64 },
    #[error("{contract} at {address} has no code")]
    NoCode {
        contract: &'static str,
        address: Address,
    },
    #[error(
        "{contract} at {address} does not run the code this repository compiles (out/): {reason}"
    )]
    CodeMismatch {
        contract: &'static str,
        address: Address,
        reason: String,
    },
    #[error(
        "the deployer {deployer} still holds role {role} on {contract}: every role must be handed over"
    )]
    DeployerHoldsRole {
        deployer: Address,
        contract: &'static str,
        role: B256,
    },
    #[error("{contract}'s admin role is held by {holders:?}, not by the timelock alone")]
    AdminNotTimelock {
        contract: &'static str,
        holders: Vec<Address>,
    },
    #[error("{what}: expected {expected}, the chain says {actual}")]
    Wiring {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("artifact: {0}")]
    Artifact(#[from] vouch_bindings::artifacts::ArtifactError),
}

impl DeployError {
    /// True when the user can fix it by changing flags, files or the chain they pointed at.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            DeployError::Config { .. }
                | DeployError::DevSrsRefused { .. }
                | DeployError::Rpc { .. }
                | DeployError::ManifestExists(_)
                | DeployError::Manifest(_)
                | DeployError::ChainMismatch { .. }
        )
    }
}
