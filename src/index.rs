//! `vouch index`: runs the indexer (`vouch_indexer`) of one deployment into SQLite or
//! PostgreSQL, with a progress bar on a terminal, info lines otherwise, and an optional
//! Prometheus `/metrics` listener.
//!
//! Every input is checked before anything is written: the manifest and the URLs first, then
//! the RPC (reachable, the manifest's chain), then the database; only then is the data
//! directory created and the store migrated.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};
use vouch_bindings::Deployment;
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource, SourceError};
use vouch_indexer::store::{LEASE_POLL, Lease, SeaStore};
use vouch_indexer::{IndexError, Indexer, IndexerConfig, Progress, metrics};

use crate::{BadInput, bad_input};

/// How long the first `eth_chainId` may take before the RPC counts as unreachable.
const RPC_PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the first PostgreSQL connection may take.
const PG_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening the store's connection pool may take.
const DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a progress line is logged when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// How long a stop signal waits for the indexer to reach a commit boundary on its own before
/// the run is dropped (an open transaction is rolled back; the checkpoint says where to resume).
const STOP_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// JSON-RPC endpoint of the deployment's chain: http(s)://... or ws(s)://...
    #[arg(long, env = "VOUCH_RPC_URL", value_name = "URL")]
    rpc_url: String,
    /// Deployment manifest written by the deploy script (deploy/<network>.json)
    #[arg(long, env = "VOUCH_DEPLOYMENT", value_name = "FILE")]
    deployment: PathBuf,
    /// sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://<data dir>/vouch.sqlite]
    #[arg(long, env = "VOUCH_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Where the default SQLite database lives (created when needed) [default: ./.vouch]
    #[arg(long, env = "VOUCH_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Exit 0 once the head is indexed instead of following it
    #[arg(long, env = "VOUCH_UNTIL_HEAD")]
    until_head: bool,
    /// Rows older than this many blocks are final
    #[arg(
        long,
        env = "VOUCH_CONFIRMATIONS",
        value_name = "N",
        default_value_t = 12
    )]
    confirmations: u64,
    /// Blocks kept for reorg detection and undo; a deeper reorg stops the indexer
    #[arg(
        long,
        env = "VOUCH_REORG_WINDOW",
        value_name = "N",
        default_value_t = 128,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    reorg_window: u64,
    /// eth_getLogs requests in flight during backfill
    #[arg(
        long,
        env = "VOUCH_CONCURRENCY",
        value_name = "N",
        default_value_t = 4,
        value_parser = clap::value_parser!(u64).range(1..=256)
    )]
    concurrency: u64,
    /// The most blocks one eth_getLogs asks for during backfill (ranges start at this size and
    /// halve when the provider refuses them) [default: adaptive, 2000 growing to 100000]
    #[arg(
        long,
        env = "VOUCH_RANGE_SIZE",
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    range_size: Option<u64>,
    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9100 (binds exactly
    /// this address) [default: no listener]
    #[arg(long, env = "VOUCH_METRICS", value_name = "ADDR")]
    metrics: Option<SocketAddr>,
}

/// Where the events go, once the URL is checked.
enum Database {
    /// `sqlite://FILE`; `create_dir` is the default data directory, made just before connecting.
    Sqlite {
        url: String,
        create_dir: Option<PathBuf>,
    },
    Postgres {
        url: String,
    },
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url } => url,
        }
    }
}

