//! Generic SQL over any entity, and the one place that lists the projection tables as types:
//! chunked multi-row inserts/upserts that stay under the backend's bind-parameter limit,
//! loading a chain's rows, ordering rows by primary key, and hashing a table for the digest.
//!
//! Ordering happens in Rust, not with SQL `ORDER BY`: text collations differ between SQLite
//! (bytewise) and PostgreSQL (locale), and the digest must not.

use sea_orm::sea_query::{Alias, Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, IntoActiveModel,
    Iterable, ModelTrait, PrimaryKeyToColumn, QueryFilter, TryInsertResult, Value,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Result;
use super::entity::*;
use super::row::Row;

/// What a bulk-written row does when its primary key is already in the table (the bulk paths
/// of `pg` and `sqlite`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// Keep the stored row (events: re-applying a range changes nothing).
    Skip,
    /// Replace every non-key column (projections, window blocks, the checkpoint).
    Replace,
}

/// The quoted column list of the journal's uniqueness index (its conflict target).
pub(crate) fn undo_unique_columns() -> String {
    super::migration::UNDO_UNIQUE
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Most bind parameters one statement may carry: SQLite's `SQLITE_MAX_VARIABLE_NUMBER` (32766
/// since 3.32, as bundled by sqlx) and PostgreSQL's wire-protocol limit (a u16 count).
fn max_binds(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => 32_766,
        DbBackend::Postgres | DbBackend::MySql => 65_535,
    }
}

/// Rows per multi-row INSERT: every row binds at most one parameter per column.
fn rows_per_statement<E: EntityTrait>(backend: DbBackend) -> usize {
    (max_binds(backend) / E::Column::iter().count()).max(1)
}

fn pk_columns<E: EntityTrait>() -> Vec<E::Column> {
    E::PrimaryKey::iter().map(|k| k.into_column()).collect()
}

/// `ON CONFLICT (pk) DO UPDATE SET` every other column: re-writing a row replaces its image.
pub(crate) fn upsert<E: EntityTrait>() -> OnConflict {
    let pk = pk_columns::<E>();
    let pk_names: Vec<&str> = pk.iter().map(|c| c.as_str()).collect();
    let rest: Vec<E::Column> = E::Column::iter()
        .filter(|c| !pk_names.contains(&c.as_str()))
        .collect();
    let mut conflict = OnConflict::columns(pk);
    if rest.is_empty() {
        conflict.do_nothing();
    } else {
        conflict.update_columns(rest);
    }
    conflict
}

/// Inserts `models` in as many multi-row statements as the bind limit needs, each with
/// `on_conflict`. Returns the rows the database reports as written.
pub(crate) async fn insert_chunked<E, C>(
    db: &C,
    models: Vec<E::ActiveModel>,
    on_conflict: &OnConflict,
) -> Result<u64>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let per = rows_per_statement::<E>(db.get_database_backend());
    let mut written = 0;
    let mut models = models.into_iter().peekable();
    while models.peek().is_some() {
        let chunk: Vec<_> = models.by_ref().take(per).collect();
        // `do_nothing`: a chunk made only of conflicts (a re-applied commit) is not an error.
        let res = E::insert_many(chunk)
            .on_conflict(on_conflict.clone())
            .do_nothing()
            .exec_without_returning(db)
            .await?;
        if let TryInsertResult::Inserted(n) = res {
            written += n;
        }
    }
    Ok(written)
}

/// `chain_id = ?`, the filter of every per-chain query (every table has the column).
pub(crate) fn of_chain(chain_id: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::col(Alias::new("chain_id")).eq(chain_id)
}

/// Every row of one chain in `E`, ordered by primary key (in Rust).
pub(crate) async fn load_sorted<E, C>(db: &C, chain_id: i64) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut models = E::find().filter(of_chain(chain_id)).all(db).await?;
    models.sort_by_cached_key(pk_of::<E>);
    Ok(models)
}

/// One primary-key component, ordered numerically or bytewise.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum KeyPart {
    Int(i64),
    Text(String),
    Other(String),
}

fn pk_of<E: EntityTrait>(model: &E::Model) -> Vec<KeyPart> {
    pk_columns::<E>()
        .into_iter()
        .map(|c| match model.get(c) {
            Value::BigInt(Some(i)) => KeyPart::Int(i),
            Value::String(Some(s)) => KeyPart::Text(*s),
            other => KeyPart::Other(format!("{other:?}")),
        })
        .collect()
}

/// Feeds one table into the digest: its name, then one compact JSON line per row.
pub(crate) fn hash_table<M: Serialize>(hasher: &mut Sha256, table: &str, rows: &[M]) {
    hasher.update(table.as_bytes());
    hasher.update(b"\n");
    for row in rows {
        // Plain structs of strings, integers and booleans: serialization cannot fail.
        hasher.update(serde_json::to_vec(row).expect("models serialize to JSON"));
        hasher.update(b"\n");
    }
}

