//! A database of its own for every test: a new PostgreSQL database (dropped again when the
//! handle is dropped) or a new SQLite file in a temporary folder. Tests can then run in
//! parallel against the real servers without seeing each other's rows.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};
use url::Url;

/// The server tests use: `DATABASE_URL` when set, else the local trust-auth PostgreSQL.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A PostgreSQL database created for one test. Dropping it drops the database.
#[derive(Debug)]
pub struct FreshPostgres {
    /// Connection URL of the new database.
    pub url: String,
    /// Name of the new database.
    pub name: String,
    admin: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl FreshPostgres {
    /// Creates an empty database with a unique name. Panics with a clear message when
    /// PostgreSQL cannot be reached, because no database test can say anything then.
    pub async fn create() -> Self {
        Self::create_on(&admin_url()).await
    }

    /// Like [`FreshPostgres::create`], on the server that `admin` (a database URL) points at.
    pub async fn create_on(admin: &str) -> Self {
        let admin = admin.to_owned();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {}: {e}. Start it (`pg_ctlcluster --skip-systemctl-redirect \
                 $(ls /etc/postgresql) main start`) or point DATABASE_URL at a server",
                redact(&admin)
            )
        });
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "vouch_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let mut url = Url::parse(&admin).expect("DATABASE_URL is a valid URL");
        url.set_path(&name);
        FreshPostgres {
            url: url.to_string(),
            name,
            admin,
        }
    }
}

impl Drop for FreshPostgres {
    fn drop(&mut self) {
        // Drop may run inside a tokio runtime, which cannot block on itself: use a thread with a
        // runtime of its own. FORCE ends connections a test left open.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
            .map_err(|e| e.to_string())
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
    }
}

/// A SQLite database file of one test, in a temporary folder removed on drop.
#[derive(Debug)]
pub struct FreshSqlite {
    /// `sqlite://...?mode=rwc` URL of the file (created on first connect).
    pub url: String,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl FreshSqlite {
    pub fn create() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vouch-test-")
            .tempdir()
            .expect("temporary folder");
        let path = dir.path().join("vouch.sqlite");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        FreshSqlite {
            url,
            path,
            _dir: dir,
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
    }
}
