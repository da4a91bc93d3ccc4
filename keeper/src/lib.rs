//! The host's keeper: turns finished inference results into EZKL proofs and lands them on-chain
//! in batched transactions.
//!
//! [`prover`] makes and checks the proofs: a supervised pool of Python workers drives EZKL with
//! the circuit artifacts that `vouch proof setup` builds (docs/circuit.md). [`batcher`] decides
//! which queued jobs to prove together and when; [`tx`] lands the proofs (and any other
//! transaction of the host) exactly once.
//! [`intake`] takes results over HTTP, checks them against the chain ([`chain`]), signs them
//! ([`signing`]) and makes them durable in [`queue`] before it replies (docs/keeper.md).
//! [`host`] holds the host's own operations (keys, stake, registration, payments, status) and
//! [`watcher`] its chores on chain (claims, heartbeats, expiries, alerts). [`pipeline`] carries
//! accepted results through batcher, prover and transaction manager to the chain, and
//! [`service`] runs all of it as one embeddable keeper ([`service::Keeper::start`]).

pub mod batcher;
pub mod chain;
pub mod host;
pub mod intake;
pub mod metrics;
pub mod pipeline;
pub mod prover;
pub mod queue;
pub mod service;
pub mod signing;
pub mod tx;
pub mod watcher;
