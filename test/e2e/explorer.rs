//! The web explorer at `/` in a real headless Chromium against a running system: anvil with the
//! real deployment and two hosts, jobs paid (with a real EZKL proof), expired and slashed, and
//! open; `vouch index` and `vouch serve` as child processes on one SQLite file. The overview,
//! host and job pages must show exactly the chain's values (addresses, VOUCH and ETH amounts,
//! reputation, states); a job created on chain while the overview is open must appear without
//! a reload, and a job page must follow its job to Claimed live. The page loads nothing from
//! elsewhere and logs no error (a CSP violation would be one). Screenshots go to
//! `<target dir>/test-artifacts/explorer/`.

#[path = "../../keeper/tests/common/mod.rs"]
mod common;
mod support;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::Provider;
use serde_json::json;
use vouch_bindings::contracts::{ReputationRegistry, Slashing, Staking};
use vouch_keeper::prover::JobTuple;
use vouch_testkit::browser::{Browser, Page, artifacts_dir};
use world::{JOB_DURATION, World, mined, model};

/// What a host may register as its endpoint: shown as text, never run.
const HOSTILE_ENDPOINT: &str =
    "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>";

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
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("VOUCH_") {
            c.env_remove(k);
        }
    }
    c
}

/// `wei` in units of 10^18, exactly, as the explorer prints amounts.
fn units(wei: U256) -> String {
    let base = U256::from(10u64).pow(U256::from(18));
    let frac = format!("{:0>18}", (wei % base).to_string());
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{}", wei / base)
    } else {
        format!("{}.{frac}", wei / base)
    }
}

