//! Compiles the contracts with the project's forge before the `sol!` macros read forge's
//! artifacts, so `cargo build` alone is enough once `npm install` has run. forge's own cache
//! makes this a no-op when no Solidity file changed.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let bindings = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = bindings.join("..");
    // The contract table is `include!`d below; its artifact list can change the check.
    println!("cargo:rerun-if-changed=src/table.rs");
    for watched in ["contracts", "foundry.toml", "package-lock.json"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=VOUCH_SKIP_FORGE_BUILD");
    if std::env::var_os("VOUCH_SKIP_FORGE_BUILD").is_some() {
        return;
    }

    let forge = root.join("node_modules/@foundry-rs/forge-linux-amd64/bin/forge");
    if !forge.exists() {
        fail(&format!(
            "forge is missing at {}; run `bash script/setup.sh` (it installs the npm toolchain)",
            forge.display()
        ));
    }
    // Contracts only: a Forge test or script that does not compile must not break the Rust build.
    let output = Command::new(&forge)
        .args(["build", "--skip", "test", "--skip", "script"])
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| fail(&format!("could not run {}: {e}", forge.display())));
    if !output.status.success() {
        fail(&format!(
            "`forge build` failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    for artifact in ARTIFACTS {
        let path = bindings.join(artifact);
        if !path.exists() {
            fail(&format!("forge built, but {} is missing", path.display()));
        }
    }
}

include!("src/table.rs");

/// Every artifact the `sol!` bindings read, from the contract table.
macro_rules! artifact_paths {
    (
        contracts: [$(($name:ident, $field:ident, $events:ident, $path:literal, $key:literal)),* $(,)?],
        verifiers: [$($verifier:tt)*] $(,)?
    ) => {
        &[$($path),*]
    };
}

const ARTIFACTS: &[&str] = for_each_contract!(artifact_paths);

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
