//! `vouch devnet --demo` as a newcomer runs it: five hosts with their keepers (the keeper
//! service, each on its own intake port), renters in ETH and VOUCH, real batch proofs, payments
//! after the dispute window, and the scripted events. The banner's commands answer the tour job
//! through host 1's keeper and follow it to its confirmation.
//! Once the script's rounds are done (the chain is then quiet), every scripted job is in its
//! scripted state on chain and in GraphQL, the indexer is at the head, and the GraphQL totals
//! equal the contracts' own view read through the bindings; `--for N` then ends with the
//! summary and exit 0, leaving no anvil behind. On SQLite and PostgreSQL.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking};

use support::{free_port, vouch};

/// JobMarketplace's `Status` by value, as GraphQL's `JobState` names them.
const STATES: [&str; 9] = [
    "NONE",
    "OPEN",
    "CLAIMED",
    "COMPLETED",
    "DISPUTED",
    "PAID",
    "EXPIRED",
    "CANCELLED",
    "REFUNDED",
];
const ROUNDS: &str = "4";
/// Long enough for the script to end and the checks to run while the devnet still serves,
/// with other tests busy on the same two cores (the script takes 10-30 s there).
const FOR: &str = "60";

/// Runs a command line as the banner prints it; returns its stdout.
fn sh(line: &str) -> String {
    let out = std::process::Command::new("bash")
        .args(["-c", line])
        .output()
        .unwrap();
    assert!(out.status.success(), "{line}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Lines of a child's pipe, as they come.
fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Reads `rx` until a line satisfies `done`; returns every line read.
fn until(
    rx: &mpsc::Receiver<String>,
    timeout: Duration,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let last = done(&line);
        seen.push(line);
        if last {
            return seen;
        }
    }
    panic!("not within {timeout:?}:\n{}", seen.join("\n"));
}

async fn graphql(url: &str, query: &str) -> serde_json::Value {
    let body = serde_json::json!({ "query": query });
    let v: serde_json::Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["errors"].is_null(), "{v}");
    v
}

/// "demo: scripted: job 12, a missed deadline, expired and slashed, ended Expired (scripted:
/// Expired)" -> (Some(12), what, actual, expected).
fn scripted(line: &str) -> (Option<u64>, String, String, String) {
    let rest = line.strip_prefix("demo: scripted: ").unwrap();
    let (head, tail) = rest.rsplit_once(", ended ").unwrap();
    let (actual, expected) = tail.split_once(" (scripted: ").unwrap();
    let expected = expected.trim_end_matches(')');
    let (id, what) = match head.strip_prefix("job ") {
        Some(h) => {
            let (id, what) = h.split_once(", ").unwrap();
            (Some(id.parse().unwrap()), what)
        }
        None => (None, head.strip_prefix("proposal, ").unwrap()),
    };
    (id, what.into(), actual.into(), expected.into())
}

