//! `vouch keeper run|submit`: the host's keeper service and its intake client. Arguments,
//! keys and process concerns only; the work is in `vouch_keeper` (docs/keeper.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use alloy::providers::{Provider, ProviderBuilder};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use tokio::signal::unix::{SignalKind, signal};
use vouch_keeper::intake::DEFAULT_MAX_BODY;
use vouch_keeper::prover::{Prover, ProverConfig};
use vouch_keeper::queue::{QueueError, ResultState};
use vouch_keeper::service::{Keeper, KeeperConfig, KeeperError, KeeperHandle, ServiceError};
use vouch_keeper::signing::{self, SigningError};
use vouch_keeper::watcher::{ClaimPolicy, WatcherConfig};

use crate::{BadInput, bad_input};

#[derive(Debug, Subcommand)]
pub enum KeeperCommand {
    /// Run the keeper: the intake API (results in, signatures out), /healthz and /metrics, the
    /// pipeline that proves accepted results and lands them on chain, and the watcher.
    Run(RunArgs),
    /// Submit one result to a running keeper and print its signed reply.
    Submit(SubmitArgs),
}

/// Where the operator key comes from: a hex key or an encrypted keystore file.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct KeyArgs {
    /// The operator's private key (64 hex digits); prefer VOUCH_PRIVATE_KEY over the flag
    #[arg(
        long,
        env = "VOUCH_PRIVATE_KEY",
        value_name = "HEX",
        hide_env_values = true
    )]
    private_key: Option<String>,
    /// An encrypted keystore file of the operator key; its password comes from
    /// VOUCH_KEYSTORE_PASSWORD
    #[arg(long, env = "VOUCH_KEYSTORE", value_name = "FILE")]
    keystore: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// JSON-RPC endpoint of the chain
    #[arg(long, env = "VOUCH_RPC_URL", value_name = "URL")]
    rpc_url: String,
    /// Deployment manifest (deploy/<name>.json)
    #[arg(long, env = "VOUCH_DEPLOYMENT", value_name = "FILE")]
    deployment: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    /// The host this keeper works for [default: the operator key's own address]
    #[arg(long, env = "VOUCH_HOST", value_name = "ADDRESS")]
    host: Option<alloy::primitives::Address>,
    /// sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://<data dir>/keeper.sqlite]
    #[arg(long, env = "VOUCH_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Where the default SQLite database lives [default: ./.vouch]
    #[arg(long, env = "VOUCH_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on
    #[arg(
        long,
        env = "VOUCH_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8100"
    )]
    listen: SocketAddr,
    /// Require `Authorization: Bearer <token>` on intake requests
    #[arg(
        long,
        env = "VOUCH_KEEPER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Largest intake request body, bytes
    #[arg(long, env = "VOUCH_MAX_BODY", value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Longest a result waits for its batch to fill, milliseconds
    #[arg(
        long,
        env = "VOUCH_BATCH_WAIT_MS",
        value_name = "MS",
        default_value_t = 2000
    )]
    batch_wait_ms: u64,
    /// Blocks a proof transaction needs on top (its own included) before it counts as landed
    #[arg(
        long,
        env = "VOUCH_CONFIRMATIONS",
        value_name = "N",
        default_value_t = 1
    )]
    confirmations: u64,
    /// How often receipts and the chain head are polled, milliseconds
    #[arg(
        long,
        env = "VOUCH_TX_POLL_MS",
        value_name = "MS",
        default_value_t = 500
    )]
    tx_poll_ms: u64,
    /// Send a heartbeat when the last one on chain is this many seconds old [default: never]
    #[arg(long, env = "VOUCH_HEARTBEAT_SECS", value_name = "SECS")]
    heartbeat_secs: Option<u64>,
    #[command(flatten)]
    watch: WatchArgs,
}

