//! sea-orm entities: one module per table. Amounts are decimal text (exact, identical on
//! SQLite and PostgreSQL), hashes and addresses 0x hex text, times unix seconds.

pub mod balance;
pub mod batch;
pub mod block;
pub mod checkpoint;
pub mod delegation;
pub mod dispute;
pub mod equivocation;
pub mod event;
pub mod host;
pub mod job;
pub mod parameter;
pub mod proposal;
pub mod reputation;
pub mod slash;
pub mod stake;
pub mod transfer;
pub mod undo;
pub mod verifiable_model;
pub mod vote;
