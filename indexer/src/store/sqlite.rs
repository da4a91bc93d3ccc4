//! SQLite's bulk write path of a [`Commit`]: every table's rows through one prepared multi-row
//! `INSERT .. ON CONFLICT` of a fixed number of rows, bound straight from the sea-orm models,
//! all in the commit's one transaction. The statement text is the same for every full chunk,
//! so sqlx prepares it once per connection; each row then costs only its binds (through
//! sea-query, every chunk of ~3,000 rows was built as a fresh statement, value by value).
//!
//! Generic over the entities, like `pg`: the columns are defined once, in `entity/`.

use sea_orm::sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnection, SqlitePool};
use sea_orm::sqlx::{self, query::Query};
use sea_orm::{EntityTrait, IdenStatic, Iterable, ModelTrait, PrimaryKeyToColumn, Value};

use super::entity::{block, checkpoint, event, undo};
use super::table::{self, Conflict};
use super::writer::{Commit, UndoEntry};
use super::{Result, StoreError};

/// Rows per statement: large enough that per-statement overhead vanishes, small enough that
/// the widest table stays far below SQLite's 32,766 binds.
const ROWS_PER_STATEMENT: usize = 128;

/// Writes `commit` in one transaction on a connection of `pool`. The caller has checked and
/// deduplicated it (see `SeaStore::commit`).
pub(crate) async fn commit(pool: &SqlitePool, commit: Commit) -> Result<()> {
    let chain = super::sea::int(commit.chain_id);
    let mut tx = pool.begin().await.map_err(StoreError::Sqlite)?;
    insert::<event::Entity>(&mut tx, &commit.events, Conflict::Skip).await?;
    table::insert_rows_sqlite(&mut tx, commit.rows).await?;
    insert_undo(&mut tx, chain, &commit.undo).await?;
    insert::<block::Entity>(&mut tx, &commit.blocks, Conflict::Replace).await?;
    if let Some(cp) = &commit.checkpoint {
        insert::<checkpoint::Entity>(&mut tx, std::slice::from_ref(cp), Conflict::Replace).await?;
    }
    if let Some(through) = commit.prune_through {
        let through = super::sea::int(through);
        for sql in [
            "DELETE FROM blocks WHERE chain_id = ? AND number <= ?",
            "DELETE FROM undo_log WHERE chain_id = ? AND block_number <= ?",
        ] {
            sqlx::query(sql)
                .bind(chain)
                .bind(through)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::Sqlite)?;
        }
    }
    tx.commit().await.map_err(StoreError::Sqlite)?;
    Ok(())
}

/// Inserts `models` into `E`'s table, `ROWS_PER_STATEMENT` at a time.
pub(crate) async fn insert<E: EntityTrait>(
    conn: &mut SqliteConnection,
    models: &[E::Model],
    on_conflict: Conflict,
) -> Result<()> {
    if models.is_empty() {
        return Ok(());
    }
    let table = E::default().table_name().to_owned();
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let keys: Vec<String> = E::PrimaryKey::iter()
        .map(|k| k.into_column().as_str().to_owned())
        .collect();
    let full = statement(&table, &names, &keys, ROWS_PER_STATEMENT, on_conflict);
    for chunk in models.chunks(ROWS_PER_STATEMENT) {
        let partial;
        let sql = if chunk.len() == ROWS_PER_STATEMENT {
            &full
        } else {
            partial = statement(&table, &names, &keys, chunk.len(), on_conflict);
            &partial
        };
        let mut query = sqlx::query(sql);
        for model in chunk {
            for column in &columns {
                query = bind(query, model.get(*column), &table, column.as_str())?;
            }
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(StoreError::Sqlite)?;
    }
    Ok(())
}

/// `INSERT INTO t (cols) VALUES (?, ..), .. ON CONFLICT (keys) DO ...` for `rows` rows.
fn statement(
    table: &str,
    columns: &[&str],
    keys: &[String],
    rows: usize,
    on_conflict: Conflict,
) -> String {
    let column_list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    let values = vec![row; rows].join(", ");
    let key_list = keys.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    let rest: Vec<String> = columns
        .iter()
        .filter(|c| !keys.iter().any(|k| k == *c))
        .map(|c| format!("{0} = excluded.{0}", quote(c)))
        .collect();
    let action = match on_conflict {
        Conflict::Replace if !rest.is_empty() => format!("DO UPDATE SET {}", rest.join(", ")),
        _ => "DO NOTHING".to_owned(),
    };
    format!(
        "INSERT INTO {} ({column_list}) VALUES {values} ON CONFLICT ({key_list}) {action}",
        quote(table)
    )
}

/// The journal entries in order (their ids, assigned by the database, order a rollback).
async fn insert_undo(conn: &mut SqliteConnection, chain: i64, entries: &[UndoEntry]) -> Result<()> {
    let conflict = table::undo_unique_columns();
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO undo_log ({c}, {b}, {t}, {k}, {p}) VALUES {values} \
             ON CONFLICT ({conflict}) DO NOTHING",
            c = quote(undo::Column::ChainId.as_str()),
            b = quote(undo::Column::BlockNumber.as_str()),
            t = quote(undo::Column::TableName.as_str()),
            k = quote(undo::Column::RowKey.as_str()),
            p = quote(undo::Column::Prior.as_str()),
            values = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", "),
        );
        let mut query = sqlx::query(&sql);
        for e in chunk {
            let m = super::journal::encode(chain, e);
            query = query
                .bind(chain)
                .bind(super::sea::int(e.block_number))
                .bind(m.table_name.unwrap())
                .bind(m.row_key.unwrap())
                .bind(m.prior.unwrap());
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(StoreError::Sqlite)?;
    }
    Ok(())
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// Binds one model value (the schema holds integers, text and booleans only).
fn bind<'q>(
    query: SqliteQuery<'q>,
    value: Value,
    table: &str,
    column: &str,
) -> Result<SqliteQuery<'q>> {
    Ok(match value {
        Value::BigInt(v) => query.bind(v),
        Value::Int(v) => query.bind(v),
        Value::Bool(v) => query.bind(v),
        Value::String(v) => query.bind(v.map(|s| *s)),
        other => {
            return Err(StoreError::Unencodable {
                table: table.to_owned(),
                column: column.to_owned(),
                value: format!("{other:?}"),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_upserts_every_non_key_column() {
        let sql = statement(
            "t",
            &["a", "b", "c"],
            &["a".to_owned()],
            2,
            Conflict::Replace,
        );
        assert_eq!(
            sql,
            "INSERT INTO \"t\" (\"a\", \"b\", \"c\") VALUES (?, ?, ?), (?, ?, ?) \
             ON CONFLICT (\"a\") DO UPDATE SET \"b\" = excluded.\"b\", \"c\" = excluded.\"c\""
        );
        let sql = statement(
            "t",
            &["a", "b"],
            &["a".to_owned(), "b".to_owned()],
            1,
            Conflict::Replace,
        );
        assert!(
            sql.ends_with("ON CONFLICT (\"a\", \"b\") DO NOTHING"),
            "{sql}"
        );
        let sql = statement("t", &["a", "b"], &["a".to_owned()], 1, Conflict::Skip);
        assert!(sql.ends_with("DO NOTHING"), "{sql}");
    }
}
