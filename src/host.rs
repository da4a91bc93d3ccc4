//! `vouch host ...`: the host's own operations (keys, stake, registration, jobs, payments,
//! status), each a thin call into `vouch_keeper::host`. Keys come only from a keystore
//! (`--keystore`, password from `VOUCH_KEYSTORE_PASSWORD` or a prompt without echo) or from
//! `VOUCH_PRIVATE_KEY`; neither is ever printed or logged. Every flag can also be set by the
//! environment variable named in `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alloy::network::EthereumWallet;
use alloy::primitives::utils::{format_ether, parse_ether};
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use clap::{Args, Subcommand};
use vouch_bindings::Deployment;
use vouch_keeper::host::wallet::{self, PASSWORD_ENV, PRIVATE_KEY_ENV, Secret};
use vouch_keeper::host::{Chain, HostError, HostStatus, Registration, ops, status};
use vouch_keeper::host::{TxConfig, TxManager};

use crate::{BadInput, bad_input};

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Keys: create an encrypted keystore
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Approve and stake VOUCH
    Stake(AmountArgs),
    /// Start unbonding VOUCH (withdrawable after the unbonding period)
    Unstake(AmountArgs),
    /// Withdraw the stake whose unbonding has ended
    Withdraw(SendArgs),
    /// Register this host's node (needs the minimum stake)
    Register(RegisterArgs),
    /// Name the operator (the keeper's hot key) of this host's node
    SetOperator(SetOperatorArgs),
    /// Claim an open job for this host
    ClaimJob(ClaimJobArgs),
    /// Collect payments: release those past their dispute window and withdraw what is claimable
    Claim(SendArgs),
    /// Stake, reputation, jobs, payments, slashes, and the local keeper's queue
    Status(StatusArgs),
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a key from a fresh mnemonic (shown once) in an encrypted keystore
    New(WalletNewArgs),
    /// Print the address of a keystore's key (or of VOUCH_PRIVATE_KEY's)
    Address(KeyArgs),
}

