//! Verifiable models: the table read from the manifests `vouch proof setup` writes
//! (`<build>/models/<name>/model.json`), their model hashes, and the values an inference proof
//! is about.
//!
//! Which models exist is decided by `circuits/models/zoo.py`; its table reaches Rust through
//! the committed key lock `circuits/models/keys.lock.json` (the names setup builds) and the
//! manifests (everything else). Nothing here repeats a model's shape or scale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{B256, Bytes, I256, U256, keccak256};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::artifacts::{Artifacts, CircuitPaths, ManifestVerifier};
use super::error::ProverError;
use super::instances::FIELD_MODULUS;

/// How a verifiable model's public instances are laid out; the same enum as the contract's
/// `InstanceLayout` (0 = not a verifiable model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceLayout {
    None,
    /// Exactly two instances: `[poseidon(input), poseidon(output)]`.
    HashedInputOutput,
}

impl InstanceLayout {
    /// The value of the Solidity enum.
    pub fn as_u8(self) -> u8 {
        match self {
            InstanceLayout::None => 0,
            InstanceLayout::HashedInputOutput => 1,
        }
    }
}

/// Sizes recorded by setup.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSizes {
    pub pk_bytes: u64,
    pub vk_bytes: u64,
    pub compiled_bytes: u64,
    pub proof_bytes: usize,
    pub num_rows: u64,
}

/// The SRS a model's keys were made from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelSrs {
    /// Relative to the model's directory.
    pub file: String,
    /// `devsrs` (the deterministic development SRS) or the source file's path.
    pub source: String,
    #[serde(rename = "unsafe")]
    pub is_unsafe: bool,
}

/// `model.json`: one verifiable model as setup built it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelManifest {
    pub name: String,
    /// keccak256(sha256(network.onnx) || sha256(settings.json) || sha256(vk.key)), added by
    /// `vouch proof setup`; absent only in a manifest setup has not finished.
    #[serde(default)]
    pub model_hash: Option<B256>,
    pub circuit_version: u32,
    /// The generated verifier's contract name (e.g. `MlpClassifierVerifier`).
    pub contract: String,
    pub logrows: u32,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    /// A quantized value q stands for q / 2^scale.
    pub input_scale: u32,
    pub output_scale: u32,
    pub param_scale: u32,
    /// Class names of a classifier's outputs, in order.
    pub labels: Option<Vec<String>>,
    pub instance_layout: InstanceLayout,
    pub ezkl: String,
    pub sizes: ModelSizes,
    pub srs: ModelSrs,
    /// sha256 (hex) of each of [`super::CIRCUIT_FILES`].
    pub files: BTreeMap<String, String>,
    pub verifier: ManifestVerifier,
    /// An example input and the quantized output setup's self-test proved for it.
    pub sample: ModelSample,
}

/// `model.json`'s `sample`: what `vouch job create --model` users can start from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSample {
    pub input: Vec<f64>,
    pub quantized_output: Vec<i128>,
}

impl ModelManifest {
    /// Number of input values (the product of the input shape).
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Number of output values.
    pub fn output_len(&self) -> usize {
        self.output_shape.iter().product()
    }

    /// The model hash; an error when setup did not record it.
    pub fn hash(&self) -> Result<B256, ProverError> {
        self.model_hash.ok_or_else(|| {
            ProverError::Setup(format!(
                "model {} has no modelHash in its manifest: run `vouch proof setup`",
                self.name
            ))
        })
    }
}

/// The model hash of the artifacts in `dir`: keccak256 over the three raw sha256 digests of
/// the ONNX graph (its weights included), the settings and the verifying key (the exact
/// circuit, its public layout and the key the verifier embeds). Not the compiled circuit:
/// EZKL's serialization of it differs between machines for the same graph and settings.
pub fn model_hash_of(dir: &Path) -> Result<B256, ProverError> {
    let mut preimage = Vec::with_capacity(96);
    for name in ["network.onnx", "settings.json", "vk.key"] {
        let path = dir.join(name);
        let data = std::fs::read(&path).map_err(|e| ProverError::io(&path, e))?;
        preimage.extend_from_slice(&Sha256::digest(&data));
    }
    Ok(keccak256(&preimage))
}

