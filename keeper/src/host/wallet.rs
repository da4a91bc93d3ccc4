//! The host's keys: a new key in an encrypted JSON keystore (scrypt + AES, the Ethereum
//! keystore format) derived from a fresh BIP-39 mnemonic, and loading a key from a keystore or
//! from a hex string taken from the environment. Secrets never reach a log line, a `Debug`
//! output or an error message: errors name the file or the variable, never its content.

use std::fmt;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use alloy::signers::local::coins_bip39::{English, Mnemonic};
use alloy::signers::local::{LocalSignerError, MnemonicBuilder, PrivateKeySigner};

use super::error::{HostError, Result};

/// The environment variable a raw private key may come from (instead of a keystore).
pub const PRIVATE_KEY_ENV: &str = "VOUCH_PRIVATE_KEY";
/// The environment variable a keystore's password may come from (instead of a prompt).
pub const PASSWORD_ENV: &str = "VOUCH_KEYSTORE_PASSWORD";
/// Words in a new mnemonic: 24 words carry 256 bits of entropy.
pub const MNEMONIC_WORDS: usize = 24;

/// A secret string (password, mnemonic) that prints as `[redacted]` in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must use or show it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A key just created by [`new_wallet`].
#[derive(Debug)]
pub struct NewWallet {
    pub address: Address,
    /// The keystore file written.
    pub keystore: PathBuf,
    /// The BIP-39 phrase the key derives from (path m/44'/60'/0'/0/0): shown to the user once,
    /// never stored by Vouch.
    pub mnemonic: Secret,
}

