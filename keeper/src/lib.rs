//! The host's keeper: turns finished inference results into EZKL proofs and lands them on-chain
//! in batched transactions.
//!
//! [`prover`] makes and checks the proofs: a supervised pool of Python workers drives EZKL with
//! the circuit artifacts that `vouch proof setup` builds (docs/circuit.md). [`batcher`] decides
//! which queued jobs to prove together and when; [`tx`] lands the proofs (and any other
//! transaction of the host) exactly once. [`host`] holds the host's own operations (keys,
//! stake, registration, payments, status) and [`watcher`] its chores on chain (claims,
//! heartbeats, expiries, alerts).

pub mod batcher;
pub mod prover;
pub mod host;
pub mod tx;
pub mod watcher;
