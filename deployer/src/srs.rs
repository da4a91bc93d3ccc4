//! The guard against deploying verifiers that accept forged proofs. The verifiers the deploy
//! script installs are the ones `vouch proof setup` generated into contracts/generated from
//! the circuits' keys; each circuit's manifest says whether its SRS is the development one
//! (docs/circuit.md). Where a network's config does not allow it, such verifiers are refused
//! before a single transaction is sent.

use vouch_keeper::prover::{Artifacts, BATCH_SIZES};

use crate::{DeployError, Result};

/// The development SRS file the circuits were built from, if any batch size used one.
pub fn dev_srs_in_use(artifacts: &Artifacts) -> Result<Option<String>> {
    for batch_size in BATCH_SIZES {
        let manifest = artifacts
            .manifest(batch_size)
            .map_err(|e| DeployError::Artifacts(e.to_string()))?;
        if manifest.srs.is_unsafe {
            return Ok(Some(manifest.srs.source.display().to_string()));
        }
    }
    Ok(None)
}

/// Refuses development verifiers on `chain_id` unless `allowed` (the network's config or the
/// user's explicit override).
pub fn check(artifacts: &Artifacts, chain_id: u64, allowed: bool) -> Result<()> {
    if allowed {
        return Ok(());
    }
    match dev_srs_in_use(artifacts)? {
        Some(srs) => Err(DeployError::DevSrsRefused { chain_id, srs }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_up_circuits_use_the_development_srs_and_are_refused_where_not_allowed() {
        let artifacts = Artifacts::from_env();
        let srs = dev_srs_in_use(&artifacts)
            .unwrap()
            .expect("setup uses the dev SRS");
        assert!(srs.ends_with("kzg-dev-UNSAFE-k10.srs"), "{srs}");
        check(&artifacts, 31337, true).unwrap();
        let err = check(&artifacts, 84532, false).unwrap_err();
        assert!(matches!(
            err,
            DeployError::DevSrsRefused {
                chain_id: 84532,
                ..
            }
        ));
        assert!(err.to_string().contains("--allow-dev-srs"), "{err}");
    }

    #[test]
    fn missing_circuits_say_to_run_setup() {
        let dir = tempfile::tempdir().unwrap();
        let err = dev_srs_in_use(&Artifacts::at(dir.path())).unwrap_err();
        assert!(matches!(err, DeployError::Artifacts(_)));
        assert!(err.to_string().contains("bash script/setup.sh"), "{err}");
    }
}
