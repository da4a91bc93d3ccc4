//! `vouch`: one command line for the whole system. This file only parses arguments and hands
//! each command group to its module ([`deploy`], [`devnet`], [`proof`], [`index`], [`serve`]); it owns process concerns (exit
//! codes, logging) and nothing else.

mod deploy;
mod devnet;
mod errors;
mod host;
mod index;
mod keeper;
mod proof;
mod serve;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
pub use errors::BadInput;

/// Vouch: the trust layer of a decentralized LLM-inference marketplace on Base.
///
/// Hosts stake, serve models, and prove every result with an EZKL proof that a Solidity
/// verifier checks on-chain. This binary only parses arguments and calls into the crates: it
/// deploys the contracts (`vouch deploy`), drives the prover (`vouch proof`), the indexer
/// (`vouch index`) and the GraphQL API (`vouch serve`), and each subcommand's --help says
/// what it needs.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The commitment circuit: setup (keys, verifiers), prove, verify.
    #[command(subcommand)]
    Proof(proof::ProofCommand),
    /// The whole system on this machine: anvil, the deployment, indexer and GraphQL API.
    Devnet(devnet::DevnetArgs),
    /// Deploy every contract with the real deploy script, verify it and write the manifest.
    Deploy(deploy::DeployArgs),
    /// Mirror every contract event of a deployment into SQLite or PostgreSQL.
    Index(index::IndexArgs),
    /// Serve the GraphQL API over the indexer's database.
    Serve(serve::ServeArgs),
    /// The host's keeper: intake of results, signatures, queue (`run`), and its client (`submit`).
    #[command(subcommand)]
    Keeper(keeper::KeeperCommand),
    /// The host's keys, stake, registration, jobs, payments and status.
    #[command(subcommand)]
    Host(host::HostCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Deploy(args) => deploy::run(args).await,
            Command::Devnet(args) => devnet::run(args).await,
            Command::Proof(command) => proof::run(command).await,
            Command::Index(args) => index::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Keeper(command) => keeper::run(command).await,
            Command::Host(command) => host::run(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

/// Logs go to stderr, filtered by `VOUCH_LOG`. The indexer reports progress as info lines
/// when stderr is not a terminal (a progress bar is drawn when it is, and log lines are
/// printed above it).
fn init_logging(command: &Command) {
    let tty = std::io::stderr().is_terminal();
    let default = match command {
        Command::Index(_) if !tty => "warn,vouch=info,vouch_indexer=info",
        Command::Serve(_) => "warn,vouch=info,vouch_graphql=info",
        // The demo's five keepers would print a line per transaction at info.
        Command::Devnet(_) => "warn,vouch=info,vouch_keeper=warn",
        Command::Keeper(keeper::KeeperCommand::Run(_)) => "warn,vouch=info,vouch_keeper=info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_writer(|| index::BarAwareStderr)
        .with_ansi(tty)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VOUCH_LOG")
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}

/// One line on stderr; exit 2 for bad input, 1 for a failure ([`errors::report`]).
fn fail(error: anyhow::Error) -> ExitCode {
    index::clear_bar();
    let (line, code) = errors::report(&error);
    eprintln!("error: {line}");
    code
}
