//! Helpers for tests across the workspace, so every test gets real, isolated parts:
//! its own PostgreSQL database, its own SQLite file, the project's pinned anvil, and the real
//! deploy script run against it; a headless Chromium for the browser tests.

mod anvil;
pub mod browser;
mod databases;
mod deploy;

pub use anvil::{anvil, anvil_path, anvil_without_size_limit, workspace_root};
pub use databases::{FreshPostgres, FreshSqlite, admin_url};
pub use deploy::{ScriptDeployment, deploy_with_models, deploy_with_script};
