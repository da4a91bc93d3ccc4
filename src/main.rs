//! `vouch`: one command line for the whole system. This file only parses arguments and calls
//! into the crates; it owns process concerns (exit codes, logging) and nothing else.

use clap::Parser;

/// Vouch: the trust layer of a decentralized LLM-inference marketplace on Base.
///
/// Hosts stake, serve models, and prove every result with an EZKL proof that a Solidity
/// verifier checks on-chain. This binary runs the devnet, indexer, GraphQL server, keeper and
/// prover; each subcommand's --help says what it needs.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
