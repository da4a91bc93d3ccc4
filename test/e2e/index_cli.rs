//! `vouch index` as a user runs it: the real binary against a real anvil deployed by the real
//! script, into SQLite (the default file) and PostgreSQL; `/metrics`; exit 2 and one line for
//! every bad input, with nothing written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use alloy::node_bindings::AnvilInstance;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use vouch_bindings::{AddressBook, Deployment};
use vouch_testkit::ScriptDeployment;

/// A fresh anvil with the deployment on it, and what a full index of it holds.
struct Chain {
    anvil: AnvilInstance,
    deployed: ScriptDeployment,
    logs: usize,
    head: u64,
}

impl Chain {
    async fn start() -> Chain {
        let anvil = vouch_testkit::anvil();
        let deployed = vouch_testkit::deploy_with_script(&anvil);
        let deployment = Deployment::load(&deployed.manifest).unwrap();
        let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
        let filter = Filter::new()
            .address(AddressBook::new(&deployment).addresses())
            .from_block(deployment.start_block);
        let logs = provider.get_logs(&filter).await.unwrap().len();
        assert!(logs > 50, "the deployment emits many events: {logs}");
        let head = provider.get_block_number().await.unwrap();
        Chain {
            anvil,
            deployed,
            logs,
            head,
        }
    }

    fn rpc(&self) -> String {
        self.anvil.endpoint()
    }

    fn manifest(&self) -> &Path {
        &self.deployed.manifest
    }

    /// `vouch index` on this chain and its manifest, run in `dir`.
    fn index(&self, dir: &Path, extra: &[&str]) -> Command {
        let mut command = vouch(dir, &["index", "--rpc-url", &self.rpc(), "--deployment"]);
        command.arg(self.manifest()).args(extra);
        command
    }
}

/// `vouch` with a clean `VOUCH_*` environment, run from `dir` (so `./.vouch` lands there).
fn vouch(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vouch"));
    command.args(args).current_dir(dir).stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("VOUCH_") {
            command.env_remove(key);
        }
    }
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("vouch runs");
    (
        status.code().expect("an exit code, not a signal"),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

async fn sqlite_count(file: &Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", file.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` on `port`: (status line, body), or None while nothing listens.
fn http_get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn until_head_indexes_every_log_into_the_default_sqlite_and_a_rerun_is_a_no_op() {
    let chain = Chain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = data.join("vouch.sqlite");

    let (code, stdout, stderr) = run(chain
        .index(dir.path(), &["--until-head"])
        .env("VOUCH_DATA_DIR", &data));
    assert_eq!(code, 0, "{stderr}");
    assert!(file.is_file(), "the default database is {}", file.display());
    assert_eq!(sqlite_count(&file).await as usize, chain.logs);
    assert_eq!(
        stdout,
        format!(
            "caught up: chain 31337 indexed to block {} ({} new events) in sqlite://{}\n",
            chain.head,
            chain.logs,
            file.display()
        )
    );

    // Again, every flag from the environment: nothing new to index.
    let (code, stdout, stderr) = run(vouch(dir.path(), &["index"])
        .env("VOUCH_RPC_URL", chain.rpc())
        .env("VOUCH_DEPLOYMENT", chain.manifest())
        .env("VOUCH_DATA_DIR", &data)
        .env("VOUCH_UNTIL_HEAD", "true")
        .env("VOUCH_REORG_WINDOW", "4")
        .env("VOUCH_CONCURRENCY", "2"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(0 new events)"), "{stdout}");
    assert_eq!(sqlite_count(&file).await as usize, chain.logs);
}

#[tokio::test]
async fn without_a_data_dir_the_database_is_under_dot_vouch() {
    let chain = Chain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&mut chain.index(dir.path(), &["--until-head"]));
    assert_eq!(code, 0, "{stderr}");
    let file = dir.path().join(".vouch/vouch.sqlite");
    assert_eq!(sqlite_count(&file).await as usize, chain.logs);
}

#[tokio::test]
async fn metrics_serve_the_counters_and_sigterm_stops_cleanly() {
    let chain = Chain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.sqlite");
    let port = free_port();
    let mut child = chain
        .index(
            dir.path(),
            &[
                "--database",
                &format!("sqlite://{}", file.display()),
                "--metrics",
                &format!("127.0.0.1:{port}"),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(120);
    let text = loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "vouch index exited early"
        );
        if let Some((status, body)) = http_get(port, "/metrics") {
            assert_eq!(status, "HTTP/1.1 200 OK");
            if metric(&body, "vouch_indexer_indexed_block") == Some(chain.head) {
                break body;
            }
        }
        assert!(Instant::now() < deadline, "the indexer never caught up");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(metric(&text, "vouch_indexer_head"), Some(chain.head));
    assert_eq!(metric(&text, "vouch_indexer_lag_blocks"), Some(0));
    assert_eq!(
        metric(&text, "vouch_indexer_events_total"),
        Some(chain.logs as u64)
    );
    assert!(text.contains("# TYPE vouch_indexer_reorgs_total counter"));
    let (status, _) = http_get(port, "/other").unwrap();
    assert_eq!(status, "HTTP/1.1 404 Not Found");

    // Following the head, a SIGTERM ends the run cleanly.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(&format!(
            "stopped: chain 31337 indexed to block {}",
            chain.head
        )),
        "{stdout}"
    );
    assert_eq!(sqlite_count(&file).await as usize, chain.logs);
}

#[tokio::test]
async fn postgres_via_database() {
    let chain = Chain::start().await;
    let db = vouch_testkit::FreshPostgres::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&mut chain.index(
        dir.path(),
        &["--until-head", "--database", &db.url, "--concurrency", "8"],
    ));
    assert_eq!(code, 0, "{stderr}");
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(n as usize, chain.logs);
    assert!(!dir.path().join(".vouch").exists());
}

