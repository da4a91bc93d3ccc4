//! The Vouch GraphQL API (async-graphql on axum) over the indexer's database.
//!
//! | module | owns |
//! | --- | --- |
//! | `context` | the per-request read-only transaction, the checkpoint and clock every row is judged by, database query spans |
//! | `scalars` | `BigInt`, `Address`, `Bytes32`, `Time` |
//! | `pagination` | Relay connections with keyset cursors (SQL and in-memory) |
//! | `limits` | depth, complexity, page size, alias count, body size, timeout |
//! | `loaders` | the DataLoaders that link objects to their neighbours in one query per page |
//! | `schema/` | the query root and one file per domain |
//! | `server` | axum: `/graphql` (GraphiQL and POST), `/healthz`, `/metrics`, CORS, gzip |
//! | `metrics` | the Prometheus counters of the server |

pub mod context;
pub mod limits;
pub mod loaders;
pub mod metrics;
pub mod pagination;
pub mod scalars;
pub mod schema;
pub mod server;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};

pub use schema::Query;
pub use server::{ServeConfig, router, serve};

/// The subscription root: swap `EmptySubscription` for the subscription root on this line
/// (graphql/src/subscriptions/ is written separately).
pub type Subscription = EmptySubscription;

/// The executable schema.
pub type VouchSchema = Schema<Query, EmptyMutation, Subscription>;

/// Errors of the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    BadInput(String),
    #[error("stored row of {table} is corrupt: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The schema with its limits and extensions (no data: the server adds the database per request).
pub fn build_schema() -> VouchSchema {
    limits::apply(Schema::build(
        Query::default(),
        EmptyMutation,
        Subscription::default(),
    ))
    .finish()
}

/// The schema in SDL, as `vouch serve --print-schema` prints it and docs/schema.graphql holds.
pub fn sdl() -> String {
    build_schema().sdl()
}
