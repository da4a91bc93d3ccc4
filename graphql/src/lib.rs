//! The Vouch GraphQL API (async-graphql on axum) over the indexer's database. It is built in its
//! own issue; this crate fixes its place in the dependency order (bindings <- indexer <- graphql).

pub mod subscriptions;
