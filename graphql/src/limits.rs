//! The limits every request is held to, and where each is enforced:
//!
//! | limit | value | enforced by |
//! | --- | --- | --- |
//! | depth | 12 | async-graphql (`limit_depth`) |
//! | complexity | 5000 (a connection costs its page size times its selection) | async-graphql (`limit_complexity`, [`page_cost`]) |
//! | page size | 1000 (`first`/`last` above it is an error, not a clamp) | `pagination::check` |
//! | aliases | 50 per document | [`AliasLimit`], at parse time |
//! | request body | 256 KiB (413 above) | `server` |
//! | time | 5 s per request (a GraphQL error after) | `server` |
//! | reading the headers | 10 s from the connection's first byte (the connection is closed) | `server` (hyper's header read timeout) |
//! | reading the body | 10 s (408 and the connection closed) | `server` |

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{SchemaBuilder, ServerError, ServerResult, Variables};

pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 5000;
pub const MAX_PAGE: usize = 1000;
pub const DEFAULT_PAGE: usize = 20;
pub const MAX_ALIASES: usize = 50;
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a client may take to send a request's headers, and separately its body: a client
/// that trickles bytes (slow loris) cannot hold a connection and a task longer than this.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The schema's own limits and extensions.
pub fn apply<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S> {
    builder
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(64)
        .limit_directives(16)
        .extension(AliasLimit(MAX_ALIASES))
}

/// The complexity of a connection field: its page size (capped at [`MAX_PAGE`]: a larger one is
/// refused by the resolver with its own message) times the cost of one node, plus one.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first
        .or(last)
        .map(|n| n.clamp(0, MAX_PAGE as i32) as usize)
        .unwrap_or(DEFAULT_PAGE);
    n.max(1).saturating_mul(child).saturating_add(1)
}

/// Refuses a document with more than N aliased fields (in its operations and fragments).
pub struct AliasLimit(pub usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExt(self.0))
    }
}

struct AliasLimitExt(usize);

fn count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count(&f.node.selection_set.node)
            }
            Selection::InlineFragment(i) => count(&i.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

pub fn aliases(doc: &ExecutableDocument) -> usize {
    let ops: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let frags: usize = doc
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    ops + frags
}

#[async_trait::async_trait]
impl Extension for AliasLimitExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let n = aliases(&doc);
        if n > self.0 {
            return Err(ServerError::new(
                format!("Query has too many aliases: {n} (at most {})", self.0),
                None,
            ));
        }
        Ok(doc)
    }
}
