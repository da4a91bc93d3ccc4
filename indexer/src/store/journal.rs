//! The reorg journal (`undo_log`): encoding [`UndoEntry`]s as rows, and turning the rows above
//! an ancestor back into what undoes them.
//!
//! An entry whose prior image exists restores it (an upsert of the stored `Row` JSON). An entry
//! without one (the block created the row) deletes the row by table and primary key, parsed
//! from [`RowKey::key`] — the inverse of [`Row::key`]. The parse is unambiguous because every
//! key component but the last-split one is colon-free by domain (hex hashes and addresses,
//! decimal ids, the `marketplace`/`bond` ledger, manifest contract names); integer components
//! are split off from the right. Keys are checked when the commit carrying them is written
//! ([`check_key`]), so a rollback never meets an entry it cannot replay.

use std::collections::HashMap;

use sea_orm::sea_query::DeleteStatement;
use sea_orm::{ActiveValue, ConnectionTrait, EntityTrait, QueryTrait};

use super::entity::*;
use super::row::Row;
use super::writer::UndoEntry;
use super::{Result, StoreError};

/// The `undo_log` row of one entry (its id is assigned by the database: insertion order).
pub(crate) fn encode(chain_id: i64, entry: &UndoEntry) -> undo::ActiveModel {
    undo::ActiveModel {
        id: ActiveValue::NotSet,
        chain_id: ActiveValue::Set(chain_id),
        block_number: ActiveValue::Set(super::sea::int(entry.block_number)),
        table_name: ActiveValue::Set(entry.key.table.to_owned()),
        row_key: ActiveValue::Set(entry.key.key.clone()),
        prior: ActiveValue::Set(
            entry
                .prior
                .as_ref()
                .map(|row| serde_json::to_string(row).expect("rows serialize to JSON")),
        ),
    }
}

/// What undoing the journal does to one row.
pub(crate) enum Undo {
    Restore(Box<Row>),
    Delete { table: String, key: String },
}

/// Collapses journal rows (newest first, as rollback reads them) to one action per row: the
/// oldest entry wins, as it holds the image from before the first rolled-back block.
pub(crate) fn collapse(newest_first: Vec<undo::Model>) -> Result<Vec<Undo>> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut latest: HashMap<(String, String), Option<String>> = HashMap::new();
    for m in newest_first {
        let id = (m.table_name, m.row_key);
        if latest.insert(id.clone(), m.prior).is_none() {
            order.push(id);
        }
    }
    order
        .into_iter()
        .map(|id| {
            let prior = latest.remove(&id).flatten();
            match prior {
                Some(json) => serde_json::from_str(&json)
                    .map(|row| Undo::Restore(Box::new(row)))
                    .map_err(|source| StoreError::CorruptRow {
                        table: "undo_log",
                        source,
                    }),
                None => Ok(Undo::Delete {
                    table: id.0,
                    key: id.1,
                }),
            }
        })
        .collect()
}

/// Fails unless `key` names a row of `table` (so rollback can delete it).
pub(crate) fn check_key(table: &str, key: &str) -> Result<()> {
    delete_statement(0, table, key).map(drop)
}

/// Deletes the row of `table` with primary key (`chain_id`, `key`).
pub(crate) async fn delete_row<C: ConnectionTrait>(
    db: &C,
    chain_id: i64,
    table: &str,
    key: &str,
) -> Result<()> {
    let stmt = delete_statement(chain_id, table, key)?;
    db.execute(db.get_database_backend().build(&stmt)).await?;
    Ok(())
}

fn delete_statement(chain: i64, table: &str, key: &str) -> Result<DeleteStatement> {
    let bad = || StoreError::BadUndoKey {
        table: table.to_owned(),
        key: key.to_owned(),
    };
    let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
    let text = || key.to_owned();
    // "tx_hash:log_index": the log index is the integer after the last colon.
    let tx_log = || -> Result<(i64, String, i64)> {
        let (tx, log) = key.rsplit_once(':').ok_or_else(bad)?;
        Ok((chain, tx.to_owned(), int(log)?))
    };
    let pair = |s: &str| -> Result<(String, String)> {
        let (a, b) = s.split_once(':').ok_or_else(bad)?;
        Ok((a.to_owned(), b.to_owned()))
    };
    let stmt = match table {
        "hosts" => host::Entity::delete_by_id((chain, text())).into_query(),
        "stakes" => stake::Entity::delete_by_id((chain, text())).into_query(),
        "jobs" => job::Entity::delete_by_id((chain, int(key)?)).into_query(),
        "batches" => batch::Entity::delete_by_id(tx_log()?).into_query(),
        "disputes" => dispute::Entity::delete_by_id((chain, int(key)?)).into_query(),
        "slashes" => slash::Entity::delete_by_id(tx_log()?).into_query(),
        "equivocations" => equivocation::Entity::delete_by_id((chain, int(key)?)).into_query(),
        "reputation_history" => reputation::Entity::delete_by_id(tx_log()?).into_query(),
        "balances" => {
            let (ledger, rest) = pair(key)?;
            let (account, token) = pair(&rest)?;
            balance::Entity::delete_by_id((chain, ledger, account, token)).into_query()
        }
        "transfers" => transfer::Entity::delete_by_id(tx_log()?).into_query(),
        "delegations" => delegation::Entity::delete_by_id((chain, text())).into_query(),
        "proposals" => proposal::Entity::delete_by_id((chain, text())).into_query(),
        "votes" => {
            let (proposal, voter) = pair(key)?;
            vote::Entity::delete_by_id((chain, proposal, voter)).into_query()
        }
        "parameters" => {
            let (contract, name) = pair(key)?;
            parameter::Entity::delete_by_id((chain, contract, name)).into_query()
        }
        "verifiable_models" => verifiable_model::Entity::delete_by_id((chain, text())).into_query(),
        _ => return Err(bad()),
    };
    Ok(stmt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_keys_that_are_not_primary_keys() {
        assert!(check_key("jobs", "12").is_ok());
        assert!(check_key("jobs", "0xab").is_err());
        assert!(check_key("batches", "0xab:3").is_ok());
        assert!(check_key("batches", "0xab").is_err());
        assert!(check_key("balances", "bond:0xa").is_err());
        assert!(check_key("balances", "bond:0xa:0x0").is_ok());
        assert!(check_key("events", "0xab:1").is_err());
    }
}
