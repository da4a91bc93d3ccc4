//! A bounded LRU cache of proofs, keyed by the ordered job tuples they cover. A hit returns the
//! very proof made before (proving is randomized: a new proof of the same tuples would differ
//! byte for byte, and both would verify).

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use lru::LruCache;

use super::types::{JobTuple, Proof};

pub(crate) struct ProofCache {
    entries: Option<Mutex<LruCache<Vec<JobTuple>, Proof>>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters of the proof cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub len: usize,
    pub capacity: usize,
}

impl ProofCache {
    /// A cache of `capacity` proofs; 0 disables caching.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn get(&self, jobs: &[JobTuple]) -> Option<Proof> {
        let found = self
            .entries
            .as_ref()?
            .lock()
            .expect("cache lock")
            .get(jobs)
            .cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub fn insert(&self, proof: &Proof) {
        if let Some(entries) = &self.entries {
            entries
                .lock()
                .expect("cache lock")
                .put(proof.jobs.clone(), proof.clone());
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            len: self
                .entries
                .as_ref()
                .map_or(0, |e| e.lock().expect("cache lock").len()),
            capacity: self.capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{B256, Bytes};

    fn proof(tag: u8) -> Proof {
        Proof {
            batch_size: 1,
            circuit_version: 1,
            jobs: vec![JobTuple {
                job_id: B256::repeat_byte(tag),
                ..Default::default()
            }],
            proof: Bytes::from(vec![tag; 4]),
            instances: vec![],
        }
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = ProofCache::new(2);
        let (a, b, c) = (proof(1), proof(2), proof(3));
        cache.insert(&a);
        cache.insert(&b);
        assert_eq!(cache.get(&a.jobs), Some(a.clone())); // a is now the most recent
        cache.insert(&c); // evicts b
        assert_eq!(cache.get(&b.jobs), None);
        assert_eq!(cache.get(&c.jobs), Some(c));
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 2,
                misses: 1,
                len: 2,
                capacity: 2
            }
        );
    }

    #[test]
    fn capacity_zero_disables() {
        let cache = ProofCache::new(0);
        cache.insert(&proof(1));
        assert_eq!(cache.get(&proof(1).jobs), None);
        assert_eq!(cache.stats().len, 0);
    }
}
