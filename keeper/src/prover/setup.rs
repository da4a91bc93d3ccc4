//! `vouch proof setup`: builds the circuits, keys and Solidity verifiers by running
//! `circuits/commitment.py`, only for the batch sizes whose inputs changed.
//!
//! A batch size is up to date when its stamp (a hash of the setup scripts, the source SRS, the
//! key lock, the Python requirements, the circuit version and the output locations) is
//! unchanged and every artifact still has the hash its manifest records, the generated
//! verifier included. Checking that takes no Python, so a second run is quick.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::artifacts::{Artifacts, CIRCUIT_FILES};
use super::error::ProverError;
use super::types::{BATCH_SIZES, CIRCUIT_VERSION};

/// What to set up.
#[derive(Debug, Clone)]
pub struct SetupOptions {
    pub artifacts: Artifacts,
    /// The Python interpreter with EZKL.
    pub python: PathBuf,
    /// Batch sizes to build (empty: all of [`BATCH_SIZES`]).
    pub batch_sizes: Vec<usize>,
    /// The source SRS (default: the committed development SRS, UNSAFE).
    pub srs: Option<PathBuf>,
    /// Verifiable models to build (`circuits/models/setup.py`); empty builds none. The command
    /// line passes every model of [`super::model_names`] unless told otherwise.
    pub models: Vec<String>,
    /// Rebuild even when up to date.
    pub force: bool,
}

/// What a setup run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupReport {
    /// Batch sizes (re)built by this run.
    pub built: Vec<usize>,
    /// Batch sizes that were already up to date.
    pub up_to_date: Vec<usize>,
    /// True when the keys come from an SRS whose creator could know the secret.
    pub unsafe_srs: bool,
    /// Verifiable models (re)built by this run.
    pub models_built: Vec<String>,
    /// Verifiable models that were already up to date.
    pub models_up_to_date: Vec<String>,
}

/// Runs setup, writing progress lines to `out`: the batch circuits, then the verifiable models.
#[tracing::instrument(name = "proof_setup", skip_all)]
pub fn setup(options: &SetupOptions, out: &mut dyn Write) -> Result<SetupReport, ProverError> {
    let mut report = setup_batches(options, out)?;
    if !options.models.is_empty() {
        let (built, fresh) = setup_models(options, out)?;
        report.models_built = built;
        report.models_up_to_date = fresh;
    }
    Ok(report)
}

fn setup_batches(options: &SetupOptions, out: &mut dyn Write) -> Result<SetupReport, ProverError> {
    let artifacts = &options.artifacts;
    let mut batch_sizes = if options.batch_sizes.is_empty() {
        BATCH_SIZES.to_vec()
    } else {
        options.batch_sizes.clone()
    };
    batch_sizes.sort_unstable();
    batch_sizes.dedup();
    if let Some(&b) = batch_sizes.iter().find(|b| !BATCH_SIZES.contains(b)) {
        return Err(ProverError::UnsupportedBatchSize(b));
    }
    let script = artifacts.setup_script();
    if !script.is_file() {
        return Err(ProverError::Setup(format!(
            "{} not found: run from the repository or set VOUCH_ROOT",
            script.display()
        )));
    }
    let srs = match &options.srs {
        Some(path) if !path.is_file() => {
            return Err(ProverError::SrsMissing { path: path.clone() });
        }
        Some(path) => path.clone(),
        None => artifacts.dev_srs(),
    };
    let srs_sha = sha256_file(&srs)?;
    let lock_path = artifacts.root.join("circuits").join("keys.lock.json");
    let lock = std::fs::read(&lock_path).unwrap_or_default();
    let locked_srs = serde_json::from_slice::<serde_json::Value>(&lock)
        .ok()
        .and_then(|v| v["srs"]["sha256"].as_str().map(str::to_owned));
    let unsafe_srs = locked_srs.as_deref() == Some(srs_sha.as_str())
        || srs
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("UNSAFE"));
    let label = if unsafe_srs {
        "development SRS, UNSAFE: its creator could know the secret and forge proofs; never deploy these keys or verifiers (docs/circuit.md)".to_string()
    } else {
        format!("sha256 {}", &srs_sha[..16])
    };
    let srs_line = format!("SRS {}: {label}", show(&artifacts.root, &srs));

    let mut common = Sha256::new();
    common.update(format!("vouch-circuit-v{CIRCUIT_VERSION}\n"));
    for input in [
        script.clone(),
        artifacts.root.join("circuits").join("srs.py"),
    ] {
        common.update(sha256_file(&input)?);
    }
    common.update(&srs_sha);
    common.update(Sha256::digest(&lock));
    common.update(Sha256::digest(
        std::fs::read(artifacts.root.join("requirements.txt")).unwrap_or_default(),
    ));
    common.update(artifacts.build_dir.to_string_lossy().as_bytes());
    common.update(b"\0");
    common.update(artifacts.verifier_dir.to_string_lossy().as_bytes());

    let mut report = SetupReport {
        unsafe_srs,
        ..Default::default()
    };
    let mut fresh = Vec::new();
    let mut stale = Vec::new();
    for &b in &batch_sizes {
        let mut h = common.clone();
        h.update(format!("\nB={b}"));
        let stamp = hex(&h.finalize());
        match up_to_date(artifacts, b, &stamp)? {
            Some(summary) if !options.force => fresh.push((b, summary)),
            _ => stale.push((b, stamp)),
        }
    }
    if stale.is_empty() {
        // When it builds, the setup script prints the same label itself.
        line(out, &srs_line)?;
    }
    for (b, summary) in fresh {
        line(out, &format!("B={b}: up to date ({summary})"))?;
        report.up_to_date.push(b);
    }
    if stale.is_empty() {
        return Ok(report);
    }

    let list: Vec<String> = stale.iter().map(|(b, _)| b.to_string()).collect();
    line(
        out,
        &format!(
            "building B={} with {}",
            list.join(", "),
            show(&artifacts.root, &script)
        ),
    )?;
    out.flush().map_err(|e| ProverError::io("stdout", e))?;
    let mut command = Command::new(&options.python);
    command
        .arg(&script)
        .arg("--srs")
        .arg(&srs)
        .arg("--build-dir")
        .arg(&artifacts.build_dir)
        .arg("--verifier-dir")
        .arg(&artifacts.verifier_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (b, _) in &stale {
        command.arg("--batch-size").arg(b.to_string());
    }
    let status = command.status().map_err(|e| ProverError::Python {
        path: options.python.clone(),
        reason: e.to_string(),
    })?;
    if !status.success() {
        return Err(ProverError::Setup(format!(
            "{} failed ({status}); its message is above",
            show(&artifacts.root, &script)
        )));
    }
    for (b, stamp) in stale {
        let path = stamp_path(artifacts, b);
        if up_to_date(artifacts, b, "")?.is_none() {
            return Err(ProverError::Setup(format!(
                "B={b}: the artifacts are incomplete after setup"
            )));
        }
        std::fs::write(&path, format!("{stamp}\n")).map_err(|e| ProverError::io(&path, e))?;
        report.built.push(b);
    }
    Ok(report)
}

