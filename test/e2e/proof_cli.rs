//! `vouch proof setup|prove|verify` as a user runs them: exit codes, one-line errors, the proof
//! file, the `VOUCH_*` environment. Real EZKL on the repository's circuit artifacts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const H1: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
const H2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const H3: &str = "0xabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `vouch` with a clean `VOUCH_*` environment, run from the repository root.
fn vouch(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vouch"));
    command.args(args).current_dir(root());
    for (key, _) in std::env::vars() {
        if key.starts_with("VOUCH_") {
            command.env_remove(key);
        }
    }
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("vouch runs");
    (
        status.code().expect("an exit code, not a signal"),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn prove(out: &Path) -> (i32, String, String) {
    run(vouch(&[
        "proof",
        "prove",
        "--job-id",
        "0x2a",
        "--model-hash",
        H1,
        "--input-hash",
        H2,
        "--output-hash",
        H3,
        "--out",
    ])
    .arg(out))
}

fn verify(file: &Path) -> (i32, String, String) {
    run(vouch(&["proof", "verify"]).arg(file))
}

fn read(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

#[test]
fn prove_then_verify_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    let (code, stdout, stderr) = prove(&file);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "wrote {}: proof of job 0x000000000000000000000000000000000000000000000000000000000000002a (2048 bytes, batch size 1, circuit v1)\n",
            file.display()
        )
    );
    let json = read(&file);
    assert_eq!(
        json["jobId"],
        "0x000000000000000000000000000000000000000000000000000000000000002a"
    );
    assert_eq!(json["modelHash"], H1);
    assert_eq!(json["inputHash"], format!("0x{H2}"));
    assert_eq!(json["outputHash"], H3);
    assert_eq!(json["circuitVersion"], 1);
    assert_eq!(json["batchSize"], 1);
    assert_eq!(json["proof"].as_str().unwrap().len(), 2 + 2 * 2048);
    assert_eq!(
        json["instances"],
        serde_json::json!([
            "0x0",
            "0x2a",
            "0x11111111111111111111111111111111",
            "0x11111111111111111111111111111111",
            "0x22222222222222222222222222222222",
            "0x22222222222222222222222222222222",
            "0xabcdef0123456789abcdef0123456789",
            "0xabcdef0123456789abcdef0123456789"
        ])
    );
    let (code, stdout, stderr) = verify(&file);
    assert_eq!(
        (code, stdout, stderr),
        (0, format!("valid: {}\n", file.display()), String::new())
    );
}

#[test]
fn tampered_file_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.json");
    assert_eq!(prove(&file).0, 0);
    let original = read(&file);

    // Another output hash than the one proven.
    let mut json = original.clone();
    json["outputHash"] = serde_json::json!(format!("0x{}", "3".repeat(64)));
    let tampered = dir.path().join("output.json");
    write(&tampered, &json);
    let (code, stdout, stderr) = verify(&tampered);
    assert_eq!((code, stderr.as_str()), (1, ""));
    assert_eq!(
        stdout,
        format!(
            "invalid: {} does not prove its job tuple\n",
            tampered.display()
        )
    );

    // One proof byte flipped.
    let mut json = original.clone();
    let proof = json["proof"].as_str().unwrap().to_owned();
    let flipped = if &proof[300..301] == "0" { "1" } else { "0" };
    json["proof"] = serde_json::json!(format!("{}{flipped}{}", &proof[..300], &proof[301..]));
    let tampered = dir.path().join("byte.json");
    write(&tampered, &json);
    assert_eq!(verify(&tampered).0, 1);

    // Instances changed consistently with another job id: the proof itself fails.
    let mut json = original;
    json["jobId"] = serde_json::json!(format!("0x{:064x}", 43));
    json["instances"][1] = serde_json::json!("0x2b");
    let tampered = dir.path().join("job.json");
    write(&tampered, &json);
    assert_eq!(verify(&tampered).0, 1);
}

