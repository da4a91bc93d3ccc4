//! The GraphQL API against a real anvil chain indexed by the real indexer into SQLite and
//! PostgreSQL, over HTTP: every query and filter, pagination walks, hostile input.

mod common;

use alloy::primitives::U256;
use common::{Api, JOB_PAYMENT, OPEN_JOBS, VOUCH, World, model, serve};
use serde_json::{Value, json};
use vouch_bindings::contracts::{ReputationRegistry, Staking, VouchGovernor};
use vouch_testkit::{FreshPostgres, FreshSqlite};

fn addrs(v: &Value) -> Vec<String> {
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["address"].as_str().unwrap().to_owned())
        .collect()
}

async fn check_every_query(world: &World, api: &Api) {
    let (head, _) = world.head().await;
    let h: Vec<String> = world
        .hosts
        .iter()
        .map(|h| h.key.address().to_checksum(None))
        .collect();
    let c = &world.deployment.contracts;

    // indexerStatus
    let d = api.query("{ indexerStatus { chainId indexedBlock head lag confirmations finalBlock lastReorgBlock } }", json!({})).await;
    let s = &d["indexerStatus"];
    assert_eq!(s["chainId"], 31337);
    assert_eq!(s["indexedBlock"], head);
    assert_eq!(s["lag"], 0);
    assert_eq!(s["confirmations"], 3);
    assert_eq!(s["finalBlock"], head - 3);

    // hosts: filters and orders
    let q = "query($f: HostFilter, $o: HostOrder, $d: Direction) { hosts(filter: $f, orderBy: $o, direction: $d) { totalCount edges { cursor node { address region pricePerToken registered reputation models stake { active } block final } } } }";
    let all = api.query(q, json!({})).await;
    assert_eq!(all["hosts"]["totalCount"], 3);
    let by_price = api.query(q, json!({"o": "PRICE", "d": "ASC"})).await;
    assert_eq!(
        addrs(&by_price["hosts"]),
        vec![h[1].clone(), h[0].clone(), h[2].clone()]
    );
    let by_stake = api.query(q, json!({"o": "STAKE", "d": "DESC"})).await;
    assert_eq!(
        addrs(&by_stake["hosts"]),
        vec![h[0].clone(), h[1].clone(), h[2].clone()]
    );
    let registered = api.query(q, json!({"f": {"status": "REGISTERED"}})).await;
    assert_eq!(registered["hosts"]["totalCount"], 2);
    let m2 = api
        .query(
            q,
            json!({"f": {"status": "REGISTERED", "model": model(2).to_string()}}),
        )
        .await;
    assert_eq!(addrs(&m2["hosts"]), vec![h[0].clone()]);
    let cheap = api.query(q, json!({"f": {"maxPrice": "60"}})).await;
    assert_eq!(addrs(&cheap["hosts"]), vec![h[1].clone()]);
    let rich = api
        .query(q, json!({"f": {"minStake": (4_000 * VOUCH).to_string()}}))
        .await;
    assert_eq!(addrs(&rich["hosts"]), vec![h[0].clone()]);
    let eu = api
        .query(
            q,
            json!({"f": {"region": "eu-west-1"}, "o": "REGISTERED_AT", "d": "ASC"}),
        )
        .await;
    assert_eq!(addrs(&eu["hosts"]), vec![h[0].clone(), h[2].clone()]);
    let good = api.query(q, json!({"f": {"minReputation": 500}})).await;
    assert_eq!(
        addrs(&good["hosts"]).len(),
        2,
        "the slashed host is below 500: {good}"
    );
    assert!(!addrs(&good["hosts"]).contains(&h[0]));

    // host: stake and reputation equal the contracts' views at the indexed head
    let staking = Staking::new(c.staking, &world.deployer);
    let rep = ReputationRegistry::new(c.reputation_registry, &world.deployer);
    let at = alloy::eips::BlockId::number(head);
    let hq = "query($a: Address!) { host(address: $a) { address endpoint region pricePerToken reputation registered
        stake { active slashedTotal } slashes { reason amount job { id } host { address } }
        jobs(first: 5) { id state host { address } }
        reputationHistory { totalCount edges { node { outcome oldScore newScore weight time { unix iso } } } }
        stakeHistory { edges { node { kind amount active unbonding } } } } }";
    for (i, spec) in world.hosts.iter().enumerate() {
        let d = api.query(hq, json!({"a": h[i].to_lowercase()})).await;
        let host = &d["host"];
        assert_eq!(host["address"], h[i]);
        assert_eq!(host["region"], spec.region);
        assert_eq!(host["pricePerToken"], spec.price.to_string());
        assert_eq!(host["registered"], i < 2);
        let active = staking
            .activeStakeOf(spec.key.address())
            .block(at)
            .call()
            .await
            .unwrap();
        assert_eq!(host["stake"]["active"], active.to_string());
        let score = rep
            .scoreOf(spec.key.address())
            .block(at)
            .call()
            .await
            .unwrap();
        assert_eq!(host["reputation"], score, "host {i}");
    }
    let slashed = 5_000 * VOUCH / 20;
    let h0 = api.query(hq, json!({"a": h[0]})).await;
    let h0 = &h0["host"];
    assert_eq!(h0["stake"]["slashedTotal"], slashed.to_string());
    assert_eq!(h0["slashes"][0]["reason"], "MISSED_DEADLINE");
    assert_eq!(h0["slashes"][0]["amount"], slashed.to_string());
    assert_eq!(h0["slashes"][0]["job"]["id"], world.expired_job);
    assert_eq!(h0["slashes"][0]["host"]["address"], h[0]);
    assert_eq!(h0["jobs"][0]["id"], world.expired_job);
    assert_eq!(h0["jobs"][0]["state"], "EXPIRED");
    let history = &h0["reputationHistory"];
    assert_eq!(history["totalCount"], 1);
    assert_eq!(history["edges"][0]["node"]["outcome"], "Expiry");
    assert_eq!(history["edges"][0]["node"]["oldScore"], 500);
    assert_eq!(history["edges"][0]["node"]["newScore"], 470);
    assert!(
        history["edges"][0]["node"]["time"]["iso"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let kinds: Vec<&str> = h0["stakeHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["STAKED", "SLASHED"]);
    assert_eq!(
        h0["stakeHistory"]["edges"][0]["node"]["active"],
        (5_000 * VOUCH).to_string()
    );
    assert_eq!(
        h0["stakeHistory"]["edges"][1]["node"]["active"],
        (5_000 * VOUCH - slashed).to_string()
    );
    assert_eq!(
        h0["stakeHistory"]["edges"][1]["node"]["amount"],
        slashed.to_string()
    );

    // job and jobs
    let d = api.query("query($id: Int!) { job(id: $id) { id state slashed payment fee renter token host { address } batch { txHash } dispute { status } createdAt { unix } expiredAt { unix } block final } }", json!({"id": world.expired_job})).await;
    let j = &d["job"];
    assert_eq!(j["state"], "EXPIRED");
    assert_eq!(j["slashed"], true);
    assert_eq!(j["payment"], JOB_PAYMENT.to_string());
    assert_eq!(j["renter"], world.renter.address().to_checksum(None));
    assert_eq!(j["token"], "0x0000000000000000000000000000000000000000");
    assert_eq!(j["host"]["address"], h[0]);
    assert!(j["batch"].is_null() && j["dispute"].is_null());
    assert!(j["expiredAt"]["unix"].as_i64().unwrap() > j["createdAt"]["unix"].as_i64().unwrap());
    assert_eq!(j["final"], j["block"].as_u64().unwrap() <= head - 3);
    let jq = "query($f: JobFilter) { jobs(filter: $f, first: 100) { totalCount edges { node { id state } } } }";
    let total = |v: &Value| v["jobs"]["totalCount"].as_u64().unwrap();
    assert_eq!(
        total(&api.query(jq, json!({"f": {"state": "OPEN"}})).await),
        OPEN_JOBS as u64
    );
    assert_eq!(
        total(
            &api.query(
                jq,
                json!({"f": {"renter": world.renter.address().to_string()}})
            )
            .await
        ),
        OPEN_JOBS as u64 + 3
    );
    assert_eq!(
        total(
            &api.query(jq, json!({"f": {"model": model(1).to_string()}}))
                .await
        ),
        OPEN_JOBS as u64 + 3
    );
    assert_eq!(
        total(
            &api.query(jq, json!({"f": {"model": model(9).to_string()}}))
                .await
        ),
        0
    );
    let by_host = api.query(jq, json!({"f": {"host": h[1]}})).await;
    assert_eq!(by_host["jobs"]["edges"][0]["node"]["id"], world.claimed_job);
    assert_eq!(by_host["jobs"]["edges"][0]["node"]["state"], "CLAIMED");
    let created = api
        .query(
            "query($id: Int!) { job(id: $id) { createdAt { unix } } }",
            json!({"id": world.claimed_job}),
        )
        .await;
    let t = created["job"]["createdAt"]["unix"].as_i64().unwrap();
    assert_eq!(
        total(&api.query(jq, json!({"f": {"createdBefore": t}})).await),
        2
    );
    assert_eq!(
        total(&api.query(jq, json!({"f": {"createdAfter": t}})).await),
        OPEN_JOBS as u64 + 1
    );
    let all_jobs = api.query(jq, json!({})).await;
    let ids: Vec<u64> = all_jobs["jobs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), OPEN_JOBS + 3);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    // slashes, disputes, equivocations, batches
    let d = api.query("{ slashes { totalCount edges { node { reason amount beneficiary beneficiaryShare treasuryShare job { id } host { address } } } }
        disputes { totalCount } equivocations { totalCount } batches { totalCount } }", json!({})).await;
    assert_eq!(d["slashes"]["totalCount"], 1);
    let s = &d["slashes"]["edges"][0]["node"];
    assert_eq!(s["beneficiary"], world.renter.address().to_checksum(None));
    assert_eq!(s["host"]["address"], h[0]);
    let shares = s["beneficiaryShare"]
        .as_str()
        .unwrap()
        .parse::<u128>()
        .unwrap()
        + s["treasuryShare"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .unwrap();
    assert_eq!(shares, slashed);
    assert_eq!(d["disputes"]["totalCount"], 0);
    assert_eq!(d["equivocations"]["totalCount"], 0);
    assert_eq!(d["batches"]["totalCount"], 0);
    let f = api
        .query(
            "{ slashes(filter: {reason: DISPUTE_UPHELD}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(f["slashes"]["totalCount"], 0);

    // leaderboard
    let d = api.query("{ leaderboard { totalCount edges { node { rank percentile reputation host { address } } } } }", json!({})).await;
    let lb = d["leaderboard"]["edges"].as_array().unwrap();
    assert_eq!(lb.len(), 2);
    assert_eq!(lb[0]["node"]["host"]["address"], h[1]);
    assert_eq!(lb[0]["node"]["rank"], 1);
    assert_eq!(lb[0]["node"]["percentile"], 100.0);
    assert_eq!(lb[1]["node"]["rank"], 2);
    assert_eq!(lb[1]["node"]["percentile"], 0.0);

    // proposals: the state equals the governor's at the head
    let d = api.query("{ proposals { totalCount edges { node { id state description forVotes quorum voteStart { unix } votes { voter } } } } }", json!({})).await;
    assert_eq!(d["proposals"]["totalCount"], 1);
    let p = &d["proposals"]["edges"][0]["node"];
    assert_eq!(p["id"], world.proposal_id.to_string());
    assert_eq!(p["description"], "send one wei");
    let gov = VouchGovernor::new(c.vouch_governor, &world.deployer);
    let state = gov.state(world.proposal_id).block(at).call().await.unwrap();
    let names = [
        "PENDING",
        "ACTIVE",
        "CANCELED",
        "DEFEATED",
        "SUCCEEDED",
        "QUEUED",
        "EXPIRED",
        "EXECUTED",
    ];
    assert_eq!(p["state"], names[state as usize]);
    // The supply is fixed, so the quorum at any past timepoint is the quorum at the snapshot.
    let (_, now) = world.head().await;
    let quorum = gov
        .quorum(U256::from(now - 1))
        .block(at)
        .call()
        .await
        .unwrap();
    assert_eq!(p["quorum"], quorum.to_string());

    // protocol totals
    let d = api.query("{ protocol { totalStaked totalSlashed slashCount jobCount registeredHosts escrowed { token amount } jobsByState { state count } parameters { contract name value } } }", json!({})).await;
    let p = &d["protocol"];
    let staked = staking.totalStaked().block(at).call().await.unwrap();
    assert_eq!(p["totalStaked"], staked.to_string());
    assert_eq!(p["totalSlashed"], slashed.to_string());
    assert_eq!(p["jobCount"], OPEN_JOBS + 3);
    assert_eq!(p["registeredHosts"], 2);
    assert_eq!(
        p["escrowed"][0]["amount"],
        ((OPEN_JOBS as u128 + 1) * JOB_PAYMENT).to_string()
    );
    let count = |s: &str| {
        p["jobsByState"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["state"] == s)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (
            count("OPEN"),
            count("CLAIMED"),
            count("EXPIRED"),
            count("CANCELLED"),
            count("PAID")
        ),
        (OPEN_JOBS as u64, 1, 1, 1, 0)
    );
    assert!(
        p["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "QuorumNumeratorUpdated")
    );
}

#[tokio::test]
async fn every_query_on_sqlite_and_postgres() {
    let world = World::new().await;
    let sqlite = FreshSqlite::create();
    world.index(&sqlite.url).await;
    check_every_query(&world, &serve(&sqlite.url).await).await;
    let pg = FreshPostgres::create().await;
    world.index(&pg.url).await;
    check_every_query(&world, &serve(&pg.url).await).await;
}

/// Walks `jobs` with pages of 4 forward and backward; `between` runs after every page.
async fn walk(api: &Api, forward: bool, mut between: impl AsyncFnMut()) -> Vec<u64> {
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let q = if forward {
            "query($c: String) { jobs(first: 4, after: $c) { pageInfo { hasNextPage endCursor } edges { node { id } } } }"
        } else {
            "query($c: String) { jobs(last: 4, before: $c) { pageInfo { hasPreviousPage startCursor } edges { node { id } } } }"
        };
        let d = api.query(q, json!({"c": cursor})).await;
        let page: Vec<u64> = d["jobs"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_u64().unwrap())
            .collect();
        if forward {
            seen.extend(page);
        } else {
            seen.splice(0..0, page);
        }
        let info = &d["jobs"]["pageInfo"];
        let more = if forward {
            info["hasNextPage"].as_bool().unwrap()
        } else {
            info["hasPreviousPage"].as_bool().unwrap()
        };
        if !more {
            return seen;
        }
        cursor = Some(
            info[if forward { "endCursor" } else { "startCursor" }]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        between().await;
    }
}

#[tokio::test]
async fn pages_walk_every_row_once_in_order_while_rows_arrive() {
    let world = World::new().await;
    let db = FreshSqlite::create();
    world.index(&db.url).await;
    let api = serve(&db.url).await;
    let n = OPEN_JOBS as u64 + 3;
    let expected: Vec<u64> = (1..=n).rev().collect();
    assert_eq!(walk(&api, true, async || {}).await, expected);
    assert_eq!(walk(&api, false, async || {}).await, expected);

    // New jobs are created and indexed between pages: newest first, they land before the
    // cursor of a forward walk, which still yields every older row exactly once.
    use alloy::primitives::aliases::{U40, U96};
    use vouch_bindings::contracts::JobMarketplace;
    let renter = world.wallet(&world.renter);
    let market = JobMarketplace::new(world.deployment.contracts.job_marketplace, &renter);
    let add = async || {
        let (_, now) = world.head().await;
        market
            .createJob(
                model(1),
                alloy::primitives::B256::with_last_byte(250),
                alloy::primitives::Address::ZERO,
                U96::from(JOB_PAYMENT),
                U40::from(now + 3600),
                alloy::primitives::Address::ZERO,
                0,
            )
            .value(U256::from(JOB_PAYMENT))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        world.index(&db.url).await;
    };
    let seen = walk(&api, true, add).await;
    assert_eq!(seen, expected, "a forward walk while rows arrive");
    let now_total = api.query("{ jobs { totalCount } }", json!({})).await["jobs"]["totalCount"]
        .as_u64()
        .unwrap();
    assert!(now_total > n, "rows arrived: {now_total}");
    // ascending: the new rows come after the walked ones and are reached at the end
    let asc = api
        .query(
            "{ jobs(direction: ASC, first: 1000) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let ids: Vec<u64> = asc["jobs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=now_total).collect::<Vec<_>>());
}

fn error_of(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn hostile_input_gets_clear_errors_while_normal_queries_succeed() {
    let world = World::new().await;
    let db = FreshSqlite::create();
    world.index(&db.url).await;
    let api = serve(&db.url).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let normal = {
        let (api, stop) = (api.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let d = api
                    .query(
                        "{ jobs(first: 5) { totalCount edges { node { id host { address } } } } }",
                        json!({}),
                    )
                    .await;
                assert_eq!(d["jobs"]["totalCount"], OPEN_JOBS + 3);
                n += 1;
            }
            n
        })
    };

    let mut depth = String::from("id");
    for _ in 0..8 {
        depth = format!("host {{ jobs(first: 1) {{ {depth} }} }}");
    }
    let (status, body) = api
        .raw(
            &format!("{{ jobs(first: 1) {{ edges {{ node {{ {depth} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(error_of(&body).contains("nested too deep"), "{body}");

    let aliases: String = (0..60)
        .map(|i| format!("a{i}: indexerStatus {{ head }} "))
        .collect();
    let (status, body) = api.raw(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(status, 200);
    assert!(error_of(&body).contains("too many aliases: 60"), "{body}");

    let (_, body) = api
        .raw("{ hosts(first: 1000) { edges { node { jobs(first: 100) { host { address reputation } } } } } }", json!({}))
        .await;
    assert!(error_of(&body).contains("too complex"), "{body}");

    let (_, body) = api
        .raw(
            "{ jobs(first: 1000000) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(error_of(&body).contains("at most 1000"), "{body}");
    assert!(body["data"]["jobs"].is_null());

    let (status, body) = api.raw("{ jobs(first: 2 { edges", json!({})).await;
    assert_eq!(status, 200);
    assert!(!error_of(&body).is_empty(), "{body}");

    let (_, body) = api.raw("{ job(id: \"seven\") { id } }", json!({})).await;
    assert!(error_of(&body).contains("Invalid value"), "{body}");
    let (_, body) = api
        .raw(
            "query($a: Address!) { host(address: $a) { address } }",
            json!({"a": "0x12"}),
        )
        .await;
    assert!(error_of(&body).contains("not an address"), "{body}");
    let (_, body) = api
        .raw("{ jobs(after: \"garbage\") { totalCount } }", json!({}))
        .await;
    assert!(error_of(&body).contains("not a cursor"), "{body}");

    let r = api
        .http
        .post(api.url())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let big = format!(
        "{{\"query\": \"{{ indexerStatus {{ head }} }}\", \"x\": \"{}\"}}",
        "a".repeat(10 << 20)
    );
    let r = api
        .http
        .post(api.url())
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => panic!("the 10 MB body got no answer: {e}"),
    }

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let n = normal.await.unwrap();
    assert!(n > 0);
    let metrics = api
        .http
        .get(format!("http://{}/metrics", api.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vouch_graphql_errors_total{kind=\"limit\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vouch_graphql_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let health = api
        .http
        .get(format!("http://{}/healthz", api.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}
