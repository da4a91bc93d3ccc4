//! Runs the real deploy script (`script/Deploy.s.sol`) through the project's forge. The key
//! reaches forge in the environment (`VOUCH_DEPLOYER_KEY`), never on its command line, where
//! any process on the machine could read it.

use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;

use crate::{DeployError, DeploySettings, Result};

/// One run of the deploy script.
pub struct DeployRequest<'a> {
    pub rpc_url: &'a str,
    pub signer: &'a PrivateKeySigner,
    pub settings: &'a DeploySettings,
    /// Where the manifest goes; the script itself may only write under `deploy/`, so it writes
    /// a scratch file there that is then saved here.
    pub out: &'a Path,
}

/// The project's forge binary.
pub fn forge_path(root: &Path) -> PathBuf {
    root.join("node_modules/.bin/forge")
}

/// Deploys everything with `request.signer` and returns the manifest the script wrote, saved
/// at `request.out`.
#[tracing::instrument(skip_all, fields(rpc = %request.rpc_url, deployer = %request.signer.address()))]
pub fn run_deploy_script(root: &Path, request: &DeployRequest<'_>) -> Result<Deployment> {
    let forge = forge_path(root);
    let scratch = tempfile::Builder::new()
        .prefix(".deploy-")
        .tempdir_in(root.join("deploy"))
        .map_err(|e| DeployError::ForgeMissing {
            path: root.join("deploy"),
            reason: format!("cannot make a scratch folder: {e}"),
        })?;
    let manifest = scratch.path().join("deployment.json");
    let key = format!("0x{}", alloy::hex::encode(request.signer.to_bytes()));
    let output = Command::new(&forge)
        .current_dir(root)
        .args([
            "script",
            "script/Deploy.s.sol:Deploy",
            "--broadcast",
            "--slow",
        ])
        .arg("--rpc-url")
        .arg(request.rpc_url)
        .envs(request.settings.to_env())
        .env("VOUCH_DEPLOYER_KEY", key)
        .env("VOUCH_DEPLOYMENT_OUT", &manifest)
        .output()
        .map_err(|e| DeployError::ForgeMissing {
            path: forge.clone(),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(DeployError::ScriptFailed {
            status: output.status.code().unwrap_or(-1),
            tail: tail_of(&output.stdout, &output.stderr),
        });
    }
    let deployment = Deployment::load(&manifest)?;
    deployment.save(request.out)?;
    Ok(deployment)
}

/// The last lines forge printed that say something (its errors come last), on one line.
fn tail_of(stdout: &[u8], stderr: &[u8]) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(stdout),
        String::from_utf8_lossy(stderr)
    );
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_three_lines_that_say_something() {
        let tail = tail_of(b"Compiling\n\nScript ran\n", b"Error: a\n  b  \n\nc\n");
        assert_eq!(tail, "Error: a | b | c");
    }
}
