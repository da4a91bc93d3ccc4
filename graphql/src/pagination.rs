//! Relay connections (`first`/`after`, `last`/`before`, edges, pageInfo, `totalCount`) with
//! keyset cursors: a cursor is the row's sort key followed by its primary key, as base64 of
//! JSON, opaque to clients. A page is `WHERE (key) > (cursor) ORDER BY key LIMIT n + 1`, never
//! OFFSET, so a page boundary stays put while rows are inserted elsewhere. Sorting is total
//! (the primary key ends every key) and in one direction for all its parts, so a row-value
//! comparison is exact on SQLite and PostgreSQL alike. Decimal amounts sort as
//! `(length(x), x)`.

use std::cmp::Ordering;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Enum, Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};

use crate::context::RequestCtx;
use crate::limits::{DEFAULT_PAGE, MAX_PAGE};
use crate::{Error, Result};

/// One component of a cursor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum K {
    I(i64),
    S(String),
}

impl From<&K> for SimpleExpr {
    fn from(k: &K) -> SimpleExpr {
        match k {
            K::I(i) => Expr::val(*i).into(),
            K::S(s) => Expr::val(s.clone()).into(),
        }
    }
}

/// A sort key: its components in order.
pub type Key = Vec<K>;

/// The key parts of a decimal amount: its length, then its text.
pub fn dec_key(s: &str) -> [K; 2] {
    [K::I(s.len() as i64), K::S(s.to_owned())]
}

/// `LENGTH(col), col` of a decimal column.
pub fn dec_order(col: impl sea_orm::sea_query::IntoColumnRef + Clone) -> [SimpleExpr; 2] {
    [
        Expr::cust_with_exprs("LENGTH($1)", [Expr::col(col.clone()).into()]),
        Expr::col(col).into(),
    ]
}

pub fn encode(key: &Key) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("keys serialize"))
}

