//! `vouch devnet` as a newcomer runs it: the real binary brings up anvil, the verified
//! deployment, the indexer and the GraphQL API; the API answers with the indexed chain while it
//! runs; `--for N` ends with a summary whose totals equal the chain's, and leaves no anvil
//! behind; bad input (a port in use, an unreachable database, a broken network config) is one
//! line and exit 2. On SQLite (the default) and PostgreSQL.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, run, vouch};

/// Reads the child's stdout on a thread; returns the welcome block (up to "Try:") and a handle
/// that yields the rest once the child exits.
fn read_stdout(child: &mut Child) -> (Vec<String>, std::thread::JoinHandle<Vec<String>>) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    let mut welcome = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(240)) {
        let done = line == "Try:";
        welcome.push(line);
        if done {
            return (welcome, reader);
        }
    }
    panic!("devnet was not up within 240 s: {welcome:?}");
}

async fn graphql(url: &str, query: &str) -> serde_json::Value {
    let body = serde_json::json!({ "query": query });
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn devnet_runs_and_summarises(database: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let anvil_port = free_port();
    let api = format!("127.0.0.1:{}", free_port());
    let mut command = vouch(
        dir.path(),
        &[
            "devnet",
            "--for",
            "6",
            "--anvil-port",
            &anvil_port.to_string(),
            "--listen",
            &api,
        ],
    );
    if let Some(url) = &database {
        command.args(["--database", url]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let (welcome, rest) = read_stdout(&mut child);
    assert_eq!(welcome[0], "Vouch devnet is up.");
    let graphql_url = format!("http://{api}/graphql");
    assert!(
        welcome.iter().any(|l| l.contains(&graphql_url)),
        "{welcome:?}"
    );

    // The API serves the indexed deployment while the devnet runs.
    let mut status = serde_json::Value::Null;
    while started.elapsed() < Duration::from_secs(120) {
        status = graphql(
            &graphql_url,
            "{ indexerStatus { chainId indexedBlock head } }",
        )
        .await;
        if status["data"]["indexerStatus"]["indexedBlock"]
            .as_i64()
            .unwrap_or(0)
            > 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        status["data"]["indexerStatus"]["chainId"], 31337,
        "{status}"
    );
    let hosts = graphql(&graphql_url, "{ hosts(first: 5) { totalCount } }").await;
    assert_eq!(hosts["data"]["hosts"]["totalCount"], 0, "{hosts}");

    let output = child.wait_with_output().unwrap();
    let stdout = rest.join().unwrap().join("\n");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("The devnet ran ")
            && last.contains(": 0 jobs, 0 proven in 0 batches, 0 slashes, "),
        "{last}"
    );
    // Indexed to the head: "... events indexed to block N of N."
    let tail = last
        .rsplit("indexed to block ")
        .next()
        .unwrap()
        .trim_end_matches('.');
    let (indexed, head) = tail.split_once(" of ").unwrap();
    assert_eq!(indexed, head, "{last}");
    assert!(head.parse::<u64>().unwrap() > 0);
    // Nothing left behind: anvil's port and the API's are free again.
    assert!(
        TcpListener::bind(("127.0.0.1", anvil_port)).is_ok(),
        "anvil still runs"
    );
    assert!(TcpListener::bind(&api).is_ok(), "the API still listens");
}

#[tokio::test(flavor = "multi_thread")]
async fn devnet_on_sqlite_serves_the_indexed_chain_and_ends_with_a_summary() {
    devnet_runs_and_summarises(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn devnet_on_postgres_serves_the_indexed_chain_and_ends_with_a_summary() {
    let pg = vouch_testkit::FreshPostgres::create().await;
    devnet_runs_and_summarises(Some(pg.url.clone())).await;
}

#[test]
fn a_port_in_use_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stdout, stderr) = run(&mut vouch(dir.path(), &["devnet", "--anvil-port", &port]));
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: the anvil port (--anvil-port) 127.0.0.1:{port} is in use: stop what holds it or pick another port\n"
        )
    );
    let (code, _, stderr) = run(&mut vouch(
        dir.path(),
        &[
            "devnet",
            "--anvil-port",
            &free_port().to_string(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: the GraphQL address (--listen) 127.0.0.1:"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1; the password is not shown.
    let url = "postgres://vouch:secret@127.0.0.1:1/devnet";
    let (code, stdout, stderr) = run(&mut vouch(
        dir.path(),
        &[
            "devnet",
            "--anvil-port",
            &free_port().to_string(),
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--database",
            url,
        ],
    ));
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: cannot reach the database postgres://vouch:***@127.0.0.1:1/devnet: "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
}

/// A repository whose network config for the devnet's chain is not JSON: the real anvil (the
/// repository's node_modules, linked) never starts.
#[test]
fn a_broken_network_manifest_is_one_line_and_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let real = vouch_bindings::repository_root();
    std::fs::create_dir_all(root.path().join("circuits")).unwrap();
    std::fs::write(root.path().join(vouch_bindings::root::ROOT_MARKER), "").unwrap();
    std::os::unix::fs::symlink(real.join("node_modules"), root.path().join("node_modules"))
        .unwrap();
    let networks = root.path().join("deploy/networks");
    std::fs::create_dir_all(&networks).unwrap();
    std::fs::write(
        networks.join("anvil.json"),
        "{\"name\": \"anvil\", \"chainId\": 31337,\n",
    )
    .unwrap();
    let anvil_port = free_port();
    let (code, stdout, stderr) = run(vouch(
        root.path(),
        &[
            "devnet",
            "--anvil-port",
            &anvil_port.to_string(),
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
        ],
    )
    .env("VOUCH_ROOT", root.path()));
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let file = networks.join("anvil.json");
    assert!(
        stderr.starts_with(&format!(
            "error: cannot read network config {}: ",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("EOF"), "{stderr}");
    assert!(
        TcpListener::bind(("127.0.0.1", anvil_port)).is_ok(),
        "anvil was started"
    );
}
