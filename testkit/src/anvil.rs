//! The project's anvil (from the npm toolchain), started on a free port per test.

use std::path::PathBuf;

use alloy::node_bindings::{Anvil, AnvilInstance};

/// The repository root (where `node_modules/` and `out/` live): the workspace's one lookup.
pub fn workspace_root() -> PathBuf {
    vouch_bindings::repository_root()
}

/// Path of the pinned anvil binary; `VOUCH_ANVIL` overrides it.
pub fn anvil_path() -> PathBuf {
    std::env::var_os("VOUCH_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            workspace_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
        })
}

/// Starts a fresh anvil chain (chain id 31337, the ten well-known funded accounts) on a free
/// port. It stops when the returned instance is dropped.
pub fn anvil() -> AnvilInstance {
    let path = anvil_path();
    assert!(
        path.exists(),
        "anvil is missing at {}; run `bash script/setup.sh` first",
        path.display()
    );
    Anvil::at(path).spawn()
}

/// [`anvil`] without the EIP-170 contract size limit, for a verifiable model whose verifier is
/// above it (the attention block's; it could not be deployed on Base as it is).
pub fn anvil_without_size_limit() -> AnvilInstance {
    let path = anvil_path();
    assert!(
        path.exists(),
        "anvil is missing at {}; run `bash script/setup.sh` first",
        path.display()
    );
    Anvil::at(path).arg("--disable-code-size-limit").spawn()
}
