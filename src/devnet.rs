//! `vouch devnet`: the whole system on this machine (`vouch_devnet`): anvil, the verified
//! deployment, the indexer and the GraphQL API in one process. Prints the endpoints and three
//! commands to try, a live status line, and with `--for N` a summary after N seconds. Ctrl-C
//! or SIGTERM stops everything, anvil included. `--demo` adds protocol life
//! (`vouch_devnet::demo`): five hosts with their keepers, renters, the scripted events.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio::signal::unix::{SignalKind, signal};
use vouch_devnet::demo::{Demo, DemoConfig};
use vouch_devnet::{Devnet, DevnetConfig, DevnetError};

use crate::BadInput;

/// How often the status line is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(2);
/// Without a terminal, one plain progress line per this many refreshes.
const LOG_EVERY: u64 = 5;

#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// sqlite://FILE or postgres://USER@HOST/DB (a database without an earlier devnet's index)
    /// [default: a fresh SQLite file in the data directory]
    #[arg(long, env = "VOUCH_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Holds the devnet's SQLite file and deployment manifest, emptied at start
    #[arg(
        long,
        env = "VOUCH_DATA_DIR",
        value_name = "DIR",
        default_value = ".vouch/devnet"
    )]
    data_dir: PathBuf,
    /// anvil's JSON-RPC port (HTTP and websocket)
    #[arg(
        long,
        env = "VOUCH_ANVIL_PORT",
        value_name = "PORT",
        default_value_t = 8545
    )]
    anvil_port: u16,
    /// Where the GraphQL API listens
    #[arg(
        long,
        env = "VOUCH_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8000"
    )]
    listen: SocketAddr,
    /// Stop after this many seconds and print a summary [default: run until Ctrl-C]
    #[arg(long = "for", env = "VOUCH_FOR", value_name = "SECONDS")]
    run_for: Option<u64>,
    /// Drive protocol life: five hosts with their own keepers, renters paying in ETH and VOUCH,
    /// real batch proofs, payments, and once each a dispute upheld by the arbitration council, a
    /// missed deadline slashed, an equivocation reported and a governance proposal executed
    #[arg(long, env = "VOUCH_DEMO")]
    demo: bool,
    /// With --demo: stop scripting after this many rounds (at least 4) and leave the chain
    /// quiet [default: rounds until stopped]
    #[arg(
        long,
        env = "VOUCH_DEMO_ROUNDS",
        value_name = "N",
        requires = "demo",
        value_parser = clap::value_parser!(u64).range(vouch_devnet::demo::script::SCRIPTED_ROUNDS..)
    )]
    rounds: Option<u64>,
}

