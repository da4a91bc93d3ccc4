//! sea-orm entities: one module per table. Amounts are decimal text (exact, identical on
//! SQLite and PostgreSQL), hashes and addresses 0x hex text, times unix seconds.

pub mod event;
pub mod block;
pub mod checkpoint;
pub mod undo;
pub mod host;
pub mod stake;
pub mod job;
pub mod batch;
pub mod dispute;
pub mod slash;
pub mod equivocation;
pub mod reputation;
pub mod balance;
pub mod transfer;
pub mod delegation;
pub mod proposal;
pub mod vote;
pub mod parameter;
