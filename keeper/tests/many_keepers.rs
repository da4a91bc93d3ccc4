//! The short version of the many-keepers load test (keeper/benches/many_keepers.rs runs 100
//! for 5 minutes): 10 hosts with their own keepers against one anvil for 20 s, jobs offered
//! to each host, claimed by its watcher, posted by its node, proven (one shared prover pool)
//! and landed: every job completed on chain exactly once, no keeper failed anything.

mod common;
mod fleet;
mod world;

use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_keepers_on_one_chain_complete_every_job_exactly_once() {
    let prover = Arc::new(common::prover().await);
    let report = fleet::run(
        fleet::FleetConfig {
            hosts: 10,
            run: Duration::from_secs(20),
            jobs_per_sec: 4.0,
            renters: 2,
            batch_wait: Duration::from_secs(2),
            watch_poll: Duration::from_millis(500),
        },
        prover,
    )
    .await;
    report.print();
    // 4 jobs/s for 20 s, paced by the renters' intervals (each sends one at a time).
    assert!(report.jobs >= 40, "only {} jobs created", report.jobs);
    assert_eq!(report.claims, report.jobs as u64);
}