pub async fn run(args: DevnetArgs) -> anyhow::Result<ExitCode> {
    let config = DevnetConfig {
        anvil_port: args.anvil_port,
        listen: args.listen,
        database: args.database.clone(),
        data_dir: args.data_dir.clone(),
        demo: args.demo,
    };
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let start = Devnet::start(config, |step| eprintln!("devnet: {step}..."));
    let devnet = tokio::select! {
        devnet = start => devnet.map_err(devnet_error)?,
        _ = int.recv() => { eprintln!("devnet: interrupted while starting"); return Ok(ExitCode::from(130)); }
        _ = term.recv() => { eprintln!("devnet: terminated while starting"); return Ok(ExitCode::from(143)); }
    };
    if !args.demo {
        print_welcome(&devnet, None);
    }

    let tty = std::io::stderr().is_terminal();
    let demo = if args.demo {
        let announce: vouch_devnet::demo::Announce = std::sync::Arc::new(move |line: &str| {
            if tty {
                eprint!("\r\x1b[2K");
            }
            eprintln!("{line}");
        });
        let config = DemoConfig {
            rounds: args.rounds,
        };
        eprintln!("devnet: starting the demo (prover, five hosts and their keepers)...");
        let started = tokio::select! {
            demo = Demo::start(&devnet, config, announce) => demo,
            _ = int.recv() => { eprintln!("devnet: interrupted"); let _ = devnet.stop().await; return Ok(ExitCode::from(130)); }
            _ = term.recv() => { eprintln!("devnet: terminated"); let _ = devnet.stop().await; return Ok(ExitCode::from(143)); }
        };
        match started {
            Ok(demo) => {
                print_welcome(&devnet, Some(&demo));
                Some(demo)
            }
            Err(e) => {
                let _ = devnet.stop().await;
                return Err(devnet_error(e));
            }
        }
    } else {
        None
    };
    let until = async {
        match args.run_for {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(until);
    let mut status = tokio::time::interval(STATUS_EVERY);
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            () = &mut until => break,
            _ = int.recv() => break,
            _ = term.recv() => break,
            _ = status.tick() => {
                ticks += 1;
                if let Ok(s) = devnet.summary().await {
                    let line = match &demo {
                        Some(demo) => vouch_devnet::demo::progress::line(&s, &demo.snapshot()),
                        None => format!(
                            "devnet: block {} indexed {} (lag {}), {} events, {} jobs, {} batches, {} slashes",
                            s.head, s.indexed.unwrap_or(0), s.lag(), s.events, s.jobs(), s.batches, s.slashes
                        ),
                    };
                    if tty {
                        eprint!("\r\x1b[2K{line}");
                        let _ = std::io::stderr().flush();
                    } else if demo.is_some() {
                        if ticks % LOG_EVERY == 0 {
                            eprintln!("{line}");
                        }
                    } else if args.run_for.is_none() {
                        tracing::info!("{line}");
                    }
                }
            }
        }
    }
    if tty {
        eprintln!();
    }
    let report = match demo {
        Some(demo) => {
            eprintln!("devnet: stopping the demo (hosts, keepers, prover)...");
            Some(demo.stop().await)
        }
        None => None,
    };
    eprintln!("devnet: stopping (API, indexer, anvil)...");
    let mut summary = devnet.stop().await.map_err(devnet_error)?;
    if let Some(report) = report {
        summary.demo = Some(report.map_err(devnet_error)?);
    }
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// The endpoints and three commands to try. With the demo: each host's keeper, and the tour
/// job's answer posted to the first host's keeper, then followed there.
fn print_welcome(devnet: &Devnet, demo: Option<&Demo>) {
    let e = devnet.endpoints();
    let staking = devnet.deployment().contracts.staking;
    let explorer = e.graphql.trim_end_matches("graphql");
    println!("Vouch devnet is up.");
    println!("  chain (anvil, id 31337)  {} | {}", e.rpc, e.ws);
    println!("  explorer                 {explorer}");
    println!("  GraphQL + GraphiQL       {}", e.graphql);
    println!("  deployment manifest      {}", e.manifest.display());
    println!("  index database           {}", e.database);
    if let Some(demo) = demo {
        for (i, k) in demo.keepers().iter().enumerate() {
            println!(
                "  keeper of host {}         {} (host {})",
                i + 1,
                k.url,
                k.host
            );
        }
    }
    println!("Try:");
    println!(
        "  curl -s {} -H 'content-type: application/json' -d '{{\"query\":\"{{ indexerStatus {{ indexedBlock head }} protocol {{ totalStaked jobsByState {{ state count }} }} }}\"}}'",
        e.graphql
    );
    match demo.and_then(|d| d.keepers().first().map(|k| (d.tour_job(), k))) {
        Some((job, keeper)) => {
            println!(
                "  curl -s -X POST {}/v1/results -H 'content-type: application/json' -d '{{\"jobId\":\"{job:#x}\",\"output\":\"Hello, Vouch.\"}}'    # answer job {job}, claimed by host 1",
                keeper.url
            );
            println!(
                "  curl -s {}/v1/results/{job:#x}    # accepted, proving, submitted, confirmed: then job {job} is COMPLETED at {explorer}",
                keeper.url
            );
        }
        None => {
            println!(
                "  node_modules/.bin/cast call {staking} 'minimumStake()(uint256)' --rpc-url {}",
                e.rpc
            );
            println!(
                "  vouch serve --print-schema | less    # every query, or open {} in a browser",
                e.graphql
            );
        }
    }
}

fn devnet_error(e: DevnetError) -> anyhow::Error {
    if e.is_bad_input() {
        anyhow::Error::new(BadInput(e.to_string()))
    } else {
        anyhow::Error::new(e)
    }
}
