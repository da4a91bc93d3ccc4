//! The real deploy script (`script/Deploy.s.sol`) run against a test chain, so tests exercise
//! exactly the deployment and wiring that ships.

use std::path::PathBuf;
use std::process::Command;

use alloy::node_bindings::AnvilInstance;

use crate::workspace_root;

/// A deployment made for one test: its manifest lives in a temporary folder under `deploy/`
/// (the only place the deploy script may write) that is removed on drop.
#[derive(Debug)]
pub struct ScriptDeployment {
    /// The manifest the script wrote (`Deployment::load` reads it).
    pub manifest: PathBuf,
    /// Private key (0x-hex) of the deployer: anvil's first account, which holds the VOUCH supply.
    pub deployer_key: String,
    _dir: tempfile::TempDir,
}

/// Runs `forge script script/Deploy.s.sol --broadcast --slow` against `anvil` with its first
/// account. `--slow` sends one transaction at a time after the previous one's receipt: under
/// load, forge's default burst left transactions queued in anvil and the chain stalled.
/// Panics with forge's output when the script fails.
pub fn deploy_with_script(anvil: &AnvilInstance) -> ScriptDeployment {
    deploy_with_models(anvil, &[])
}

/// [`deploy_with_script`] that also deploys and installs the verifiers of the named verifiable
/// models (`VOUCH_MODELS`; `vouch proof setup` must have built them). Forge runs without the
/// EIP-170 size limit, as the attention block's verifier is above it: start `anvil` with
/// [`anvil_without_size_limit`](crate::anvil_without_size_limit) for such a model.
pub fn deploy_with_models(anvil: &AnvilInstance, models: &[&str]) -> ScriptDeployment {
    let root = workspace_root();
    let dir = tempfile::Builder::new()
        .prefix(".test-")
        .tempdir_in(root.join("deploy"))
        .expect("a temporary folder under deploy/");
    let manifest = dir.path().join("deployment.json");
    let deployer_key = format!("0x{}", alloy::hex::encode(anvil.keys()[0].to_bytes()));
    let mut forge = Command::new(root.join("node_modules/.bin/forge"));
    forge
        .current_dir(&root)
        .args([
            "script",
            "script/Deploy.s.sol:Deploy",
            "--broadcast",
            "--slow",
            "--rpc-url",
        ])
        .arg(anvil.endpoint())
        .arg("--private-key")
        .arg(&deployer_key)
        .env("VOUCH_DEPLOYMENT_OUT", &manifest);
    if models.is_empty() {
        forge.env_remove("VOUCH_MODELS");
    } else {
        forge
            .arg("--disable-code-size-limit")
            .env("VOUCH_MODELS", models.join(","));
    }
    let output = forge
        .output()
        .expect("forge runs (run `bash script/setup.sh` first)");
    assert!(
        output.status.success(),
        "forge script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    ScriptDeployment {
        manifest,
        deployer_key,
        _dir: dir,
    }
}
