//! The server's Prometheus counters: requests by route and status, GraphQL latency as a
//! histogram, and errors by kind. Process-wide atomics, rendered as text at `/metrics`.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not JSON, or not a GraphQL request.
    BadRequest,
    /// Over the body size.
    TooLarge,
    /// The document does not parse.
    Parse,
    /// Depth, complexity, aliases, page size.
    Limit,
    /// Unknown fields, wrong argument types and other validation errors.
    Validation,
    /// Over the request time.
    Timeout,
    /// The database failed.
    Database,
    /// Any other resolver error.
    Query,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::BadRequest,
        ErrorKind::TooLarge,
        ErrorKind::Parse,
        ErrorKind::Limit,
        ErrorKind::Validation,
        ErrorKind::Timeout,
        ErrorKind::Database,
        ErrorKind::Query,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Parse => "parse",
            ErrorKind::Limit => "limit",
            ErrorKind::Validation => "validation",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Database => "database",
            ErrorKind::Query => "query",
        }
    }

    /// The kind of a GraphQL error, from its message.
    pub fn of_message(m: &str) -> ErrorKind {
        let m = m.to_ascii_lowercase();
        if m.contains("too many aliases")
            || m.contains("too complex")
            || m.contains("nested too deep")
            || m.contains("is at most")
            || m.contains("too many directives")
        {
            ErrorKind::Limit
        } else if m.contains("expected") && m.contains("-->")
            || m.starts_with(" -->")
            || m.contains("parse")
        {
            ErrorKind::Parse
        } else if m.contains("database") || m.contains("query error") || m.contains("connection") {
            ErrorKind::Database
        } else if m.contains("timed out") {
            ErrorKind::Timeout
        } else if m.contains("unknown field")
            || m.contains("invalid value")
            || m.contains("unknown argument")
            || m.contains("required")
        {
            ErrorKind::Validation
        } else {
            ErrorKind::Query
        }
    }
}

static ERRORS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
static LATENCY: [AtomicU64; 11] = [const { AtomicU64::new(0) }; 11];
static LATENCY_SUM_MICROS: AtomicU64 = AtomicU64::new(0);
static CACHE: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];
static REQUESTS: Mutex<Vec<(&'static str, u16, u64)>> = Mutex::new(Vec::new());

pub fn error(kind: ErrorKind) {
    let i = ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    ERRORS[i].fetch_add(1, Ordering::Relaxed);
}

pub fn request(route: &'static str, status: u16) {
    let mut r = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
    match r.iter_mut().find(|(a, b, _)| *a == route && *b == status) {
        Some(e) => e.2 += 1,
        None => r.push((route, status, 1)),
    }
}

/// A GraphQL request answered from the response cache (`hit`) or executed and stored.
pub fn cache(hit: bool) {
    CACHE[usize::from(hit)].fetch_add(1, Ordering::Relaxed);
}

pub fn latency(d: Duration) {
    let s = d.as_secs_f64();
    let i = BUCKETS
        .iter()
        .position(|b| s <= *b)
        .unwrap_or(BUCKETS.len());
    LATENCY[i].fetch_add(1, Ordering::Relaxed);
    LATENCY_SUM_MICROS.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
}

/// The Prometheus text exposition.
pub fn render() -> String {
    let mut out = String::new();
    out.push_str("# HELP vouch_graphql_requests_total HTTP requests by route and status.\n");
    out.push_str("# TYPE vouch_graphql_requests_total counter\n");
    for (route, status, n) in REQUESTS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = writeln!(
            out,
            "vouch_graphql_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
        );
    }
    out.push_str(
        "# HELP vouch_graphql_request_duration_seconds Time to answer a GraphQL request.\n",
    );
    out.push_str("# TYPE vouch_graphql_request_duration_seconds histogram\n");
    let mut cumulative = 0;
    for (i, b) in BUCKETS.iter().enumerate() {
        cumulative += LATENCY[i].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "vouch_graphql_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
        );
    }
    cumulative += LATENCY[BUCKETS.len()].load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "vouch_graphql_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let sum = LATENCY_SUM_MICROS.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "vouch_graphql_request_duration_seconds_sum {sum}");
    let _ = writeln!(
        out,
        "vouch_graphql_request_duration_seconds_count {cumulative}"
    );
    out.push_str("# HELP vouch_graphql_errors_total Failed requests and GraphQL errors by kind.\n");
    out.push_str("# TYPE vouch_graphql_errors_total counter\n");
    for (i, k) in ErrorKind::ALL.iter().enumerate() {
        let _ = writeln!(
            out,
            "vouch_graphql_errors_total{{kind=\"{}\"}} {}",
            k.name(),
            ERRORS[i].load(Ordering::Relaxed)
        );
    }
    out.push_str("# HELP vouch_graphql_response_cache_total GraphQL requests by response-cache outcome (miss: executed and stored).\n");
    out.push_str("# TYPE vouch_graphql_response_cache_total counter\n");
    for (i, result) in ["miss", "hit"].iter().enumerate() {
        let _ = writeln!(
            out,
            "vouch_graphql_response_cache_total{{result=\"{result}\"}} {}",
            CACHE[i].load(Ordering::Relaxed)
        );
    }
    out
}
