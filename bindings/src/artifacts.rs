//! Forge artifacts read at run time: the generated Halo2 verifiers (their Solidity is produced
//! by `vouch proof setup` from the project's verifying keys and may not be committed, so their
//! bytecode cannot be compiled into the bindings), and the runtime code and ABI of every
//! contract, against which a deployment's code on chain is checked.

use std::path::{Path, PathBuf};

use alloy::primitives::Bytes;

/// Why an artifact could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error(
        "artifact {path} is missing: run `bash script/setup.sh` (it generates and compiles the verifiers)"
    )]
    Missing { path: PathBuf },
    #[error("cannot read artifact {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("artifact {path} is malformed: {reason}")]
    Malformed { path: PathBuf, reason: String },
}

/// forge's artifact of contract `name` compiled from `<name>.sol`.
pub fn artifact_path(name: &str) -> PathBuf {
    crate::repository_root()
        .join("out")
        .join(format!("{name}.sol"))
        .join(format!("{name}.json"))
}

/// Contract name of the generated verifier for a batch size.
pub fn verifier_name(batch_size: usize) -> String {
    format!("Halo2VerifierB{batch_size}")
}

/// Creation bytecode of a compiled contract, from its forge artifact.
pub fn creation_bytecode(name: &str) -> Result<Bytes, ArtifactError> {
    let (path, json) = read_artifact(name)?;
    code_at(&path, &json, "bytecode")
}

/// What a contract's code on chain must be: forge's `deployedBytecode`, except the byte ranges
/// of its immutables, which the constructor fills in per deployment.
#[derive(Debug, Clone)]
pub struct RuntimeCode {
    pub code: Bytes,
    /// (start, length) of every immutable's slot in `code`.
    pub immutables: Vec<(usize, usize)>,
}

impl RuntimeCode {
    /// Whether `onchain` is this code with some values in the immutables' slots; else why not.
    pub fn check(&self, onchain: &[u8]) -> Result<(), String> {
        if onchain.len() != self.code.len() {
            return Err(format!(
                "{} bytes on chain, {} compiled",
                onchain.len(),
                self.code.len()
            ));
        }
        let mut masked = vec![false; onchain.len()];
        for &(start, len) in &self.immutables {
            masked[start..(start + len).min(onchain.len())].fill(true);
        }
        match (0..onchain.len()).find(|&i| !masked[i] && onchain[i] != self.code[i]) {
            Some(i) => Err(format!("first difference at byte {i}")),
            None => Ok(()),
        }
    }
}

/// Runtime code of a compiled contract, with its immutables' positions.
pub fn runtime_code(name: &str) -> Result<RuntimeCode, ArtifactError> {
    let (path, json) = read_artifact(name)?;
    let code = code_at(&path, &json, "deployedBytecode")?;
    let mut immutables = Vec::new();
    if let Some(refs) = json["deployedBytecode"]["immutableReferences"].as_object() {
        for slots in refs.values() {
            for slot in slots.as_array().into_iter().flatten() {
                let start = slot["start"].as_u64().unwrap_or(0) as usize;
                let len = slot["length"].as_u64().unwrap_or(0) as usize;
                immutables.push((start, len));
            }
        }
    }
    Ok(RuntimeCode { code, immutables })
}

/// Names of a contract's role getters (`FOO_ROLE()` functions of its ABI), so roles on chain
/// can be named without a list kept by hand.
pub fn role_getters(name: &str) -> Result<Vec<String>, ArtifactError> {
    let (_, json) = read_artifact(name)?;
    let mut names: Vec<String> = json["abi"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["type"] == "function")
        .filter(|item| item["inputs"].as_array().is_some_and(|i| i.is_empty()))
        .filter_map(|item| item["name"].as_str())
        .filter(|n| n.ends_with("_ROLE"))
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn read_artifact(name: &str) -> Result<(PathBuf, serde_json::Value), ArtifactError> {
    let path = artifact_path(name);
    if !path.exists() {
        return Err(ArtifactError::Missing { path });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ArtifactError::Read {
        path: path.clone(),
        source,
    })?;
    let json = serde_json::from_str(&text).map_err(|e| ArtifactError::Malformed {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok((path, json))
}

fn code_at(path: &Path, json: &serde_json::Value, field: &str) -> Result<Bytes, ArtifactError> {
    let malformed = |reason: String| ArtifactError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let hex = json[field]["object"]
        .as_str()
        .ok_or_else(|| malformed(format!("no {field}.object")))?;
    let code: Bytes = hex.parse().map_err(|e| malformed(format!("{e}")))?;
    if code.is_empty() {
        return Err(malformed(format!("empty {field}")));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_compiled_contracts_bytecode() {
        let code = creation_bytecode("VouchToken").unwrap();
        assert!(code.len() > 1000, "{} bytes", code.len());
    }

    #[test]
    fn runtime_code_masks_the_immutables_and_nothing_else() {
        // Staking keeps the token as an immutable.
        let runtime = runtime_code("Staking").unwrap();
        assert!(!runtime.immutables.is_empty());
        let mut onchain = runtime.code.to_vec();
        let (start, len) = runtime.immutables[0];
        onchain[start..start + len].fill(0xab);
        assert_eq!(runtime.check(&onchain), Ok(()));
        let outside = (0..onchain.len())
            .find(|i| {
                !runtime
                    .immutables
                    .iter()
                    .any(|&(s, l)| (s..s + l).contains(i))
            })
            .unwrap();
        onchain[outside] ^= 1;
        assert_eq!(
            runtime.check(&onchain),
            Err(format!("first difference at byte {outside}"))
        );
        assert_eq!(
            runtime.check(&onchain[1..]),
            Err(format!(
                "{} bytes on chain, {} compiled",
                onchain.len() - 1,
                onchain.len()
            ))
        );
    }

    #[test]
    fn role_getters_come_from_the_abi() {
        assert_eq!(
            role_getters("JobMarketplace").unwrap(),
            vec![
                "DEFAULT_ADMIN_ROLE",
                "GUARDIAN_ROLE",
                "PAUSER_ROLE",
                "PROOF_SYSTEM_ROLE",
                "SLASHING_ROLE"
            ]
        );
    }

    #[test]
    fn a_missing_artifact_says_how_to_make_it() {
        let err = creation_bytecode("NoSuchContract").unwrap_err();
        assert!(matches!(err, ArtifactError::Missing { .. }));
        assert!(
            err.to_string().contains("run `bash script/setup.sh`"),
            "{err}"
        );
    }
}
