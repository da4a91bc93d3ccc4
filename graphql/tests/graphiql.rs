//! The GraphiQL page in a real headless Chromium (Debian `chromium`, installed by
//! `script/setup.sh --test`), driven over the DevTools protocol: the page loads with no CDN
//! (every resource comes from the server), a query typed into the editor runs from the
//! execute button, the rendered result shows the indexed hosts, and a screenshot is saved under
//! the target directory's `test-artifacts/`.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{World, serve};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use vouch_testkit::FreshSqlite;

const CHROMIUM: &str = "/usr/bin/chromium";

/// A running headless Chromium in its own process group; the group is killed on drop (the
/// renderer and GPU processes too).
struct Browser {
    child: tokio::process::Child,
    /// `host:port` of its DevTools endpoint.
    devtools: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn launch() -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: run `bash script/setup.sh --test` (it installs Debian's chromium)"
        );
        let profile = tempfile::tempdir().unwrap();
        let mut child = tokio::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1400,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .unwrap();
        // Chromium announces its endpoint on stderr: "DevTools listening on ws://HOST:PORT/...".
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let devtools = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) = line.split("DevTools listening on ws://").nth(1) {
                    return rest.split('/').next().unwrap().to_owned();
                }
            }
            panic!("chromium exited before announcing its DevTools endpoint");
        })
        .await
        .expect("chromium did not start within 60 s");
        // Keep draining stderr so chromium never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Browser {
            child,
            devtools,
            _profile: profile,
        }
    }

    /// A new tab on `url`, and a DevTools session on it.
    async fn open(&self, url: &str) -> Page {
        let target: Value = reqwest::Client::new()
            .put(format!("http://{}/json/new?{url}", self.devtools))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ws = target["webSocketDebuggerUrl"].as_str().unwrap();
        let (socket, _) = tokio_tungstenite::connect_async(ws).await.unwrap();
        Page { socket, next_id: 0 }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// One DevTools session on a page.
struct Page {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl Page {
    /// Sends a DevTools command and returns its `result` (events in between are skipped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket.send(Message::text(msg)).await.unwrap();
        loop {
            let m = tokio::time::timeout(Duration::from_secs(60), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within 60 s"))
                .expect("the DevTools socket closed")
                .unwrap();
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates `expr` in the page and returns its value (awaiting a promise).
    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(r.get("exceptionDetails").is_none(), "{expr} threw: {r}");
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is neither null nor false nor "" (bounded).
    async fn wait_for(&mut self, expr: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let v = self.eval(expr).await;
            if !(v.is_null() || v == json!(false) || v == json!("")) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{expr} still unmet after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn artifacts_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the artifacts go beside it.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_from_the_editor_in_headless_chromium() {
    let world = World::new().await;
    let db = FreshSqlite::create();
    world.index(&db.url).await;
    let api = serve(&db.url).await;
    let origin = format!("http://{}", api.addr);

    let browser = Browser::launch().await;
    let mut page = browser.open(&api.url()).await;
    // The editor is up once GraphiQL has rendered and fetched the schema.
    page.wait_for(
        "!!document.querySelector('.graphiql-query-editor .CodeMirror') && !!document.querySelector('.graphiql-execute-button')",
        Duration::from_secs(60),
    )
    .await;

    let query =
        "{ hosts(orderBy: STAKE, direction: DESC) { totalCount nodes { address region } } }";
    page.eval(&format!(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue({})",
        serde_json::to_string(query).unwrap()
    ))
    .await;
    page.eval("document.querySelector('.graphiql-execute-button').click()")
        .await;
    let text = page
        .wait_for(
            "(() => { const r = document.querySelector('.result-window .CodeMirror'); const v = r && r.CodeMirror.getValue(); return v && v.includes('totalCount') ? v : null })()",
            Duration::from_secs(60),
        )
        .await;
    let shown: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    let expected: Vec<Value> = world
        .hosts
        .iter()
        .map(|h| json!({"address": h.key.address().to_checksum(None), "region": h.region}))
        .collect();
    assert_eq!(
        shown,
        json!({"data": {"hosts": {"totalCount": 3, "nodes": expected}}})
    );
    // What is on screen (CodeMirror's rendered lines), not only its model, names the hosts.
    let rendered = page
        .eval("document.querySelector('.result-window').innerText")
        .await;
    let rendered = rendered.as_str().unwrap();
    for h in &world.hosts {
        assert!(
            rendered.contains(&h.key.address().to_checksum(None)),
            "{rendered}"
        );
    }
    assert!(rendered.contains("\"totalCount\": 3"), "{rendered}");

    // Offline: every resource the page loaded came from the server itself.
    let resources = page
        .eval("performance.getEntriesByType('resource').map(e => e.name)")
        .await;
    let resources: Vec<&str> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for r in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
    ] {
        assert!(
            resources.contains(&format!("{origin}/graphiql/{r}").as_str()),
            "{resources:?}"
        );
    }
    assert!(
        resources.iter().all(|r| r.starts_with(&origin)),
        "a resource came from elsewhere: {resources:?}"
    );

    let shot = page
        .call("Page.captureScreenshot", json!({"format": "png"}))
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let path = artifacts_dir().join("graphiql.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {}", path.display());
}
