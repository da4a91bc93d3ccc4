//! `vouch serve`: the GraphQL API (`vouch_graphql`) over an indexer database, or its schema
//! with `--print-schema`. Arguments only; the server is in the graphql crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use crate::{BadInput, bad_input};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://<data dir>/vouch.sqlite]
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
        default_value = "127.0.0.1:8000"
    )]
    listen: SocketAddr,
    /// Allow browser requests from this origin (repeatable, or comma-separated; `*` for any)
    #[arg(
        long = "cors-origin",
        env = "VOUCH_CORS_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// /healthz answers 503 when the indexer is more than N blocks behind the head
    #[arg(long, env = "VOUCH_MAX_LAG", value_name = "N", default_value_t = 64)]
    max_lag: i64,
    /// Seconds a request may take before it is answered with a timeout error
    #[arg(
        long,
        env = "VOUCH_REQUEST_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 5.0
    )]
    request_timeout: f64,
    /// Seconds a client may take to send a request's headers, and then its body (slow clients
    /// are cut off)
    #[arg(
        long,
        env = "VOUCH_READ_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 10.0
    )]
    read_timeout: f64,
    /// Print the GraphQL schema (SDL) and exit
    #[arg(long)]
    print_schema: bool,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.print_schema {
        print!("{}", vouch_graphql::sdl());
        return Ok(ExitCode::SUCCESS);
    }
    if !(args.request_timeout > 0.0 && args.request_timeout <= 600.0) {
        bad_input!(
            "--request-timeout must be between 0 and 600 seconds (got {})",
            args.request_timeout
        );
    }
    if !(args.read_timeout > 0.0 && args.read_timeout <= 600.0) {
        bad_input!(
            "--read-timeout must be between 0 and 600 seconds (got {})",
            args.read_timeout
        );
    }
    let url = crate::index::database_url(args.database.clone(), args.data_dir.clone())?;
    let db = match vouch_graphql::context::connect(&url).await {
        Ok(db) => db,
        Err(vouch_graphql::Error::BadInput(m)) => {
            bad_input!("{m}; check --database / VOUCH_DATABASE")
        }
        Err(e) => bad_input!(
            "cannot open the database {}: {e}; check --database / VOUCH_DATABASE",
            crate::index::redact(&url)
        ),
    };
    // Subscriptions follow the indexer's commits (PostgreSQL NOTIFY, or a short poll of
    // SQLite's checkpoint), whichever process writes them.
    let feed = match vouch_graphql::subscriptions::feed_for_database(&url, &db).await {
        Ok(Some(feed)) => Some(feed),
        Ok(None) => {
            tracing::warn!(
                "nothing indexed yet: serving queries; subscriptions need an indexed chain (restart after `vouch index`)"
            );
            None
        }
        Err(e) => return Err(anyhow::anyhow!("cannot follow the indexer's commits: {e}")),
    };
    let cfg = vouch_graphql::ServeConfig {
        listen: args.listen,
        cors_origins: args.cors_origins,
        max_lag: args.max_lag,
        chain_id: None,
        timeout: Duration::from_secs_f64(args.request_timeout),
        read_timeout: Duration::from_secs_f64(args.read_timeout),
        ..vouch_graphql::ServeConfig::default()
    };
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let stop = async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    };
    match vouch_graphql::serve(db, cfg, feed, stop).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e @ (vouch_graphql::Error::Listen { .. } | vouch_graphql::Error::BadInput(_))) => {
            Err(BadInput(format!("{e}; pass a free address with --listen / VOUCH_LISTEN or valid --cors-origin values")).into())
        }
        Err(e) => Err(anyhow::anyhow!("serving failed: {e}")),
    }
}
