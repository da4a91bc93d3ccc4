//! Helpers for tests across the workspace, so every test gets real, isolated parts:
//! its own PostgreSQL database, its own SQLite file, and the project's pinned anvil.

mod anvil;
mod databases;

pub use anvil::{anvil, anvil_path, workspace_root};
pub use databases::{FreshPostgres, FreshSqlite, admin_url};