#[tokio::test]
async fn bad_inputs_exit_2_with_one_line_and_write_nothing() {
    let chain = Chain::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let not_json = dir.path().join("not-json.json");
    std::fs::write(&not_json, "this is not json").unwrap();
    let other_chain = dir.path().join("other-chain.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(chain.manifest()).unwrap()).unwrap();
    manifest["chainId"] = serde_json::json!(8453);
    std::fs::write(&other_chain, manifest.to_string()).unwrap();
    let missing = dir.path().join("absent.json");
    let dead_rpc = format!("http://127.0.0.1:{}", free_port());
    let dead_pg = format!("postgres://postgres@127.0.0.1:{}/vouch", free_port());
    let rpc = chain.rpc();
    let good = chain.manifest().to_path_buf();

    let cases: Vec<(&str, String, PathBuf, Vec<&str>, String)> = vec![
        (
            "missing manifest",
            rpc.clone(),
            missing.clone(),
            vec![],
            format!(
                "error: cannot read deployment manifest {}: No such file or directory (os error 2); pass the manifest the deploy script wrote for this network (--deployment / VOUCH_DEPLOYMENT)",
                missing.display()
            ),
        ),
        (
            "malformed manifest",
            rpc.clone(),
            not_json.clone(),
            vec![],
            format!(
                "error: deployment manifest {} is not valid: ",
                not_json.display()
            ),
        ),
        (
            "RPC scheme",
            "ftp://127.0.0.1:8545".into(),
            good.clone(),
            vec![],
            "error: RPC URL \"ftp://127.0.0.1:8545\" is not an http(s):// or ws(s):// URL: pass --rpc-url / VOUCH_RPC_URL like http://127.0.0.1:8545".into(),
        ),
        (
            "unreachable RPC",
            dead_rpc.clone(),
            good.clone(),
            vec![],
            format!("error: cannot reach the RPC at {dead_rpc}: "),
        ),
        (
            "another chain",
            rpc.clone(),
            other_chain.clone(),
            vec![],
            format!(
                "error: the RPC at {rpc} serves chain 31337, but the deployment manifest {} is for chain 8453: point --rpc-url at that chain or pass its manifest",
                other_chain.display()
            ),
        ),
        (
            "database scheme",
            rpc.clone(),
            good.clone(),
            vec!["--database", "mysql://root@localhost/vouch"],
            "error: database URL \"mysql://root@localhost/vouch\" is not supported: use sqlite://FILE or postgres://USER@HOST/DB (--database / VOUCH_DATABASE)".into(),
        ),
        (
            "unreachable PostgreSQL",
            rpc.clone(),
            good.clone(),
            vec!["--database", &dead_pg],
            format!("error: cannot open the database {dead_pg}: "),
        ),
    ];
    for (name, rpc, manifest, extra, expected) in cases {
        let started = Instant::now();
        let mut command = vouch(dir.path(), &["index", "--until-head", "--rpc-url", &rpc]);
        command
            .arg("--deployment")
            .arg(&manifest)
            .args(&extra)
            .env("VOUCH_DATA_DIR", &data);
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_eq!(stdout, "", "{name}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.starts_with(&expected),
            "{name}:\n  got  {stderr}  want {expected}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{name} took {:?}",
            started.elapsed()
        );
        assert!(!data.exists(), "{name}: the data directory was created");
        assert!(
            !dir.path().join(".vouch").exists(),
            "{name}: ./.vouch was created"
        );
    }
}
