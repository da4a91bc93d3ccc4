//! The host's keeper: turns finished inference results into EZKL proofs and lands them on-chain
//! in batched transactions.
//!
//! [`prover`] makes and checks the proofs: a supervised pool of Python workers drives EZKL with
//! the circuit artifacts that `vouch proof setup` builds (docs/circuit.md).

pub mod prover;
pub mod host;
pub mod watcher;