/// Runs `vouch index`.
pub async fn run(args: IndexArgs) -> anyhow::Result<ExitCode> {
    // Signals first: a SIGTERM during the checks must not kill the process mid-write.
    let stop = StopSignal::install()?;

    // 1. Inputs that need no network: manifest, URLs, metrics address.
    let deployment = load_manifest(&args)?;
    check_rpc_url(&args.rpc_url)?;
    let database = database(&args)?;
    let listener = match args.metrics {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
            BadInput(format!(
                "cannot listen on {addr} for --metrics: {e}; pass a free local address such as 127.0.0.1:9100"
            ))
        })?),
        None => None,
    };

    // 2. The RPC: reachable, and the manifest's chain.
    let source = probe_rpc(&args, &deployment).await?;

    // 3. The database: reachable (a default SQLite file is created here, and only here).
    let store = open_store(&database).await?;

    if let Some(listener) = listener {
        info!(address = %listener.local_addr()?, "serving metrics at /metrics");
        tokio::spawn(serve_metrics(listener));
    }

    // 4. One writer per chain. On PostgreSQL the writer holds the chain's advisory lock
    // (store::Lease) for its whole life; another instance waits as a standby and takes over
    // when the holder's connection closes. SQLite needs no lease: one file, one writer.
    let mut lease = match &database {
        Database::Postgres { url } => {
            let chain_id = deployment.chain_id;
            let wait = Lease::wait(url, chain_id, LEASE_POLL, || {
                info!(
                    chain_id,
                    "standby: another indexer holds chain {chain_id}; waiting to take over"
                )
            });
            tokio::select! {
                lease = wait => {
                    let lease = lease.context("cannot take the indexer lease")?;
                    info!(chain_id, key = lease.key(), "holding the indexer lease");
                    Some(lease)
                }
                () = stop.wait() => {
                    println!("stopped: standby for chain {chain_id}, nothing indexed");
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        Database::Sqlite { .. } => None,
    };

    let mut ranges = IndexerConfig::default().ranges;
    if let Some(n) = args.range_size {
        ranges.size = n;
        ranges.max = n;
    }
    let cfg = IndexerConfig {
        confirmations: args.confirmations,
        reorg_window: args.reorg_window,
        concurrency: args.concurrency as usize,
        until_head: args.until_head,
        ranges,
        ..IndexerConfig::default()
    };
    let mut indexer = match Indexer::open(source, store, &deployment, cfg).await {
        Ok(indexer) => indexer,
        Err(e @ IndexError::ChainIdMismatch { .. }) => bad_input!("{e}"),
        Err(e) => return Err(e).context("cannot open the index"),
    };

    let display = Display::start(indexer.next_block());
    indexer.on_progress(display.callback());
    let result = {
        let run = indexer.run(stop.wait());
        tokio::pin!(run);
        let lost = async {
            match lease.as_mut() {
                Some(lease) => lease.lost(LEASE_POLL).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = &mut run => result,
            () = stop.grace(STOP_GRACE) => {
                warn!("stopped between commits; the next run resumes from the last checkpoint");
                Ok(())
            }
            // Another instance may be writing now: stop at once (the open transaction, if
            // any, is rolled back; the new holder resumes from the last checkpoint).
            e = lost => Err(e.into()),
        }
    };
    display.finish();
    result.context("indexing failed")?;

    let snapshot = metrics::snapshot();
    let last = indexer.next_block().checked_sub(1);
    let reason = if stop.fired() { "stopped" } else { "caught up" };
    info!(
        indexed = last,
        head = snapshot.head,
        events = snapshot.events,
        reason,
        "indexer done"
    );
    match last {
        Some(block) => println!(
            "{reason}: chain {} indexed to block {block} ({} new events) in {}",
            deployment.chain_id,
            snapshot.events,
            redact(database.url())
        ),
        None => println!(
            "{reason}: chain {} has no block indexed yet (starts at {}) in {}",
            deployment.chain_id,
            deployment.start_block,
            redact(database.url())
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn load_manifest(args: &IndexArgs) -> anyhow::Result<Deployment> {
    Deployment::load(&args.deployment).map_err(|e| {
        BadInput(format!(
            "{e}; pass the manifest the deploy script wrote for this network (--deployment / VOUCH_DEPLOYMENT)"
        ))
        .into()
    })
}

fn check_rpc_url(url: &str) -> anyhow::Result<()> {
    let scheme_ok = ["http://", "https://", "ws://", "wss://"]
        .iter()
        .any(|s| url.starts_with(s) && url.len() > s.len());
    if !scheme_ok {
        bad_input!(
            "RPC URL {url:?} is not an http(s):// or ws(s):// URL: pass --rpc-url / VOUCH_RPC_URL like http://127.0.0.1:8545"
        );
    }
    Ok(())
}

/// The database URL `vouch serve` reads: as given, or the default SQLite file of the data
/// directory (the same resolution as `vouch index`).
pub fn database_url(database: Option<String>, data_dir: Option<PathBuf>) -> anyhow::Result<String> {
    let args = DbArgs { database, data_dir };
    Ok(resolve(&args)?.url().to_owned())
}

struct DbArgs {
    database: Option<String>,
    data_dir: Option<PathBuf>,
}

fn database(args: &IndexArgs) -> anyhow::Result<Database> {
    resolve(&DbArgs {
        database: args.database.clone(),
        data_dir: args.data_dir.clone(),
    })
}

/// The database URL as given, or the default SQLite file of the data directory. Nothing is
/// created here.
fn resolve(args: &DbArgs) -> anyhow::Result<Database> {
    let Some(url) = &args.database else {
        let dir = args
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(".vouch"));
        let dir = if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir()
                .context("cannot read the current directory")?
                .join(dir)
        };
        let file = dir.join("vouch.sqlite");
        return Ok(Database::Sqlite {
            url: format!("sqlite://{}", file.display()),
            create_dir: Some(dir),
        });
    };
    if url.starts_with("sqlite://") && url.len() > "sqlite://".len() {
        Ok(Database::Sqlite {
            url: url.clone(),
            create_dir: None,
        })
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Database::Postgres { url: url.clone() })
    } else {
        bad_input!(
            "database URL {:?} is not supported: use sqlite://FILE or postgres://USER@HOST/DB (--database / VOUCH_DATABASE)",
            redact(url)
        )
    }
}

/// A first `eth_chainId` with a short timeout and no retries: an unreachable node or another
/// chain is reported at once. Returns the source the indexer runs on (full retries).
async fn probe_rpc(args: &IndexArgs, deployment: &Deployment) -> anyhow::Result<ChainSource> {
    let url = &args.rpc_url;
    let addresses = AddressBook::new(deployment).addresses();
    let once = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(100),
        max_attempts: 1,
    };
    let probe = async {
        let source = ChainSource::connect(url, addresses.clone(), once).await?;
        let chain_id = source.chain_id().await?;
        Ok::<_, SourceError>((source, chain_id))
    };
    let (source, chain_id) = match tokio::time::timeout(RPC_PROBE_TIMEOUT, probe).await {
        Ok(Ok(found)) => found,
        Ok(Err(SourceError::Rpc { source, .. })) => bad_input!(
            "cannot reach the RPC at {url}: {source}; check --rpc-url / VOUCH_RPC_URL and that the node is up"
        ),
        Ok(Err(e)) => bad_input!("{e}; check --rpc-url / VOUCH_RPC_URL and that the node is up"),
        Err(_) => bad_input!(
            "the RPC at {url} did not answer eth_chainId within {} s; check --rpc-url / VOUCH_RPC_URL and that the node is up",
            RPC_PROBE_TIMEOUT.as_secs()
        ),
    };
    if chain_id != deployment.chain_id {
        bad_input!(
            "the RPC at {url} serves chain {chain_id}, but the deployment manifest {} is for chain {}: point --rpc-url at that chain or pass its manifest",
            args.deployment.display(),
            deployment.chain_id
        );
    }
    Ok(ChainSource::new(
        source.provider().clone(),
        addresses,
        Backoff::default(),
    ))
}

async fn open_store(database: &Database) -> anyhow::Result<SeaStore> {
    let url = database.url();
    if let Database::Sqlite {
        create_dir: Some(dir),
        ..
    } = database
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            BadInput(format!(
                "cannot create the data directory {}: {e}; pass a writable --data-dir / VOUCH_DATA_DIR or a --database URL",
                dir.display()
            ))
        })?;
    }
    if let Database::Postgres { url } = database {
        // One plain connection first: the pool behind SeaStore retries a refused connection
        // until its acquire timeout, and says less about why.
        use sqlx::Connection;
        match tokio::time::timeout(PG_PROBE_TIMEOUT, sqlx::PgConnection::connect(url)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => bad_input!(
                "cannot open the database {}: {e}; check --database / VOUCH_DATABASE and that PostgreSQL is up",
                redact(url)
            ),
            Err(_) => bad_input!(
                "the database {} did not answer within {} s; check --database / VOUCH_DATABASE and that PostgreSQL is up",
                redact(url),
                PG_PROBE_TIMEOUT.as_secs()
            ),
        }
    }
    match tokio::time::timeout(DB_CONNECT_TIMEOUT, SeaStore::connect(url)).await {
        Ok(Ok(store)) => Ok(store),
        Ok(Err(e)) => bad_input!(
            "cannot open the database {}: {e}; check --database / VOUCH_DATABASE",
            redact(url)
        ),
        Err(_) => bad_input!(
            "the database {} did not answer within {} s; check --database / VOUCH_DATABASE",
            redact(url),
            DB_CONNECT_TIMEOUT.as_secs()
        ),
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, installed before any work so a signal never kills the
/// process mid-write.
#[derive(Clone)]
struct StopSignal {
    rx: tokio::sync::watch::Receiver<bool>,
}

impl StopSignal {
    fn install() -> anyhow::Result<StopSignal> {
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            info!("stop signal received; stopping at the next commit");
            let _ = tx.send(true);
        });
        Ok(StopSignal { rx })
    }

    /// Resolves once a signal arrived.
    fn wait(&self) -> impl Future<Output = ()> + 'static {
        let mut rx = self.rx.clone();
        async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }

    /// Resolves `grace` after a signal arrived.
    async fn grace(&self, grace: Duration) {
        self.wait().await;
        tokio::time::sleep(grace).await;
    }

    fn fired(&self) -> bool {
        *self.rx.borrow()
    }
}