fn a(x: Address) -> String {
    x.to_checksum(None)
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The text of the first element matching `selector`, or null.
fn text_of(selector: &str) -> String {
    format!(
        "(() => {{ const e = document.querySelector({}); return e ? e.textContent : null }})()",
        js(selector)
    )
}

async fn text(page: &mut Page, selector: &str) -> String {
    let v = page.eval(&text_of(selector)).await;
    v.as_str()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
        .to_owned()
}

/// Waits until `selector`'s text is `want` (the page renders asynchronously).
async fn wait_text(page: &mut Page, selector: &str, want: &str, within: Duration) {
    let expr = format!("{} === {}", text_of(selector), js(want));
    let deadline = Instant::now() + within;
    while page.eval(&expr).await != json!(true) {
        if Instant::now() > deadline {
            let got = page.eval(&text_of(selector)).await;
            panic!(
                "{selector}: {got} after {within:?}, want {want:?}; problems: {:?}",
                page.problems()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The texts of every element matching `selector`.
async fn texts(page: &mut Page, selector: &str) -> Vec<String> {
    let v = page
        .eval(&format!(
            "[...document.querySelectorAll({})].map(e => e.textContent)",
            js(selector)
        ))
        .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_shows_the_chain_and_follows_new_jobs_live_in_headless_chromium() {
    let started = Instant::now();
    let prover = tokio::spawn(common::prover_with(|c| {
        c.batch_sizes = vec![1];
        c.workers = 1;
    }));
    let browser = tokio::spawn(Browser::launch());
    let w = World::new().await;
    let c = w.deployment.contracts.clone();
    // A second host, so the leaderboard ranks two; its endpoint is markup, which the page
    // must show as text.
    let second = w.stranger;
    w.join_as_host(second, HOSTILE_ENDPOINT).await;

    // Job 1 is proven (a real proof) and paid after the dispute window; job 2 is claimed and
    // expires (a slash and an Expiry); job 3 stays open.
    let (paid, _) = w.create_job("paid job").await;
    w.claim(paid).await;
    let (expired, _) = w.create_job("expired job").await;
    w.claim(expired).await;
    let tuple = JobTuple {
        job_id: paid.into(),
        model_hash: model(),
        input_hash: keccak256("paid job"),
        output_hash: keccak256("the answer"),
    };
    let proof = prover.await.unwrap().prove(&[tuple]).await.unwrap();
    let proven = world::ok(w.submit(&proof, w.operator).await);
    w.advance(JOB_DURATION + 1).await;
    let expiry = mined(w.marketplace().expireJob(expired).from(w.renter)).await;
    let slash = expiry.decoded_log::<Slashing::Slashed>().expect("Slashed");
    let window = w.marketplace().disputeWindow().call().await.unwrap();
    w.advance(window + 1).await;
    mined(w.marketplace().releasePayments(vec![paid]).from(w.host)).await;
    let (open, _) = w.create_job("open job").await;

    // `vouch index` follows the chain by websocket into SQLite; `vouch serve` starts once the
    // first range is committed (it finds the chain in the checkpoint).
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("deployment.json");
    w.deployment.save(&manifest).unwrap();
    let db = vouch_testkit::FreshSqlite::create();
    let _index = Proc(
        vouch(&[
            "index",
            "--rpc-url",
            &w.anvil.ws_endpoint(),
            "--deployment",
            manifest.to_str().unwrap(),
            "--database",
            &db.url,
            "--confirmations",
            "0",
        ])
        .spawn()
        .unwrap(),
    );
    let head = w.provider.get_block_number().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(support::try_counts(&db.url).await, Some((_, _, Some(b))) if b as u64 >= head) {
        assert!(
            Instant::now() < deadline,
            "vouch index did not reach {head}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listen = format!("127.0.0.1:{}", support::free_port());
    let _serve = Proc(
        vouch(&["serve", "--database", &db.url, "--listen", &listen])
            .spawn()
            .unwrap(),
    );
    let origin = format!("http://{listen}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let index = loop {
        if let Ok(r) = http.get(format!("{origin}/")).send().await {
            break r;
        }
        assert!(Instant::now() < deadline, "vouch serve did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    let csp = index.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self';"),
        "{csp}"
    );
    assert!(index.text().await.unwrap().contains("/explorer/app.js"));
    let missing = http
        .get(format!("{origin}/explorer/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // GraphiQL keeps its route.
    let graphiql = http.get(format!("{origin}/graphql")).send().await.unwrap();
    assert!(
        graphiql
            .text()
            .await
            .unwrap()
            .contains("/graphiql/graphiql.min.js")
    );

    // What the chain says, read through the bindings.
    let staking = Staking::new(c.staking, &w.provider);
    let reputation = ReputationRegistry::new(c.reputation_registry, &w.provider);
    let active = staking.activeStakeOf(w.host).call().await.unwrap();
    let total_staked = staking.totalStaked().call().await.unwrap();
    let score = reputation.scoreOf(w.host).call().await.unwrap();
    let second_score = reputation.scoreOf(second).call().await.unwrap();
    let job_count = w.marketplace().jobCount().call().await.unwrap();
    let paid_job = w.marketplace().getJob(paid).call().await.unwrap();
    assert_eq!(
        active,
        U256::from(1000u64) * U256::from(10u64).pow(U256::from(18)) - slash.amount
    );

    let browser = browser.await.unwrap();
    let mut page = browser.open(&format!("{origin}/")).await;
    let shots = artifacts_dir(env!("CARGO_TARGET_TMPDIR"), "explorer");
    let within = Duration::from_secs(20);

    // Overview: totals, leaderboard, jobs, batches.
    wait_text(&mut page, "#live", "live", within).await;
    let host_row = format!("tr[data-host=\"{}\"]", a(w.host));
    wait_text(
        &mut page,
        &format!("{host_row} [data-field=stake]"),
        &format!("{} VOUCH", units(active)),
        within,
    )
    .await;
    assert_eq!(
        text(&mut page, "[data-field=total-jobs]").await,
        job_count.to_string()
    );
    assert_eq!(text(&mut page, "[data-field=total-hosts]").await, "2");
    assert_eq!(
        text(&mut page, "[data-field=total-staked]").await,
        format!("{} VOUCH", units(total_staked))
    );
    assert_eq!(
        text(&mut page, "[data-field=total-slashed]").await,
        format!("{} VOUCH in 1", units(slash.amount))
    );
    assert_eq!(
        text(&mut page, &format!("{host_row} [data-field=reputation]")).await,
        score.to_string()
    );
    assert_eq!(
        text(
            &mut page,
            &format!("tr[data-host=\"{}\"] [data-field=reputation]", a(second))
        )
        .await,
        second_score.to_string()
    );
    // Ranked best first: the host that expired a job is below the neutral newcomer.
    let ranked = page
        .eval("[...document.querySelectorAll('tr[data-host]')].map(r => r.dataset.host)")
        .await;
    let (best, worst) = if second_score >= score {
        (second, w.host)
    } else {
        (w.host, second)
    };
    assert_eq!(ranked, json!([a(best), a(worst)]));
    assert_eq!(
        page.eval("document.querySelectorAll('tr[data-host] svg.spark polyline').length")
            .await,
        json!(2)
    );
    for (id, state) in [(paid, "Paid"), (expired, "Expired"), (open, "Open")] {
        assert_eq!(
            text(
                &mut page,
                &format!("tr[data-job=\"{id}\"] [data-field=state]")
            )
            .await,
            state
        );
    }
    assert_eq!(
        text(
            &mut page,
            &format!("tr[data-job=\"{paid}\"] [data-field=payment]")
        )
        .await,
        format!("{} ETH", units(U256::from(paid_job.payment)))
    );
    let batch_row = format!("tr[data-batch=\"{:#x}\"]", proven.transaction_hash);
    assert_eq!(
        text(&mut page, &format!("{batch_row} [data-field=jobs]")).await,
        format!("#{paid}")
    );
    page.screenshot(&shots.join("overview.png"), true).await;

    // The host page.
    page.eval(&format!(
        "location.hash = {}",
        js(&format!("#/host/{}", a(w.host)))
    ))
    .await;
    wait_text(&mut page, "[data-field=address]", &a(w.host), within).await;
    let field = |f: &str| format!("[data-field={f}]");
    for (f, want) in [
        ("registered", "registered".to_owned()),
        ("endpoint", "https://h1.vouch.example:8443".to_owned()),
        ("region", "eu-west-1".to_owned()),
        ("price", "2000000000 wei".to_owned()),
        ("operator", a(w.operator)),
        ("reputation", score.to_string()),
        ("stake-active", format!("{} VOUCH", units(active))),
        ("stake-unbonding", "0 VOUCH".to_owned()),
        ("stake-slashed", format!("{} VOUCH", units(slash.amount))),
    ] {
        assert_eq!(text(&mut page, &field(f)).await, want, "{f}");
    }
    assert_eq!(
        texts(&mut page, "[data-field=model]").await,
        vec![format!("{:#x}", model())]
    );
    let slash_row = format!("tr[data-slash=\"{:#x}\"]", expiry.transaction_hash);
    assert_eq!(
        text(&mut page, &format!("{slash_row} [data-field=amount]")).await,
        format!("{} VOUCH", units(slash.amount))
    );
    assert_eq!(
        text(&mut page, &format!("{slash_row} [data-field=reason]")).await,
        "Missed deadline"
    );
    // The host's jobs, newest first; the open job is no one's yet.
    let jobs = page
        .eval("[...document.querySelectorAll('tr[data-job]')].map(r => [r.dataset.job, r.querySelector('[data-field=state]').textContent])")
        .await;
    assert_eq!(
        jobs,
        json!([[expired.to_string(), "Expired"], [paid.to_string(), "Paid"]])
    );
    // Two recorded changes (Expiry, then the Completion of the release) and the score now.
    assert_eq!(
        page.eval("document.querySelectorAll('[data-field=reputation-chart] circle').length")
            .await,
        json!(3)
    );
    page.screenshot(&shots.join("host.png"), true).await;

    // The second host's page: its endpoint is text, no element was made of it.
    page.eval(&format!(
        "location.hash = {}",
        js(&format!("#/host/{}", a(second)))
    ))
    .await;
    wait_text(&mut page, "[data-field=address]", &a(second), within).await;
    assert_eq!(text(&mut page, &field("endpoint")).await, HOSTILE_ENDPOINT);
    assert_eq!(
        page.eval(
            "[document.querySelectorAll('main img, main script').length, typeof window.pwned]"
        )
        .await,
        json!([0, "undefined"])
    );

    // The paid job's page: every step reached, with the chain's values.
    page.eval(&format!("location.hash = '#/job/{paid}'")).await;
    wait_text(&mut page, "h1 [data-field=state]", "Paid", within).await;
    for (f, want) in [
        ("renter", a(w.renter)),
        ("host", a(w.host)),
        (
            "payment",
            format!("{} ETH", units(U256::from(paid_job.payment))),
        ),
        ("fee", format!("{} ETH", units(U256::from(paid_job.fee)))),
        ("model", format!("{:#x}", model())),
        ("output", format!("{:#x}", keccak256("the answer"))),
        ("proof-tx", format!("{:#x}", proven.transaction_hash)),
        ("slashed", "no".to_owned()),
    ] {
        assert_eq!(text(&mut page, &field(f)).await, want, "{f}");
    }
    assert_eq!(
        page.eval("[...document.querySelectorAll('ol.timeline li.done')].map(l => l.dataset.step)")
            .await,
        json!(["OPEN", "CLAIMED", "COMPLETED", "PAID"])
    );
    page.screenshot(&shots.join("job-paid.png"), true).await;

    // Live: back on the overview, a job created on chain appears without a reload.
    page.eval("location.hash = '#/'").await;
    wait_text(
        &mut page,
        &format!("{host_row} [data-field=stake]"),
        &format!("{} VOUCH", units(active)),
        within,
    )
    .await;
    page.eval("window.stillTheSamePage = true").await;
    let (fresh, _) = w.create_job("a job made while the page is open").await;
    let created = Instant::now();
    page.wait_for(
        &format!("!!document.querySelector('tr[data-job=\"{fresh}\"]')"),
        Duration::from_secs(10),
    )
    .await;
    let appeared = created.elapsed();
    assert_eq!(
        text(
            &mut page,
            &format!("tr[data-job=\"{fresh}\"] [data-field=state]")
        )
        .await,
        "Open"
    );
    assert_eq!(
        text(&mut page, "[data-field=total-jobs]").await,
        (job_count + U256::from(1)).to_string()
    );
    assert_eq!(page.eval("window.stillTheSamePage").await, json!(true));
    eprintln!("the new job appeared {appeared:?} after its receipt");
    page.screenshot(&shots.join("overview-live.png"), true)
        .await;

    // A job page follows its job: claimed on chain while it is open.
    page.eval(&format!("location.hash = '#/job/{fresh}'")).await;
    wait_text(&mut page, "h1 [data-field=state]", "Open", within).await;
    // The first host is below the minimum stake since its slash: the second one claims.
    let claimed = mined(w.marketplace().claimJob(fresh, second).from(second)).await;
    wait_text(
        &mut page,
        "h1 [data-field=state]",
        "Claimed",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(text(&mut page, &field("host")).await, a(second));
    assert_eq!(
        page.eval("[...document.querySelectorAll('ol.timeline li')].map(l => [l.dataset.step, l.className])")
            .await,
        json!([["OPEN", "done"], ["CLAIMED", "done current"], ["COMPLETED", "pending"], ["PAID", "pending"]])
    );
    let event = page
        .eval("[...document.querySelectorAll('[data-field=live-events] tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
        .await;
    let tx = format!("{:#x}", claimed.transaction_hash);
    assert_eq!(
        event,
        json!([[
            "JobClaimed",
            "Claimed",
            claimed.block_number.unwrap().to_string(),
            format!("{}…{}", &tx[..10], &tx[tx.len() - 8..])
        ]])
    );
    assert_eq!(page.eval("window.stillTheSamePage").await, json!(true));
    page.screenshot(&shots.join("job-live.png"), true).await;

    // Nothing from elsewhere, nothing went wrong in the page.
    let resources = page
        .eval("performance.getEntriesByType('resource').map(e => e.name)")
        .await;
    let resources: Vec<String> = serde_json::from_value(resources).unwrap();
    for f in ["app.js", "gql.js", "style.css"] {
        assert!(
            resources.contains(&format!("{origin}/explorer/{f}")),
            "{resources:?}"
        );
    }
    assert!(
        resources.iter().all(|r| r.starts_with(&origin)),
        "{resources:?}"
    );
    assert!(page.problems().is_empty(), "{:?}", page.problems());
    eprintln!("explorer test took {:?}", started.elapsed());
}
