//! Where the circuit artifacts live: the build directory made by `vouch proof setup`, the
//! generated Solidity verifiers and forge's compiled verifier artifacts.
//!
//! Defaults follow the repository layout; every location can be overridden from the
//! environment: `VOUCH_ROOT` (the repository, found by `vouch_bindings::repository_root`), `VOUCH_CIRCUITS_BUILD` (default
//! `<root>/circuits/build`), `VOUCH_VERIFIER_DIR` (default `<root>/contracts/generated`),
//! `VOUCH_FORGE_OUT` (default `<root>/out`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::error::ProverError;
use super::types::CIRCUIT_VERSION;

/// The circuit's files for one batch size, under `<build>/b{B}/`.
pub const CIRCUIT_FILES: [&str; 5] = [
    "network.onnx",
    "settings.json",
    "network.compiled",
    "pk.key",
    "vk.key",
];

/// Locations of everything the prover and the setup read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifacts {
    /// The repository root (holds `circuits/`, `contracts/`, `.venv/`).
    pub root: PathBuf,
    /// Build output of the circuits: `b{B}/` per batch size and `srs/`.
    pub build_dir: PathBuf,
    /// Where the generated `Halo2VerifierB{B}.sol` files go (git-ignored).
    pub verifier_dir: PathBuf,
    /// forge's output directory (compiled verifier artifacts).
    pub forge_out: PathBuf,
}

impl Artifacts {
    /// The default layout under `root`, without looking at the environment.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            build_dir: root.join("circuits").join("build"),
            verifier_dir: root.join("contracts").join("generated"),
            forge_out: root.join("out"),
            root,
        }
    }

    /// The layout from the environment (`VOUCH_ROOT`, `VOUCH_CIRCUITS_BUILD`,
    /// `VOUCH_VERIFIER_DIR`, `VOUCH_FORGE_OUT`), defaulting to
    /// [`vouch_bindings::repository_root`].
    pub fn from_env() -> Self {
        let mut artifacts = Self::at(vouch_bindings::repository_root());
        if let Some(dir) = env_path("VOUCH_CIRCUITS_BUILD") {
            artifacts.build_dir = dir;
        }
        if let Some(dir) = env_path("VOUCH_VERIFIER_DIR") {
            artifacts.verifier_dir = dir;
        }
        if let Some(dir) = env_path("VOUCH_FORGE_OUT") {
            artifacts.forge_out = dir;
        }
        artifacts
    }

    /// `<build>/b{B}`.
    pub fn batch_dir(&self, batch_size: usize) -> PathBuf {
        self.build_dir.join(format!("b{batch_size}"))
    }

    /// The Python script that builds the circuits.
    pub fn setup_script(&self) -> PathBuf {
        self.root.join("circuits").join("commitment.py")
    }

    /// The committed development SRS (UNSAFE: see docs/circuit.md).
    pub fn dev_srs(&self) -> PathBuf {
        self.root
            .join("circuits")
            .join("srs")
            .join("kzg-dev-UNSAFE-k10.srs")
    }

    /// The generated Solidity source of the verifier for `batch_size`.
    pub fn verifier_source(&self, batch_size: usize) -> PathBuf {
        self.verifier_dir
            .join(format!("{}.sol", verifier_contract(batch_size)))
    }

    /// forge's artifact (ABI and bytecode) of the verifier for `batch_size`:
    /// `out/Halo2VerifierB{B}.sol/Halo2VerifierB{B}.json`.
    pub fn verifier_artifact(&self, batch_size: usize) -> PathBuf {
        let name = verifier_contract(batch_size);
        self.forge_out
            .join(format!("{name}.sol"))
            .join(format!("{name}.json"))
    }

    /// Reads `<build>/b{B}/manifest.json`, written by the setup script.
    pub fn manifest(&self, batch_size: usize) -> Result<Manifest, ProverError> {
        let path = self.batch_dir(batch_size).join("manifest.json");
        let missing = |reason: String| ProverError::ArtifactsMissing {
            batch_size,
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| missing(e.to_string()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| missing(format!("unreadable manifest ({e})")))?;
        if manifest.batch_size != batch_size || manifest.circuit_version != CIRCUIT_VERSION {
            return Err(missing(format!(
                "it is for B={} circuit version {}, not B={batch_size} version {CIRCUIT_VERSION}",
                manifest.batch_size, manifest.circuit_version
            )));
        }
        Ok(manifest)
    }

    /// The paths of the files a worker needs for `batch_size`, checked to exist.
    pub(crate) fn circuit_paths(&self, batch_size: usize) -> Result<CircuitPaths, ProverError> {
        let manifest = self.manifest(batch_size)?;
        let dir = self.batch_dir(batch_size);
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
                return Err(ProverError::ArtifactsMissing {
                    batch_size,
                    path: path.clone(),
                    reason: "file not found".into(),
                });
            }
        }
        Ok(paths)
    }
}

/// The name of the generated verifier contract for `batch_size`: `Halo2VerifierB{B}`.
pub fn verifier_contract(batch_size: usize) -> String {
    format!("Halo2VerifierB{batch_size}")
}

/// forge's artifact of the verifier for `batch_size`, in the layout from the environment
/// ([`Artifacts::from_env`]).
pub fn verifier_artifact(batch_size: usize) -> PathBuf {
    Artifacts::from_env().verifier_artifact(batch_size)
}

pub(crate) fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Paths handed to a worker for one batch size.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct CircuitPaths {
    pub compiled: PathBuf,
    pub pk: PathBuf,
    pub vk: PathBuf,
    pub settings: PathBuf,
    pub srs: PathBuf,
}

/// `manifest.json` of one batch size: what setup built and from what.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub batch_size: usize,
    pub circuit_version: u32,
    pub logrows: u32,
    pub instances: usize,
    pub ezkl: String,
    pub proof_bytes: usize,
    pub srs: ManifestSrs,
    /// sha256 (hex) of each of [`CIRCUIT_FILES`].
    pub files: BTreeMap<String, String>,
    pub verifier: ManifestVerifier,
}

/// The SRS a circuit's keys were made from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestSrs {
    /// The derived SRS for the circuit's logrows, relative to `b{B}/`.
    pub file: String,
    /// The source SRS it was derived from.
    pub source: PathBuf,
    pub source_sha256: String,
    /// True for a development SRS whose creator could know the secret.
    #[serde(rename = "unsafe")]
    pub is_unsafe: bool,
}

/// The generated Solidity verifier.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestVerifier {
    pub path: PathBuf,
    pub contract: String,
    pub sha256: String,
}
