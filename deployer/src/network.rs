//! The per-network configs in `deploy/networks/<name>.json`: which chain a name means, where
//! its RPC URL comes from, the deploy script's settings there, and whether verifiers made from
//! the development SRS may be deployed on it. A chain with no config gets the script's
//! defaults and no development verifiers.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256};
use serde::Deserialize;

use crate::{DeployError, Result};

/// One network's config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkConfig {
    /// Short name (`anvil`, `base-sepolia`, `base`), also the file's stem.
    pub name: String,
    pub chain_id: u64,
    /// The environment variable holding the RPC URL, so no URL with an API key sits in the repo.
    pub rpc_url_env: String,
    /// Where `vouch deploy` writes the manifest unless `--out` says otherwise.
    pub manifest: PathBuf,
    /// True only for throwaway chains: development-SRS verifiers accept forged proofs.
    #[serde(default)]
    pub allow_dev_srs: bool,
    #[serde(default)]
    pub settings: DeploySettings,
}

/// The deploy script's settings (`script/Deploy.s.sol` reads them from the environment);
/// absent ones keep the script's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploySettings {
    /// VOUCH supply in wei.
    pub token_supply: Option<U256>,
    pub token_holder: Option<Address>,
    /// Seconds.
    pub timelock_delay: Option<u64>,
    /// Seconds.
    pub voting_delay: Option<u64>,
    /// Seconds.
    pub voting_period: Option<u64>,
    /// VOUCH in wei.
    pub proposal_threshold: Option<U256>,
    pub quorum_percent: Option<u64>,
    pub guardian: Option<Address>,
    pub arbitration_council: Option<Address>,
}

impl DeploySettings {
    /// The environment variables the deploy script reads, for the settings that are set.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        let mut put = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                env.push((name, value));
            }
        };
        put(
            "VOUCH_TOKEN_SUPPLY",
            self.token_supply.map(|v| v.to_string()),
        );
        put(
            "VOUCH_TOKEN_HOLDER",
            self.token_holder.map(|v| v.to_string()),
        );
        put(
            "VOUCH_TIMELOCK_DELAY",
            self.timelock_delay.map(|v| v.to_string()),
        );
        put(
            "VOUCH_VOTING_DELAY",
            self.voting_delay.map(|v| v.to_string()),
        );
        put(
            "VOUCH_VOTING_PERIOD",
            self.voting_period.map(|v| v.to_string()),
        );
        put(
            "VOUCH_PROPOSAL_THRESHOLD",
            self.proposal_threshold.map(|v| v.to_string()),
        );
        put(
            "VOUCH_QUORUM_PERCENT",
            self.quorum_percent.map(|v| v.to_string()),
        );
        put("VOUCH_GUARDIAN", self.guardian.map(|v| v.to_string()));
        put(
            "VOUCH_ARBITRATION_COUNCIL",
            self.arbitration_council.map(|v| v.to_string()),
        );
        env
    }
}

impl NetworkConfig {
    /// Reads one config file.
    pub fn load(path: &Path) -> Result<Self> {
        let bad = |reason: String| DeployError::Config {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
    }

    /// Every config in `dir` (`deploy/networks`), sorted by name.
    pub fn all(dir: &Path) -> Result<Vec<Self>> {
        let entries = std::fs::read_dir(dir).map_err(|e| DeployError::Config {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let mut configs = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                configs.push(Self::load(&path)?);
            }
        }
        configs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(configs)
    }

    /// The config named `name` in `dir`.
    pub fn named(dir: &Path, name: &str) -> Result<Self> {
        let all = Self::all(dir)?;
        let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
        all.into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| DeployError::Config {
                path: dir.join(format!("{name}.json")),
                reason: format!("no network named {name} (known: {})", names.join(", ")),
            })
    }

    /// The config for `chain_id` in `dir`, if one exists.
    pub fn for_chain(dir: &Path, chain_id: u64) -> Result<Option<Self>> {
        Ok(Self::all(dir)?.into_iter().find(|c| c.chain_id == chain_id))
    }
}

/// `deploy/networks` of the project.
pub fn networks_dir() -> PathBuf {
    vouch_bindings::repository_root().join("deploy/networks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_configs_cover_anvil_base_sepolia_and_base() {
        let all = NetworkConfig::all(&networks_dir()).unwrap();
        let ids: Vec<(String, u64, bool)> = all
            .iter()
            .map(|c| (c.name.clone(), c.chain_id, c.allow_dev_srs))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("anvil".to_string(), 31337, true),
                ("base".to_string(), 8453, false),
                ("base-sepolia".to_string(), 84532, false),
            ]
        );
        let base = NetworkConfig::for_chain(&networks_dir(), 8453)
            .unwrap()
            .unwrap();
        assert_eq!(base.rpc_url_env, "BASE_RPC_URL");
        assert_eq!(base.settings.timelock_delay, Some(172_800));
    }

    #[test]
    fn settings_become_the_scripts_environment() {
        let settings = DeploySettings {
            timelock_delay: Some(60),
            quorum_percent: Some(4),
            guardian: Some(Address::repeat_byte(0x11)),
            ..Default::default()
        };
        assert_eq!(
            settings.to_env(),
            vec![
                ("VOUCH_TIMELOCK_DELAY", "60".to_string()),
                ("VOUCH_QUORUM_PERCENT", "4".to_string()),
                (
                    "VOUCH_GUARDIAN",
                    "0x1111111111111111111111111111111111111111".to_string()
                ),
            ]
        );
    }

    #[test]
    fn an_unknown_setting_is_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(
            &path,
            r#"{"name":"x","chainId":1,"rpcUrlEnv":"X","manifest":"deploy/x.json","settings":{"timelockDelay":1,"votingDelya":2}}"#,
        )
        .unwrap();
        let err = NetworkConfig::load(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("x.json") && text.contains("votingDelya"),
            "{text}"
        );
        assert!(err.is_bad_input());
    }

    #[test]
    fn an_unknown_network_name_lists_the_known_ones() {
        let err = NetworkConfig::named(&networks_dir(), "mainnet").unwrap_err();
        assert!(
            err.to_string()
                .contains("no network named mainnet (known: anvil, base, base-sepolia)"),
            "{err}"
        );
    }
}
