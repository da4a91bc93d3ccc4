//! `vouch deploy`: deploys Vouch with the real deploy script (`vouch_deployer`), verifies what
//! landed (code, roles, verifiers) and writes the manifest that then drives `vouch index`,
//! `vouch serve` and `vouch keeper run`.
//!
//! Everything is checked before a transaction is sent: the key, the RPC and its chain id, the
//! network config for that chain, the development-SRS guard and the output path.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use clap::Args;
use vouch_deployer::{DeployError, DeployRequest, NetworkConfig, network, srs};
use vouch_keeper::prover::Artifacts;

use crate::{BadInput, bad_input};

/// How long `eth_chainId` may take before the RPC counts as unreachable.
const RPC_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// JSON-RPC endpoint of the target chain [default: the URL in the network config's
    /// variable, e.g. BASE_SEPOLIA_RPC_URL, with --network]
    #[arg(long, env = "VOUCH_RPC_URL", value_name = "URL")]
    rpc_url: Option<String>,
    /// A network of deploy/networks/ (anvil, base-sepolia, base); by default the one whose
    /// chain id the RPC serves
    #[arg(long, env = "VOUCH_NETWORK", value_name = "NAME")]
    network: Option<String>,
    /// The deployer's private key, 0x-hex (prefer the environment variable: a flag is visible
    /// to every process on the machine)
    #[arg(
        long,
        env = "VOUCH_PRIVATE_KEY",
        value_name = "HEX",
        hide_env_values = true,
        conflicts_with = "keystore",
        required_unless_present = "keystore"
    )]
    private_key: Option<String>,
    /// An encrypted JSON keystore holding the deployer's key; its password comes from
    /// VOUCH_KEYSTORE_PASSWORD
    #[arg(long, env = "VOUCH_KEYSTORE", value_name = "FILE")]
    keystore: Option<PathBuf>,
    /// Where to write the manifest [default: the network config's, else deploy/<chainId>.json]
    #[arg(long, env = "VOUCH_DEPLOYMENT_OUT", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace an existing manifest at the output path
    #[arg(long)]
    force: bool,
    /// Deploy verifiers made from the development SRS (anyone who knows its secret can forge
    /// proofs) on a chain whose config does not allow them: for throwaway test chains only
    #[arg(long)]
    allow_dev_srs: bool,
}

pub async fn run(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let signer = load_signer(&args)?;
    let root = vouch_bindings::repository_root();
    let dir = network::networks_dir();
    let named = match &args.network {
        Some(name) => Some(NetworkConfig::named(&dir, name).map_err(bad)?),
        None => None,
    };
    let url = match (&args.rpc_url, &named) {
        (Some(url), _) => url.clone(),
        (None, Some(config)) => match std::env::var(&config.rpc_url_env) {
            Ok(url) if !url.is_empty() => url,
            _ => bad_input!(
                "no RPC URL: set {} (the {} config's variable) or pass --rpc-url",
                config.rpc_url_env,
                config.name
            ),
        },
        (None, None) => bad_input!("no RPC URL: pass --rpc-url URL or --network NAME"),
    };
    let parsed = match url.parse() {
        Ok(parsed) => parsed,
        Err(e) => bad_input!("--rpc-url {url} is not a URL: {e}"),
    };
    let provider = ProviderBuilder::new().connect_http(parsed).erased();
    let chain_id = match tokio::time::timeout(RPC_PROBE_TIMEOUT, provider.get_chain_id()).await {
        Ok(Ok(id)) => id,
        Ok(Err(e)) => bad_input!(
            "cannot reach the RPC at {url}: {e}; check --rpc-url / VOUCH_RPC_URL and that the node is up"
        ),
        Err(_) => bad_input!(
            "the RPC at {url} did not answer eth_chainId within {} s; check --rpc-url and that the node is up",
            RPC_PROBE_TIMEOUT.as_secs()
        ),
    };
    let config = match named {
        Some(config) if config.chain_id != chain_id => bad_input!(
            "--network {} is chain {}, but the RPC at {url} serves chain {chain_id}",
            config.name,
            config.chain_id
        ),
        Some(config) => Some(config),
        None => NetworkConfig::for_chain(&dir, chain_id).map_err(bad)?,
    };
    let allowed = args.allow_dev_srs || config.as_ref().is_some_and(|c| c.allow_dev_srs);
    srs::check(&Artifacts::from_env(), chain_id, allowed).map_err(bad)?;
    let out = args
        .out
        .clone()
        .or_else(|| config.as_ref().map(|c| root.join(&c.manifest)))
        .unwrap_or_else(|| root.join(format!("deploy/{chain_id}.json")));
    if out.exists() && !args.force {
        return Err(bad(DeployError::ManifestExists(out)));
    }

    let settings = config
        .as_ref()
        .map(|c| c.settings.clone())
        .unwrap_or_default();
    eprintln!(
        "deploying Vouch to chain {chain_id}{} as {} (script/Deploy.s.sol, one transaction at a time)...",
        config
            .as_ref()
            .map(|c| format!(" ({})", c.name))
            .unwrap_or_default(),
        signer.address()
    );
    let started = Instant::now();
    let request = DeployRequest {
        rpc_url: &url,
        signer: &signer,
        settings: &settings,
        out: &out,
    };
    let deployment =
        tokio::task::block_in_place(|| vouch_deployer::run_deploy_script(&root, &request))?;
    eprintln!(
        "deployed in {:.0} s; verifying code, roles and verifiers...",
        started.elapsed().as_secs_f64()
    );
    let report =
        vouch_deployer::verify_deployment(&provider, &deployment, signer.address()).await?;
    for (name, address, size) in &report.contracts {
        println!("{name:<20} {address}  {size:>6} bytes of code, as compiled");
    }
    for role in &report.roles {
        println!(
            "{:<20} {:<20} {}{}",
            role.contract,
            role.role,
            role.account,
            role.account_name
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
    }
    println!(
        "verified: {} contracts as compiled, {} role grants, the deployer holds none; manifest written to {}",
        report.contracts.len(),
        report.roles.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn load_signer(args: &DeployArgs) -> anyhow::Result<PrivateKeySigner> {
    if let Some(key) = &args.private_key {
        // Never echo the key: the message says what is wrong with it, not what it is.
        return match vouch_keeper::signing::key_from_hex(key) {
            Ok(signer) => Ok(signer),
            Err(_) => bad_input!(
                "the private key (--private-key / VOUCH_PRIVATE_KEY) is not a 32-byte hex secp256k1 key"
            ),
        };
    }
    let path = args.keystore.as_ref().expect("clap requires a key source");
    let password = match std::env::var("VOUCH_KEYSTORE_PASSWORD") {
        Ok(password) => password,
        Err(_) => bad_input!(
            "set VOUCH_KEYSTORE_PASSWORD to the password of the keystore {}",
            path.display()
        ),
    };
    match vouch_keeper::signing::key_from_keystore(path, &password) {
        Ok(signer) => Ok(signer),
        Err(vouch_keeper::signing::SigningError::Keystore { reason, .. }) => bad_input!(
            "cannot open the keystore {}: {reason} (check the file and VOUCH_KEYSTORE_PASSWORD)",
            path.display(),
        ),
        Err(e) => bad_input!("{e}"),
    }
}

/// A deployer error the user fixes (config, chain, SRS, path) as bad input, else a failure.
fn bad(e: DeployError) -> anyhow::Error {
    if e.is_bad_input() {
        anyhow::Error::new(BadInput(e.to_string()))
    } else {
        anyhow::Error::new(e)
    }
}