/// Builds the verifiable models whose inputs changed or whose artifacts no longer match their
/// manifest, then records each model's hash in its `model.json`.
fn setup_models(
    options: &SetupOptions,
    out: &mut dyn Write,
) -> Result<(Vec<String>, Vec<String>), ProverError> {
    let artifacts = &options.artifacts;
    let known = super::models::model_names(artifacts)?;
    if let Some(unknown) = options.models.iter().find(|m| !known.contains(m)) {
        return Err(ProverError::Setup(format!(
            "unknown model {unknown}: one of {}",
            known.join(", ")
        )));
    }
    let models_dir = artifacts.root.join("circuits").join("models");
    let script = models_dir.join("setup.py");
    let mut common = Sha256::new();
    common.update(format!("vouch-models-v{CIRCUIT_VERSION}\n"));
    for input in [
        script.clone(),
        models_dir.join("zoo.py"),
        models_dir.join("devsrs.py"),
        artifacts.root.join("circuits").join("srs.py"),
        artifacts.models_lock(),
        artifacts.root.join("requirements.txt"),
    ] {
        common.update(sha256_file(&input)?);
    }
    match &options.srs {
        Some(path) => common.update(sha256_file(path)?),
        None => common.update(b"devsrs"),
    }
    common.update(artifacts.build_dir.to_string_lossy().as_bytes());
    common.update(b"\0");
    common.update(artifacts.verifier_dir.to_string_lossy().as_bytes());

    let mut fresh = Vec::new();
    let mut stale = Vec::new();
    for name in &options.models {
        let mut h = common.clone();
        h.update(format!("\nmodel={name}"));
        let stamp = hex(&h.finalize());
        match model_up_to_date(artifacts, name, &stamp)? {
            Some(summary) if !options.force => {
                line(out, &format!("{name}: up to date ({summary})"))?;
                fresh.push(name.clone());
            }
            _ => stale.push((name.clone(), stamp)),
        }
    }
    if stale.is_empty() {
        return Ok((Vec::new(), fresh));
    }
    let list: Vec<&str> = stale.iter().map(|(n, _)| n.as_str()).collect();
    line(
        out,
        &format!(
            "building {} with {}",
            list.join(", "),
            show(&artifacts.root, &script)
        ),
    )?;
    out.flush().map_err(|e| ProverError::io("stdout", e))?;
    let mut command = Command::new(&options.python);
    command
        .arg(&script)
        .arg("--build-dir")
        .arg(&artifacts.build_dir)
        .arg("--verifier-dir")
        .arg(&artifacts.verifier_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(srs) = &options.srs {
        command.arg("--srs").arg(srs);
    }
    for (name, _) in &stale {
        command.arg("--model").arg(name);
    }
    let status = command.status().map_err(|e| ProverError::Python {
        path: options.python.clone(),
        reason: e.to_string(),
    })?;
    if !status.success() {
        return Err(ProverError::Setup(format!(
            "{} failed ({status}); its message is above",
            show(&artifacts.root, &script)
        )));
    }
    let mut built = Vec::new();
    for (name, stamp) in stale {
        let dir = artifacts.model_dir(&name);
        let hash = super::models::model_hash_of(&dir)?;
        let path = dir.join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ProverError::io(&path, e))?;
        let mut manifest: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ProverError::Setup(format!("{}: {e}", path.display())))?;
        manifest["modelHash"] = serde_json::Value::String(hash.to_string());
        let text = serde_json::to_string_pretty(&manifest).expect("JSON value") + "\n";
        std::fs::write(&path, text).map_err(|e| ProverError::io(&path, e))?;
        if model_up_to_date(artifacts, &name, "")?.is_none() {
            return Err(ProverError::Setup(format!(
                "{name}: the artifacts are incomplete after setup"
            )));
        }
        let stamp_file = dir.join(".stamp");
        std::fs::write(&stamp_file, format!("{stamp}\n"))
            .map_err(|e| ProverError::io(&stamp_file, e))?;
        line(out, &format!("{name}: modelHash {hash}"))?;
        built.push(name);
    }
    Ok((built, fresh))
}

