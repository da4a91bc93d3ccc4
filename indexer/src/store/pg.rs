//! PostgreSQL's bulk write path of a [`Commit`]: rows streamed with `COPY .. FROM STDIN` (text
//! format) into a session-local staging table, then moved into the real table by one
//! `INSERT .. SELECT .. ON CONFLICT` each, all inside the commit's one transaction. Multi-row
//! INSERTs cap a statement at 65,535 binds and make the server parse and plan each one; COPY
//! streams a range's rows in one go (docs/indexer.md, "Writing a commit").
//!
//! Generic over the entities: a row is encoded from its sea-orm model, column by column, so the
//! columns are defined once, in `entity/`. The journal (`undo_log`) keeps its insertion order
//! (its ids order a rollback), so it goes through one `unnest` statement in order instead.

use sea_orm::sqlx;
use sea_orm::sqlx::postgres::{PgConnection, PgPool};
use sea_orm::{
    EntityName, EntityTrait, IdenStatic, Iterable, ModelTrait, PrimaryKeyToColumn, Value,
};

use super::entity::{block, checkpoint, event, undo};
use super::table::{self, Conflict};
use super::writer::{Commit, UndoEntry};
use super::{Result, StoreError};

/// Writes `commit` in one transaction on a connection of `pool`. The caller has checked and
/// deduplicated it (see `SeaStore::commit`): `rows` hold one image per key, `undo` one entry
/// per block and row.
pub(crate) async fn commit(pool: &PgPool, commit: Commit, notice: Option<String>) -> Result<()> {
    let chain = super::sea::int(commit.chain_id);
    let mut tx = pool.begin().await.map_err(StoreError::Pg)?;
    // `CREATE TEMP TABLE IF NOT EXISTS` reports an existing table as a NOTICE; not worth a log
    // line per commit.
    sqlx::query("SET LOCAL client_min_messages = warning")
        .execute(&mut *tx)
        .await
        .map_err(StoreError::Pg)?;
    insert_events(&mut tx, &commit.events).await?;
    table::copy_rows(&mut tx, commit.rows).await?;
    insert_undo(&mut tx, chain, &commit.undo).await?;
    copy_upsert::<block::Entity>(&mut tx, &commit.blocks, Conflict::Replace).await?;
    if let Some(cp) = &commit.checkpoint {
        copy_upsert::<checkpoint::Entity>(&mut tx, std::slice::from_ref(cp), Conflict::Replace)
            .await?;
    }
    if let Some(through) = commit.prune_through {
        let through = super::sea::int(through);
        for sql in [
            "DELETE FROM blocks WHERE chain_id = $1 AND number <= $2",
            "DELETE FROM undo_log WHERE chain_id = $1 AND block_number <= $2",
        ] {
            sqlx::query(sql)
                .bind(chain)
                .bind(through)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::Pg)?;
        }
    }
    if let Some(payload) = notice {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::notify::CHANNEL)
            .bind(payload)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Pg)?;
    }
    tx.commit().await.map_err(StoreError::Pg)?;
    Ok(())
}

/// Stages `models` with COPY and moves them into `E`'s table with one `INSERT .. SELECT`.
/// Returns the rows inserted or updated.
pub(crate) async fn copy_upsert<E: EntityTrait>(
    conn: &mut PgConnection,
    models: &[E::Model],
    on_conflict: Conflict,
) -> Result<u64> {
    if models.is_empty() {
        return Ok(0);
    }
    let table = E::default().table_name().to_owned();
    let stage = format!("stage_{table}");
    let columns: Vec<String> = E::Column::iter().map(|c| c.as_str().to_owned()).collect();
    let column_list = column_list::<E>();
    // Session-local and emptied at every commit (a rolled-back transaction takes its staged
    // rows, or the table's creation, with it): a pooled connection creates it once. Each table
    // is staged at most once per commit.
    let create = format!(
        "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS",
        quote(&stage),
        quote(&table)
    );
    sqlx::query(&create)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::Pg)?;

    copy_in::<E>(conn, &stage, &column_list, models).await?;

    let keys: Vec<String> = E::PrimaryKey::iter()
        .map(|k| k.into_column().as_str().to_owned())
        .collect();
    let key_list = keys.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    let rest: Vec<String> = columns
        .iter()
        .filter(|c| !keys.contains(c))
        .map(|c| format!("{0} = EXCLUDED.{0}", quote(c)))
        .collect();
    let action = match on_conflict {
        Conflict::Replace if !rest.is_empty() => format!("DO UPDATE SET {}", rest.join(", ")),
        _ => "DO NOTHING".to_owned(),
    };
    let insert = format!(
        "INSERT INTO {} ({column_list}) SELECT {column_list} FROM {} ON CONFLICT ({key_list}) {action}",
        quote(&table),
        quote(&stage)
    );
    let done = sqlx::query(&insert)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::Pg)?;
    Ok(done.rows_affected())
}

