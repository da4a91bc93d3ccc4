//! The host's own operations, as library functions the `vouch host` commands call: its keys
//! ([`wallet`]: an encrypted keystore from a fresh mnemonic, or a key from the environment),
//! its transactions ([`ops`]: stake, unstake, withdraw, register, set-operator, claim a job,
//! collect payments), and its [`status`]. Reads go through [`chain::Chain`]; every transaction
//! goes through the keeper's [`TxManager`](crate::host::TxManager). Errors are [`HostError`].

pub mod chain;
mod error;
pub mod job;
pub mod ops;
pub mod status;
pub mod wallet;

pub use chain::Chain;
pub use error::{HostError, Result};
pub use ops::{Collected, Registration, Staked};
pub use status::HostStatus;
pub use wallet::{NewWallet, Secret};

/// What host operations and the watcher send through: the keeper's transaction manager.
pub use crate::tx::{Landed, TxConfig, TxError, TxManager};
