//! Typed alloy bindings of the Vouch contracts, generated at compile time from forge's artifacts
//! in `out/` (ABI and bytecode, so `deploy` works), and the deployment manifest type that says
//! where a network's contracts live.

pub mod manifest;

pub use manifest::{Contracts, Deployment, ManifestError};

/// Contract bindings. Each module holds the contract's calls, events, errors and `deploy`.
pub mod contracts {
    alloy::sol!(
        #[allow(missing_docs)]
        #[sol(rpc)]
        #[derive(Debug)]
        VouchToken,
        "../out/VouchToken.sol/VouchToken.json"
    );
}
