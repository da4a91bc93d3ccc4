//! Deployment of Vouch to a chain, and the checks that what landed is what the repository
//! builds: `vouch deploy` and the devnet use it.
//!
//! - [`network`]: the per-network configs in `deploy/networks/` (chain id, RPC URL variable,
//!   deploy settings, whether development verifiers are acceptable there).
//! - [`srs`]: refuses verifiers made from the development SRS where they are not acceptable.
//! - [`script`]: runs the real `script/Deploy.s.sol` through forge.
//! - [`verify`]: checks a deployment on chain: every contract's code, every role, the
//!   verifiers installed in ProofSystem.

pub mod error;
pub mod network;
pub mod script;
pub mod srs;
pub mod verify;

pub use error::{DeployError, Result};
pub use network::{DeploySettings, NetworkConfig};
pub use script::{DeployRequest, run_deploy_script};
pub use verify::{RoleHolder, VerifyReport, verify_deployment};
