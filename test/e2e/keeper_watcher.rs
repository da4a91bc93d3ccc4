//! `vouch keeper run`'s watcher flags as a process on a real chain (anvil, the real deploy
//! script, the real prover loaded): without flags the watcher only ticks (no claim, no expiry);
//! with `--claim --models M --min-price WEI` it claims the open job for its model that pays
//! enough and leaves the cheap one, and with `--expire-others` it expires another host's
//! overdue job (which slashes that host 5%).

#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256, keccak256, utils::parse_ether};
use vouch_bindings::contracts::{JobMarketplace, Staking};
use vouch_keeper::host::job::{JobStatus, status_of};
use world::{JOB_DURATION, World, mined, model};

struct KeeperProcess {
    child: Child,
    port: u16,
}

impl KeeperProcess {
    fn spawn(world: &World, db: &str, flags: &[&str], log: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let key = format!("0x{}", alloy::hex::encode(world.anvil.keys()[2].to_bytes()));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_vouch"))
            .args(["keeper", "run", "--rpc-url"])
            .arg(world.anvil.endpoint())
            .arg("--deployment")
            .arg(world.manifest_path())
            .args(["--host", &world.host.to_string(), "--database", db])
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--watch-poll-ms",
                "50",
            ])
            .args(flags)
            .env("VOUCH_PRIVATE_KEY", key)
            .env("VOUCH_LOG", "warn,vouch=info,vouch_keeper=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        KeeperProcess { child, port }
    }

    /// A counter or gauge without labels from `/metrics`; None while the keeper is not up.
    async fn metric(&self, name: &str) -> Option<u64> {
        let text = reqwest::get(format!("http://127.0.0.1:{}/metrics", self.port))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    /// Waits (bounded) until the metric `name` reaches `at_least`; returns its value.
    async fn wait_for(&mut self, name: &str, at_least: u64) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(v) = self.metric(name).await
                && v >= at_least
            {
                return v;
            }
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "the keeper exited"
            );
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{name} never reached {at_least}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then the exit code (bounded wait).
    async fn stop(mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the keeper did not exit"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for KeeperProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The renter opens an open-market ETH job for `model()` paying `payment` wei.
async fn open_job(world: &World, payment: U256, label: &str) -> U256 {
    let deadline = world.now().await + JOB_DURATION;
    let receipt = mined(
        world
            .marketplace()
            .createJob(
                model(),
                keccak256(label),
                Address::ZERO,
                alloy::primitives::Uint::from(payment),
                alloy::primitives::Uint::from(deadline),
                Address::ZERO,
                0,
            )
            .value(payment)
            .from(world.renter),
    )
    .await;
    receipt
        .decoded_log::<JobMarketplace::JobCreated>()
        .unwrap()
        .jobId
}

async fn job(world: &World, id: U256) -> (JobStatus, Address) {
    let job = world.marketplace().getJob(id).call().await.unwrap();
    (status_of(&job), job.host)
}

#[tokio::test]
async fn claim_and_expire_others_are_off_by_default_and_do_their_job_when_asked() {
    let world = World::new().await;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("keeper.log");
    let db = format!("sqlite://{}", tmp.path().join("keeper.sqlite").display());
    // Another host's job, claimed and left past its deadline.
    world
        .join_as_host(world.stranger, "https://h2.vouch.example:8443")
        .await;
    let theirs = open_job(&world, parse_ether("0.05").unwrap(), "theirs").await;
    mined(
        world
            .marketplace()
            .claimJob(theirs, world.stranger)
            .from(world.stranger),
    )
    .await;
    world.advance(JOB_DURATION + 1).await;
    // Two open jobs for the host's model: one pays 0.05 ETH, one 0.01 ETH.
    let good = open_job(&world, parse_ether("0.05").unwrap(), "good").await;
    let cheap = open_job(&world, parse_ether("0.01").unwrap(), "cheap").await;

    // No flags: the watcher runs (it ticks) and claims and expires nothing.
    let mut keeper = KeeperProcess::spawn(&world, &db, &[], &log);
    keeper.wait_for("vouch_watcher_ticks_total", 10).await;
    assert_eq!(keeper.metric("vouch_watcher_claims_total").await, Some(0));
    assert_eq!(keeper.metric("vouch_watcher_expiries_total").await, Some(0));
    assert_eq!(keeper.stop().await, Some(0));
    assert_eq!(job(&world, good).await, (JobStatus::Open, Address::ZERO));
    assert_eq!(job(&world, cheap).await, (JobStatus::Open, Address::ZERO));
    assert_eq!(
        job(&world, theirs).await,
        (JobStatus::Claimed, world.stranger)
    );

    // --claim with a 0.04 ETH floor and --expire-others.
    let mut keeper = KeeperProcess::spawn(
        &world,
        &db,
        &[
            "--claim",
            "--models",
            "llama-3-8b-instruct-q4",
            "--min-price",
            "40000000000000000",
            "--expire-others",
        ],
        &log,
    );
    keeper.wait_for("vouch_watcher_claims_total", 1).await;
    keeper.wait_for("vouch_watcher_expiries_total", 1).await;
    // A few more rounds: nothing else is claimed or expired, nothing failed.
    let ticks = keeper.wait_for("vouch_watcher_ticks_total", 1).await;
    keeper
        .wait_for("vouch_watcher_ticks_total", ticks + 5)
        .await;
    assert_eq!(keeper.metric("vouch_watcher_claims_total").await, Some(1));
    assert_eq!(keeper.metric("vouch_watcher_expiries_total").await, Some(1));
    let text = reqwest::get(format!("http://127.0.0.1:{}/metrics", keeper.port))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("vouch_watcher_failures_total{")),
        "{text}"
    );
    assert_eq!(keeper.stop().await, Some(0));
    assert_eq!(job(&world, good).await, (JobStatus::Claimed, world.host));
    assert_eq!(job(&world, cheap).await, (JobStatus::Open, Address::ZERO));
    assert_eq!(job(&world, theirs).await.0, JobStatus::Expired);
    let staking = Staking::new(world.deployment.contracts.staking, &world.provider);
    assert_eq!(
        staking.activeStakeOf(world.stranger).call().await.unwrap(),
        parse_ether("950").unwrap()
    );
}