/// Expands `$m!` with every projection table as `Variant => module, "table";`, in the digest
/// order ([`super::PROJECTION_TABLES`], checked by a test).
macro_rules! with_projections {
    ($m:ident) => {
        $m! {
            Host => host, "hosts";
            Stake => stake, "stakes";
            Job => job, "jobs";
            Batch => batch, "batches";
            Dispute => dispute, "disputes";
            Slash => slash, "slashes";
            Equivocation => equivocation, "equivocations";
            Reputation => reputation, "reputation_history";
            Balance => balance, "balances";
            Transfer => transfer, "transfers";
            Delegation => delegation, "delegations";
            Proposal => proposal, "proposals";
            Vote => vote, "votes";
            Parameter => parameter, "parameters";
            VerifiableModel => verifiable_model, "verifiable_models";
        }
    };
}

macro_rules! projection_fns {
    ($($variant:ident => $module:ident, $table:literal;)*) => {
        /// The projection tables in the order the functions below visit them.
        #[cfg(test)]
        const VISIT_ORDER: [&str; 15] = [$($table),*];

        /// Upserts rows of any tables: grouped per table, one chunked statement series each.
        pub(crate) async fn upsert_rows<C: ConnectionTrait>(db: &C, rows: Vec<Row>) -> Result<()> {
            #[allow(non_snake_case)]
            #[derive(Default)]
            struct Groups {
                $($variant: Vec<$module::ActiveModel>,)*
            }
            let mut groups = Groups::default();
            for row in rows {
                match row {
                    $(Row::$variant(m) => groups.$variant.push(m.into()),)*
                }
            }
            $(
                if !groups.$variant.is_empty() {
                    insert_chunked::<$module::Entity, _>(
                        db,
                        groups.$variant,
                        &upsert::<$module::Entity>(),
                    )
                    .await?;
                }
            )*
            Ok(())
        }

        /// PostgreSQL: upserts rows of any tables with COPY, one staged batch per table.
        pub(crate) async fn copy_rows(
            conn: &mut sea_orm::sqlx::PgConnection,
            rows: Vec<Row>,
        ) -> Result<()> {
            #[allow(non_snake_case)]
            #[derive(Default)]
            struct Groups {
                $($variant: Vec<$module::Model>,)*
            }
            let mut groups = Groups::default();
            for row in rows {
                match row {
                    $(Row::$variant(m) => groups.$variant.push(m),)*
                }
            }
            $(
                super::pg::copy_upsert::<$module::Entity>(
                    conn,
                    &groups.$variant,
                    Conflict::Replace,
                )
                .await?;
            )*
            Ok(())
        }

        /// SQLite's bulk path: each table's rows through its prepared multi-row upsert.
        pub(crate) async fn insert_rows_sqlite(
            conn: &mut sea_orm::sqlx::SqliteConnection,
            rows: Vec<Row>,
        ) -> Result<()> {
            #[allow(non_snake_case)]
            #[derive(Default)]
            struct Groups {
                $($variant: Vec<$module::Model>,)*
            }
            let mut groups = Groups::default();
            for row in rows {
                match row {
                    $(Row::$variant(m) => groups.$variant.push(m),)*
                }
            }
            $(
                super::sqlite::insert::<$module::Entity>(
                    conn,
                    &groups.$variant,
                    Conflict::Replace,
                )
                .await?;
            )*
            Ok(())
        }

        /// Every projection row of a chain, table by table, each ordered by primary key.
        pub(crate) async fn load_projections<C: ConnectionTrait>(
            db: &C,
            chain_id: i64,
        ) -> Result<Vec<Row>> {
            let mut rows = Vec::new();
            $(
                rows.extend(
                    load_sorted::<$module::Entity, _>(db, chain_id)
                        .await?
                        .into_iter()
                        .map(Row::$variant),
                );
            )*
            Ok(rows)
        }

        /// Feeds every projection table of a chain into the digest, in [`super::PROJECTION_TABLES`] order.
        pub(crate) async fn hash_projections<C: ConnectionTrait>(
            db: &C,
            chain_id: i64,
            hasher: &mut Sha256,
        ) -> Result<()> {
            $(
                let rows = load_sorted::<$module::Entity, _>(db, chain_id).await?;
                hash_table(hasher, $table, &rows);
            )*
            Ok(())
        }
    };
}

with_projections!(projection_fns);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_projections_in_digest_order() {
        assert_eq!(VISIT_ORDER, super::super::PROJECTION_TABLES);
    }

    #[test]
    fn chunks_fit_the_bind_limits() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let per = rows_per_statement::<job::Entity>(backend);
            assert!(per * job::Column::iter().count() <= max_binds(backend));
        }
    }
}
