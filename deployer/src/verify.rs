//! Checks a deployment on chain against the repository: every manifest address runs the code
//! forge compiled (immutables aside), the deployer holds no role anywhere, every admin role is
//! the timelock's alone, the timelock obeys the governor and anyone may execute, and
//! ProofSystem's verifier for each batch size is the manifest's. Roles are read back from the
//! `RoleGranted`/`RoleRevoked` logs (AccessControl keeps no list) and each holder confirmed
//! with `hasRole`; role names come from the contracts' ABIs.

use std::collections::{BTreeMap, BTreeSet};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::sol_types::SolEvent;
use vouch_bindings::Deployment;
use vouch_bindings::artifacts::{role_getters, runtime_code, verifier_name};
use vouch_bindings::contracts::ProofSystem;
use vouch_keeper::prover::BATCH_SIZES;

use crate::{DeployError, Result};

alloy::sol! {
    #[sol(rpc)]
    interface IAccessControl {
        event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
        event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);
        function hasRole(bytes32 role, address account) external view returns (bool);
    }
}

/// Blocks per `eth_getLogs` request when reading role history (public RPCs cap the range).
const LOG_RANGE: u64 = 10_000;

/// One role held on one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolder {
    pub contract: &'static str,
    /// The getter's name (`PAUSER_ROLE`), or the hash when no getter has that value.
    pub role: String,
    pub account: Address,
    /// The manifest name of `account` when it is a Vouch contract.
    pub account_name: Option<&'static str>,
}

/// What was checked.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub chain_id: u64,
    /// (manifest name, address, runtime code size).
    pub contracts: Vec<(&'static str, Address, usize)>,
    pub roles: Vec<RoleHolder>,
}

/// Verifies `deployment` on the chain behind `provider`; `deployer` is the account that ran
/// the deploy script.
#[tracing::instrument(skip_all, fields(chain_id = deployment.chain_id, %deployer))]
pub async fn verify_deployment(
    provider: &DynProvider,
    deployment: &Deployment,
    deployer: Address,
) -> Result<VerifyReport> {
    let rpc = |e: alloy::transports::TransportError| DeployError::Rpc {
        url: "the RPC".into(),
        reason: e.to_string(),
    };
    let chain_id = provider.get_chain_id().await.map_err(rpc)?;
    if chain_id != deployment.chain_id {
        return Err(DeployError::ChainMismatch {
            manifest: deployment.chain_id,
            rpc: chain_id,
        });
    }
    let contracts = check_code(provider, deployment).await?;
    let roles = read_roles(provider, deployment).await?;
    check_roles(deployment, deployer, &roles)?;
    check_verifiers(provider, deployment).await?;
    Ok(VerifyReport {
        chain_id,
        contracts,
        roles,
    })
}

async fn check_code(
    provider: &DynProvider,
    deployment: &Deployment,
) -> Result<Vec<(&'static str, Address, usize)>> {
    let mut checked = Vec::new();
    for (name, address) in deployment.contracts.all() {
        let onchain = provider
            .get_code_at(address)
            .await
            .map_err(|e| DeployError::Rpc {
                url: "the RPC".into(),
                reason: e.to_string(),
            })?;
        if onchain.is_empty() {
            return Err(DeployError::NoCode {
                contract: name,
                address,
            });
        }
        runtime_code(name)?
            .check(&onchain)
            .map_err(|reason| DeployError::CodeMismatch {
                contract: name,
                address,
                reason,
            })?;
        checked.push((name, address, onchain.len()));
    }
    Ok(checked)
}

/// The contracts with roles: those whose ABI has `DEFAULT_ADMIN_ROLE`.
fn access_controlled(deployment: &Deployment) -> Result<Vec<(&'static str, Address, Vec<String>)>> {
    let mut out = Vec::new();
    for (name, address) in deployment.contracts.all() {
        if name.starts_with("Halo2Verifier") {
            continue;
        }
        let getters = role_getters(name)?;
        if getters.iter().any(|g| g == "DEFAULT_ADMIN_ROLE") {
            out.push((name, address, getters));
        }
    }
    Ok(out)
}