/// Events go straight into `events` with COPY: a commit writes its events and its checkpoint in
/// one transaction and the indexer only applies ranges above the checkpoint, so none of them is
/// stored yet, and the staging table and its upsert would be pure cost. Should one be there
/// after all (a commit applied twice), the unique violation is taken back to a savepoint and
/// the rows go through staging, which skips the stored ones.
async fn insert_events(conn: &mut PgConnection, events: &[event::Model]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let entity = event::Entity;
    let table = entity.table_name();
    let column_list = column_list::<event::Entity>();
    execute(conn, "SAVEPOINT events_direct").await?;
    match copy_in::<event::Entity>(conn, table, &column_list, events).await {
        Ok(()) => execute(conn, "RELEASE SAVEPOINT events_direct").await,
        Err(StoreError::Pg(sqlx::Error::Database(e)))
            if e.code().as_deref() == Some(UNIQUE_VIOLATION) =>
        {
            execute(conn, "ROLLBACK TO SAVEPOINT events_direct").await?;
            copy_upsert::<event::Entity>(conn, events, Conflict::Skip)
                .await
                .map(drop)
        }
        Err(e) => Err(e),
    }
}

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

async fn execute(conn: &mut PgConnection, sql: &str) -> Result<()> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(StoreError::Pg)
}

/// `E`'s columns, quoted, in entity order.
fn column_list<E: EntityTrait>() -> String {
    E::Column::iter()
        .map(|c| quote(c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Streams `models` into `target` (a table with `E`'s columns) with one `COPY .. FROM STDIN`.
async fn copy_in<E: EntityTrait>(
    conn: &mut PgConnection,
    target: &str,
    column_list: &str,
    models: &[E::Model],
) -> Result<()> {
    let entity = E::default();
    let table = entity.table_name();
    let mut data = Vec::with_capacity(models.len() * 64 * E::Column::iter().count());
    for model in models {
        for (i, column) in E::Column::iter().enumerate() {
            if i > 0 {
                data.push(b'\t');
            }
            encode(&mut data, &model.get(column), table, column.as_str())?;
        }
        data.push(b'\n');
    }
    let copy = format!("COPY {} ({column_list}) FROM STDIN", quote(target));
    let mut sink = conn.copy_in_raw(&copy).await.map_err(StoreError::Pg)?;
    let sent = sink.send(data).await.map(drop);
    if let Err(e) = sent {
        // Leave the connection usable (the transaction is rolled back by the caller's drop).
        let _ = sink.abort("the indexer failed to stream the rows").await;
        return Err(StoreError::Pg(e));
    }
    sink.finish().await.map_err(StoreError::Pg)?;
    Ok(())
}

/// The journal entries, in order (their ids order a rollback), in one statement.
async fn insert_undo(conn: &mut PgConnection, chain: i64, entries: &[UndoEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut blocks = Vec::with_capacity(entries.len());
    let mut tables = Vec::with_capacity(entries.len());
    let mut keys = Vec::with_capacity(entries.len());
    let mut priors = Vec::with_capacity(entries.len());
    for e in entries {
        let m = super::journal::encode(chain, e);
        blocks.push(super::sea::int(e.block_number));
        tables.push(m.table_name.unwrap());
        keys.push(m.row_key.unwrap());
        priors.push(m.prior.unwrap());
    }
    let sql = format!(
        "INSERT INTO undo_log ({c}, {b}, {t}, {k}, {p}) \
         SELECT $1::bigint, u.b, u.t, u.k, u.p FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) \
         WITH ORDINALITY AS u(b, t, k, p, n) ORDER BY u.n \
         ON CONFLICT ({c}, {b}, {t}, {k}) DO NOTHING",
        c = quote(undo::Column::ChainId.as_str()),
        b = quote(undo::Column::BlockNumber.as_str()),
        t = quote(undo::Column::TableName.as_str()),
        k = quote(undo::Column::RowKey.as_str()),
        p = quote(undo::Column::Prior.as_str()),
    );
    sqlx::query(&sql)
        .bind(chain)
        .bind(blocks)
        .bind(tables)
        .bind(keys)
        .bind(priors)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::Pg)?;
    Ok(())
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// One value in COPY's text format: `\N` for NULL, backslash escapes for the characters the
/// format gives a meaning to.
fn encode(out: &mut Vec<u8>, value: &Value, table: &str, column: &str) -> Result<()> {
    use std::io::Write;
    match value {
        Value::BigInt(Some(v)) => write!(out, "{v}").expect("writing to a Vec"),
        Value::Int(Some(v)) => write!(out, "{v}").expect("writing to a Vec"),
        Value::Bool(Some(v)) => out.push(if *v { b't' } else { b'f' }),
        Value::String(Some(s)) => {
            for &b in s.as_bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
        Value::BigInt(None) | Value::Int(None) | Value::Bool(None) | Value::String(None) => {
            out.extend_from_slice(b"\\N")
        }
        other => {
            return Err(StoreError::Unencodable {
                table: table.to_owned(),
                column: column.to_owned(),
                value: format!("{other:?}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Value) -> String {
        let mut out = Vec::new();
        encode(&mut out, &v, "t", "c").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_copy_text_format() {
        assert_eq!(text(Value::BigInt(Some(-42))), "-42");
        assert_eq!(text(Value::Bool(Some(true))), "t");
        assert_eq!(text(Value::Bool(Some(false))), "f");
        assert_eq!(text(Value::BigInt(None)), "\\N");
        assert_eq!(text(Value::String(None)), "\\N");
        assert_eq!(
            text(Value::String(Some(Box::new(
                "a\\b\tc\nd\re\"{}".to_owned()
            )))),
            "a\\\\b\\tc\\nd\\re\"{}"
        );
        let mut out = Vec::new();
        assert!(matches!(
            encode(&mut out, &Value::Double(Some(1.0)), "t", "c"),
            Err(StoreError::Unencodable { .. })
        ));
    }
}
