//! What a devnet holds, read from its index: the numbers `vouch devnet --for N` prints.

use std::fmt;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult, Statement};

use crate::{DevnetError, Result};

/// Totals of one devnet run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub ran: Duration,
    pub head: u64,
    pub indexed: Option<u64>,
    pub events: i64,
    pub hosts: i64,
    /// (state, count), by state name.
    pub jobs_by_state: Vec<(String, i64)>,
    pub batches: i64,
    /// Jobs completed by those batches.
    pub proven_jobs: i64,
    pub slashes: i64,
    pub disputes_upheld: i64,
    pub equivocations: i64,
    pub proposals_executed: i64,
    /// What `--demo` did (not in the index: proofs made, gas, the scripted ends).
    pub demo: Option<crate::demo::DemoReport>,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct StateCount {
    state: String,
    n: i64,
}

#[derive(FromQueryResult)]
struct Block {
    block_number: i64,
}

async fn count(db: &DatabaseConnection, sql: &str, chain_id: u64) -> Result<i64> {
    let stmt =
        Statement::from_sql_and_values(db.get_database_backend(), sql, [(chain_id as i64).into()]);
    Ok(Count::find_by_statement(stmt)
        .one(db)
        .await?
        .map(|c| c.n)
        .unwrap_or(0))
}

/// The last block the index holds for `chain_id`.
pub(crate) async fn indexed_block(db: &DatabaseConnection, chain_id: u64) -> Result<Option<u64>> {
    let stmt = Statement::from_sql_and_values(
        db.get_database_backend(),
        bind_markers(
            db,
            "SELECT block_number FROM checkpoints WHERE chain_id = ?",
        ),
        [(chain_id as i64).into()],
    );
    Ok(Block::find_by_statement(stmt)
        .one(db)
        .await?
        .map(|b| b.block_number as u64))
}

/// [`vouch_graphql::context::bind_markers`] for this connection's backend.
fn bind_markers(db: &DatabaseConnection, sql: &str) -> String {
    vouch_graphql::context::bind_markers(db.get_database_backend(), sql)
}

impl Summary {
    pub(crate) async fn read(
        db: &DatabaseConnection,
        chain_id: u64,
        head: u64,
        ran: Duration,
    ) -> Result<Summary> {
        let q = |sql: &str| bind_markers(db, sql);
        let stmt = Statement::from_sql_and_values(
            db.get_database_backend(),
            q(
                "SELECT state, COUNT(*) AS n FROM jobs WHERE chain_id = ? GROUP BY state ORDER BY state",
            ),
            [(chain_id as i64).into()],
        );
        let jobs_by_state = StateCount::find_by_statement(stmt)
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.state, s.n))
            .collect();
        Ok(Summary {
            ran,
            head,
            indexed: indexed_block(db, chain_id).await?,
            events: count(db, &q("SELECT COUNT(*) AS n FROM events WHERE chain_id = ?"), chain_id).await?,
            hosts: count(db, &q("SELECT COUNT(*) AS n FROM hosts WHERE chain_id = ?"), chain_id).await?,
            jobs_by_state,
            batches: count(db, &q("SELECT COUNT(*) AS n FROM batches WHERE chain_id = ?"), chain_id).await?,
            proven_jobs: count(
                db,
                &q("SELECT CAST(COALESCE(SUM(job_count), 0) AS BIGINT) AS n FROM batches WHERE chain_id = ?"),
                chain_id,
            )
            .await?,
            slashes: count(db, &q("SELECT COUNT(*) AS n FROM slashes WHERE chain_id = ?"), chain_id).await?,
            disputes_upheld: count(
                db,
                &q("SELECT COUNT(*) AS n FROM disputes WHERE chain_id = ? AND status = 'Upheld'"),
                chain_id,
            )
            .await?,
            equivocations: count(db, &q("SELECT COUNT(*) AS n FROM equivocations WHERE chain_id = ?"), chain_id).await?,
            proposals_executed: count(
                db,
                &q("SELECT COUNT(*) AS n FROM proposals WHERE chain_id = ? AND state = 'Executed'"),
                chain_id,
            )
            .await?,
            demo: None,
        })
    }

    pub fn jobs(&self) -> i64 {
        self.jobs_by_state.iter().map(|(_, n)| n).sum()
    }

    pub fn lag(&self) -> u64 {
        self.head.saturating_sub(self.indexed.unwrap_or(0))
    }
}

