//! `vouch proof setup|prove|verify`: the commitment circuit's keys and verifiers, proving one
//! job tuple, verifying a proof file. Arguments only; the work is in `vouch_keeper::prover`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use vouch_keeper::prover::{self, Artifacts, JobTuple, ProverConfig, SetupOptions};

#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Build the circuits, keys and Solidity verifiers (skips what is up to date).
    Setup(SetupArgs),
    /// Prove one job tuple and write the proof file.
    Prove(ProveArgs),
    /// Verify a proof file off-chain: exit 0 valid, 1 invalid, 2 malformed file.
    Verify(VerifyArgs),
}

/// Where the circuit artifacts and the prover's Python are.
#[derive(Debug, Args)]
struct Locations {
    /// Repository root (holds circuits/, contracts/, .venv/) [default: found from the current directory]
    #[arg(long, env = "VOUCH_ROOT", value_name = "DIR")]
    root: Option<PathBuf>,
    /// Circuit build directory [default: <root>/circuits/build]
    #[arg(long, env = "VOUCH_CIRCUITS_BUILD", value_name = "DIR")]
    build_dir: Option<PathBuf>,
    /// Directory of the generated Solidity verifiers [default: <root>/contracts/generated]
    #[arg(long, env = "VOUCH_VERIFIER_DIR", value_name = "DIR")]
    verifier_dir: Option<PathBuf>,
    /// Python interpreter with EZKL [default: <root>/.venv/bin/python]
    #[arg(long, env = "VOUCH_PYTHON", value_name = "FILE")]
    python: Option<PathBuf>,
}

impl Locations {
    fn artifacts(&self) -> Artifacts {
        let mut artifacts = Artifacts::at(
            self.root
                .clone()
                .unwrap_or_else(vouch_bindings::repository_root),
        );
        if let Some(dir) = &self.build_dir {
            artifacts.build_dir = dir.clone();
        }
        if let Some(dir) = &self.verifier_dir {
            artifacts.verifier_dir = dir.clone();
        }
        artifacts
    }

    fn config(&self, timeout_ms: u64) -> ProverConfig {
        let mut config = ProverConfig::new(self.artifacts());
        if let Some(python) = &self.python {
            config.python = python.clone();
        }
        config.prove_timeout = Duration::from_millis(timeout_ms);
        config.verify_timeout = Duration::from_millis(timeout_ms);
        config
    }
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Batch size to build (repeatable) [default: 1, 16 and 64]
    #[arg(
        long = "batch-size",
        env = "VOUCH_BATCH_SIZE",
        value_name = "N",
        value_delimiter = ','
    )]
    batch_sizes: Vec<usize>,
    /// Source KZG SRS [default: circuits/srs/kzg-dev-UNSAFE-k10.srs, development only]
    #[arg(long, env = "VOUCH_SRS", value_name = "FILE")]
    srs: Option<PathBuf>,
    /// Verifiable model to build (repeatable) [default: every model of circuits/models]
    #[arg(long = "model", value_name = "NAME", value_delimiter = ',')]
    models: Vec<String>,
    /// Build no verifiable model, only the commitment circuits
    #[arg(long, conflicts_with = "models")]
    no_models: bool,
    /// Rebuild even what is up to date
    #[arg(long, env = "VOUCH_SETUP_FORCE")]
    force: bool,
    #[command(flatten)]
    locations: Locations,
}

#[derive(Debug, Args)]
pub struct ProveArgs {
    /// Job id: a uint256 as 1 to 64 hex digits, 0x optional
    #[arg(long, env = "VOUCH_JOB_ID", value_name = "HEX")]
    job_id: String,
    /// Model hash: 32 bytes as 64 hex digits, 0x optional
    #[arg(long, env = "VOUCH_MODEL_HASH", value_name = "HEX")]
    model_hash: String,
    /// Input hash: 32 bytes as 64 hex digits, 0x optional
    #[arg(long, env = "VOUCH_INPUT_HASH", value_name = "HEX")]
    input_hash: String,
    /// Output hash: 32 bytes as 64 hex digits, 0x optional
    #[arg(long, env = "VOUCH_OUTPUT_HASH", value_name = "HEX")]
    output_hash: String,
    /// Where to write the proof file (JSON)
    #[arg(long, env = "VOUCH_OUT", value_name = "FILE")]
    out: PathBuf,
    /// Longest the proof may take
    #[arg(
        long,
        env = "VOUCH_PROVE_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 30_000
    )]
    timeout_ms: u64,
    #[command(flatten)]
    locations: Locations,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Proof file written by `vouch proof prove`
    #[arg(env = "VOUCH_PROOF_FILE", value_name = "FILE")]
    file: PathBuf,
    /// Longest the verification may take
    #[arg(
        long,
        env = "VOUCH_VERIFY_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 10_000
    )]
    timeout_ms: u64,
    #[command(flatten)]
    locations: Locations,
}

/// A parsed hex argument, or bad input naming its flag.
pub fn hex_arg<T>(flag: &str, parsed: Result<T, prover::HexValueError>) -> anyhow::Result<T> {
    parsed.map_err(|e| anyhow::Error::new(crate::BadInput(format!("{flag} {e}"))))
}

/// Runs one `vouch proof` command.
pub async fn run(command: ProofCommand) -> anyhow::Result<ExitCode> {
    match command {
        ProofCommand::Setup(args) => {
            let config = args.locations.config(0);
            let models = if args.no_models {
                Vec::new()
            } else if args.models.is_empty() {
                prover::model_names(&config.artifacts)?
            } else {
                args.models
            };
            let options = SetupOptions {
                artifacts: config.artifacts,
                python: config.python,
                batch_sizes: args.batch_sizes,
                srs: args.srs,
                models,
                force: args.force,
            };
            prover::setup(&options, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        ProofCommand::Prove(args) => {
            let job = JobTuple {
                job_id: hex_arg("--job-id", prover::parse_job_id(&args.job_id))?,
                model_hash: hex_arg("--model-hash", prover::parse_hash(&args.model_hash))?,
                input_hash: hex_arg("--input-hash", prover::parse_hash(&args.input_hash))?,
                output_hash: hex_arg("--output-hash", prover::parse_hash(&args.output_hash))?,
            };
            let config = args.locations.config(args.timeout_ms);
            let file = prover::prove_to_file(config, job, &args.out).await?;
            println!(
                "wrote {}: proof of job {} ({} bytes, batch size {}, circuit v{})",
                args.out.display(),
                file.job_id,
                file.proof.len(),
                file.batch_size,
                file.circuit_version
            );
            Ok(ExitCode::SUCCESS)
        }
        ProofCommand::Verify(args) => {
            let config = args.locations.config(args.timeout_ms);
            if prover::verify_file(config, &args.file).await? {
                println!("valid: {}", args.file.display());
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "invalid: {} does not prove its job tuple",
                    args.file.display()
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}