async fn read_roles(provider: &DynProvider, deployment: &Deployment) -> Result<Vec<RoleHolder>> {
    let rpc = |e: alloy::transports::TransportError| DeployError::Rpc {
        url: "the RPC".into(),
        reason: e.to_string(),
    };
    let controlled = access_controlled(deployment)?;
    let names_of: BTreeMap<Address, &'static str> = deployment
        .contracts
        .all()
        .into_iter()
        .map(|(n, a)| (a, n))
        .collect();

    // Role values by calling each getter: the ABI names them, the chain gives the hash.
    let mut role_names: BTreeMap<(Address, B256), String> = BTreeMap::new();
    for (_, address, getters) in &controlled {
        for getter in getters {
            let selector = &keccak256(format!("{getter}()"))[..4];
            let call = TransactionRequest::default()
                .to(*address)
                .input(selector.to_vec().into());
            let value = provider.call(call).await.map_err(rpc)?;
            if value.len() == 32 {
                role_names.insert((*address, B256::from_slice(&value)), getter.clone());
            }
        }
    }

    // Replay grants and revocations in log order.
    let head = provider.get_block_number().await.map_err(rpc)?;
    let addresses: Vec<Address> = controlled.iter().map(|(_, a, _)| *a).collect();
    let mut held: BTreeMap<(Address, B256), BTreeSet<Address>> = BTreeMap::new();
    let mut from = deployment.start_block;
    while from <= head {
        let to = (from + LOG_RANGE - 1).min(head);
        let filter = Filter::new()
            .address(addresses.clone())
            .event_signature(vec![
                IAccessControl::RoleGranted::SIGNATURE_HASH,
                IAccessControl::RoleRevoked::SIGNATURE_HASH,
            ])
            .from_block(BlockNumberOrTag::Number(from))
            .to_block(BlockNumberOrTag::Number(to));
        for log in provider.get_logs(&filter).await.map_err(rpc)? {
            if let Ok(granted) = IAccessControl::RoleGranted::decode_log(&log.inner) {
                held.entry((log.address(), granted.role))
                    .or_default()
                    .insert(granted.account);
            } else if let Ok(revoked) = IAccessControl::RoleRevoked::decode_log(&log.inner) {
                held.entry((log.address(), revoked.role))
                    .or_default()
                    .remove(&revoked.account);
            }
        }
        from = to + 1;
    }

    let mut roles = Vec::new();
    for ((contract, role), accounts) in held {
        for account in accounts {
            let confirmed = IAccessControl::new(contract, provider)
                .hasRole(role, account)
                .call()
                .await
                .map_err(|e| DeployError::Rpc {
                    url: "the RPC".into(),
                    reason: e.to_string(),
                })?;
            if !confirmed {
                return Err(DeployError::Wiring {
                    what: format!("hasRole({role}, {account}) on {}", names_of[&contract]),
                    expected: "true, as the role logs say".into(),
                    actual: "false".into(),
                });
            }
            roles.push(RoleHolder {
                contract: names_of[&contract],
                role: role_names
                    .get(&(contract, role))
                    .cloned()
                    .unwrap_or_else(|| role.to_string()),
                account,
                account_name: names_of.get(&account).copied(),
            });
        }
    }
    Ok(roles)
}

fn check_roles(deployment: &Deployment, deployer: Address, roles: &[RoleHolder]) -> Result<()> {
    let c = &deployment.contracts;
    if let Some(held) = roles.iter().find(|r| r.account == deployer) {
        return Err(DeployError::DeployerHoldsRole {
            deployer,
            contract: held.contract,
            role: role_hash(&held.role),
        });
    }
    let holders = |contract: &str, role: &str| -> Vec<Address> {
        roles
            .iter()
            .filter(|r| r.contract == contract && r.role == role)
            .map(|r| r.account)
            .collect()
    };
    for (name, _) in c.all() {
        let admins = holders(name, "DEFAULT_ADMIN_ROLE");
        let controlled = roles.iter().any(|r| r.contract == name);
        if controlled && admins != vec![c.timelock_controller] {
            return Err(DeployError::AdminNotTimelock {
                contract: name,
                holders: admins,
            });
        }
    }
    let expect = |what: &str, actual: Vec<Address>, expected: Address| {
        if actual == vec![expected] {
            Ok(())
        } else {
            Err(DeployError::Wiring {
                what: what.into(),
                expected: expected.to_string(),
                actual: format!("{actual:?}"),
            })
        }
    };
    expect(
        "TimelockController PROPOSER_ROLE",
        holders("TimelockController", "PROPOSER_ROLE"),
        c.vouch_governor,
    )?;
    expect(
        "TimelockController EXECUTOR_ROLE (anyone executes)",
        holders("TimelockController", "EXECUTOR_ROLE"),
        Address::ZERO,
    )?;
    Ok(())
}

/// The hash behind a role shown by name, for the error (names come from `keccak256(name)`
/// except the admin role, which is zero).
fn role_hash(role: &str) -> B256 {
    match role {
        "DEFAULT_ADMIN_ROLE" => B256::ZERO,
        other => other.parse().unwrap_or_else(|_| keccak256(other)),
    }
}

async fn check_verifiers(provider: &DynProvider, deployment: &Deployment) -> Result<()> {
    let proof_system = ProofSystem::new(deployment.contracts.proof_system, provider);
    let all = deployment.contracts.all();
    for batch_size in BATCH_SIZES {
        let name = verifier_name(batch_size);
        let expected = all
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or_else(|| DeployError::Wiring {
                what: format!("manifest entry {name}"),
                expected: "an address".into(),
                actual: "none".into(),
            })?;
        let installed = proof_system
            .verifierFor(batch_size as u16)
            .call()
            .await
            .map_err(|e| DeployError::Rpc {
                url: "the RPC".into(),
                reason: e.to_string(),
            })?;
        if installed.verifier != expected {
            return Err(DeployError::Wiring {
                what: format!("ProofSystem.verifierFor({batch_size})"),
                expected: expected.to_string(),
                actual: installed.verifier.to_string(),
            });
        }
    }
    Ok(())
}
