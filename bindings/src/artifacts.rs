//! Forge artifacts read at run time: the generated Halo2 verifiers. Their Solidity is produced
//! by `vouch proof setup` from the project's verifying keys (it may not be committed), so their
//! bytecode cannot be compiled into the bindings; it is read from `out/` when needed.

use std::path::PathBuf;

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
    #[error("artifact {path} has no creation bytecode: {reason}")]
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
    let path = artifact_path(name);
    if !path.exists() {
        return Err(ArtifactError::Missing { path });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ArtifactError::Read {
        path: path.clone(),
        source,
    })?;
    let malformed = |reason: String| ArtifactError::Malformed {
        path: path.clone(),
        reason,
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    let hex = json["bytecode"]["object"]
        .as_str()
        .ok_or_else(|| malformed("no bytecode.object".into()))?;
    let code: Bytes = hex.parse().map_err(|e| malformed(format!("{e}")))?;
    if code.is_empty() {
        return Err(malformed("empty bytecode".into()));
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
    fn a_missing_artifact_says_how_to_make_it() {
        let err = creation_bytecode("NoSuchContract").unwrap_err();
        assert!(matches!(err, ArtifactError::Missing { .. }));
        assert!(
            err.to_string().contains("run `bash script/setup.sh`"),
            "{err}"
        );
    }
}
