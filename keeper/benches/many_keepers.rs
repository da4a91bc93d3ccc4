//! 100 hosts, each with its own keeper (`Keeper::start`, its own SQLite queue, one prover pool
//! shared by all), against one anvil for 5 minutes: renters create jobs offered to each host in
//! turn, each keeper's watcher claims its host's jobs, each host's node posts the results.
//! Asserts that every job is completed on chain exactly once with its output and that no keeper
//! failed anything (keeper/tests/fleet), then prints the figures.
//!
//!     bash script/setup.sh
//!     cargo bench -p vouch-keeper --bench many_keepers
//!
//! `VOUCH_BENCH_KEEPERS` (default 100), `VOUCH_BENCH_SECS` (default 300: how long jobs are
//! created), `VOUCH_BENCH_RATE` (default 10: jobs created per second over all hosts),
//! `VOUCH_BENCH_BATCH_WAIT_MS` (default 5000). Results go to docs/benchmarks.md.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fleet/mod.rs"]
mod fleet;
#[path = "../tests/world/mod.rs"]
mod world;

use std::sync::Arc;
use std::time::Duration;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    tokio::runtime::Runtime::new()
        .expect("a tokio runtime")
        .block_on(async {
            let config = fleet::FleetConfig {
                hosts: env_u64("VOUCH_BENCH_KEEPERS", 100) as usize,
                run: Duration::from_secs(env_u64("VOUCH_BENCH_SECS", 300)),
                jobs_per_sec: env_u64("VOUCH_BENCH_RATE", 10) as f64,
                renters: 5,
                batch_wait: Duration::from_millis(env_u64("VOUCH_BENCH_BATCH_WAIT_MS", 5000)),
                watch_poll: Duration::from_secs(2),
            };
            println!("{config:?}");
            let prover = Arc::new(common::prover().await);
            let before = load_average();
            let report = fleet::run(config, prover).await;
            report.print();
            println!("load average before: {before}; after: {}", load_average());
        });
}
