//! Subscriptions across processes on PostgreSQL, for the events that need real protocol
//! actions: `vouch index` and `vouch serve` run as two child processes over one PostgreSQL
//! database (only LISTEN/NOTIFY links them), while the test drives a real anvil deployment. A
//! real EZKL proof from the keeper's prover is submitted (`batchProven`), then a claimed job
//! expires (`reputationChanged`, `slashed`). Two websocket clients, one per protocol
//! (`graphql-transport-ws` and the legacy `graphql-ws`), each receive every event with the
//! values of the chain's own receipts. The same data then checks the links of the schema over
//! HTTP: batch.jobs (with each job's host, batch and dispute), slash.host and slash.job,
//! dispute.job and dispute.host, and a proposal's votes.

#[path = "../../keeper/tests/common/mod.rs"]
mod common;
mod support;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use alloy::primitives::{Address, keccak256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use vouch_bindings::contracts::{
    ProofSystem, ReputationRegistry, Slashing, VouchGovernor, VouchToken,
};
use world::{JOB_DURATION, World, mined};

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vouch(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vouch"));
    c.args(args).stdin(Stdio::null()).stdout(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("VOUCH_") {
            c.env_remove(k);
        }
    }
    c
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A websocket client of one protocol.
struct Client {
    ws: Ws,
    legacy: bool,
}

const SUBSCRIPTIONS: [(&str, &str); 3] = [
    (
        "proofs",
        "subscription { batchProven { host submitter batchSize circuitVersion jobCount proofHash block txHash reverted } }",
    ),
    (
        "slashes",
        "subscription { slashed { host reason jobId amount beneficiary beneficiaryShare treasuryShare block txHash reverted } }",
    ),
    (
        "reputation",
        "subscription { reputationChanged { host outcome weight oldScore newScore block txHash reverted } }",
    ),
];

impl Client {
    async fn connect(url: &str, protocol: &str) -> Client {
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
        assert_eq!(resp.headers()["sec-websocket-protocol"], protocol);
        let mut c = Client {
            ws,
            legacy: protocol == "graphql-ws",
        };
        c.send(json!({"type": "connection_init", "payload": {}}))
            .await;
        let ack = c.recv(Duration::from_secs(10)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        let kind = if c.legacy { "start" } else { "subscribe" };
        for (id, query) in SUBSCRIPTIONS {
            c.send(json!({"id": id, "type": kind, "payload": {"query": query}}))
                .await;
        }
        c
    }

    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn recv(&mut self, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("no message in time")
                .expect("socket closed")
                .unwrap();
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["type"].as_str() {
                    Some("ka") | Some("ping") | Some("pong") => continue,
                    _ => return v,
                }
            }
        }
    }

    /// The next data payload: (subscription id, data).
    async fn next(&mut self) -> (String, Value) {
        let m = self.recv(Duration::from_secs(30)).await;
        assert_eq!(m["type"], if self.legacy { "data" } else { "next" }, "{m}");
        assert!(m["payload"]["errors"].is_null(), "{m}");
        (
            m["id"].as_str().unwrap().to_owned(),
            m["payload"]["data"].clone(),
        )
    }
}

fn a(x: Address) -> String {
    x.to_checksum(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_slash_and_reputation_events_reach_both_protocols_across_processes() {
    let prover = tokio::spawn(common::prover());
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("deployment.json");
    w.deployment.save(&manifest).unwrap();
    let manifest = manifest.to_str().unwrap().to_owned();
    let pg = vouch_testkit::FreshPostgres::create().await;

    let _index = Proc(
        vouch(&[
            "index",
            "--rpc-url",
            &w.anvil.endpoint(),
            "--deployment",
            &manifest,
            "--database",
            &pg.url,
            "--confirmations",
            "2",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    // `vouch serve` finds the chain to follow in the checkpoints: wait for the first commit.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(support::try_counts(&pg.url).await, Some((_, _, Some(_)))) {
        assert!(Instant::now() < deadline, "vouch index committed nothing");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let port = support::free_port();
    let listen = format!("127.0.0.1:{port}");
    let _serve = Proc(
        vouch(&["serve", "--database", &pg.url, "--listen", &listen])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("http://{listen}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "vouch serve did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("ws://{listen}/graphql");
    let mut clients = vec![
        Client::connect(&url, "graphql-transport-ws").await,
        Client::connect(&url, "graphql-ws").await,
    ];
    // Let the server start the streams before the first event.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A real proof of one claimed job, submitted by the host's operator.
    let jobs = w.claimed_jobs(1, "subscription").await;
    let proof = prover.await.unwrap().prove(&jobs).await.unwrap();
    let receipt = world::ok(w.submit(&proof, w.operator).await);
    let proven = receipt
        .decoded_log::<ProofSystem::BatchProven>()
        .expect("BatchProven");
    assert_eq!(proven.proofHash, keccak256(&proof.proof));
    let want_proof = json!({"batchProven": {
        "host": a(w.host), "submitter": a(w.operator), "batchSize": 1,
        "circuitVersion": proven.circuitVersion as i64, "jobCount": "1",
        "proofHash": format!("{:#x}", proven.proofHash),
        "block": receipt.block_number.unwrap(), "txHash": format!("{:#x}", receipt.transaction_hash),
        "reverted": false,
    }});
    for c in &mut clients {
        assert_eq!(c.next().await, ("proofs".to_owned(), want_proof.clone()));
    }

    // The renter disputes the proven job (within the dispute window).
    let proven_job = U256::from_be_bytes(jobs[0].job_id.0);
    let evidence = keccak256("wrong output");
    let bond = Slashing::new(w.deployment.contracts.slashing, &w.provider)
        .disputeBond()
        .call()
        .await
        .unwrap();
    mined(
        w.marketplace()
            .disputeJob(proven_job, evidence)
            .value(bond)
            .from(w.renter),
    )
    .await;

    // A claimed job past its deadline: expiring it records an Expiry and slashes the host.
    let (id, _) = w.create_job("expiring").await;
    w.claim(id).await;
    w.advance(JOB_DURATION + 1).await;
    let receipt = mined(w.marketplace().expireJob(id).from(w.renter)).await;
    let changed = receipt
        .decoded_log::<ReputationRegistry::ReputationChanged>()
        .expect("ReputationChanged");
    let slashed = receipt.decoded_log::<Slashing::Slashed>().expect("Slashed");
    assert!(
        changed.newScore < changed.oldScore,
        "an expiry lowers the score"
    );
    assert!(!slashed.amount.is_zero());
    assert_eq!(
        slashed.beneficiary, w.renter,
        "the renter of a missed deadline is paid"
    );
    let block = receipt.block_number.unwrap();
    let tx = format!("{:#x}", receipt.transaction_hash);
    let want_reputation = json!({"reputationChanged": {
        "host": a(w.host), "outcome": "Expiry", "weight": changed.weight.to_string(),
        "oldScore": changed.oldScore, "newScore": changed.newScore,
        "block": block, "txHash": tx, "reverted": false,
    }});
    let want_slash = json!({"slashed": {
        "host": a(w.host), "reason": "MissedDeadline", "jobId": id.to_string(),
        "amount": slashed.amount.to_string(), "beneficiary": a(slashed.beneficiary),
        "beneficiaryShare": slashed.beneficiaryShare.to_string(),
        "treasuryShare": slashed.treasuryShare.to_string(),
        "block": block, "txHash": tx, "reverted": false,
    }});
    for c in &mut clients {
        // Two subscriptions of one socket: their messages may interleave either way.
        let mut got = std::collections::BTreeMap::new();
        for _ in 0..2 {
            let (id, data) = c.next().await;
            assert!(got.insert(id, data).is_none(), "a second message: {got:?}");
        }
        assert_eq!(got["reputation"], want_reputation);
        assert_eq!(got["slashes"], want_slash);
    }

    // A proposal with one vote: the deployer delegates to itself, proposes, waits out the
    // voting delay and votes for it.
    let c = &w.deployment.contracts;
    let gov = VouchGovernor::new(c.vouch_governor, &w.provider);
    mined(
        VouchToken::new(c.vouch_token, &w.provider)
            .delegate(w.deployer)
            .from(w.deployer),
    )
    .await;
    w.advance(1).await;
    let call = VouchToken::transferCall {
        to: Address::with_last_byte(9),
        value: U256::from(1),
    };
    let (targets, values, datas) = (
        vec![c.vouch_token],
        vec![U256::ZERO],
        vec![alloy::primitives::Bytes::from(call.abi_encode())],
    );
    let description = "send one wei".to_owned();
    let proposal = gov
        .hashProposal(
            targets.clone(),
            values.clone(),
            datas.clone(),
            keccak256(description.as_bytes()),
        )
        .call()
        .await
        .unwrap();
    mined(
        gov.propose(targets, values, datas, description)
            .from(w.deployer),
    )
    .await;
    let delay: U256 = gov.votingDelay().call().await.unwrap();
    w.advance(delay.to::<u64>() + 1).await;
    let voted = mined(
        gov.castVoteWithReason(proposal, 1, "ship it".into())
            .from(w.deployer),
    )
    .await;
    let weight = voted
        .decoded_log::<VouchGovernor::VoteCast>()
        .expect("VoteCast")
        .weight;

    // Wait until the indexer has the head, then follow the links.
    let head = w.provider.get_block_number().await.unwrap();
    let graphql = format!("http://{listen}/graphql");
    let query = async |q: &str| -> Value {
        let r: Value = http
            .post(&graphql)
            .json(&json!({"query": q}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r.get("errors").is_none(), "{r}");
        r["data"].clone()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while query("{ indexerStatus { indexedBlock } }").await["indexerStatus"]["indexedBlock"] != head
    {
        assert!(Instant::now() < deadline, "block {head} was not indexed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let id_of = |x: U256| x.to::<i64>();
    let d = query(
        "{ batches { nodes { hostAddress jobIds jobs { id state host { address } batch { proofHash } dispute { jobId status bond evidenceHash renter } } } } }",
    )
    .await;
    assert_eq!(
        d["batches"]["nodes"],
        json!([{
            "hostAddress": a(w.host),
            "jobIds": [id_of(proven_job)],
            "jobs": [{
                "id": id_of(proven_job), "state": "DISPUTED", "host": {"address": a(w.host)},
                "batch": {"proofHash": format!("{:#x}", keccak256(&proof.proof))},
                "dispute": {"jobId": id_of(proven_job), "status": "OPEN", "bond": bond.to_string(),
                            "evidenceHash": format!("{evidence:#x}"), "renter": a(w.renter)},
            }],
        }])
    );
    let d = query("{ disputes { nodes { job { id state } host { address } } } }").await;
    assert_eq!(
        d["disputes"]["nodes"],
        json!([{"job": {"id": id_of(proven_job), "state": "DISPUTED"}, "host": {"address": a(w.host)}}])
    );
    let d = query(
        "{ slashes { nodes { reason amount host { address } job { id state slashed host { address } } } } }",
    )
    .await;
    assert_eq!(
        d["slashes"]["nodes"],
        json!([{
            "reason": "MISSED_DEADLINE", "amount": slashed.amount.to_string(),
            "host": {"address": a(w.host)},
            "job": {"id": id_of(id), "state": "EXPIRED", "slashed": true, "host": {"address": a(w.host)}},
        }])
    );
    let d = query(
        "{ proposals { nodes { id state forVotes votes { voter support weight reason } } } }",
    )
    .await;
    assert_eq!(
        d["proposals"]["nodes"],
        json!([{
            "id": proposal.to_string(), "state": "ACTIVE", "forVotes": weight.to_string(),
            "votes": [{"voter": a(w.deployer), "support": 1, "weight": weight.to_string(), "reason": "ship it"}],
        }])
    );
}
