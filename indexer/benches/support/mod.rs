//! Shared by the indexer benches: where the saved chain lives, anvil started on it, process
//! resource figures.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use alloy::node_bindings::{Anvil, AnvilInstance};
use serde::{Deserialize, Serialize};

/// Accounts of the bench chain: 0 deployer, 1..=HOSTS hosts, then their operators, then
/// renters, then the releaser.
pub const HOSTS: usize = 50;
pub const RENTERS: usize = 8;
pub const ACCOUNTS: usize = 1 + 2 * HOSTS + RENTERS + 1;
/// Per-block gas limit of the bench chain (a phase of a round fits a few blocks).
pub const GAS_LIMIT: u64 = 1_000_000_000;

/// `VOUCH_BENCH_CHAIN`, else `target/bench-chain/` of the workspace.
pub fn chain_dir() -> PathBuf {
    std::env::var_os("VOUCH_BENCH_CHAIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| vouch_testkit::workspace_root().join("target/bench-chain"))
}

pub fn state_file() -> PathBuf {
    chain_dir().join("state.json")
}
pub fn deployment_file() -> PathBuf {
    chain_dir().join("deployment.json")
}
pub fn summary_file() -> PathBuf {
    chain_dir().join("bench.json")
}

/// What bench_chain built, beside the state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub events: u64,
    pub head: u64,
    pub start_block: u64,
    pub hosts: usize,
    pub jobs: u64,
    pub batches: u64,
    pub heartbeats: u64,
    pub transactions: u64,
    pub build_seconds: f64,
    pub events_by_name: std::collections::BTreeMap<String, u64>,
}

pub fn load_summary() -> Summary {
    let path = summary_file();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the chain first: cargo bench -p vouch-indexer --bench bench_chain",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("bench.json")
}

/// The anvil arguments every bench run uses (same accounts, same limits).
pub fn anvil_builder() -> Anvil {
    Anvil::at(vouch_testkit::anvil_path())
        .timeout(300_000)
        .args(["--accounts", &ACCOUNTS.to_string()])
        .args(["--gas-limit", &GAS_LIMIT.to_string()])
        .arg("--prune-history")
}

/// A fresh anvil on the saved chain (automine on, as `--load-state` leaves it).
pub fn anvil_on_saved_chain() -> AnvilInstance {
    let state = state_file();
    assert!(
        state.exists(),
        "{} is missing; build it first: cargo bench -p vouch-indexer --bench bench_chain",
        state.display()
    );
    anvil_builder().arg("--load-state").arg(&state).spawn()
}

/// Ends anvil with SIGINT (so `--dump-state` writes its file) and waits for it.
pub fn stop_gracefully(mut anvil: AnvilInstance) {
    let pid = anvil.child().id() as i32;
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let _ = anvil.child_mut().wait();
}

/// Peak resident set of this process (VmHWM), bytes.
pub fn peak_rss() -> u64 {
    status_kb("VmHWM:") * 1024
}

/// Current resident set (VmRSS), bytes.
pub fn rss() -> u64 {
    status_kb("VmRSS:") * 1024
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// User and system CPU time of this process so far.
pub fn cpu() -> (Duration, Duration) {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (tv(u.ru_utime), tv(u.ru_stime))
}

/// The 1-minute load average, for the record.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Percentile `p` (0..=100) of sorted `v`.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i.min(v.len() - 1)]
}
