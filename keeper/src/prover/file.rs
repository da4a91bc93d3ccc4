//! The proof file of `vouch proof prove` / `vouch proof verify` (one job per file), and the
//! parsing of the command line's hex values.
//!
//! ```json
//! { "jobId": "0x..", "modelHash": "0x..", "inputHash": "0x..", "outputHash": "0x..",
//!   "circuitVersion": 1, "batchSize": 1, "proof": "0x..", "instances": ["0x..", ...] }
//! ```

use std::path::Path;

use alloy::primitives::{B256, Bytes, U256};
use serde::{Deserialize, Serialize};

use super::config::ProverConfig;
use super::error::ProverError;
use super::types::{JobTuple, Proof};
use super::{Prover, check_shape};

/// A proof of one job tuple, as written by `vouch proof prove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProofFile {
    pub job_id: B256,
    pub model_hash: B256,
    pub input_hash: B256,
    pub output_hash: B256,
    pub circuit_version: u32,
    pub batch_size: usize,
    pub proof: Bytes,
    pub instances: Vec<U256>,
}

impl ProofFile {
    /// The job tuple the file claims to prove.
    pub fn job(&self) -> JobTuple {
        JobTuple {
            job_id: self.job_id,
            model_hash: self.model_hash,
            input_hash: self.input_hash,
            output_hash: self.output_hash,
        }
    }

    /// The file as a [`Proof`] of its one job.
    pub fn to_proof(&self) -> Proof {
        Proof {
            batch_size: self.batch_size,
            circuit_version: self.circuit_version,
            jobs: vec![self.job()],
            proof: self.proof.clone(),
            instances: self.instances.clone(),
        }
    }

    /// The file of a proof of exactly one job.
    pub fn from_proof(proof: &Proof) -> Result<Self, ProverError> {
        let [job] = proof.jobs.as_slice() else {
            return Err(ProverError::BadInput(format!(
                "a proof file holds one job, this proof covers {}",
                proof.jobs.len()
            )));
        };
        Ok(Self {
            job_id: job.job_id,
            model_hash: job.model_hash,
            input_hash: job.input_hash,
            output_hash: job.output_hash,
            circuit_version: proof.circuit_version,
            batch_size: proof.batch_size,
            proof: proof.proof.clone(),
            instances: proof.instances.clone(),
        })
    }
}

/// Reads a proof file; anything unreadable or structurally wrong is `MalformedProof`.
pub fn read_proof_file(path: &Path) -> Result<ProofFile, ProverError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ProverError::MalformedProof(format!("cannot read {}: {e}", path.display())))?;
    let file: ProofFile = serde_json::from_str(&text).map_err(|e| {
        ProverError::MalformedProof(format!(
            "{} is not a proof file written by `vouch proof prove` ({e})",
            path.display()
        ))
    })?;
    check_shape(&file.to_proof())?;
    Ok(file)
}

/// Proves one job tuple and writes its proof file to `out` (one worker, batch size 1).
pub async fn prove_to_file(
    config: ProverConfig,
    job: JobTuple,
    out: &Path,
) -> Result<ProofFile, ProverError> {
    let config = ProverConfig {
        batch_sizes: vec![1],
        workers: 1,
        cache_capacity: 0,
        ..config
    };
    let prover = Prover::load(config).await?;
    let proof = prover.prove(&[job]).await?;
    let file = ProofFile::from_proof(&proof)?;
    let mut json = serde_json::to_string_pretty(&file).expect("a proof file serializes");
    json.push('\n');
    std::fs::write(out, json).map_err(|source| ProverError::WriteProofFile {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(file)
}

/// Verifies a proof file off-chain: `Ok(true)` valid, `Ok(false)` invalid,
/// `Err(MalformedProof)` when the file cannot be checked.
pub async fn verify_file(config: ProverConfig, path: &Path) -> Result<bool, ProverError> {
    let file = read_proof_file(path)?;
    let config = ProverConfig {
        batch_sizes: vec![file.batch_size],
        workers: 1,
        cache_capacity: 0,
        ..config
    };
    let prover = Prover::load(config).await?;
    prover.verify(&file.to_proof()).await
}

/// Why a hex value is not a hash or a job id. The messages name the value, not the flag or
/// field it came from: the caller adds that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexValueError {
    #[error("{value:?} is not hex (found {found:?}): use hex digits 0-9a-f, 0x optional")]
    NotHex { value: String, found: char },
    #[error("{value:?} has {digits} hex digits, a 32-byte hash has 64: pass the full hash")]
    NotAHash { value: String, digits: usize },
    #[error("{value:?} must have 1 to 64 hex digits (a uint256 job id)")]
    NotAJobId { value: String },
}

/// Parses a 32-byte hash given as exactly 64 hex digits, `0x` optional.
pub fn parse_hash(value: &str) -> Result<B256, HexValueError> {
    let digits = hex_digits(value)?;
    if digits.len() != 64 {
        return Err(HexValueError::NotAHash {
            value: value.into(),
            digits: digits.len(),
        });
    }
    Ok(left_pad(digits))
}

/// Parses a job id: a uint256 as 1 to 64 hex digits, `0x` optional (so `0x2a` is job 42).
pub fn parse_job_id(value: &str) -> Result<B256, HexValueError> {
    let digits = hex_digits(value)?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(HexValueError::NotAJobId {
            value: value.into(),
        });
    }
    Ok(left_pad(digits))
}

fn hex_digits(value: &str) -> Result<&str, HexValueError> {
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    if let Some(found) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(HexValueError::NotHex {
            value: value.into(),
            found,
        });
    }
    Ok(digits)
}

fn left_pad(digits: &str) -> B256 {
    let padded = format!("{digits:0>64}");
    let bytes: [u8; 32] = alloy::hex::decode(padded)
        .expect("64 checked hex digits")
        .try_into()
        .expect("32 bytes");
    B256::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hashes_and_job_ids() {
        let h = "ab".repeat(32);
        assert_eq!(parse_hash(&h).unwrap(), B256::repeat_byte(0xab));
        assert_eq!(
            parse_hash(&format!("0x{h}")).unwrap(),
            B256::repeat_byte(0xab)
        );
        assert_eq!(
            parse_hash("0x12"),
            Err(HexValueError::NotAHash {
                value: "0x12".into(),
                digits: 2
            })
        );
        assert!(matches!(
            parse_hash(&"zz".repeat(32)),
            Err(HexValueError::NotHex { found: 'z', .. })
        ));
        assert_eq!(parse_job_id("0x2a").unwrap(), B256::from(U256::from(42u8)));
        assert_eq!(
            parse_job_id("0x"),
            Err(HexValueError::NotAJobId { value: "0x".into() })
        );
        assert!(matches!(
            parse_job_id(&"1".repeat(65)),
            Err(HexValueError::NotAJobId { .. })
        ));
        let e = parse_hash("xyz").unwrap_err().to_string();
        assert_eq!(
            e,
            r#""xyz" is not hex (found 'x'): use hex digits 0-9a-f, 0x optional"#
        );
    }
}
