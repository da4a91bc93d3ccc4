//! The devnet's chain: the project's pinned anvil (from the npm toolchain) on a fixed port.

use std::net::{SocketAddr, TcpListener};

use alloy::node_bindings::{Anvil, AnvilInstance};

use crate::{DevnetError, Result};

/// anvil's chain id (its default, which the devnet keeps).
pub const CHAIN_ID: u64 = 31337;

/// Starts anvil on `port` (chain id [`CHAIN_ID`], the ten funded development accounts). It
/// stops when the instance is dropped.
pub fn start_anvil(port: u16) -> Result<AnvilInstance> {
    let path = vouch_bindings::repository_root()
        .join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if !path.exists() {
        return Err(DevnetError::Chain(format!(
            "{} is missing: run `bash script/setup.sh`",
            path.display()
        )));
    }
    Anvil::at(path)
        .port(port)
        .try_spawn()
        .map_err(|e| DevnetError::Chain(e.to_string()))
}

/// Fails with a clear error when `port` on 127.0.0.1 is taken, before anything starts.
pub fn check_port_free(port: u16, what: &'static str) -> Result<()> {
    TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|_| DevnetError::PortInUse { what, port })
}

/// The same for a full listen address.
pub fn check_addr_free(addr: SocketAddr, what: &'static str) -> Result<()> {
    TcpListener::bind(addr)
        .map(drop)
        .map_err(|e| DevnetError::AddrInUse {
            what,
            addr,
            reason: e.to_string(),
        })
}