/// `Some(summary)` when model `name`'s artifacts match its manifest, its hash is recorded and
/// (unless `stamp` is empty) its stamp matches.
fn model_up_to_date(
    artifacts: &Artifacts,
    name: &str,
    stamp: &str,
) -> Result<Option<String>, ProverError> {
    let dir = artifacts.model_dir(name);
    if !stamp.is_empty() {
        let recorded = std::fs::read_to_string(dir.join(".stamp")).unwrap_or_default();
        if recorded.trim() != stamp {
            return Ok(None);
        }
    }
    let Ok(manifest) = artifacts.model_manifest(name) else {
        return Ok(None);
    };
    for file in CIRCUIT_FILES {
        let expected = manifest.files.get(file);
        if expected.is_none() || sha256_file(&dir.join(file)).ok().as_ref() != expected {
            return Ok(None);
        }
    }
    let verifier = artifacts.model_verifier_source(&manifest.contract);
    if sha256_file(&verifier).ok().as_deref() != Some(manifest.verifier.sha256.as_str())
        || !dir.join(&manifest.srs.file).is_file()
        || manifest.model_hash.is_none()
    {
        return Ok(None);
    }
    Ok(Some(format!(
        "logrows {}, modelHash {}, verifier {}",
        manifest.logrows,
        manifest.model_hash.expect("checked"),
        show(&artifacts.root, &verifier)
    )))
}

fn stamp_path(artifacts: &Artifacts, batch_size: usize) -> PathBuf {
    artifacts.batch_dir(batch_size).join(".stamp")
}

/// `Some(summary)` when every artifact of `batch_size` matches its manifest and (unless
/// `stamp` is empty) the stamp matches; `None` when anything must be rebuilt.
fn up_to_date(
    artifacts: &Artifacts,
    batch_size: usize,
    stamp: &str,
) -> Result<Option<String>, ProverError> {
    if !stamp.is_empty() {
        let recorded =
            std::fs::read_to_string(stamp_path(artifacts, batch_size)).unwrap_or_default();
        if recorded.trim() != stamp {
            return Ok(None);
        }
    }
    let Ok(manifest) = artifacts.manifest(batch_size) else {
        return Ok(None);
    };
    let dir = artifacts.batch_dir(batch_size);
    for name in CIRCUIT_FILES {
        let expected = manifest.files.get(name);
        if expected.is_none() || sha256_file(&dir.join(name)).ok().as_ref() != expected {
            return Ok(None);
        }
    }
    let verifier = artifacts.verifier_source(batch_size);
    if sha256_file(&verifier).ok().as_deref() != Some(manifest.verifier.sha256.as_str())
        || !dir.join(&manifest.srs.file).is_file()
    {
        return Ok(None);
    }
    let srs = if manifest.srs.is_unsafe {
        "dev SRS, UNSAFE"
    } else {
        "public SRS"
    };
    Ok(Some(format!(
        "logrows {}, {} instances, {srs}, verifier {}",
        manifest.logrows,
        manifest.instances,
        show(&artifacts.root, &verifier)
    )))
}

fn sha256_file(path: &Path) -> Result<String, ProverError> {
    let data = std::fs::read(path).map_err(|e| ProverError::io(path, e))?;
    Ok(hex(&Sha256::digest(&data)))
}

fn hex(bytes: &[u8]) -> String {
    alloy::hex::encode(bytes)
}

fn show(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn line(out: &mut dyn Write, text: &str) -> Result<(), ProverError> {
    writeln!(out, "{text}").map_err(|e| ProverError::io("stdout", e))
}
