//! What can go wrong in a host operation, as one typed error. Messages name files, variables
//! and contract errors, never a key, a password or a mnemonic.

use std::path::PathBuf;

use super::TxError;

/// The host library's result.
pub type Result<T, E = HostError> = std::result::Result<T, E>;

/// Why a host operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{} already exists; choose another --keystore path or remove it", .path.display())]
    KeystoreExists { path: PathBuf },
    #[error("no keystore at {}; create one with `vouch host wallet new` or set VOUCH_PRIVATE_KEY", .path.display())]
    NoKeystore { path: PathBuf },
    #[error("{} is not a keystore file name", .path.display())]
    BadKeystorePath { path: PathBuf },
    #[error("wrong password for keystore {} (set VOUCH_KEYSTORE_PASSWORD or type it at the prompt)", .path.display())]
    WrongPassword { path: PathBuf },
    #[error("{} is not a readable keystore file (an encrypted JSON key)", .path.display())]
    BadKeystore { path: PathBuf },
    #[error("the keystore password is empty; choose a non-empty one")]
    EmptyPassword,
    #[error(
        "VOUCH_PRIVATE_KEY is not a private key: it must be 64 hex digits (0x optional) of a valid secp256k1 key"
    )]
    BadPrivateKey,
    #[error("the mnemonic is not a valid BIP-39 English phrase")]
    BadMnemonic,
    #[error("no signing key: pass --keystore FILE (or VOUCH_KEYSTORE) or set VOUCH_PRIVATE_KEY")]
    NoKey,
    #[error("cannot generate a key: {0}")]
    Keygen(String),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A value the user gave is out of range (zero amount, too long a region...).
    #[error("{0}")]
    Invalid(String),
    /// A read from the chain failed.
    #[error("{what} failed: {reason}")]
    Read { what: &'static str, reason: String },
    /// The transaction manager could not land a transaction.
    #[error("{what}: {source}")]
    Tx {
        what: &'static str,
        #[source]
        source: TxError,
    },
    /// The local keeper's /metrics could not be read.
    #[error("cannot read the keeper's queue at {url}: {reason}")]
    Keeper { url: String, reason: String },
}

impl HostError {
    /// Whether the user can fix this by changing the command line, environment or chain state
    /// they asked about (exit code 2), rather than a failure of the node or the machine.
    pub fn is_bad_input(&self) -> bool {
        match self {
            HostError::KeystoreExists { .. }
            | HostError::NoKeystore { .. }
            | HostError::BadKeystorePath { .. }
            | HostError::WrongPassword { .. }
            | HostError::BadKeystore { .. }
            | HostError::EmptyPassword
            | HostError::BadPrivateKey
            | HostError::BadMnemonic
            | HostError::NoKey
            | HostError::Invalid(_) => true,
            // A revert is the contract refusing what was asked (not registered, nothing to
            // withdraw, still unbonding): the decoded custom error says what to change.
            HostError::Tx { source, .. } => matches!(source, TxError::Reverted { .. }),
            HostError::Keygen(_)
            | HostError::Io { .. }
            | HostError::Read { .. }
            | HostError::Keeper { .. } => false,
        }
    }

    /// For `map_err` on a contract read.
    pub(crate) fn read(what: &'static str) -> impl FnOnce(alloy::contract::Error) -> HostError {
        move |e| HostError::Read {
            what,
            reason: e.to_string(),
        }
    }

    /// For `map_err` on a transaction.
    pub(crate) fn tx(what: &'static str) -> impl FnOnce(TxError) -> HostError {
        move |source| HostError::Tx { what, source }
    }
}