async fn demo_runs_its_script(database: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let anvil_port = free_port();
    let api = format!("127.0.0.1:{}", free_port());
    let port = anvil_port.to_string();
    let mut command = vouch(
        dir.path(),
        &[
            "devnet",
            "--demo",
            "--rounds",
            ROUNDS,
            "--for",
            FOR,
            "--anvil-port",
            &port,
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
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    let started = Instant::now();
    let welcome = until(&stdout, Duration::from_secs(240), |l| l == "Try:");
    assert_eq!(welcome[0], "Vouch devnet is up.");
    let manifest: PathBuf = welcome
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("deployment manifest")
                .map(|p| dir.path().join(p.trim()))
        })
        .expect("the manifest line");
    // Each host's keeper is on the banner, then three commands.
    let keepers: Vec<&String> = welcome
        .iter()
        .filter(|l| l.trim_start().starts_with("keeper of host "))
        .collect();
    assert_eq!(keepers.len(), 5, "{welcome:?}");
    let tries: Vec<String> = (0..3)
        .map(|_| stdout.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    let keeper1 = keepers[0]
        .split_whitespace()
        .nth(4)
        .expect("the keeper's URL")
        .to_string();
    assert!(keeper1.starts_with("http://127.0.0.1:"), "{keeper1}");
    let log = until(&stderr, Duration::from_secs(120), |l| {
        l == format!("demo: all {ROUNDS} rounds done; the chain is quiet")
    });
    eprintln!("script done {:?} after start", started.elapsed());

    // The banner's second command answers the tour job through host 1's keeper; its third
    // follows the result there until it is confirmed on chain.
    let (post, tour_job) = {
        let line = &tries[1];
        assert!(
            line.trim_start()
                .starts_with(&format!("curl -s -X POST {keeper1}/v1/results ")),
            "{tries:?}"
        );
        let job = line.rsplit("# answer job ").next().unwrap();
        let job: u64 = job.split(',').next().unwrap().parse().unwrap();
        (line.clone(), job)
    };
    let reply = sh(&post);
    let reply: serde_json::Value = serde_json::from_str(&reply).expect(&reply);
    assert_eq!(reply["jobId"], format!("{:#066x}", tour_job), "{reply}");
    assert_eq!(
        reply["outputHash"],
        alloy::primitives::keccak256("Hello, Vouch.").to_string(),
        "{reply}"
    );
    assert_eq!(
        reply["signer"].as_str().unwrap().to_lowercase(),
        keepers[0]
            .rsplit("(host ")
            .next()
            .unwrap()
            .trim_end_matches(')')
            .to_lowercase(),
        "{reply}"
    );
    let status_cmd = tries[2].split("    #").next().unwrap().to_string();
    assert!(
        status_cmd
            .trim()
            .ends_with(&format!("{keeper1}/v1/results/{tour_job:#x}")),
        "{tries:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let landed = loop {
        let s: serde_json::Value = serde_json::from_str(&sh(&status_cmd)).unwrap();
        if s["state"] == "confirmed" {
            break s;
        }
        assert_ne!(s["state"], "failed", "{s}");
        assert!(Instant::now() < deadline, "not confirmed: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(landed["txHash"].as_str().is_some(), "{landed}");

    // Every scripted event ended as scripted.
    let outcomes: Vec<_> = log
        .iter()
        .filter(|l| l.starts_with("demo: scripted: "))
        .map(|l| scripted(l))
        .collect();
    let by_what: BTreeMap<&str, &(Option<u64>, String, String, String)> =
        outcomes.iter().map(|o| (o.1.as_str(), o)).collect();
    let expect = [
        ("a dispute upheld by the arbitration council", "Refunded"),
        ("a missed deadline, expired and slashed", "Expired"),
        (
            "an equivocation reported from two signed results, then paid",
            "Paid",
        ),
        ("cancelled by its renter", "Cancelled"),
        (
            "raise the protocol fee to 2% (protocolFeeBps 200)",
            "Executed",
        ),
    ];
    assert_eq!(outcomes.len(), expect.len(), "{log:?}");
    for (what, state) in expect {
        let o = by_what
            .get(what)
            .unwrap_or_else(|| panic!("no scripted {what:?}: {log:?}"));
        assert_eq!((o.2.as_str(), o.3.as_str()), (state, state), "{what}");
    }

    // The chain, read through the bindings.
    let deployment = Deployment::load(&manifest).unwrap();
    let c = &deployment.contracts;
    let provider = ProviderBuilder::new()
        .connect_http(format!("http://127.0.0.1:{anvil_port}").parse().unwrap())
        .erased();
    let market = JobMarketplace::new(c.job_marketplace, &provider);
    let staking = Staking::new(c.staking, &provider);
    let registry = NodeRegistry::new(c.node_registry, &provider);
    let head = provider.get_block_number().await.unwrap();

    // The index reaches the head (the chain is quiet: it stays there).
    let graphql_url = format!("http://{api}/graphql");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = graphql(&graphql_url, "{ indexerStatus { indexedBlock head } }").await;
        if s["data"]["indexerStatus"]["indexedBlock"].as_u64() == Some(head) {
            break;
        }
        assert!(Instant::now() < deadline, "the index is not at {head}: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let jobs = market.jobCount().call().await.unwrap().to::<u64>();
    let mut onchain_states: BTreeMap<String, i64> = BTreeMap::new();
    let mut state_of = BTreeMap::new();
    for id in 1..=jobs {
        let j = market.getJob(U256::from(id)).call().await.unwrap();
        let s = STATES[j.status as usize].to_string();
        *onchain_states.entry(s.clone()).or_default() += 1;
        state_of.insert(id, s);
    }
    assert_eq!(
        jobs,
        4 * 30 + 4 + 1,
        "4 rounds of 30, the 4 scripted jobs, the tour job"
    );
    // Every round's regular job is paid; only the scripted ones end otherwise, and the tour
    // job, answered after the last round, is completed (its dispute window never ends: the
    // chain is quiet).
    assert_eq!(
        onchain_states.get("PAID").copied(),
        Some(jobs as i64 - 4),
        "{onchain_states:?}"
    );
    assert_eq!(state_of[&tour_job], "COMPLETED");
    for o in &outcomes {
        if let Some(id) = o.0 {
            assert_eq!(state_of[&id], o.2.to_uppercase(), "job {id} on chain");
        }
    }
    let fee = market.protocolFeeBps().call().await.unwrap();
    assert_eq!(fee, 200, "the executed proposal's parameter");

    let slashed = provider
        .get_logs(
            &Filter::new()
                .from_block(0)
                .address(c.staking)
                .event_signature(Staking::StakeSlashed::SIGNATURE_HASH),
        )
        .await
        .unwrap();
    let slashed_total: U256 = slashed
        .iter()
        .map(|l| {
            let e = Staking::StakeSlashed::decode_log(&l.inner).unwrap().data;
            e.fromActive + e.fromUnbonding
        })
        .sum();
    let registered = provider
        .get_logs(
            &Filter::new()
                .from_block(0)
                .address(c.node_registry)
                .event_signature(NodeRegistry::NodeRegistered::SIGNATURE_HASH),
        )
        .await
        .unwrap();
    let mut hosts: Vec<Address> = registered
        .iter()
        .map(|l| {
            NodeRegistry::NodeRegistered::decode_log(&l.inner)
                .unwrap()
                .data
                .host
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    let mut registered_now = 0;
    for h in &hosts {
        if registry
            .getNode(*h)
            .call()
            .await
            .unwrap()
            .registeredAt
            .to::<u64>()
            != 0
        {
            registered_now += 1;
        }
    }
    assert_eq!(registered_now, 5, "five hosts");
    let total_staked = staking.totalStaked().call().await.unwrap();

    // GraphQL's totals against the chain's.
    let ids: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.0)
        .map(|id| format!("j{id}: job(id: {id}) {{ state }}"))
        .collect();
    let q = format!(
        "{{ protocol {{ totalStaked jobCount jobsByState {{ state count }} slashCount totalSlashed registeredHosts }} {} }}",
        ids.join(" ")
    );
    let v = graphql(&graphql_url, &q).await;
    let p = &v["data"]["protocol"];
    assert_eq!(p["totalStaked"], total_staked.to_string(), "{p}");
    assert_eq!(p["jobCount"].as_u64(), Some(jobs), "{p}");
    assert_eq!(p["slashCount"].as_u64(), Some(slashed.len() as u64), "{p}");
    assert_eq!(
        slashed.len(),
        3,
        "a dispute, a missed deadline, an equivocation"
    );
    assert_eq!(p["totalSlashed"], slashed_total.to_string(), "{p}");
    assert_eq!(p["registeredHosts"].as_u64(), Some(registered_now), "{p}");
    let graphql_states: BTreeMap<String, i64> = p["jobsByState"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["count"].as_i64() != Some(0))
        .map(|s| {
            (
                s["state"].as_str().unwrap().to_string(),
                s["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(graphql_states, onchain_states);
    for o in &outcomes {
        if let Some(id) = o.0 {
            assert_eq!(
                v["data"][format!("j{id}")]["state"],
                o.2.to_uppercase(),
                "job {id} in GraphQL"
            );
        }
    }

    // `--for` ends it: the summary, exit 0, nothing left behind.
    let status = child.wait().unwrap();
    let out: Vec<String> = stdout.try_iter().collect();
    let err: Vec<String> = stderr.try_iter().collect();
    assert_eq!(status.code(), Some(0), "{out:?}\n{err:?}");
    let last = out.last().unwrap();
    assert!(
        last.starts_with("The devnet ran ")
            && last.contains(&format!(": {jobs} jobs, {} proven in ", jobs - 2))
            && last.contains(
                " batches, 3 slashes, 1 disputes upheld, 1 equivocations, 1 proposals executed, "
            ),
        "{last}"
    );
    let tail = last
        .rsplit("indexed to block ")
        .next()
        .unwrap()
        .trim_end_matches('.');
    let (indexed, at) = tail.split_once(" of ").unwrap();
    assert_eq!(
        (indexed, at),
        (head.to_string().as_str(), head.to_string().as_str()),
        "{last}"
    );
    let demo_line = out
        .iter()
        .find(|l| l.starts_with("demo: "))
        .expect("the demo's summary line");
    assert!(
        demo_line.contains(&format!("demo: {ROUNDS} rounds, "))
            && demo_line.ends_with("; 0 failures"),
        "{demo_line}"
    );
    assert_eq!(
        out.iter().filter(|l| l.starts_with("scripted: ")).count(),
        expect.len(),
        "{out:?}"
    );
    assert!(
        TcpListener::bind(("127.0.0.1", anvil_port)).is_ok(),
        "anvil still runs"
    );
    assert!(TcpListener::bind(&api).is_ok(), "the API still listens");
    eprintln!("done {:?} after start", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_on_sqlite_ends_every_scripted_job_as_scripted_and_indexes_the_chain_s_totals() {
    demo_runs_its_script(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_on_postgres_ends_every_scripted_job_as_scripted_and_indexes_the_chain_s_totals() {
    let pg = vouch_testkit::FreshPostgres::create().await;
    demo_runs_its_script(Some(pg.url.clone())).await;
}

/// The pids of `pid`'s children (anvil, the prover's workers).
fn children(pid: u32) -> Vec<u32> {
    let out = std::process::Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn ctrl_c_in_the_middle_of_the_demo_stops_everything_and_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let anvil_port = free_port();
    let api = format!("127.0.0.1:{}", free_port());
    let port = anvil_port.to_string();
    let mut child = vouch(
        dir.path(),
        &["devnet", "--demo", "--anvil-port", &port, "--listen", &api],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    until(&stdout, Duration::from_secs(240), |l| l == "Try:");
    // The script is under way: its first scripted event has ended.
    until(&stderr, Duration::from_secs(120), |l| {
        l.starts_with("demo: scripted: ")
    });
    let helpers = children(child.id());
    // anvil and the prover's two workers at least.
    assert!(helpers.len() >= 3, "{helpers:?}");
    support::signal(child.id(), "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let out: Vec<String> = stdout.try_iter().collect();
    let last = out.last().expect("a summary");
    assert!(last.starts_with("The devnet ran "), "{out:?}");
    assert!(out.iter().any(|l| l.starts_with("demo: ")), "{out:?}");
    for pid in helpers {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z ")),
            "child {pid} still runs"
        );
    }
    assert!(
        TcpListener::bind(("127.0.0.1", anvil_port)).is_ok(),
        "anvil still runs"
    );
    assert!(TcpListener::bind(&api).is_ok(), "the API still listens");
}