/// The watcher's optional chores: claiming open jobs under a price policy and expiring other
/// hosts' overdue jobs. Both are off unless asked for (alerts are always on).
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Claim open jobs for --models that pay at least --min-price and leave --min-time-left
    #[arg(long, env = "VOUCH_CLAIM", requires = "models")]
    claim: bool,
    /// Models to claim jobs for: names (hashed with keccak256) or 0x-prefixed 32-byte hashes,
    /// comma-separated (those the node serves)
    #[arg(
        long,
        env = "VOUCH_MODELS",
        value_delimiter = ',',
        value_name = "M[,M..]"
    )]
    models: Vec<String>,
    /// Least ETH payment per job worth claiming, in wei after the protocol fee (jobs paid in a
    /// token are not claimed)
    #[arg(long, env = "VOUCH_MIN_PRICE", value_name = "WEI", default_value_t = alloy::primitives::U256::ZERO)]
    min_price: alloy::primitives::U256,
    /// Seconds that must remain before a job's deadline to claim it (inference, proof, landing)
    #[arg(
        long,
        env = "VOUCH_MIN_TIME_LEFT",
        value_name = "SECS",
        default_value_t = 600
    )]
    min_time_left: u64,
    /// Expire other hosts' claimed jobs once their deadline passed (refunds the renter, slashes
    /// that host)
    #[arg(long, env = "VOUCH_EXPIRE_OTHERS")]
    expire_others: bool,
    /// Time between the watcher's rounds, milliseconds
    #[arg(
        long,
        env = "VOUCH_WATCH_POLL_MS",
        value_name = "MS",
        default_value_t = 5000
    )]
    watch_poll_ms: u64,
}

/// The watcher's configuration from the flags: alerts always; claims, expiries and heartbeats
/// only when asked for.
fn watcher_config(
    host: alloy::primitives::Address,
    heartbeat_secs: Option<u64>,
    args: &WatchArgs,
) -> anyhow::Result<WatcherConfig> {
    let mut config = WatcherConfig::new(host);
    config.poll = Duration::from_millis(args.watch_poll_ms.max(10));
    config.heartbeat_every = heartbeat_secs.map(Duration::from_secs);
    config.expire_others = args.expire_others;
    if args.claim {
        let models = args
            .models
            .iter()
            .map(|m| vouch_keeper::host::ops::model_hash(m.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BadInput(format!("{e} (--models / VOUCH_MODELS)")))?;
        config.claim = Some(ClaimPolicy {
            models,
            min_payment_wei: args.min_price,
            min_time_left: args.min_time_left,
        });
    }
    Ok(config)
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("result").required(true).multiple(false)))]
pub struct SubmitArgs {
    /// Job id: a uint256 as 1 to 64 hex digits, 0x optional
    #[arg(long, env = "VOUCH_JOB_ID", value_name = "HEX")]
    job_id: String,
    /// File holding the output text (hashed with keccak256 by the keeper)
    #[arg(long, env = "VOUCH_OUTPUT", value_name = "FILE", group = "result")]
    output: Option<PathBuf>,
    /// The output's hash: 64 hex digits, 0x optional
    #[arg(long, env = "VOUCH_OUTPUT_HASH", value_name = "HEX", group = "result")]
    output_hash: Option<String>,
    /// The keeper's base URL
    #[arg(
        long,
        env = "VOUCH_KEEPER",
        value_name = "URL",
        default_value = "http://127.0.0.1:8100"
    )]
    keeper: String,
    /// Bearer token of the keeper
    #[arg(
        long,
        env = "VOUCH_KEEPER_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
}

/// Runs one `vouch keeper` command.
pub async fn run(command: KeeperCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeeperCommand::Run(args) => run_keeper(args).await,
        KeeperCommand::Submit(args) => submit(args).await,
    }
}

/// The operator key, from the flag/environment or the keystore. Errors never hold the key.
fn load_key(args: &KeyArgs) -> anyhow::Result<alloy::signers::local::PrivateKeySigner> {
    let bad = |e: SigningError, hint: &str| anyhow::Error::new(BadInput(format!("{e}; {hint}")));
    if let Some(hex) = &args.private_key {
        return signing::key_from_hex(hex)
            .map_err(|e| bad(e, "check --private-key / VOUCH_PRIVATE_KEY"));
    }
    let path = args
        .keystore
        .as_deref()
        .expect("clap requires one key source");
    let Ok(password) = std::env::var("VOUCH_KEYSTORE_PASSWORD") else {
        bad_input!(
            "--keystore {} needs its password in VOUCH_KEYSTORE_PASSWORD",
            path.display()
        );
    };
    signing::key_from_keystore(path, &password)
        .map_err(|e| bad(e, "check the file and VOUCH_KEYSTORE_PASSWORD"))
}