impl fmt::Display for Summary {
    /// A few lines of figures, and last one plain sentence of the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let states = if self.jobs_by_state.is_empty() {
            "none".to_string()
        } else {
            self.jobs_by_state
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(f, "jobs by state: {states}")?;
        writeln!(
            f,
            "proofs: {} batches proving {} jobs; slashes: {}; hosts: {}",
            self.batches, self.proven_jobs, self.slashes, self.hosts
        )?;
        writeln!(
            f,
            "disputes upheld: {}; equivocations: {}; proposals executed: {}",
            self.disputes_upheld, self.equivocations, self.proposals_executed
        )?;
        if let Some(demo) = &self.demo {
            let s = &demo.stats;
            let gas = |g: Option<u64>| g.map_or_else(|| "n/a".to_string(), |g| g.to_string());
            writeln!(
                f,
                "demo: {} rounds, {} jobs created, {} results, {} proofs made, {} batches landed; gas per job {} ({} of it the proof's share); {} failures",
                s.rounds,
                s.jobs_created,
                s.results,
                s.proofs,
                s.batches,
                gas(s.gas_per_job()),
                gas(s.proof_gas_per_job()),
                s.failures
            )?;
            for o in &demo.outcomes {
                writeln!(f, "scripted: {o}")?;
            }
        }
        writeln!(
            f,
            "indexer: block {} of {} (lag {}), {} events",
            self.indexed
                .map(|b| b.to_string())
                .unwrap_or_else(|| "none".into()),
            self.head,
            self.lag(),
            self.events
        )?;
        write!(
            f,
            "The devnet ran {} s: {} jobs, {} proven in {} batches, {} slashes, {} disputes upheld, {} equivocations, {} proposals executed, {} events indexed to block {} of {}.",
            self.ran.as_secs(),
            self.jobs(),
            self.proven_jobs,
            self.batches,
            self.slashes,
            self.disputes_upheld,
            self.equivocations,
            self.proposals_executed,
            self.events,
            self.indexed.unwrap_or(0),
            self.head
        )
    }
}

/// A PostgreSQL database given to the devnet must not already hold a devnet's index: the new
/// chain has the same id and would mix with it. Also checks that the database is reachable.
pub(crate) async fn reset(url: &str) -> Result<()> {
    let unreachable = |reason: String| DevnetError::Database {
        url: redact(url),
        reason,
    };
    let db = sea_orm::Database::connect(url)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let holds = match indexed_block(&db, crate::chain::CHAIN_ID).await {
        Ok(block) => block.is_some(),
        // No checkpoints table yet: a fresh database.
        Err(_) => false,
    };
    let _ = db.close().await;
    if holds {
        return Err(unreachable(
            "it already holds an index of chain 31337 (an earlier devnet): pass a fresh database"
                .into(),
        ));
    }
    Ok(())
}

/// A URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_is_one_sentence_of_the_totals() {
        let summary = Summary {
            ran: Duration::from_secs(60),
            head: 120,
            indexed: Some(120),
            events: 900,
            hosts: 5,
            jobs_by_state: vec![("Completed".into(), 3), ("Released".into(), 7)],
            batches: 2,
            proven_jobs: 10,
            slashes: 1,
            disputes_upheld: 1,
            equivocations: 0,
            proposals_executed: 1,
            demo: None,
        };
        let text = summary.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "jobs by state: Completed 3, Released 7");
        assert_eq!(
            lines[2],
            "disputes upheld: 1; equivocations: 0; proposals executed: 1"
        );
        assert_eq!(lines[3], "indexer: block 120 of 120 (lag 0), 900 events");
        assert_eq!(
            lines.last().unwrap(),
            &"The devnet ran 60 s: 10 jobs, 10 proven in 2 batches, 1 slashes, 1 disputes upheld, 0 equivocations, 1 proposals executed, 900 events indexed to block 120 of 120."
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
