//! The command line's side of errors: which library errors are the user's to fix (exit code 2)
//! and which are failures (exit 1), and the flag hints the libraries cannot know. The crates
//! return typed errors and never decide this.

use std::process::ExitCode;

use vouch_keeper::prover::ProverError;

/// An error the user can fix by changing the command line, environment or input files: exit 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Bails out of the current function with a [`BadInput`].
#[macro_export]
macro_rules! bad_input {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::errors::BadInput(format!($($arg)*))))
    };
}

/// The one line printed for `error` and the process's exit code.
pub fn report(error: &anyhow::Error) -> (String, ExitCode) {
    // Only the outermost message: every error here is written to read as one line.
    let mut line = error.to_string().replace('\n', " ");
    let mut bad = error.downcast_ref::<BadInput>().is_some();
    if let Some(e) = error.downcast_ref::<ProverError>() {
        bad = prover_bad_input(e);
        if let Some(hint) = prover_hint(e) {
            line.push_str(hint);
        }
    }
    (line, ExitCode::from(if bad { 2 } else { 1 }))
}

/// True when the prover refused what the user gave it.
fn prover_bad_input(e: &ProverError) -> bool {
    matches!(
        e,
        ProverError::BadInput(_)
            | ProverError::MalformedProof(_)
            | ProverError::EmptyBatch
            | ProverError::TooManyJobs { .. }
            | ProverError::UnsupportedBatchSize(_)
            | ProverError::SrsMissing { .. }
            | ProverError::WriteProofFile { .. }
    )
}

/// Which flag fixes a prover error, where one does.
fn prover_hint(e: &ProverError) -> Option<&'static str> {
    match e {
        ProverError::SrsMissing { .. } => Some(" (--srs / VOUCH_SRS)"),
        ProverError::WriteProofFile { .. } => Some("; pass a writable path (--out / VOUCH_OUT)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prover_errors_map_to_exit_codes_and_hints() {
        let err = anyhow::Error::new(ProverError::SrsMissing {
            path: "/x.srs".into(),
        });
        let (line, code) = report(&err);
        assert_eq!(
            line,
            "SRS file /x.srs not found: pass the path of a KZG SRS file (--srs / VOUCH_SRS)"
        );
        assert_eq!(code, ExitCode::from(2));
        let err = anyhow::Error::new(ProverError::Ezkl("boom".into()));
        assert_eq!(
            report(&err),
            ("EZKL failed: boom".into(), ExitCode::from(1))
        );
    }
}
