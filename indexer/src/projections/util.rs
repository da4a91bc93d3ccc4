//! Conversions shared by the projections: the text forms every table uses.

use alloy::primitives::{Address, B256, U256};

/// Checksummed 0x address (remembered per thread: a keccak each, and the same accounts recur).
pub fn addr(a: Address) -> String {
    vouch_bindings::events::checksummed(a)
}

/// `None` for the zero address.
pub fn opt_addr(a: Address) -> Option<String> {
    (!a.is_zero()).then(|| addr(a))
}

/// 0x lowercase hex.
pub fn hash(h: B256) -> String {
    format!("{h:#x}")
}

/// Decimal text of an amount (any unsigned integer type the bindings use).
pub fn dec(x: impl std::fmt::Display) -> String {
    x.to_string()
}

/// Parses stored decimal text back (rows are written only by us; a bad value is a bug).
pub fn parse(s: &str) -> U256 {
    U256::from_str_radix(s, 10).unwrap_or_else(|_| panic!("stored amount {s:?} is not decimal"))
}

/// `a + b` on decimal text.
pub fn add(a: &str, b: impl Into<U256>) -> String {
    (parse(a).saturating_add(b.into())).to_string()
}

/// `a - b` on decimal text, floored at zero (the chain never goes below; a floor keeps a
/// partial view from panicking).
pub fn sub(a: &str, b: impl Into<U256>) -> String {
    (parse(a).saturating_sub(b.into())).to_string()
}

/// A job id or other counter as i64 (they are sequential counters far below 2^63).
pub fn id(x: U256) -> i64 {
    x.saturating_to::<i64>()
}

/// Event-supplied times (uint40/uint64 seconds) as i64.
pub fn secs(x: impl TryInto<i64>) -> i64 {
    x.try_into().unwrap_or(i64::MAX)
}

/// A bytes16 region as text: its UTF-8 up to the first zero byte, else 0x hex.
pub fn region(r: alloy::primitives::FixedBytes<16>) -> String {
    let end = r.iter().position(|b| *b == 0).unwrap_or(16);
    match std::str::from_utf8(&r[..end]) {
        Ok(s) => s.to_owned(),
        Err(_) => format!("{r:#x}"),
    }
}

/// Gets the typed row of `$variant` at (`$table`, `$key`), created by `$make` when absent.
macro_rules! row {
    ($state:expr, $variant:ident, $table:literal, $key:expr, $make:expr) => {
        match $state.entry($crate::projections::state::key($table, $key), || {
            $crate::store::Row::$variant($make)
        }) {
            $crate::store::Row::$variant(r) => r,
            other => unreachable!("table {} holds {:?}", $table, other.key()),
        }
    };
}
pub(crate) use row;
