//! The response cache: the encoded answers of recent requests, keyed by (query with its
//! whitespace collapsed, variables, operation name), valid for one version of the database.
//!
//! The version is the `checkpoints` table: every commit and every rollback of the indexer
//! writes its chain's checkpoint row (block, hash, head, last reorg, commit time) in the same
//! transaction as its data, so two snapshots with equal checkpoint rows hold equal data. A
//! request first reads the checkpoints (one autocommit statement, no transaction) and is
//! answered from the cache only when the entries were computed from a snapshot with exactly
//! those rows; an entry is stored under the checkpoints its own read transaction saw (the
//! first statement of the snapshot). So an answer is never older than the last commit the
//! server could see when the request arrived: the cost of a hit is that one statement instead
//! of the transaction, its three context reads and the query's own statements, plus no
//! GraphQL execution. Only answers without errors are stored; nothing is cached while no
//! checkpoint exists (the clock is then the wall clock). Bounded by entries and bytes, oldest
//! first out.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use vouch_indexer::store::entity::checkpoint;

/// The state of the database a response was computed from: every checkpoint row, by chain id.
pub type Version = Vec<checkpoint::Model>;

/// How much the cache may hold; zero entries turns it off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    pub max_entries: usize,
    pub max_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 4096,
            max_bytes: 64 << 20,
        }
    }
}

impl CacheConfig {
    pub fn off() -> Self {
        CacheConfig {
            max_entries: 0,
            max_bytes: 0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }
}

/// The key of a request: its query text with whitespace runs collapsed, its variables (as
/// serde_json writes them: object keys sorted), its operation name.
pub fn key(request: &async_graphql::Request) -> Option<String> {
    // Extensions (e.g. persisted-query hashes) could change the answer: not cached.
    if !request.extensions.is_empty() {
        return None;
    }
    let mut k = String::with_capacity(request.query.len() + 64);
    if request.query.contains("\"\"\"") {
        // Block strings keep their own whitespace rules: taken as written.
        k.push_str(&request.query);
    } else {
        // Whitespace and commas are insignificant outside strings; inside, kept as written.
        let (mut space, mut in_string, mut escaped) = (false, false, false);
        for c in request.query.trim().chars() {
            if in_string {
                k.push(c);
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
            } else if c.is_whitespace() || c == ',' {
                space = true;
            } else {
                if space && !k.is_empty() {
                    k.push(' ');
                }
                space = false;
                in_string = c == '"';
                k.push(c);
            }
        }
    }
    k.push('\u{1}');
    k.push_str(&serde_json::to_string(&request.variables).ok()?);
    k.push('\u{1}');
    k.push_str(request.operation_name.as_deref().unwrap_or(""));
    Some(k)
}

/// The cache of one server.
pub struct ResponseCache {
    cfg: CacheConfig,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Inner {
    /// The version every entry belongs to.
    version: Option<Version>,
    entries: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Inner {
    fn clear_for(&mut self, version: &Version) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
        self.version = Some(version.clone());
    }
}

impl ResponseCache {
    pub fn new(cfg: CacheConfig) -> Self {
        ResponseCache {
            cfg,
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.cfg.enabled()
    }

    /// The answer to `key` computed at `current` (the checkpoints just read), if stored. A
    /// different version empties the cache: its entries can never be served again.
    pub fn get(&self, current: &Version, key: &str) -> Option<Bytes> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.version.as_ref() != Some(current) {
            inner.clear_for(current);
        }
        let hit = inner.entries.get(key).cloned();
        drop(inner);
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Stores the answer to `key` computed from a snapshot at `version`; dropped unless that
    /// is the version the cache holds (an older snapshot finishing late, or a newer one the
    /// cache has not seen yet: both are simply not stored).
    pub fn put(&self, version: &Version, key: String, body: Bytes) {
        let size = key.len() + body.len();
        if size > self.cfg.max_bytes / 4 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.version.as_ref() != Some(version) || inner.entries.contains_key(&key) {
            return;
        }
        while inner.entries.len() >= self.cfg.max_entries || inner.bytes + size > self.cfg.max_bytes
        {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(b) = inner.entries.remove(&old) {
                inner.bytes -= old.len() + b.len();
            }
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.entries.insert(key, body);
    }

    /// (hits, misses) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(block: i64) -> Version {
        vec![checkpoint::Model {
            chain_id: 1,
            block_number: block,
            block_hash: format!("0x{block:064x}"),
            head: block,
            confirmations: 12,
            last_reorg_block: None,
            last_reorg_depth: None,
            updated_at: block,
        }]
    }

    fn request(q: &str) -> async_graphql::Request {
        async_graphql::Request::new(q)
    }

    #[test]
    fn keys_ignore_layout_but_not_variables() {
        let a = key(&request("{ hosts(first: 5) { nodes { address } } }")).unwrap();
        let b = key(&request(
            "{\n  hosts(first: 5) {\n nodes { address }\n }\n}",
        ))
        .unwrap();
        assert_eq!(a, b);
        let v1 = request("query($n: Int) { jobs(first: $n) { totalCount } }").variables(
            async_graphql::Variables::from_json(serde_json::json!({"n": 1})),
        );
        let v2 = request("query($n: Int) { jobs(first: $n) { totalCount } }").variables(
            async_graphql::Variables::from_json(serde_json::json!({"n": 2})),
        );
        assert_ne!(key(&v1).unwrap(), key(&v2).unwrap());
        let s1 = key(&request(
            r#"{ hosts(filter: {region: "eu  west"}) { totalCount } }"#,
        ));
        let s2 = key(&request(
            r#"{ hosts(filter: {region: "eu west"}) { totalCount } }"#,
        ));
        assert_ne!(s1, s2, "whitespace inside a string is significant");
    }

    #[test]
    fn an_entry_is_served_only_at_its_version() {
        let c = ResponseCache::new(CacheConfig::default());
        let (v1, v2) = (version(1), version(2));
        assert_eq!(c.get(&v1, "q"), None);
        c.put(&v1, "q".into(), Bytes::from_static(b"one"));
        assert_eq!(c.get(&v1, "q").as_deref(), Some(&b"one"[..]));
        // A commit: the next read sees v2, and the v1 answer is gone for good.
        assert_eq!(c.get(&v2, "q"), None);
        // A late answer from a v1 snapshot is not stored under v2.
        c.put(&v1, "q".into(), Bytes::from_static(b"one"));
        assert_eq!(c.get(&v2, "q"), None);
        c.put(&v2, "q".into(), Bytes::from_static(b"two"));
        assert_eq!(c.get(&v2, "q").as_deref(), Some(&b"two"[..]));
        assert_eq!(
            c.get(&v1, "q"),
            None,
            "a rollback to v1 does not bring v1's answer back"
        );
        assert_eq!(c.counts(), (2, 4));
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let c = ResponseCache::new(CacheConfig {
            max_entries: 2,
            max_bytes: 1000,
        });
        let v = version(1);
        c.get(&v, "");
        for k in ["a", "b", "c"] {
            c.put(&v, k.into(), Bytes::from_static(b"x"));
        }
        assert_eq!(c.get(&v, "a"), None, "the oldest went first");
        assert!(c.get(&v, "b").is_some() && c.get(&v, "c").is_some());
        c.put(&v, "big".into(), Bytes::from(vec![0u8; 400]));
        assert_eq!(
            c.get(&v, "big"),
            None,
            "over a quarter of the budget: not stored"
        );
    }
}
