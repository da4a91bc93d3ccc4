//! High availability on PostgreSQL: one writer per chain, elected with a session-level advisory
//! lock (`pg_try_advisory_lock`) held on a dedicated connection for the life of the process.
//!
//! Every indexer of a chain tries the lock; the one that gets it indexes, the others wait
//! ([`Lease::wait`], retrying every `poll`). When the holder dies, its connection closes and
//! PostgreSQL releases the lock with it, so a standby takes over within one poll and resumes
//! from the checkpoint the holder last committed (every commit is one transaction, so there is
//! nothing half-written to repair).
//!
//! SQLite needs no lease: a single file has a single writer (the indexer beside it), and two
//! processes writing one file would be serialised by SQLite's own lock anyway.

use std::time::Duration;

use sea_orm::sqlx::{Connection, PgConnection};
use sha2::{Digest, Sha256};
use tracing::warn;

use super::{Result, StoreError};

/// How often a standby retries the lock, and how often the holder checks its connection.
pub const LEASE_POLL: Duration = Duration::from_secs(1);

/// The advisory lock of one chain, held while this value lives (dropping it closes the
/// connection, which releases the lock).
#[derive(Debug)]
pub struct Lease {
    conn: PgConnection,
    chain_id: u64,
    key: i64,
}

/// The advisory-lock key of a chain: the first 8 bytes of SHA-256("vouch-indexer:<chain id>"),
/// so it does not collide with small keys other software on the same database may use.
pub fn lease_key(chain_id: u64) -> i64 {
    let digest = Sha256::digest(format!("vouch-indexer:{chain_id}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

impl Lease {
    /// Tries the chain's lock once: `Some` when this process now holds it, `None` when another
    /// session does.
    pub async fn acquire(url: &str, chain_id: u64) -> Result<Option<Lease>> {
        let mut conn = PgConnection::connect(url).await.map_err(db_err)?;
        let key = lease_key(chain_id);
        let (held,): (bool,) = sea_orm::sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .map_err(db_err)?;
        if held {
            Ok(Some(Lease {
                conn,
                chain_id,
                key,
            }))
        } else {
            // Closing the connection: a standby holds no session while it waits.
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Waits until this process holds the chain's lock, trying every `poll`. `on_wait` is
    /// called once, the first time another session is found holding it.
    pub async fn wait(
        url: &str,
        chain_id: u64,
        poll: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<Lease> {
        let mut on_wait = Some(on_wait);
        loop {
            if let Some(lease) = Lease::acquire(url, chain_id).await? {
                return Ok(lease);
            }
            if let Some(f) = on_wait.take() {
                f();
            }
            tokio::time::sleep(poll).await;
        }
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    pub fn key(&self) -> i64 {
        self.key
    }

    /// Whether the lock is still held by this session (its connection answers and PostgreSQL
    /// lists the lock as granted to it).
    pub async fn check(&mut self) -> Result<bool> {
        let (held,): (bool,) = sea_orm::sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
             AND pid = pg_backend_pid() AND granted AND objsubid = 1 \
             AND ((classid::bigint << 32) | objid::bigint) = $1)",
        )
        .bind(self.key)
        .fetch_one(&mut self.conn)
        .await
        .map_err(db_err)?;
        Ok(held)
    }

    /// Resolves when the lease is lost: its connection failed (PostgreSQL restarted, the
    /// session was terminated) or the lock is no longer granted. Checked every `poll`. The
    /// holder must stop writing then, since a standby may already have taken over.
    pub async fn lost(&mut self, poll: Duration) -> StoreError {
        loop {
            tokio::time::sleep(poll).await;
            match self.check().await {
                Ok(true) => {}
                Ok(false) => {
                    warn!(
                        chain_id = self.chain_id,
                        "the indexer lease is no longer held"
                    );
                    return StoreError::LeaseLost {
                        chain_id: self.chain_id,
                    };
                }
                Err(e) => {
                    warn!(chain_id = self.chain_id, error = %e, "the indexer lease connection failed");
                    return StoreError::LeaseLost {
                        chain_id: self.chain_id,
                    };
                }
            }
        }
    }

    /// Releases the lock now (dropping the lease does too, by closing the connection).
    pub async fn release(mut self) -> Result<()> {
        sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.conn)
            .await
            .map_err(db_err)?;
        let _ = self.conn.close().await;
        Ok(())
    }
}

fn db_err(e: sea_orm::sqlx::Error) -> StoreError {
    StoreError::Lease(e)
}

#[cfg(test)]
mod tests {
    use super::lease_key;

    #[test]
    fn keys_differ_per_chain_and_are_stable() {
        assert_ne!(lease_key(1), lease_key(31337));
        assert_eq!(lease_key(31337), lease_key(31337));
    }
}
