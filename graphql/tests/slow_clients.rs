//! Slow clients (slow loris) against the real server loop (`serve_on`) over a migrated SQLite
//! database: a client that trickles a request's headers has its connection closed, one that
//! trickles the body gets a 408 and a closed connection, each after the read timeout, while a
//! normal query on another connection keeps being answered.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_testkit::FreshSqlite;

const READ_TIMEOUT: Duration = Duration::from_secs(2);

async fn server() -> (FreshSqlite, std::net::SocketAddr) {
    let db = FreshSqlite::create();
    SeaStore::connect(&db.url)
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap();
    let conn = vouch_graphql::context::connect(&db.url).await.unwrap();
    let router = vouch_graphql::router(
        conn,
        vouch_graphql::ServeConfig {
            read_timeout: READ_TIMEOUT,
            ..vouch_graphql::ServeConfig::default()
        },
        None,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vouch_graphql::serve_on(
        listener,
        router,
        READ_TIMEOUT,
        std::future::pending(),
    ));
    (db, addr)
}

/// Sends `head` then `trickle` one byte every 300 ms until the server answers or closes;
/// returns what the server sent and how long the connection lasted.
async fn trickle(addr: std::net::SocketAddr, head: &[u8], trickle: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for b in trickle.iter().cycle() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server still held the connection after 60 s"
        );
        tokio::select! {
            n = s.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            },
            _ = tokio::time::sleep(Duration::from_millis(300)) => {
                if s.write_all(&[*b]).await.is_err() {
                    // Closed by the server: collect what it answered.
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 { break; }
                        got.extend_from_slice(&buf[..n]);
                    }
                    break;
                }
            }
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

async fn typename(addr: std::net::SocketAddr) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_slow_bodies_are_cut_off_while_others_are_served() {
    let (_db, addr) = server().await;
    let headers = trickle(
        addr,
        b"POST /graphql HTTP/1.1\r\nHost: x\r\n",
        b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    );
    let body = trickle(
        addr,
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
        b"{\"query\": \"{ __typename }\"      ",
    );
    let normal = async {
        // Normal requests keep being answered while both slow clients hold their sockets.
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(typename(addr).await);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        answers
    };
    let ((head_reply, head_lasted), (body_reply, body_lasted), answers) =
        tokio::join!(headers, body, normal);

    for a in answers {
        assert_eq!(a, serde_json::json!({"data": {"__typename": "Query"}}));
    }
    // hyper closes a connection whose headers are late (with a 408 or nothing at all).
    assert!(
        head_reply.is_empty() || head_reply.starts_with("HTTP/1.1 408"),
        "{head_reply:?}"
    );
    assert!(head_lasted >= READ_TIMEOUT, "{head_lasted:?}");
    assert!(body_reply.starts_with("HTTP/1.1 408"), "{body_reply:?}");
    assert!(
        body_reply.contains(r#"{"errors":[{"message":"the request body did not arrive within 2 s: send it at once"}]}"#),
        "{body_reply:?}"
    );
    assert!(
        body_reply.to_lowercase().contains("connection: close"),
        "{body_reply:?}"
    );
    assert!(body_lasted >= READ_TIMEOUT, "{body_lasted:?}");
}