/// Creates a key from a fresh mnemonic and writes it, encrypted with `password`, to `path`
/// (refusing to overwrite a file there).
pub fn new_wallet(path: &Path, password: &Secret) -> Result<NewWallet> {
    if password.expose().is_empty() {
        return Err(HostError::EmptyPassword);
    }
    if path.exists() {
        return Err(HostError::KeystoreExists {
            path: path.to_owned(),
        });
    }
    let (dir, name) = split_path(path)?;
    std::fs::create_dir_all(&dir).map_err(|source| HostError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut rng = rand::thread_rng();
    let mnemonic = Mnemonic::<English>::new_with_count(&mut rng, MNEMONIC_WORDS)
        .map_err(|e| HostError::Keygen(e.to_string()))?;
    let phrase = Secret::new(mnemonic.to_phrase());
    let signer = signer_from_mnemonic(&phrase)?;
    PrivateKeySigner::encrypt_keystore(
        &dir,
        &mut rng,
        signer.to_bytes(),
        password.expose(),
        Some(&name),
    )
    .map_err(|e| keystore_error(path, e))?;
    Ok(NewWallet {
        address: signer.address(),
        keystore: path.to_owned(),
        mnemonic: phrase,
    })
}

/// The first key (m/44'/60'/0'/0/0) of a BIP-39 phrase.
pub fn signer_from_mnemonic(phrase: &Secret) -> Result<PrivateKeySigner> {
    MnemonicBuilder::<English>::default()
        .phrase(phrase.expose())
        .index(0)
        .and_then(|b| b.build())
        // The builder's errors can quote the phrase's words: say only what is wrong.
        .map_err(|_| HostError::BadMnemonic)
}

/// Decrypts the keystore at `path`.
pub fn load_keystore(path: &Path, password: &Secret) -> Result<PrivateKeySigner> {
    if !path.is_file() {
        return Err(HostError::NoKeystore {
            path: path.to_owned(),
        });
    }
    PrivateKeySigner::decrypt_keystore(path, password.expose()).map_err(|e| keystore_error(path, e))
}

/// A key given as 64 hex digits (with or without `0x`), as `VOUCH_PRIVATE_KEY` holds it.
pub fn key_from_hex(value: &str) -> Result<PrivateKeySigner> {
    let trimmed = value.trim();
    let digits = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    // No part of the value goes into the error: a typo'd key is still mostly a key.
    let bytes: B256 = digits.parse().map_err(|_| HostError::BadPrivateKey)?;
    if digits.len() != 64 {
        return Err(HostError::BadPrivateKey);
    }
    PrivateKeySigner::from_bytes(&bytes).map_err(|_| HostError::BadPrivateKey)
}

/// Maps the keystore library's errors to ours without its text where that could echo input.
fn keystore_error(path: &Path, error: LocalSignerError) -> HostError {
    match error {
        LocalSignerError::EthKeystoreError(eth_keystore::KeystoreError::MacMismatch) => {
            HostError::WrongPassword {
                path: path.to_owned(),
            }
        }
        LocalSignerError::IoError(source) => HostError::Io {
            path: path.to_owned(),
            source,
        },
        LocalSignerError::EthKeystoreError(
            eth_keystore::KeystoreError::SerdeJson(_) | eth_keystore::KeystoreError::StdIo(_),
        ) => HostError::BadKeystore {
            path: path.to_owned(),
        },
        // Scrypt/AES parameter errors and a decrypted key that is not a valid scalar: the
        // file is not a usable keystore.
        _ => HostError::BadKeystore {
            path: path.to_owned(),
        },
    }
}

fn split_path(path: &Path) -> Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| HostError::BadKeystorePath {
            path: path.to_owned(),
        })?
        .to_owned();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((dir, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Anvil's first well-known development key: public knowledge, safe in a test.
    const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn a_new_wallet_decrypts_with_its_password_and_matches_its_mnemonic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/host.json");
        let password = Secret::new("correct horse battery staple");
        let wallet = new_wallet(&path, &password).unwrap();
        assert_eq!(wallet.mnemonic.expose().split(' ').count(), MNEMONIC_WORDS);
        assert_eq!(
            load_keystore(&path, &password).unwrap().address(),
            wallet.address
        );
        assert_eq!(
            signer_from_mnemonic(&wallet.mnemonic).unwrap().address(),
            wallet.address
        );
        // The file holds no plaintext key and no phrase.
        let text = std::fs::read_to_string(&path).unwrap();
        let key = load_keystore(&path, &password).unwrap().to_bytes();
        assert!(!text.contains(&alloy::hex::encode(key)));
        assert!(!text.contains(wallet.mnemonic.expose()));
        assert_eq!(format!("{:?}", wallet.mnemonic), "[redacted]");
        assert!(!format!("{wallet:?}").contains(wallet.mnemonic.expose()));
        // A second wallet at the same path is refused; the first is untouched.
        let again = new_wallet(&path, &password).unwrap_err();
        assert_eq!(
            again.to_string(),
            format!(
                "{} already exists; choose another --keystore path or remove it",
                path.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_wrong_password_names_the_file_and_not_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.json");
        new_wallet(&path, &Secret::new("right-password-1")).unwrap();
        let error = load_keystore(&path, &Secret::new("wrong-password-2")).unwrap_err();
        assert!(matches!(error, HostError::WrongPassword { .. }));
        let message = error.to_string();
        assert_eq!(
            message,
            format!(
                "wrong password for keystore {} (set VOUCH_KEYSTORE_PASSWORD or type it at the prompt)",
                path.display()
            )
        );
        assert!(!message.contains("wrong-password-2") && !message.contains("right-password-1"));
        assert!(error.is_bad_input());
    }

    #[test]
    fn a_bad_private_key_yields_a_message_without_the_key() {
        assert_eq!(
            key_from_hex(DEV_KEY).unwrap().address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(
            key_from_hex(&format!("0x{DEV_KEY}\n")).unwrap().address(),
            key_from_hex(DEV_KEY).unwrap().address()
        );
        let short = &DEV_KEY[..63];
        let not_hex = format!("{}zz", &DEV_KEY[..62]);
        let zero = "0".repeat(64);
        for bad in [short, not_hex.as_str(), zero.as_str(), "", "0x"] {
            let error = key_from_hex(bad).unwrap_err();
            let message = error.to_string();
            assert_eq!(
                message,
                "VOUCH_PRIVATE_KEY is not a private key: it must be 64 hex digits (0x optional) of a valid secp256k1 key"
            );
            if bad.len() > 8 {
                assert!(!message.contains(&bad[..8]), "{message}");
            }
            assert!(error.is_bad_input());
        }
    }

    #[test]
    fn a_damaged_keystore_or_bad_mnemonic_is_named_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        std::fs::write(&path, format!("{{\"key\": \"{DEV_KEY}\"}}")).unwrap();
        let error = load_keystore(&path, &Secret::new("pw")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is not a readable keystore file (an encrypted JSON key)",
                path.display()
            )
        );
        assert!(!error.to_string().contains(DEV_KEY));
        let missing = dir.path().join("missing.json");
        assert_eq!(
            load_keystore(&missing, &Secret::new("pw"))
                .unwrap_err()
                .to_string(),
            format!(
                "no keystore at {}; create one with `vouch host wallet new` or set VOUCH_PRIVATE_KEY",
                missing.display()
            )
        );
        let phrase = Secret::new("abandon abandon abandon zebra-not-a-word");
        let error = signer_from_mnemonic(&phrase).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the mnemonic is not a valid BIP-39 English phrase"
        );
        assert_eq!(
            new_wallet(&dir.path().join("x.json"), &Secret::new(""))
                .unwrap_err()
                .to_string(),
            "the keystore password is empty; choose a non-empty one"
        );
    }
}