fn database_url(args: &RunArgs) -> anyhow::Result<String> {
    if let Some(url) = &args.database {
        return Ok(url.clone());
    }
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(".vouch"));
    std::fs::create_dir_all(&dir).map_err(|e| {
        BadInput(format!(
            "cannot create the data directory {}: {e}; pass a writable --data-dir / VOUCH_DATA_DIR",
            dir.display()
        ))
    })?;
    let dir = std::fs::canonicalize(&dir).context("cannot resolve the data directory")?;
    Ok(format!("sqlite://{}", dir.join("keeper.sqlite").display()))
}

async fn run_keeper(args: RunArgs) -> anyhow::Result<ExitCode> {
    let key = load_key(&args.key)?;
    let deployment = vouch_bindings::Deployment::load(&args.deployment)
        .map_err(|e| BadInput(format!("{e}; check --deployment / VOUCH_DEPLOYMENT")))?;
    let url: reqwest::Url = args.rpc_url.parse().map_err(|e| {
        BadInput(format!(
            "--rpc-url {:?} is not a URL ({e}); pass http(s)://HOST:PORT",
            args.rpc_url
        ))
    })?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    let chain_id = provider.get_chain_id().await.map_err(|e| {
        BadInput(format!(
            "the chain at {} does not answer ({e}); check --rpc-url / VOUCH_RPC_URL",
            args.rpc_url
        ))
    })?;
    if chain_id != deployment.chain_id {
        bad_input!(
            "the chain at {} has chain id {chain_id}, the deployment {} is for {}: pass the matching --rpc-url or --deployment",
            args.rpc_url,
            args.deployment.display(),
            deployment.chain_id
        );
    }
    let database = database_url(&args)?;
    let prover_config = ProverConfig::from_env()
        .map_err(|e| BadInput(format!("{e} (VOUCH_PROVER_* / VOUCH_PYTHON)")))?;
    let prover = match Prover::load(prover_config).await {
        Ok(prover) => Arc::new(prover),
        Err(e) => bad_input!(
            "cannot start the prover: {e}; run `bash script/setup.sh` (or `vouch proof setup`) first"
        ),
    };
    let mut config = KeeperConfig::new(provider, deployment, key, database, prover);
    if let Some(host) = args.host {
        config.host = host;
    }
    config.listen = args.listen;
    config.token = args.token.clone();
    config.max_body = args.max_body;
    config.batch.max_wait = Duration::from_millis(args.batch_wait_ms);
    config.tx.confirmations = args.confirmations.max(1);
    config.tx.poll = Duration::from_millis(args.tx_poll_ms.max(10));
    config.watcher = watcher_config(config.host, args.heartbeat_secs, &args.watch)?;
    let mut keeper = match Keeper::start(config).await {
        Ok(keeper) => keeper,
        Err(KeeperError::Service(e @ ServiceError::Listen { .. })) => {
            bad_input!("{e}; pass a free address with --listen / VOUCH_LISTEN")
        }
        Err(KeeperError::Queue(e @ QueueError::UnsupportedUrl { .. })) => {
            bad_input!("{e} (--database / VOUCH_DATABASE)")
        }
        Err(KeeperError::Queue(e)) => {
            bad_input!("cannot open the queue database: {e}; check --database / VOUCH_DATABASE")
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "keeper listening on http://{} (intake /v1/results, /healthz, /metrics)",
        keeper.addr()
    );
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| progress_line(&keeper));
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let failed = tokio::select! {
        _ = int.recv() => None,
        _ = term.recv() => None,
        failed = keeper.failed() => Some(failed),
    };
    if let Some((task, bar)) = progress {
        task.abort();
        bar.finish_and_clear();
    }
    tracing::info!("shutting down: refusing new results, finishing the batches in flight");
    let stopped = keeper.shutdown().await;
    if let Some(Err(e)) = failed {
        return Err(e.into());
    }
    stopped?;
    Ok(ExitCode::SUCCESS)
}

