//! Setup is reproducible (the same keys and verifier, byte for byte, every time and on every
//! machine: circuits/keys.lock.json) and idempotent (nothing rebuilt or rewritten when up to
//! date; a missing artifact is rebuilt).

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use vouch_keeper::prover::{
    Artifacts, BATCH_SIZES, CIRCUIT_FILES, ProverError, SetupOptions, SetupReport, setup,
};

fn sha256(path: &Path) -> String {
    alloy::hex::encode(Sha256::digest(
        std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    ))
}

fn lock() -> serde_json::Value {
    let path = vouch_bindings::repository_root().join("circuits/keys.lock.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every artifact of `batch_size` under `artifacts`, by name, with its sha256.
fn hashes(artifacts: &Artifacts, batch_size: usize) -> BTreeMap<String, String> {
    let dir = artifacts.batch_dir(batch_size);
    let mut out: BTreeMap<String, String> = CIRCUIT_FILES
        .iter()
        .map(|name| (name.to_string(), sha256(&dir.join(name))))
        .collect();
    out.insert(
        "verifier".into(),
        sha256(&artifacts.verifier_source(batch_size)),
    );
    out
}

fn locked(batch_size: usize) -> BTreeMap<String, String> {
    let entry = &lock()["circuits"][batch_size.to_string()];
    let mut out: BTreeMap<String, String> = entry["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    out.insert(
        "verifier".into(),
        entry["verifier"].as_str().unwrap().to_owned(),
    );
    out
}

fn options(dir: &Path, force: bool) -> SetupOptions {
    let root = vouch_bindings::repository_root();
    let mut artifacts = Artifacts::at(&root);
    artifacts.build_dir = dir.join("build");
    artifacts.verifier_dir = dir.join("generated");
    SetupOptions {
        python: root.join(".venv/bin/python"),
        artifacts,
        batch_sizes: vec![1],
        srs: None,
        models: vec![],
        force,
    }
}

fn run(options: &SetupOptions) -> (SetupReport, String) {
    let mut out = Vec::new();
    let report = setup(options, &mut out).unwrap();
    (report, String::from_utf8(out).unwrap())
}

#[test]
fn setup_twice_from_scratch_gives_identical_artifacts_matching_the_lock() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, _) = run(&options(a.path(), false));
    let (second, _) = run(&options(b.path(), false));
    assert_eq!(
        first,
        SetupReport {
            built: vec![1],
            up_to_date: vec![],
            unsafe_srs: true,
            ..Default::default()
        }
    );
    assert_eq!(second, first);
    let (ha, hb) = (
        hashes(&options(a.path(), false).artifacts, 1),
        hashes(&options(b.path(), false).artifacts, 1),
    );
    assert_eq!(ha, hb, "two setups differ");
    assert_eq!(ha, locked(1), "setup differs from circuits/keys.lock.json");
    // The verifier is renamed and whole.
    let sol =
        std::fs::read_to_string(options(a.path(), false).artifacts.verifier_source(1)).unwrap();
    assert_eq!(sol.matches("contract Halo2VerifierB1 {").count(), 1);
    assert!(!sol.contains("contract Halo2Verifier {"));
    assert!(sol.contains("function verifyProof("));
}

#[test]
fn second_setup_is_a_no_op_and_a_missing_verifier_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), false);
    let (first, _) = run(&opts);
    assert_eq!(first.built, vec![1]);
    let verifier = opts.artifacts.verifier_source(1);
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let (pk, sol) = (opts.artifacts.batch_dir(1).join("pk.key"), verifier.clone());
    let (pk_time, sol_time) = (mtime(&pk), mtime(&sol));

    let started = std::time::Instant::now();
    let (again, text) = run(&opts);
    assert_eq!(
        again,
        SetupReport {
            built: vec![],
            up_to_date: vec![1],
            unsafe_srs: true,
            ..Default::default()
        }
    );
    assert!(
        started.elapsed().as_secs_f64() < 2.0,
        "a no-op setup took {:?}",
        started.elapsed()
    );
    assert!(
        text.starts_with("SRS circuits/srs/kzg-dev-UNSAFE-k10.srs: development SRS, UNSAFE"),
        "{text}"
    );
    assert!(
        text.contains("B=1: up to date (logrows 4, 8 instances, dev SRS, UNSAFE"),
        "{text}"
    );
    assert_eq!(
        (mtime(&pk), mtime(&sol)),
        (pk_time, sol_time),
        "nothing is rewritten"
    );

    // A forced rebuild rewrites nothing either: the bytes are the same, so files are kept.
    let (forced, _) = run(&SetupOptions {
        force: true,
        ..opts.clone()
    });
    assert_eq!(forced.built, vec![1]);
    assert_eq!(mtime(&sol), sol_time);

    std::fs::remove_file(&verifier).unwrap();
    let (rebuilt, _) = run(&opts);
    assert_eq!(rebuilt.built, vec![1]);
    assert_eq!(sha256(&verifier), locked(1)["verifier"]);
}

#[test]
fn repository_artifacts_match_the_lock() {
    let artifacts = Artifacts::at(vouch_bindings::repository_root());
    for b in BATCH_SIZES {
        assert_eq!(
            hashes(&artifacts, b),
            locked(b),
            "B={b}: run `vouch proof setup`"
        );
        let manifest = artifacts.manifest(b).unwrap();
        assert!(
            manifest.srs.is_unsafe,
            "the repository builds with the dev SRS"
        );
        assert_eq!(manifest.instances, 8 * b);
    }
    let logrows: Vec<u64> = BATCH_SIZES
        .iter()
        .map(|b| {
            lock()["circuits"][b.to_string()]["logrows"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(logrows, [4, 8, 10]);
}

#[test]
fn a_bad_srs_or_batch_size_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SetupOptions {
        srs: Some(dir.path().join("missing.srs")),
        ..options(dir.path(), false)
    };
    let err = setup(&opts, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, ProverError::SrsMissing { .. }), "{err}");
    let opts = SetupOptions {
        batch_sizes: vec![8],
        ..options(dir.path(), false)
    };
    let err = setup(&opts, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch size 8 has no circuit: use one of 1, 16, 64"
    );
}