pub fn decode(cursor: &str, arity: usize) -> Result<Key> {
    let bad = || {
        Error::BadInput(format!(
            "cursor {cursor:?} is not a cursor of this connection"
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let key: Key = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if key.len() != arity {
        return Err(bad());
    }
    Ok(key)
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Direction {
    Asc,
    #[default]
    Desc,
}

/// The pagination arguments of a connection field.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }
}

/// Checked arguments: the bounds and how many rows from which end.
pub struct Spec {
    pub after: Option<Key>,
    pub before: Option<Key>,
    /// Rows wanted.
    pub n: usize,
    /// From the end (`last`) instead of the start.
    pub backward: bool,
}

pub fn check(args: &PageArgs, arity: usize) -> Result<Spec> {
    let count = |name: &str, v: i32| -> Result<usize> {
        if v < 0 {
            return Err(Error::BadInput(format!(
                "`{name}` must not be negative (got {v})"
            )));
        }
        if v as usize > MAX_PAGE {
            return Err(Error::BadInput(format!(
                "`{name}` is at most {MAX_PAGE} (got {v}): page with `after`/`before` instead"
            )));
        }
        Ok(v as usize)
    };
    let (n, backward) = match (args.first, args.last) {
        (Some(_), Some(_)) => {
            return Err(Error::BadInput(
                "pass `first` or `last`, not both".to_owned(),
            ));
        }
        (Some(f), None) => (count("first", f)?, false),
        (None, Some(l)) => (count("last", l)?, true),
        (None, None) => (DEFAULT_PAGE, args.before.is_some() && args.after.is_none()),
    };
    Ok(Spec {
        after: args
            .after
            .as_deref()
            .map(|c| decode(c, arity))
            .transpose()?,
        before: args
            .before
            .as_deref()
            .map(|c| decode(c, arity))
            .transpose()?,
        n,
        backward,
    })
}

/// `totalCount`, counted only when asked for.
#[derive(Clone)]
pub struct TotalCount(Arc<dyn Fn() -> BoxFuture<'static, Result<u64>> + Send + Sync>);

impl TotalCount {
    pub fn known(n: usize) -> TotalCount {
        TotalCount(Arc::new(move || Box::pin(async move { Ok(n as u64) })))
    }

    fn query<E>(ctx: &RequestCtx, select: Select<E>) -> TotalCount
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let tx = ctx.tx.clone();
        TotalCount(Arc::new(move || {
            let tx = tx.clone();
            let select = select.clone();
            Box::pin(async move {
                use tracing::Instrument;
                Ok(select
                    .count(&*tx)
                    .instrument(tracing::debug_span!("db.count"))
                    .await?)
            })
        }))
    }
}

#[Object]
impl TotalCount {
    /// Rows matching the filter, in all pages.
    async fn total_count(&self) -> async_graphql::Result<u64> {
        Ok((self.0)().await?)
    }
}

pub type Conn<N> = Connection<String, N, TotalCount>;

/// A page of rows from SQL. `order`: the key expressions (sort key then primary key);
/// `key`: the same key read from a row; `desc`: the connection's direction.
#[allow(clippy::too_many_arguments)]
pub async fn sql_page<E, N, F>(
    ctx: &RequestCtx,
    table: &'static str,
    select: Select<E>,
    order: Vec<SimpleExpr>,
    desc: bool,
    args: &PageArgs,
    key: impl Fn(&E::Model) -> Key,
    node: F,
) -> Result<Conn<N>>
where
    E: EntityTrait,
    E::Model: Sync,
    N: OutputType,
    F: Fn(E::Model) -> N,
{
    let spec = check(args, order.len())?;
    let total = TotalCount::query(ctx, select.clone());
    let tuple = || Expr::tuple(order.clone());
    let after = |k: &Key| -> SimpleExpr {
        let v = Expr::tuple(k.iter().map(SimpleExpr::from));
        if desc { tuple().lt(v) } else { tuple().gt(v) }
    };
    let before = |k: &Key| -> SimpleExpr {
        let v = Expr::tuple(k.iter().map(SimpleExpr::from));
        if desc { tuple().gt(v) } else { tuple().lt(v) }
    };
    let mut q = select;
    if let Some(k) = &spec.after {
        q = sea_orm::QueryFilter::filter(q, after(k));
    }
    if let Some(k) = &spec.before {
        q = sea_orm::QueryFilter::filter(q, before(k));
    }
    // Backward pages read from the end, in the opposite order, then flip.
    let reverse = desc ^ spec.backward;
    for e in &order {
        q = if reverse {
            q.order_by_desc(e.clone())
        } else {
            q.order_by_asc(e.clone())
        };
    }
    q = q.limit(spec.n as u64 + 1);
    let mut rows = ctx.all(table, q).await?;
    let more = rows.len() > spec.n;
    rows.truncate(spec.n);
    if spec.backward {
        rows.reverse();
    }
    let (has_prev, has_next) = if spec.backward {
        (more, spec.before.is_some())
    } else {
        (spec.after.is_some(), more)
    };
    let mut conn = Connection::with_additional_fields(has_prev, has_next, total);
    conn.edges.extend(
        rows.into_iter()
            .map(|r| Edge::new(encode(&key(&r)), node(r))),
    );
    Ok(conn)
}

/// A page of an in-memory list sorted by `key` (ascending; `desc` flips it).
pub fn memory_page<T, N: OutputType>(
    mut items: Vec<(Key, T)>,
    desc: bool,
    args: &PageArgs,
    arity: usize,
    node: impl Fn(T) -> N,
) -> Result<Conn<N>> {
    let spec = check(args, arity)?;
    let total = items.len();
    let ord = |a: &Key, b: &Key| if desc { b.cmp(a) } else { a.cmp(b) };
    items.sort_by(|a, b| ord(&a.0, &b.0));
    items.retain(|(k, _)| {
        spec.after
            .as_ref()
            .is_none_or(|a| ord(k, a) == Ordering::Greater)
            && spec
                .before
                .as_ref()
                .is_none_or(|b| ord(k, b) == Ordering::Less)
    });
    let len = items.len();
    let (has_prev, has_next, range) = if spec.backward {
        let start = len.saturating_sub(spec.n);
        (start > 0, spec.before.is_some(), start..len)
    } else {
        let end = len.min(spec.n);
        (spec.after.is_some(), end < len, 0..end)
    };
    let mut conn = Connection::with_additional_fields(has_prev, has_next, TotalCount::known(total));
    conn.edges.extend(
        items
            .into_iter()
            .skip(range.start)
            .take(range.len())
            .map(|(k, t)| Edge::new(encode(&k), node(t))),
    );
    Ok(conn)
}

/// A page of `items`, already sorted ascending by key, of the items `keep` accepts: what
/// [`memory_page`] answers for the kept items, but the cursors are found by binary search and
/// only the page's nodes are built, so a shared, pre-sorted list (the host listing) costs one
/// pass of `keep` (for `totalCount`) and a page's worth of `node` per request.
pub fn sorted_page<T, N: OutputType>(
    items: &[(Key, T)],
    desc: bool,
    args: &PageArgs,
    arity: usize,
    keep: impl Fn(&T) -> bool,
    node: impl Fn(&T) -> N,
) -> Result<Conn<N>> {
    let spec = check(args, arity)?;
    let total = items.iter().filter(|(_, t)| keep(t)).count();
    // The range the cursors leave, in ascending indices.
    let above = |b: &Key| items.partition_point(|(k, _)| k <= b);
    let from = |b: &Key| items.partition_point(|(k, _)| k < b);
    let (mut lo, mut hi) = (0, items.len());
    let (low_cursor, high_cursor) = if desc {
        (&spec.before, &spec.after)
    } else {
        (&spec.after, &spec.before)
    };
    if let Some(b) = low_cursor {
        lo = above(b);
    }
    if let Some(b) = high_cursor {
        hi = hi.min(from(b));
    }
    let window = items.get(lo..hi.max(lo)).unwrap_or_default();
    let walk: Box<dyn Iterator<Item = &(Key, T)>> = match (desc, spec.backward) {
        // Forward walks the connection's order; backward walks it from the end.
        (false, false) | (true, true) => Box::new(window.iter()),
        (true, false) | (false, true) => Box::new(window.iter().rev()),
    };
    let mut page: Vec<&(Key, T)> = walk.filter(|(_, t)| keep(t)).take(spec.n + 1).collect();
    let more = page.len() > spec.n;
    page.truncate(spec.n);
    let (has_prev, has_next) = if spec.backward {
        page.reverse();
        (more, spec.before.is_some())
    } else {
        (spec.after.is_some(), more)
    };
    let mut conn = Connection::with_additional_fields(has_prev, has_next, TotalCount::known(total));
    conn.edges
        .extend(page.into_iter().map(|(k, t)| Edge::new(encode(k), node(t))));
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let k = vec![K::I(3), K::S("0xAb".into())];
        assert_eq!(decode(&encode(&k), 2).unwrap(), k);
        assert!(decode("not a cursor", 2).is_err());
        assert!(decode(&encode(&k), 3).is_err());
    }

    #[test]
    fn memory_pages_walk_both_ways() {
        let items: Vec<(Key, i64)> = (0..7).map(|i| (vec![K::I(i)], i)).collect();
        let mut seen = vec![];
        let mut after = None;
        loop {
            let args = PageArgs::new(Some(3), after.clone(), None, None);
            let c = memory_page(items.clone(), false, &args, 1, |x| x).unwrap();
            seen.extend(c.edges.iter().map(|e| e.node));
            if !c.has_next_page {
                break;
            }
            after = c.edges.last().map(|e| e.cursor.clone());
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        let c = memory_page(
            items,
            false,
            &PageArgs::new(None, None, Some(2), None),
            1,
            |x| x,
        )
        .unwrap();
        assert_eq!(
            c.edges.iter().map(|e| e.node).collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert!(c.has_previous_page);
    }

    #[test]
    fn sorted_pages_answer_as_memory_pages() {
        // Keys with ties in the first component; every filter, direction, bound and count.
        let items: Vec<(Key, i64)> = (0..23).map(|i| (vec![K::I(i % 5), K::I(i)], i)).collect();
        let mut sorted = items.clone();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let cursor = |i: i64| encode(&vec![K::I(i % 5), K::I(i)]);
        let keeps: [fn(&i64) -> bool; 3] = [|_| true, |x| x % 3 == 0, |_| false];
        let mut bounds: Vec<Option<String>> = vec![None];
        bounds.extend([0, 4, 7, 13, 22].map(|i| Some(cursor(i))));
        let mut compared = 0;
        for keep in keeps {
            let kept: Vec<(Key, i64)> = items.iter().filter(|(_, t)| keep(t)).cloned().collect();
            for desc in [false, true] {
                for after in &bounds {
                    for before in &bounds {
                        for (first, last) in [
                            (Some(3), None),
                            (None, Some(4)),
                            (None, None),
                            (Some(0), None),
                            (Some(30), None),
                        ] {
                            let args = PageArgs::new(first, after.clone(), last, before.clone());
                            let want = memory_page(kept.clone(), desc, &args, 2, |x| x).unwrap();
                            let got = sorted_page(&sorted, desc, &args, 2, keep, |x| *x).unwrap();
                            let nodes = |c: &Conn<i64>| {
                                c.edges
                                    .iter()
                                    .map(|e| (e.cursor.clone(), e.node))
                                    .collect::<Vec<_>>()
                            };
                            assert_eq!(
                                nodes(&got),
                                nodes(&want),
                                "desc {desc} {after:?} {before:?} {first:?} {last:?}"
                            );
                            assert_eq!(
                                (got.has_previous_page, got.has_next_page),
                                (want.has_previous_page, want.has_next_page),
                                "desc {desc} {after:?} {before:?} {first:?} {last:?}"
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 3 * 2 * 6 * 6 * 5);
    }
}
