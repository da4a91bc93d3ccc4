//! The deployment manifest (`deploy/<name>.json`): the one place a network's contract addresses
//! live. Written by the deploy script, read by the indexer, the keeper and the tests. Its
//! contract names come from the contract table (`src/table.rs`).
//!
//! ```json
//! {"chainId": 31337, "startBlock": 0, "contracts": {"VouchToken": "0x.."}}
//! ```

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

/// Why a manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read deployment manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write deployment manifest {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("deployment manifest {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("deployment manifest {path}: contract {name} has the zero address")]
    ZeroAddress { path: PathBuf, name: &'static str },
}

/// Where one deployment of Vouch lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// EIP-155 chain id the addresses belong to.
    pub chain_id: u64,
    /// First block that can hold a Vouch event: where indexing starts.
    pub start_block: u64,
    pub contracts: Contracts,
}

// `Contracts` and its `all()`, one field per row of the contract table, both kinds.
macro_rules! contracts_struct {
    (
        contracts: [$(($name:ident, $field:ident, $events:ident, $path:literal, $key:literal)),* $(,)?],
        verifiers: [$(($verifier:ident, $verifier_key:literal)),* $(,)?] $(,)?
    ) => {
        /// The address of every Vouch contract in one deployment. The verifiers are the
        /// generated Halo2 verifiers, one per batch size (1, 16 and 64 jobs per proof).
        /// Every field is required: a manifest missing a contract, or naming one more, is
        /// rejected.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Contracts {
            $(
                #[serde(rename = $key)]
                pub $field: Address,
            )*
            $(
                #[serde(rename = $verifier_key)]
                pub $verifier: Address,
            )*
        }

        impl Contracts {
            /// The manifest name of every contract, in the table's order (that of [`all`](Self::all)).
            pub const NAMES: &'static [&'static str] = &[$($key,)* $($verifier_key,)*];

            /// Every contract as (manifest name, address), in a fixed order.
            pub fn all(&self) -> Vec<(&'static str, Address)> {
                vec![$(($key, self.$field),)* $(($verifier_key, self.$verifier),)*]
            }
        }
    };
}

for_each_contract!(contracts_struct);

impl Deployment {
    /// Reads and validates a manifest: every address must be set.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let deployment: Deployment =
            serde_json::from_str(&text).map_err(|source| ManifestError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if let Some((name, _)) = deployment
            .contracts
            .all()
            .into_iter()
            .find(|(_, a)| a.is_zero())
        {
            return Err(ManifestError::ZeroAddress {
                path: path.to_owned(),
                name,
            });
        }
        Ok(deployment)
    }

    /// Writes the manifest as pretty JSON, creating the parent folder.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ManifestError> {
        let path = path.as_ref();
        let write_err = |source| ManifestError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(write_err)?;
        }
        let text = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        std::fs::write(path, text + "\n").map_err(write_err)
    }

    /// Every deployed address, for log filters.
    pub fn addresses(&self) -> Vec<Address> {
        self.contracts.all().into_iter().map(|(_, a)| a).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;

    fn sample() -> Deployment {
        let a = |n: u8| Address::repeat_byte(n);
        Deployment {
            chain_id: 31337,
            start_block: 7,
            contracts: Contracts {
                vouch_token: address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
                staking: a(2),
                node_registry: a(3),
                reputation_registry: a(4),
                job_marketplace: a(5),
                slashing: a(6),
                proof_system: a(7),
                timelock_controller: a(8),
                vouch_governor: a(9),
                halo2_verifier_b1: a(10),
                halo2_verifier_b16: a(11),
                halo2_verifier_b64: a(12),
            },
        }
    }

    #[test]
    fn round_trips_through_the_documented_json_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deploy/anvil.json");
        sample().save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["chainId"], 31337);
        assert_eq!(value["startBlock"], 7);
        assert_eq!(
            value["contracts"]["VouchToken"],
            "0x5fbdb2315678afecb367f032d93f642f64180aa3"
        );
        assert_eq!(
            value["contracts"]["Halo2VerifierB16"],
            "0x0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
        );
        let mut keys: Vec<&str> = value["contracts"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names = Contracts::NAMES.to_vec();
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys, names, "serialized keys vs the table");
        assert_eq!(names.len(), 12);
        assert_eq!(Deployment::load(&path).unwrap(), sample());
    }

    #[test]
    fn rejects_a_zero_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let mut d = sample();
        d.contracts.slashing = Address::ZERO;
        d.save(&path).unwrap();
        let err = Deployment::load(&path).unwrap_err();
        assert!(
            matches!(
                err,
                ManifestError::ZeroAddress {
                    name: "Slashing",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn rejects_unknown_and_missing_fields_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let mut value = serde_json::to_value(sample()).unwrap();
        value["extra"] = 1.into();
        std::fs::write(&path, value.to_string()).unwrap();
        let err = Deployment::load(&path).unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");

        let mut value = serde_json::to_value(sample()).unwrap();
        value["contracts"]
            .as_object_mut()
            .unwrap()
            .remove("ProofSystem");
        std::fs::write(&path, value.to_string()).unwrap();
        let err = Deployment::load(&path).unwrap_err();
        assert!(
            err.to_string().contains("missing field `ProofSystem`"),
            "{err}"
        );

        let missing = Deployment::load(dir.path().join("nope.json")).unwrap_err();
        assert!(matches!(missing, ManifestError::Read { .. }), "{missing}");
    }
}