/// The names of the verifiable models setup builds: the keys of `models` in the committed
/// lock `circuits/models/keys.lock.json` (made from `circuits/models/zoo.py`'s table).
pub fn model_names(artifacts: &Artifacts) -> Result<Vec<String>, ProverError> {
    let path = artifacts.models_lock();
    let text = std::fs::read_to_string(&path).map_err(|e| ProverError::io(&path, e))?;
    let lock: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ProverError::Setup(format!("{}: {e}", path.display())))?;
    let names = lock["models"]
        .as_object()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    if names.is_empty() {
        return Err(ProverError::Setup(format!(
            "{} lists no model",
            path.display()
        )));
    }
    Ok(names)
}

/// The table of verifiable models: every manifest setup wrote, by name and by model hash.
#[derive(Debug, Clone, Default)]
pub struct VerifiableModels {
    by_name: BTreeMap<String, ModelManifest>,
}

impl VerifiableModels {
    /// Reads the manifest of every model in the lock; fails if one is missing or stale.
    pub fn load(artifacts: &Artifacts) -> Result<Self, ProverError> {
        Self::load_only(artifacts, &model_names(artifacts)?)
    }

    /// Reads the manifests of `names` only.
    pub fn load_only(artifacts: &Artifacts, names: &[String]) -> Result<Self, ProverError> {
        let mut by_name = BTreeMap::new();
        for name in names {
            by_name.insert(name.clone(), artifacts.model_manifest(name)?);
        }
        Ok(Self { by_name })
    }

    pub fn get(&self, name: &str) -> Option<&ModelManifest> {
        self.by_name.get(name)
    }

    /// The model whose hash is `model_hash`.
    pub fn by_hash(&self, model_hash: &B256) -> Option<&ModelManifest> {
        self.by_name
            .values()
            .find(|m| m.model_hash.as_ref() == Some(model_hash))
    }

    pub fn iter(&self) -> impl Iterator<Item = &ModelManifest> {
        self.by_name.values()
    }

    pub fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl Artifacts {
    /// `<build>/models/<name>`.
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.build_dir.join("models").join(name)
    }

    /// The committed lock of the model artifacts.
    pub fn models_lock(&self) -> PathBuf {
        self.root
            .join("circuits")
            .join("models")
            .join("keys.lock.json")
    }

    /// The generated Solidity source of a model's verifier.
    pub fn model_verifier_source(&self, contract: &str) -> PathBuf {
        self.verifier_dir.join(format!("{contract}.sol"))
    }

    /// forge's artifact of a model's verifier: `out/<Contract>.sol/<Contract>.json`.
    pub fn model_verifier_artifact(&self, contract: &str) -> PathBuf {
        self.forge_out
            .join(format!("{contract}.sol"))
            .join(format!("{contract}.json"))
    }

    /// Reads `<build>/models/<name>/model.json`.
    pub fn model_manifest(&self, name: &str) -> Result<ModelManifest, ProverError> {
        let path = self.model_dir(name).join("model.json");
        let missing = |reason: String| ProverError::ModelMissing {
            model: name.to_string(),
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| missing(e.to_string()))?;
        let manifest: ModelManifest = serde_json::from_str(&text)
            .map_err(|e| missing(format!("unreadable manifest ({e})")))?;
        if manifest.name != name {
            return Err(missing(format!("it is the manifest of {}", manifest.name)));
        }
        Ok(manifest)
    }

    /// The files a worker needs for model `name`, checked to exist.
    pub(crate) fn model_paths(
        &self,
        manifest: &ModelManifest,
    ) -> Result<CircuitPaths, ProverError> {
        let dir = self.model_dir(&manifest.name);
        let paths = CircuitPaths {
            compiled: dir.join("network.compiled"),
            pk: dir.join("pk.key"),
            vk: dir.join("vk.key"),
            settings: dir.join("settings.json"),
            srs: dir.join(&manifest.srs.file),
        };
        for path in [
            &paths.compiled,
            &paths.pk,
            &paths.vk,
            &paths.settings,
            &paths.srs,
        ] {
            if !path.is_file() {
                return Err(ProverError::ModelMissing {
                    model: manifest.name.clone(),
                    path: path.clone(),
                    reason: "file not found".into(),
                });
            }
        }
        Ok(paths)
    }
}

