//! `vouch serve` as a user runs it: the real binary over a database that `vouch index` filled
//! from a real anvil deployment (the default SQLite file of the data directory, and
//! PostgreSQL); GraphiQL, a query, /healthz, /metrics, gzip, CORS, --print-schema, and exit 2
//! with one line for bad input.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn vouch(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vouch"));
    c.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("VOUCH_") {
            c.env_remove(k);
        }
    }
    c
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(dir: &Path, extra: &[&str]) -> Server {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--listen", &listen];
    args.extend_from_slice(extra);
    let child = vouch(dir, &args).stderr(Stdio::null()).spawn().unwrap();
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let http = reqwest::Client::new();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "vouch serve did not listen on {listen}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server(child, base)
}

async fn check(server: &Server, head: u64) {
    let http = reqwest::Client::builder().gzip(true).build().unwrap();
    let r = http
        .post(format!("{}/graphql", server.1))
        .json(&serde_json::json!({"query": "{ indexerStatus { chainId indexedBlock lag } protocol { registeredHosts } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["indexerStatus"]["chainId"], 31337, "{body}");
    assert_eq!(body["data"]["indexerStatus"]["indexedBlock"], head);
    assert_eq!(body["data"]["indexerStatus"]["lag"], 0);
    let page = http
        .get(format!("{}/graphql", server.1))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.to_lowercase().contains("graphiql"));
    let health = http
        .get(format!("{}/healthz", server.1))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = http
        .get(format!("{}/metrics", server.1))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vouch_graphql_requests_total{route=\"graphql\",status=\"200\"} 1"),
        "{metrics}"
    );
    // gzip when asked for
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = raw
        .get(format!("{}/graphql", server.1))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
}

#[tokio::test]
async fn serves_what_vouch_index_wrote_on_sqlite_and_postgres() {
    let anvil = vouch_testkit::anvil();
    let deployed = vouch_testkit::deploy_with_script(&anvil);
    use alloy::providers::{Provider, ProviderBuilder};
    let head = ProviderBuilder::new()
        .connect_http(anvil.endpoint_url())
        .get_block_number()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = deployed.manifest.to_str().unwrap().to_owned();
    let index = |extra: &[&str]| {
        let mut c = vouch(
            dir.path(),
            &[
                "index",
                "--until-head",
                "--rpc-url",
                &anvil.endpoint(),
                "--deployment",
                &manifest,
            ],
        );
        c.args(extra);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };

    // The default database: ./.vouch/vouch.sqlite, as `vouch index` writes it.
    index(&[]);
    let server = start(dir.path(), &["--cors-origin", "https://app.example"]).await;
    check(&server, head).await;
    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", server.1))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://app.example")
    );
    drop(server);

    let pg = vouch_testkit::FreshPostgres::create().await;
    index(&["--database", &pg.url]);
    // Two replicas side by side on one database.
    let a = start(dir.path(), &["--database", &pg.url]).await;
    let b = start(dir.path(), &["--database", &pg.url]).await;
    check(&a, head).await;
    check(&b, head).await;
    // Stateless replicas: the same question gets the same answer from either.
    let ask = |server: &Server| {
        let url = format!("{}/graphql", server.1);
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({"query": "{ indexerStatus { chainId indexedBlock head } protocol { registeredHosts jobCount totalStaked } hosts(first: 5) { totalCount } }"}))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let (from_a, from_b) = (ask(&a).await, ask(&b).await);
    assert!(!from_a.contains("\"errors\""), "{from_a}");
    assert_eq!(from_a, from_b);
}

#[test]
fn print_schema_is_the_schema_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = vouch(dir.path(), &["serve", "--print-schema"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let file =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.graphql"))
            .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), file);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (vec!["serve"], "does not exist"),
        (vec!["serve", "--database", "mysql://x"], "not supported"),
        (
            vec!["serve", "--database", "sqlite:///nonexistent/dir/x.sqlite"],
            "does not exist",
        ),
    ] {
        let out = vouch(dir.path(), &args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
