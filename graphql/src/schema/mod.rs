//! The query root, merged from one object per domain, and what every row type shares.

mod batch;
mod dispute;
mod governance;
mod host;
mod job;
mod model;
mod protocol;
mod reputation;
mod slash;
mod status;

use async_graphql::MergedObject;

pub use host::HostListing;
pub use reputation::decay;

/// The root of every query.
#[derive(MergedObject, Default)]
pub struct Query(
    host::HostQuery,
    job::JobQuery,
    batch::BatchQuery,
    model::ModelQuery,
    slash::SlashQuery,
    dispute::DisputeQuery,
    reputation::ReputationQuery,
    governance::GovernanceQuery,
    protocol::ProtocolQuery,
    status::StatusQuery,
);

/// A GraphQL enum mirroring a TEXT column: `parse` from the stored name, `db` back.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v),* }

        impl $name {
            pub fn parse(s: &str) -> Option<Self> {
                match s { $(stringify!($v) => Some($name::$v),)* _ => None }
            }
            pub fn db(self) -> &'static str {
                match self { $($name::$v => stringify!($v)),* }
            }
        }
    };
}
pub(crate) use text_enum;