/// A field element read as a signed quantized value: x in [0, r/2] is x, above it x - r.
pub fn felt_to_signed(x: U256) -> Option<i128> {
    let half = FIELD_MODULUS >> 1;
    if x >= FIELD_MODULUS {
        return None;
    }
    if x <= half {
        i128::try_from(x).ok()
    } else {
        i128::try_from(FIELD_MODULUS - x).ok().map(|v| -v)
    }
}

/// A bytes32 commitment as the field element it stands for (`bytes32(uint256(x))`); `None`
/// when the value is not below the field modulus (never a valid instance).
pub fn hash_to_field(hash: &B256) -> Option<U256> {
    let x = U256::from_be_bytes(hash.0);
    (x < FIELD_MODULUS).then_some(x)
}

/// The bytes32 of a field element.
pub fn field_to_hash(x: U256) -> B256 {
    B256::from(x.to_be_bytes::<32>())
}

/// The published output bytes of an inference: `abi.encode(int256[] quantized_output)`.
pub fn encode_output(output: &[i128]) -> Bytes {
    use alloy::sol_types::SolValue;
    let values: Vec<I256> = output
        .iter()
        .map(|&v| I256::try_from(v).expect("an i128 fits an int256"))
        .collect();
    Bytes::from(values.abi_encode())
}

/// Decodes [`encode_output`]'s bytes.
pub fn decode_output(bytes: &[u8]) -> Option<Vec<i128>> {
    use alloy::sol_types::SolValue;
    let values = Vec::<I256>::abi_decode(bytes).ok()?;
    values.into_iter().map(|v| i128::try_from(v).ok()).collect()
}

/// Where the time of one inference went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InferTimings {
    /// EZKL witness generation (the quantized model run), in the worker.
    pub witness: Duration,
    pub prove: Duration,
    pub self_verify: Duration,
    /// Everything, seen from Rust.
    pub total: Duration,
}

/// A verifiable model run on one input through EZKL's witness, no proof yet
/// ([`super::Prover::evaluation`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Poseidon of the quantized input: what the job's `inputHash` must be.
    pub input_hash: B256,
    /// Poseidon of the quantized output: what the proof will commit to.
    pub output_hash: B256,
    /// The quantized output (value = q / 2^outputScale), flattened.
    pub output: Vec<i128>,
}

/// One proven inference of a verifiable model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inference {
    pub model: String,
    pub model_hash: B256,
    /// Poseidon of the quantized input: the job's `inputHash`.
    pub input_hash: B256,
    /// Poseidon of the quantized output: the completion's `outputHash`.
    pub output_hash: B256,
    /// The quantized output (value = q / 2^outputScale), flattened.
    pub output: Vec<i128>,
    /// The Halo2 proof bytes for `verifyProof(proof, [inputHash, outputHash])`.
    pub proof: Bytes,
}

impl Inference {
    /// The proof's public instances, in the contract's order.
    pub fn instances(&self) -> [U256; 2] {
        [
            U256::from_be_bytes(self.input_hash.0),
            U256::from_be_bytes(self.output_hash.0),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn felts_read_as_signed_values() {
        assert_eq!(felt_to_signed(U256::from(118)), Some(118));
        assert_eq!(felt_to_signed(FIELD_MODULUS - U256::from(8)), Some(-8));
        assert_eq!(felt_to_signed(FIELD_MODULUS), None);
    }

    #[test]
    fn a_hash_at_or_above_the_modulus_is_no_field_element() {
        assert_eq!(
            hash_to_field(&field_to_hash(U256::from(5))),
            Some(U256::from(5))
        );
        assert_eq!(hash_to_field(&field_to_hash(FIELD_MODULUS)), None);
        assert_eq!(hash_to_field(&B256::repeat_byte(0xff)), None);
    }

    #[test]
    fn output_bytes_are_the_abi_encoding_of_int256s() {
        let bytes = encode_output(&[8, -1]);
        assert_eq!(bytes.len(), 32 * 4);
        assert_eq!(bytes[31], 0x20); // offset
        assert_eq!(bytes[63], 2); // length
        assert_eq!(bytes[95], 8);
        assert!(bytes[96..128].iter().all(|&b| b == 0xff));
        assert_eq!(decode_output(&bytes), Some(vec![8, -1]));
    }
}