#[derive(Debug, Args)]
pub struct WalletNewArgs {
    /// Where to write the keystore (refuses to overwrite)
    #[arg(long, env = "VOUCH_KEYSTORE", value_name = "FILE")]
    keystore: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Encrypted keystore holding the signing key; without it, VOUCH_PRIVATE_KEY is used.
    /// The password comes from VOUCH_KEYSTORE_PASSWORD or a prompt.
    #[arg(long, env = "VOUCH_KEYSTORE", value_name = "FILE")]
    keystore: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ChainArgs {
    /// JSON-RPC endpoint of the deployment's chain
    #[arg(long, env = "VOUCH_RPC_URL", value_name = "URL")]
    rpc_url: String,
    /// Deployment manifest written by the deploy script (deploy/<network>.json)
    #[arg(long, env = "VOUCH_DEPLOYMENT", value_name = "FILE")]
    deployment: PathBuf,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct AmountArgs {
    #[command(flatten)]
    send: SendArgs,
    /// Amount of VOUCH, in whole tokens (decimals allowed, e.g. 1000 or 2.5)
    #[arg(long, env = "VOUCH_AMOUNT", value_name = "VOUCH")]
    amount: String,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    send: SendArgs,
    /// Public endpoint renters reach the node at
    #[arg(long, env = "VOUCH_ENDPOINT", value_name = "URL")]
    endpoint: String,
    /// Region label, at most 16 bytes (e.g. eu-west-1)
    #[arg(long, env = "VOUCH_REGION")]
    region: String,
    /// Models served: names (hashed with keccak256) or 0x-prefixed 32-byte hashes, comma-separated
    #[arg(long, env = "VOUCH_MODELS", value_delimiter = ',', required = true)]
    models: Vec<String>,
    /// Price in wei per token
    #[arg(long, env = "VOUCH_PRICE", value_name = "WEI")]
    price: U256,
}

#[derive(Debug, Args)]
pub struct SetOperatorArgs {
    #[command(flatten)]
    send: SendArgs,
    /// The operator's address (0x000...0 removes it)
    #[arg(long, env = "VOUCH_OPERATOR", value_name = "ADDRESS")]
    operator: Address,
}

#[derive(Debug, Args)]
pub struct ClaimJobArgs {
    #[command(flatten)]
    send: SendArgs,
    /// The job's id
    #[arg(long, env = "VOUCH_JOB", value_name = "ID")]
    job: U256,
    /// The host to claim for [default: the signing key's address; set it when signing as operator]
    #[arg(long, env = "VOUCH_HOST", value_name = "ADDRESS")]
    host: Option<Address>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The host [default: the address of --keystore or VOUCH_PRIVATE_KEY]
    #[arg(long, env = "VOUCH_HOST", value_name = "ADDRESS")]
    host: Option<Address>,
    #[command(flatten)]
    key: KeyArgs,
    /// The local keeper (e.g. http://127.0.0.1:8100): adds its queue depth
    #[arg(long, env = "VOUCH_KEEPER_URL", value_name = "URL")]
    keeper_url: Option<String>,
    /// Print JSON instead of text
    #[arg(long, env = "VOUCH_JSON")]
    json: bool,
}

pub async fn run(command: HostCommand) -> anyhow::Result<ExitCode> {
    match command {
        HostCommand::Wallet(WalletCommand::New(args)) => wallet_new(&args.keystore)?,
        HostCommand::Wallet(WalletCommand::Address(args)) => {
            println!("{}", signer(&args)?.address())
        }
        HostCommand::Stake(args) => {
            let amount = vouch_amount(&args.amount)?;
            let (chain, tx) = connect(&args.send).await?;
            let staked = ops::stake(&chain, &tx, amount).await.map_err(host_error)?;
            if let Some(a) = &staked.approve {
                println!("approved {} VOUCH: {}", args.amount, a.tx_hash);
            }
            println!("staked {} VOUCH: {}", args.amount, staked.stake.tx_hash);
        }
        HostCommand::Unstake(args) => {
            let amount = vouch_amount(&args.amount)?;
            let (chain, tx) = connect(&args.send).await?;
            let landed = ops::unstake(&chain, &tx, amount)
                .await
                .map_err(host_error)?;
            println!("unbonding {} VOUCH: {}", args.amount, landed.tx_hash);
        }
        HostCommand::Withdraw(args) => {
            let (chain, tx) = connect(&args).await?;
            let before = chain.token().balanceOf(tx.from()).call().await?;
            let landed = ops::withdraw(&chain, &tx).await.map_err(host_error)?;
            let after = chain.token().balanceOf(tx.from()).call().await?;
            println!(
                "withdrew {} VOUCH: {}",
                format_ether(after.saturating_sub(before)),
                landed.tx_hash
            );
        }
        HostCommand::Register(args) => {
            let models = args
                .models
                .iter()
                .map(|m| ops::model_hash(m.trim()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(host_error)?;
            let (chain, tx) = connect(&args.send).await?;
            let node = Registration {
                endpoint: args.endpoint,
                region: args.region,
                models,
                price_per_token: args.price,
            };
            let landed = ops::register(&chain, &tx, &node)
                .await
                .map_err(host_error)?;
            println!(
                "registered {} with {} model(s): {}",
                tx.from(),
                node.models.len(),
                landed.tx_hash
            );
        }
        HostCommand::SetOperator(args) => {
            let (chain, tx) = connect(&args.send).await?;
            let landed = ops::set_operator(&chain, &tx, args.operator)
                .await
                .map_err(host_error)?;
            println!("operator set to {}: {}", args.operator, landed.tx_hash);
        }
        HostCommand::ClaimJob(args) => {
            let (chain, tx) = connect(&args.send).await?;
            let host = args.host.unwrap_or(tx.from());
            let landed = ops::claim_job(&chain, &tx, args.job, host)
                .await
                .map_err(host_error)?;
            println!("claimed job {} for {host}: {}", args.job, landed.tx_hash);
        }
        HostCommand::Claim(args) => {
            let (chain, tx) = connect(&args).await?;
            let host = tx.from();
            let collected = ops::claim_payments(&chain, &tx, host)
                .await
                .map_err(host_error)?;
            println!(
                "released {} payment(s), withdrew {} ETH",
                collected.released.len(),
                format_ether(collected.withdrawn)
            );
        }
        HostCommand::Status(args) => {
            let host = match args.host {
                Some(h) => h,
                None if args.key.keystore.is_some()
                    || std::env::var_os(PRIVATE_KEY_ENV).is_some() =>
                {
                    signer(&args.key)?.address()
                }
                None => bad_input!(
                    "which host? pass --host ADDRESS (or a key: --keystore FILE or VOUCH_PRIVATE_KEY)"
                ),
            };
            let chain = read_chain(&args.chain).await?;
            let s = status::status(&chain, host, args.keeper_url.as_deref())
                .await
                .map_err(host_error)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_status(&s);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit 2 for what the user can fix, 1 for failures; the message never holds a secret.
fn host_error(e: HostError) -> anyhow::Error {
    if e.is_bad_input() {
        anyhow::Error::new(BadInput(e.to_string()))
    } else {
        anyhow::Error::new(e)
    }
}

fn vouch_amount(text: &str) -> anyhow::Result<U256> {
    match parse_ether(text.trim()) {
        Ok(v) => Ok(v),
        Err(_) => bad_input!("--amount {text:?} is not an amount of VOUCH (e.g. 1000 or 2.5)"),
    }
}

fn wallet_new(path: &Path) -> anyhow::Result<()> {
    let password = match std::env::var(PASSWORD_ENV) {
        Ok(p) => Secret::new(p),
        Err(_) => {
            let first = prompt("password for the new keystore: ")?;
            let second = prompt("the same password again: ")?;
            if first != second {
                bad_input!("the two passwords differ; run it again");
            }
            first
        }
    };
    let created = wallet::new_wallet(path, &password).map_err(host_error)?;
    println!("address: {}", created.address);
    println!("keystore: {}", created.keystore.display());
    println!(
        "mnemonic (shown only this once; write it down and keep it offline; it restores the key):"
    );
    println!("{}", created.mnemonic.expose());
    Ok(())
}

/// Reads a password from the terminal without echo.
fn prompt(label: &str) -> anyhow::Result<Secret> {
    match rpassword::prompt_password(label) {
        Ok(p) => Ok(Secret::new(p)),
        Err(_) => bad_input!("no terminal to ask for the keystore password; set {PASSWORD_ENV}"),
    }
}

/// The signing key: from the keystore if given, else VOUCH_PRIVATE_KEY.
fn signer(args: &KeyArgs) -> anyhow::Result<PrivateKeySigner> {
    let key = match &args.keystore {
        Some(path) => {
            let password = match std::env::var(PASSWORD_ENV) {
                Ok(p) => Secret::new(p),
                Err(_) => prompt(&format!("password for {}: ", path.display()))?,
            };
            wallet::load_keystore(path, &password)
        }
        None => match std::env::var(PRIVATE_KEY_ENV) {
            Ok(value) => wallet::key_from_hex(&value),
            Err(_) => Err(HostError::NoKey),
        },
    };
    key.map_err(host_error)
}

async fn read_chain(args: &ChainArgs) -> anyhow::Result<Chain> {
    let deployment = match Deployment::load(&args.deployment) {
        Ok(d) => d,
        Err(e) => bad_input!("{e}"),
    };
    let provider = match ProviderBuilder::new().connect(&args.rpc_url).await {
        Ok(p) => p.erased(),
        Err(e) => anyhow::bail!("cannot reach the RPC node at {}: {e}", args.rpc_url),
    };
    let chain_id = match provider.get_chain_id().await {
        Ok(id) => id,
        Err(e) => anyhow::bail!("cannot reach the RPC node at {}: {e}", args.rpc_url),
    };
    if chain_id != deployment.chain_id {
        bad_input!(
            "{} is for chain {}, but {} serves chain {chain_id}; pass the matching --deployment or --rpc-url",
            args.deployment.display(),
            deployment.chain_id,
            args.rpc_url
        );
    }
    Ok(Chain::new(provider, deployment))
}

async fn connect(args: &SendArgs) -> anyhow::Result<(Chain, TxManager)> {
    let key = signer(&args.key)?;
    let chain = read_chain(&args.chain).await?;
    let tx = TxManager::new(
        chain.provider.clone(),
        EthereumWallet::from(key),
        chain.deployment.clone(),
        TxConfig::default(),
    )
    .await?;
    Ok((chain, tx))
}

fn ids(list: &[U256]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_status(s: &HostStatus) {
    println!(
        "host {} at block {} (chain time {})",
        s.host, s.block, s.chain_time
    );
    match &s.node {
        Some(n) => println!(
            "node: registered, endpoint {}, region {}, {} wei/token, {} model(s), operator {}, last heartbeat {}",
            n.endpoint, n.region, n.price_per_token, n.model_count, n.operator, n.last_heartbeat
        ),
        None => println!("node: not registered"),
    }
    let st = &s.stake;
    println!(
        "stake: active {} VOUCH, unbonding {} VOUCH{}, locked {} VOUCH, minimum {} VOUCH{}",
        format_ether(st.active),
        format_ether(st.unbonding),
        if st.release_at != 0 {
            format!(" (withdrawable from {})", st.release_at)
        } else {
            String::new()
        },
        format_ether(st.locked),
        format_ether(st.minimum),
        if st.has_minimum {
            ""
        } else {
            " (BELOW THE MINIMUM: cannot claim jobs)"
        }
    );
    println!("reputation: {}", s.reputation);
    let open: Vec<U256> = s.open_jobs.iter().map(|j| j.id).collect();
    println!("open jobs: {} ({})", open.len(), ids(&open));
    println!(
        "pending payments: {} ETH ({} job(s) in their dispute window)",
        format_ether(s.pending_wei),
        s.pending_jobs.len()
    );
    println!(
        "releasable payments: {} ETH (jobs {})",
        format_ether(s.releasable_wei),
        ids(&s.releasable_jobs)
    );
    println!("claimable: {} ETH", format_ether(s.claimable_wei));
    println!("disputed jobs: {}", ids(&s.disputed_jobs));
    println!("expired jobs (missed deadlines): {}", ids(&s.expired_jobs));
    let total: U256 = s.slashes.iter().map(|x| x.amount).sum();
    println!(
        "slashed: {} time(s), {} VOUCH",
        s.slashes.len(),
        format_ether(total)
    );
    for x in &s.slashes {
        println!(
            "  job {}: {} {} VOUCH (block {})",
            x.job_id,
            x.reason,
            format_ether(x.amount),
            x.block
        );
    }
    if let Some(q) = &s.queue {
        let parts: Vec<String> = q.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "keeper queue: {}",
            if parts.is_empty() {
                "empty".into()
            } else {
                parts.join(", ")
            }
        );
    }
}
