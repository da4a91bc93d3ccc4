//! The operations kit (deploy/ops/) against the binaries: every metric name the Prometheus
//! alert rules and the Grafana dashboard use is in the `/metrics` output of a really running
//! `vouch index`, `vouch serve` and `vouch keeper run` (on anvil with the real deployment), with
//! the labels the expressions select on, so renaming a metric or a label fails here. The scrape
//! config names the jobs the rules select and the addresses the systemd units listen on; the
//! units keep secrets out of the unit files and pass `systemd-analyze verify`.

mod support;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::providers::Provider;
use serde_json::Value;
use world::World;

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

fn ops(path: &str) -> PathBuf {
    vouch_testkit::workspace_root()
        .join("deploy/ops")
        .join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One metric as exported: its label names and the values seen per label.
#[derive(Default, Debug)]
struct Exported {
    labels: BTreeMap<String, BTreeSet<String>>,
}

/// Metric names (from samples and `# TYPE` lines) of a Prometheus text exposition, with labels.
fn parse_exposition(text: &str, into: &mut BTreeMap<String, Exported>) {
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split_whitespace().next().unwrap();
            into.entry(name.to_owned()).or_default();
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        let entry = into.entry(line[..end].to_owned()).or_default();
        if line[end..].starts_with('{') {
            let close = line.find('}').unwrap();
            for pair in line[end + 1..close].split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap();
                entry
                    .labels
                    .entry(k.to_owned())
                    .or_default()
                    .insert(v.trim_matches('"').to_owned());
            }
        }
    }
}

/// A `vouch_*` metric named in an expression, with its exact-match label selectors.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    name: String,
    matchers: Vec<(String, String)>,
}

/// Every `vouch_*` name of a PromQL expression and the `label="value"` matchers after it.
/// (`label=~"..."` and `!=` are not exact: kept as label names with an empty value.)
fn uses(expr: &str) -> Vec<Use> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("vouch_") {
        let start = i + at;
        let word_before =
            start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        i = end;
        if word_before {
            continue;
        }
        let mut matchers = Vec::new();
        if expr[end..].starts_with('{') {
            let close = end + expr[end..].find('}').unwrap();
            for m in expr[end + 1..close]
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
            {
                let op = m.find(['=', '!']).unwrap();
                let (label, rest) = (m[..op].trim(), &m[op..]);
                let value = if rest.starts_with("=\"") {
                    rest[1..].trim_matches('"').to_owned()
                } else {
                    String::new()
                };
                matchers.push((label.to_owned(), value));
            }
            i = close;
        }
        out.push(Use {
            name: expr[start..end].to_owned(),
            matchers,
        });
    }
    out
}

/// The `expr` of every rule in a Prometheus rule file: `expr: ...` on one line or an
/// indented `expr: |` block.
fn rule_exprs(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        if let Some(rest) = line.trim_start().strip_prefix("expr:") {
            let rest = rest.trim();
            if rest == "|" || rest == ">" {
                let mut block = Vec::new();
                i += 1;
                while i < lines.len()
                    && (lines[i].trim().is_empty()
                        || lines[i].len() - lines[i].trim_start().len() > indent)
                {
                    block.push(lines[i].trim());
                    i += 1;
                }
                out.push(block.join(" "));
                continue;
            }
            out.push(rest.to_owned());
        }
        i += 1;
    }
    out
}

/// The `expr` of every target of every panel of a Grafana dashboard.
fn dashboard_exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", Value::String(s)) => out.push(s.clone()),
                    _ => dashboard_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

/// Labels whose every value is rendered from the start (an enumeration), so a matcher on a
/// value that is not exported is a mistake; other labels' values appear as traffic comes.
const ENUMERATED: [(&str, &str); 2] = [
    ("vouch_keeper_queue_depth", "state"),
    ("vouch_graphql_errors_total", "kind"),
];