#[test]
fn malformed_file_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 4] = [
        ("not-json.json", "this is not json"),
        ("missing.json", r#"{"jobId": "0x01"}"#),
        (
            "version.json",
            r#"{"jobId":"0x0000000000000000000000000000000000000000000000000000000000000001","modelHash":"0x0000000000000000000000000000000000000000000000000000000000000001","inputHash":"0x0000000000000000000000000000000000000000000000000000000000000001","outputHash":"0x0000000000000000000000000000000000000000000000000000000000000001","circuitVersion":9,"batchSize":1,"proof":"0x00","instances":[]}"#,
        ),
        (
            "instances.json",
            r#"{"jobId":"0x0000000000000000000000000000000000000000000000000000000000000001","modelHash":"0x0000000000000000000000000000000000000000000000000000000000000001","inputHash":"0x0000000000000000000000000000000000000000000000000000000000000001","outputHash":"0x0000000000000000000000000000000000000000000000000000000000000001","circuitVersion":1,"batchSize":1,"proof":"0x00","instances":["0x1"]}"#,
        ),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, stdout, stderr) = verify(&path);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert_eq!(stdout, "", "{name}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.starts_with("error: malformed proof: "),
            "{name}: {stderr}"
        );
    }
    let (code, _, stderr) = verify(&dir.path().join("absent.json"));
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: malformed proof: cannot read "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn bad_hex_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("proof.json");
    let (code, stdout, stderr) = run(vouch(&[
        "proof",
        "prove",
        "--job-id",
        "1",
        "--model-hash",
        "0xnothex",
        "--input-hash",
        H2,
        "--output-hash",
        H3,
        "--out",
    ])
    .arg(&out));
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: --model-hash \"0xnothex\" is not hex (found 'n'): use hex digits 0-9a-f, 0x optional\n"
    );
    let (code, _, stderr) = run(vouch(&[
        "proof",
        "prove",
        "--job-id",
        "1",
        "--model-hash",
        H1,
        "--input-hash",
        "0x1234",
        "--output-hash",
        H3,
        "--out",
    ])
    .arg(&out));
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: --input-hash \"0x1234\" has 4 hex digits, a 32-byte hash has 64: pass the full hash\n"
    );
    assert!(!out.exists());
}

#[test]
fn every_flag_reads_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env-proof.json");
    let (code, _, stderr) = run(vouch(&["proof", "prove"])
        .env("VOUCH_JOB_ID", "7")
        .env("VOUCH_MODEL_HASH", H1)
        .env("VOUCH_INPUT_HASH", H2)
        .env("VOUCH_OUTPUT_HASH", H3)
        .env("VOUCH_OUT", &out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&out)["instances"][1], "0x7");
    let (code, stdout, _) = run(vouch(&["proof", "verify"]).env("VOUCH_PROOF_FILE", &out));
    assert_eq!((code, stdout), (0, format!("valid: {}\n", out.display())));
}

#[test]
fn unwritable_output_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("p.json");
    let (code, _, stderr) = prove(&out);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        format!(
            "error: cannot write the proof file {}: No such file or directory (os error 2); pass a writable path (--out / VOUCH_OUT)\n",
            out.display()
        )
    );
}

#[test]
fn missing_artifacts_exit_1_and_say_to_run_setup() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(vouch(&[
        "proof",
        "prove",
        "--job-id",
        "1",
        "--model-hash",
        H1,
        "--input-hash",
        H2,
        "--output-hash",
        H3,
        "--out",
    ])
    .arg(dir.path().join("p.json"))
    .env("VOUCH_CIRCUITS_BUILD", dir.path().join("nothing-here")));
    assert_eq!(code, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: circuit artifacts for B=1 are missing"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with("run `vouch proof setup`"),
        "{stderr}"
    );
}

#[test]
fn setup_builds_then_is_a_quick_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let setup = || {
        // The commitment circuit alone: the models' build is checked against their lock by
        // every setup (script/setup.sh) and their manifests by keeper/tests/inference.rs.
        let mut command = vouch(&["proof", "setup", "--batch-size", "1", "--no-models"]);
        command
            .env("VOUCH_CIRCUITS_BUILD", dir.path().join("build"))
            .env("VOUCH_VERIFIER_DIR", dir.path().join("generated"));
        run(&mut command)
    };
    let (code, stdout, stderr) = setup();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("development SRS, UNSAFE"), "{stdout}");
    assert!(
        stdout.contains("B=1: logrows 4, 8 public instances"),
        "{stdout}"
    );
    assert!(
        stdout.contains("artifacts match circuits/keys.lock.json"),
        "{stdout}"
    );
    assert!(dir.path().join("generated/Halo2VerifierB1.sol").is_file());

    let started = std::time::Instant::now();
    let (code, stdout, _) = setup();
    assert_eq!(code, 0);
    assert!(started.elapsed().as_secs_f64() < 2.0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("SRS circuits/srs/kzg-dev-UNSAFE-k10.srs: development SRS, UNSAFE")
    );
    assert!(lines[1].starts_with("B=1: up to date (logrows 4, 8 instances, dev SRS, UNSAFE"));

    let (code, _, stderr) = run(&mut vouch(&["proof", "setup", "--batch-size", "2"]));
    assert_eq!(
        (code, stderr.as_str()),
        (
            2,
            "error: batch size 2 has no circuit: use one of 1, 16, 64\n"
        )
    );
}