/// On a terminal, one line redrawn every second: the queue by state and the jobs landed per
/// second (over the last ~10 s).
fn progress_line(keeper: &KeeperHandle) -> (tokio::task::JoinHandle<()>, ProgressBar) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .expect("a valid template"),
    );
    let queue = keeper.intake().queue().clone();
    let shown = bar.clone();
    let task = tokio::spawn(async move {
        let mut rate = 0.0_f64;
        let mut last: Option<(std::time::Instant, u64)> = None;
        loop {
            if let Ok(depth) = queue.depth().await {
                let n = |s: ResultState| depth.get(&s).copied().unwrap_or(0);
                let landed = n(ResultState::Confirmed);
                let now = std::time::Instant::now();
                if let Some((at, before)) = last {
                    let dt = now.duration_since(at).as_secs_f64().max(1e-3);
                    let current = landed.saturating_sub(before) as f64 / dt;
                    rate = 0.9 * rate + 0.1 * current;
                }
                last = Some((now, landed));
                shown.set_message(format!(
                    "queued {}  proving {}  submitted {}  landed {landed}  failed {}  {rate:.1} jobs/s",
                    n(ResultState::Accepted),
                    n(ResultState::Proving),
                    n(ResultState::Submitted),
                    n(ResultState::Failed),
                ));
            }
            shown.tick();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    (task, bar)
}

async fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let mut body = serde_json::json!({ "jobId": args.job_id });
    if let Some(path) = &args.output {
        body["output"] = read_output(path)?.into();
    }
    if let Some(hash) = &args.output_hash {
        body["outputHash"] = hash.clone().into();
    }
    let url = format!("{}/v1/results", args.keeper.trim_end_matches('/'));
    let mut request = reqwest::Client::new().post(&url).json(&body);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the keeper at {}: {e}; check --keeper / VOUCH_KEEPER and that `vouch keeper run` is up",
            args.keeper
        )
    })?;
    let status = response.status();
    let reply: serde_json::Value = response.json().await.with_context(|| {
        format!(
            "the keeper at {} answered {status} without JSON",
            args.keeper
        )
    })?;
    if status.is_success() {
        println!("{}", serde_json::to_string_pretty(&reply)?);
        return Ok(ExitCode::SUCCESS);
    }
    let message = reply["error"]["message"]
        .as_str()
        .unwrap_or("no error message")
        .to_owned();
    if status.is_client_error() {
        bad_input!("{message}")
    }
    anyhow::bail!("the keeper failed ({status}): {message}")
}

fn read_output(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        BadInput(format!(
            "cannot read the output file {}: {e}; pass a readable UTF-8 file with --output",
            path.display()
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, U256, keccak256};
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        watch: WatchArgs,
    }

    fn config(args: &[&str]) -> WatcherConfig {
        let cli =
            Cli::try_parse_from(std::iter::once("vouch").chain(args.iter().copied())).unwrap();
        watcher_config(Address::repeat_byte(7), None, &cli.watch).unwrap()
    }

    #[test]
    fn claims_and_expiries_are_off_unless_asked_for() {
        let c = config(&[]);
        assert_eq!(
            (c.claim, c.expire_others, c.heartbeat_every),
            (None, false, None)
        );
        assert_eq!(c.poll, Duration::from_secs(5));
        assert_eq!(c.host, Address::repeat_byte(7));
    }

    #[test]
    fn the_claim_flags_make_the_price_policy() {
        let c = config(&[
            "--claim",
            "--models",
            "llama-3-8b-instruct-q4,0x0101010101010101010101010101010101010101010101010101010101010101",
            "--min-price",
            "40000000000000000",
            "--min-time-left",
            "900",
            "--expire-others",
            "--watch-poll-ms",
            "100",
        ]);
        assert_eq!(
            c.claim,
            Some(ClaimPolicy {
                models: vec![
                    keccak256("llama-3-8b-instruct-q4"),
                    alloy::primitives::B256::repeat_byte(1)
                ],
                min_payment_wei: U256::from(40_000_000_000_000_000u64),
                min_time_left: 900,
            })
        );
        assert!(c.expire_others);
        assert_eq!(c.poll, Duration::from_millis(100));
    }

    #[test]
    fn claim_needs_models_and_a_bad_model_is_refused() {
        let err = Cli::try_parse_from(["vouch", "--claim"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(err.to_string().contains("--models"), "{err}");
        let cli = Cli::try_parse_from(["vouch", "--claim", "--models", "0x12"]).unwrap();
        let err = watcher_config(Address::ZERO, None, &cli.watch).unwrap_err();
        assert_eq!(
            err.to_string(),
            "model 0x12 is not a 32-byte hash (0x and 64 hex digits) (--models / VOUCH_MODELS)"
        );
    }
}