async fn scrape(http: &reqwest::Client, url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status() == 200
        {
            return r.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "{url} did not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_of_the_alert_rules_and_the_dashboard_is_exported() {
    // What the kit references.
    let rules = read(&ops("prometheus/alerts.yml"));
    let mut exprs = rule_exprs(&rules);
    let alerts = rules.matches("- alert:").count();
    assert_eq!(exprs.len(), alerts, "one expr per alert");
    let dashboard: Value =
        serde_json::from_str(&read(&ops("grafana/vouch-dashboard.json"))).unwrap();
    let before = exprs.len();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(
        exprs.len() - before >= 10,
        "the dashboard's panels have targets"
    );
    let used: BTreeSet<Use> = exprs.iter().flat_map(|e| uses(e)).collect();
    for prefix in ["vouch_indexer_", "vouch_graphql_", "vouch_keeper_"] {
        assert!(
            used.iter().any(|u| u.name.starts_with(prefix)),
            "nothing of {prefix}* is used"
        );
    }

    // The binaries, running: index (with its metrics listener), serve, keeper.
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("deployment.json");
    w.deployment.save(&manifest).unwrap();
    let manifest = manifest.to_str().unwrap();
    let db = vouch_testkit::FreshSqlite::create();
    let index_metrics = format!("127.0.0.1:{}", support::free_port());
    let _index = Proc(
        vouch(&[
            "index",
            "--rpc-url",
            &w.anvil.endpoint(),
            "--deployment",
            manifest,
            "--database",
            &db.url,
            "--confirmations",
            "0",
            "--metrics",
            &index_metrics,
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
    let api = format!("127.0.0.1:{}", support::free_port());
    let _serve = Proc(
        vouch(&["serve", "--database", &db.url, "--listen", &api])
            .spawn()
            .unwrap(),
    );
    let keeper = format!("127.0.0.1:{}", support::free_port());
    let operator_key = alloy::hex::encode(w.anvil.keys()[2].to_bytes());
    let host = w.host.to_string();
    let keeper_dir = dir.path().join("keeper");
    let _keeper = Proc(
        vouch(&[
            "keeper",
            "run",
            "--rpc-url",
            &w.anvil.endpoint(),
            "--deployment",
            manifest,
            "--host",
            &host,
            "--listen",
            &keeper,
            "--data-dir",
            keeper_dir.to_str().unwrap(),
        ])
        .env("VOUCH_PRIVATE_KEY", operator_key)
        .spawn()
        .unwrap(),
    );

    let http = reqwest::Client::new();
    // A query, so the request counter and the latency histogram have samples.
    let served = scrape(&http, &format!("http://{api}/healthz")).await;
    assert!(served.contains("\"status\":\"ok\""), "{served}");
    let r: Value = http
        .post(format!("http://{api}/graphql"))
        .json(&serde_json::json!({"query": "{ protocol { jobCount } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["protocol"]["jobCount"], 0, "{r}");

    let mut exported = BTreeMap::new();
    for url in [
        format!("http://{index_metrics}/metrics"),
        format!("http://{api}/metrics"),
        format!("http://{keeper}/metrics"),
    ] {
        parse_exposition(&scrape(&http, &url).await, &mut exported);
    }
    // The indexer's gauges moved: the scrape is of a live process, not of zeros.
    assert!(exported.contains_key("vouch_indexer_head"));

    let mut missing = Vec::new();
    for u in &used {
        let Some(e) = exported.get(&u.name) else {
            missing.push(u.name.clone());
            continue;
        };
        for (label, value) in &u.matchers {
            let values = e.labels.get(label);
            // A metric with samples must carry the label; one without samples yet (a counter
            // of failures that never happened) is judged by its name only.
            if !e.labels.is_empty() && values.is_none() {
                missing.push(format!("{}{{{label}}}", u.name));
            }
            if ENUMERATED.contains(&(u.name.as_str(), label.as_str()))
                && !value.is_empty()
                && !values.is_some_and(|v| v.contains(value))
            {
                missing.push(format!("{}{{{label}=\"{value}\"}}", u.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "referenced by deploy/ops but not exported: {missing:?}\nexported: {:?}",
        exported.keys().collect::<Vec<_>>()
    );
}

/// The value of `KEY=VALUE` in a unit's `Environment=` lines or an env file.
fn env_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let l = l.trim().strip_prefix("Environment=").unwrap_or(l.trim());
        l.strip_prefix(&format!("{key}=")).map(str::to_owned)
    })
}

#[test]
fn units_keep_secrets_out_and_the_scrape_config_matches_them() {
    let units = [
        ("vouch-index.service", "index", "index.env.example"),
        ("vouch-serve.service", "serve", "serve.env.example"),
        ("vouch-keeper.service", "keeper run", "keeper.env.example"),
    ];
    let scrape = read(&ops("prometheus/prometheus.yml"));
    let rules = read(&ops("prometheus/alerts.yml"));
    let mut addresses = Vec::new();
    for (unit, command, env) in units {
        let text = read(&ops(&format!("systemd/{unit}")));
        let env_text = read(&ops(&format!("systemd/{env}")));
        assert!(
            text.contains(&format!("\nExecStart=/usr/local/bin/vouch {command}\n")),
            "{unit}"
        );
        assert!(
            text.contains(&format!(
                "\nEnvironmentFile=/etc/vouch/{}\n",
                env.trim_end_matches(".example")
            )),
            "{unit}"
        );
        for secret in ["PRIVATE_KEY", "PASSWORD", "TOKEN", "postgres://"] {
            let inline = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .any(|l| l.contains(secret));
            assert!(!inline, "{unit} names {secret} outside a comment");
        }
        for hardening in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "CapabilityBoundingSet=\n",
            "User=vouch",
        ] {
            assert!(text.contains(hardening), "{unit} lacks {hardening}");
        }
        // Where Prometheus scrapes it.
        let addr = match unit {
            "vouch-index.service" => env_value(&text, "VOUCH_METRICS"),
            "vouch-serve.service" => env_value(&env_text, "VOUCH_LISTEN"),
            _ => env_value(&text, "VOUCH_LISTEN"),
        }
        .unwrap_or_else(|| panic!("{unit}: no listen address"));
        assert!(
            scrape.contains(&format!("\"{addr}\"")),
            "{addr} of {unit} is not scraped"
        );
        addresses.push(addr);
    }
    assert_eq!(addresses.iter().collect::<BTreeSet<_>>().len(), 3);
    // Every job the rules select on is a scrape job.
    let jobs: BTreeSet<&str> = scrape
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- job_name:"))
        .map(str::trim)
        .collect();
    assert_eq!(
        jobs,
        BTreeSet::from(["vouch-index", "vouch-keeper", "vouch-serve"])
    );
    for selected in rules.split("job=\"").skip(1) {
        let job = selected.split('"').next().unwrap();
        assert!(
            jobs.contains(job),
            "the rules select job {job:?}, which is not scraped"
        );
    }

    // systemd itself accepts the units (with the real binary in ExecStart).
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if !analyze.exists() {
        eprintln!("systemd-analyze is not installed: the units' syntax is not verified");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (unit, _, _) in units {
        let text = read(&ops(&format!("systemd/{unit}")))
            .replace("/usr/local/bin/vouch", env!("CARGO_BIN_EXE_vouch"));
        let path = dir.path().join(unit);
        std::fs::write(&path, text).unwrap();
        let out = Command::new(analyze)
            .args(["verify", "--man=no"])
            .arg(&path)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.trim().is_empty(),
            "{unit}: {said}"
        );
    }
}

#[test]
fn expressions_are_read_as_prometheus_reads_them() {
    assert_eq!(
        rule_exprs(
            "      - alert: A\n        expr: up == 0\n      - alert: B\n        expr: |\n          vouch_a{state=\"x\"} > 0\n            and on (instance)\n          vouch_b == 0\n        for: 5m\n"
        ),
        vec![
            "up == 0".to_owned(),
            "vouch_a{state=\"x\"} > 0 and on (instance) vouch_b == 0".to_owned()
        ]
    );
    assert_eq!(
        uses(
            "sum(rate(vouch_graphql_errors_total{kind=~\"database|timeout\", route=\"graphql\"}[5m])) / my_vouch_x"
        ),
        vec![Use {
            name: "vouch_graphql_errors_total".into(),
            matchers: vec![
                ("kind".into(), String::new()),
                ("route".into(), "graphql".into())
            ],
        }]
    );
}
