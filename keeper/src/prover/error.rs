//! The prover's typed errors. Every message is one line that says what is wrong and what to do;
//! whether an error is the user's (exit code 2) or a failure (1) is decided by the command line
//! (`src/`), not here.

use std::path::PathBuf;
use std::time::Duration;

/// Why a prover operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// A value given by the user is not acceptable (e.g. a malformed hex string).
    #[error("{0}")]
    BadInput(String),
    /// A proof (or proof file) is structurally wrong: it cannot even be checked.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// `prove` was called with no job.
    #[error("no job to prove: a proof covers 1 to 64 jobs")]
    EmptyBatch,
    /// More jobs than the largest circuit holds.
    #[error("{jobs} jobs do not fit one proof (at most {max}): split them into several batches")]
    TooManyJobs { jobs: usize, max: usize },
    /// A batch size without a circuit.
    #[error("batch size {0} has no circuit: use one of 1, 16, 64")]
    UnsupportedBatchSize(usize),
    /// A batch size this prover was not configured to load.
    #[error("batch size {0} is not loaded by this prover: add it to ProverConfig::batch_sizes")]
    BatchSizeNotLoaded(usize),
    /// The circuit artifacts are missing or out of date.
    #[error("circuit artifacts for B={batch_size} are missing or unreadable at {}: {reason}; run `vouch proof setup`", .path.display())]
    ArtifactsMissing {
        batch_size: usize,
        path: PathBuf,
        reason: String,
    },
    /// A verifiable model's artifacts are missing or out of date.
    #[error("verifiable model {model}: artifacts missing or unreadable at {}: {reason}; run `vouch proof setup`", .path.display())]
    ModelMissing {
        model: String,
        path: PathBuf,
        reason: String,
    },
    /// A model this prover did not load (or that does not exist).
    #[error("model {0} is not loaded by this prover: one of {1}")]
    ModelNotLoaded(String, String),
    /// The renter's input does not fit the model.
    #[error("input for model {model}: {reason}")]
    BadModelInput { model: String, reason: String },
    /// The Python interpreter with EZKL cannot be started.
    #[error("cannot start the prover's Python at {}: {reason}; run `bash script/setup.sh` or set VOUCH_PYTHON", .path.display())]
    Python { path: PathBuf, reason: String },
    /// A worker did not become ready.
    #[error("prover worker failed to start: {0}")]
    WorkerStart(String),
    /// A worker process died during a request; the pool starts a new one.
    #[error("prover worker (pid {pid}) died during a request: {detail}")]
    WorkerCrashed { pid: u32, detail: String },
    /// A request took longer than its timeout; the worker was killed and is replaced.
    #[error("{op} timed out after {} ms; the worker was killed and will be restarted", .after.as_millis())]
    Timeout { op: &'static str, after: Duration },
    /// EZKL reported an error for a request.
    #[error("EZKL failed: {0}")]
    Ezkl(String),
    /// A worker answered something the protocol does not allow.
    #[error("prover worker protocol error: {0}")]
    Protocol(String),
    /// A fresh proof failed its own verification or does not carry the expected instances.
    #[error("fresh proof failed its self-check: {0}")]
    SelfCheck(String),
    /// The SRS file given to setup does not exist.
    #[error("SRS file {} not found: pass the path of a KZG SRS file", .path.display())]
    SrsMissing { path: PathBuf },
    /// Setup (`vouch proof setup`) failed.
    #[error("proof setup failed: {0}")]
    Setup(String),
    /// The proof file could not be written where the caller asked.
    #[error("cannot write the proof file {}: {source}", .path.display())]
    WriteProofFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ProverError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