/// The progress bar while `vouch index` draws one; log lines are printed above it.
static BAR: OnceLock<ProgressBar> = OnceLock::new();

/// Removes the progress bar (before an error line).
pub fn clear_bar() {
    if let Some(bar) = BAR.get() {
        bar.finish_and_clear();
    }
}

/// stderr for tracing: while the progress bar is drawn, lines go above it.
pub struct BarAwareStderr;

impl Write for BarAwareStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BAR.get().filter(|bar| !bar.is_finished()) {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Progress: an indicatif bar on a terminal, else an info line every [`LOG_EVERY`].
enum Display {
    Bar(ProgressBar),
    Log {
        /// The next block to index, as the last commit left it.
        next: Arc<AtomicU64>,
        task: tokio::task::JoinHandle<()>,
    },
}

impl Display {
    fn start(next: u64) -> Display {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{wide_bar}] {pos}/{len} blocks  {msg}  ETA {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_message("connecting");
            bar.enable_steady_tick(Duration::from_millis(200));
            let _ = BAR.set(bar.clone());
            Display::Bar(bar)
        } else {
            let next = Arc::new(AtomicU64::new(next));
            Display::Log {
                task: tokio::spawn(log_progress(next.clone())),
                next,
            }
        }
    }

    /// What the indexer calls after every commit.
    fn callback(&self) -> impl Fn(Progress) + Send + Sync + 'static {
        let (bar, next) = match self {
            Display::Bar(bar) => (Some(bar.clone()), None),
            Display::Log { next, .. } => (None, Some(next.clone())),
        };
        let started = Instant::now();
        move |p: Progress| {
            if let Some(next) = &next {
                next.store(p.indexed + 1, Ordering::Relaxed);
            }
            let Some(bar) = &bar else { return };
            let total = (p.head + 1).saturating_sub(p.start);
            let done = (p.indexed + 1).saturating_sub(p.start).min(total);
            bar.set_length(total);
            bar.set_position(done);
            let rate = p.events as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "block {} of {}, {} events, {rate:.0} events/s",
                p.indexed, p.head, p.events
            ));
        }
    }

    fn finish(self) {
        match self {
            Display::Bar(bar) => bar.finish_and_clear(),
            Display::Log { task, .. } => task.abort(),
        }
    }
}

