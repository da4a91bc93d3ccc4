//! The Vouch GraphQL API (async-graphql on axum) over the indexer's database.
//!
//! | module | owns |
//! | --- | --- |
//! | `cache` | the response cache: encoded answers keyed by request, valid for one version of the checkpoints |
//! | `context` | the per-request read-only transaction, the checkpoint and clock every row is judged by, database query spans |
//! | `scalars` | `BigInt`, `Address`, `Bytes32`, `Time` |
//! | `pagination` | Relay connections with keyset cursors (SQL and in-memory) |
//! | `limits` | depth, complexity, page size, alias count, body size, timeout |
//! | `loaders` | the DataLoaders that link objects to their neighbours in one query per page |
//! | `schema/` | the query root and one file per domain |
//! | `graphiql` | the GraphiQL page and its vendored scripts (no CDN) |
//! | `explorer` | the web explorer at `/`: its page, modules and stylesheet, embedded |
//! | `server` | axum: `/` (explorer), `/graphql` (GraphiQL, POST, websocket), `/healthz`, `/metrics`, CORS, gzip |
//! | `subscriptions/` | live events: the process's feed of committed events, the subscription root, the websocket protocols and caps |
//! | `metrics` | the Prometheus counters of the server |

pub mod cache;
pub mod context;
pub mod explorer;
pub mod graphiql;
pub mod limits;
pub mod loaders;
pub mod metrics;
pub mod pagination;
pub mod scalars;
pub mod schema;
pub mod server;
pub mod subscriptions;

use async_graphql::{EmptyMutation, Schema};

pub use schema::Query;
pub use server::{ServeConfig, router, serve, serve_on};

pub use subscriptions::{LiveFeed, Subscription, SubscriptionLimits};

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

/// The schema with its limits and extensions, without a live feed (queries only: the
/// server adds the database per request).
pub fn build_schema() -> VouchSchema {
    build_schema_with(None)
}

/// The schema, its subscriptions fed by `feed` (the process's one [`LiveFeed`]).
pub fn build_schema_with(feed: Option<LiveFeed>) -> VouchSchema {
    let builder = limits::apply(Schema::build(Query::default(), EmptyMutation, Subscription))
        .data(schema::HostListing::default());
    match feed {
        Some(feed) => builder.data(feed).finish(),
        None => builder.finish(),
    }
}

/// The schema in SDL, as `vouch serve --print-schema` prints it and docs/schema.graphql holds.
pub fn sdl() -> String {
    build_schema().sdl()
}
