//! The database helpers against the real local PostgreSQL and SQLite.

use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use vouch_testkit::{FreshPostgres, FreshSqlite, admin_url};

async fn database_exists(name: &str) -> bool {
    let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .unwrap()
        .get::<i64, _>(0)
        == 1
}

#[tokio::test]
async fn each_postgres_database_is_isolated_and_dropped() {
    let a = FreshPostgres::create().await;
    let b = FreshPostgres::create().await;
    assert_ne!(a.name, b.name);

    let mut ca = PgConnection::connect(&a.url).await.unwrap();
    sqlx::query("CREATE TABLE t (v INT)")
        .execute(&mut ca)
        .await
        .unwrap();
    sqlx::query("INSERT INTO t VALUES (42)")
        .execute(&mut ca)
        .await
        .unwrap();
    let v: i32 = sqlx::query("SELECT v FROM t")
        .fetch_one(&mut ca)
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, 42);

    let mut cb = PgConnection::connect(&b.url).await.unwrap();
    let err = sqlx::query("SELECT v FROM t")
        .fetch_one(&mut cb)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("relation \"t\" does not exist"),
        "{err}"
    );

    let name = a.name.clone();
    assert!(database_exists(&name).await);
    drop(ca); // left open on purpose for b; a's is closed, FORCE covers the rest
    drop(a);
    assert!(
        !database_exists(&name).await,
        "dropping the handle drops the database"
    );
}

#[tokio::test]
async fn each_sqlite_file_is_isolated_and_removed() {
    let a = FreshSqlite::create();
    let b = FreshSqlite::create();
    assert_ne!(a.path, b.path);
    let mut ca = SqliteConnection::connect(&a.url).await.unwrap();
    sqlx::query("CREATE TABLE t (v INTEGER)")
        .execute(&mut ca)
        .await
        .unwrap();
    assert!(a.path.exists());
    let mut cb = SqliteConnection::connect(&b.url).await.unwrap();
    let err = sqlx::query("SELECT v FROM t")
        .execute(&mut cb)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no such table"), "{err}");
    let path = a.path.clone();
    drop(ca);
    drop(a);
    assert!(!path.exists());
}

#[tokio::test]
#[should_panic(expected = "PostgreSQL is unreachable at postgres://postgres@127.0.0.1:1/postgres")]
async fn an_unreachable_server_fails_with_a_clear_message() {
    FreshPostgres::create_on("postgres://postgres@127.0.0.1:1/postgres").await;
}
