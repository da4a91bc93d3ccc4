//! The repository root: the one lookup every crate uses (the keeper's circuit artifacts, the
//! bindings' forge artifacts, the test kit's anvil and deploy script).
//!
//! One rule: `VOUCH_ROOT` when set; else the nearest ancestor of the current directory that
//! holds the repository's marker file ([`ROOT_MARKER`]); else the checkout this crate was
//! built from. The current directory comes before the build checkout so that an installed
//! binary run inside another checkout uses that checkout's artifacts.

use std::path::{Path, PathBuf};

/// A file only the Vouch repository root holds.
pub const ROOT_MARKER: &str = "circuits/commitment.py";

/// The repository root (see the module doc for the rule).
pub fn repository_root() -> PathBuf {
    if let Some(root) = std::env::var_os("VOUCH_ROOT").filter(|v| !v.is_empty()) {
        return PathBuf::from(root);
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = find_from(&cwd)
    {
        return found;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the bindings crate sits in the workspace")
        .to_path_buf()
}

/// The nearest ancestor of `dir` (itself included) holding [`ROOT_MARKER`].
pub fn find_from(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(ROOT_MARKER).is_file())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_checkout_from_a_subdirectory_and_nothing_elsewhere() {
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(
            find_from(&checkout.join("keeper/src")).as_deref(),
            Some(checkout)
        );
        assert_eq!(find_from(checkout).as_deref(), Some(checkout));
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(find_from(elsewhere.path()), None);
    }
}