/// One info line per [`LOG_EVERY`] while the indexer moves (quiet while idle at the head).
async fn log_progress(next: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(LOG_EVERY);
    tick.tick().await;
    let position = || (next.load(Ordering::Relaxed), metrics::snapshot());
    let mut last = position();
    let mut at = Instant::now();
    loop {
        tick.tick().await;
        let (next, now) = position();
        let elapsed = at.elapsed().as_secs_f64().max(1e-3);
        if (next, now.head, now.events) != (last.0, last.1.head, last.1.events) {
            let events_per_s = (now.events - last.1.events) as f64 / elapsed;
            let indexed = next.checked_sub(1);
            info!(
                indexed,
                head = now.head,
                lag = (now.head + 1).saturating_sub(next),
                events = now.events,
                events_per_s = format!("{events_per_s:.1}"),
                "indexing"
            );
        }
        last = (next, now);
        at = Instant::now();
    }
}

/// A minimal HTTP/1.1 responder: `GET /metrics` gets the Prometheus text, anything else 404.
async fn serve_metrics(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream));
            }
            Err(e) => {
                warn!(error = %e, "metrics listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer(mut stream: TcpStream) {
    let mut buf = vec![0u8; 4096];
    let mut n = 0;
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while n < buf.len() {
            let k = stream.read(&mut buf[n..]).await?;
            n += k;
            if k == 0 || buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return;
    }
    let request = String::from_utf8_lossy(&buf[..n]);
    let mut words = request.lines().next().unwrap_or("").split_whitespace();
    let method = words.next().unwrap_or("");
    let path = words.next().unwrap_or("").split('?').next().unwrap_or("");
    let (status, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", metrics::render()),
        ("GET", _) => ("404 Not Found", "not found: GET /metrics\n".to_owned()),
        _ => (
            "405 Method Not Allowed",
            "method not allowed: GET /metrics\n".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:///tmp/x.sqlite"), "sqlite:///tmp/x.sqlite");
    }
}
