//! Every contract's governed settings -> `parameters`: the latest value of each, from the event
//! that set it, keyed by contract and setting (with the setting's own key where it has one,
//! e.g. `SlashRateSet(1)` or `AssetFeesSet(0x..)`). Pause state and roles are kept the same way.
//! Generic over the decoded JSON arguments, so a new `*Set` event needs no code here.

use serde_json::{Map, Value, json};
use vouch_bindings::events::DecodedEvent;

use super::state::{LogMeta, State};
use super::util::row;
use crate::store::entity::parameter;

/// Events whose first argument names which of several settings they set.
const KEYED: [&str; 4] = ["DeltaSet", "SlashRateSet", "AssetFeesSet", "TokenAllowed"];
/// Settings events that do not end in `Set`.
const OTHER: [&str; 6] = [
    "TokenAllowed",
    "MinDelayChange",
    "QuorumNumeratorUpdated",
    "TimelockChange",
    "VerifierSet",
    "SlashingSet",
];

fn first_arg(args: &Map<String, Value>) -> String {
    let v = args.values().next().cloned().unwrap_or(Value::Null);
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

pub fn apply(state: &mut State, meta: &LogMeta, decoded: &DecodedEvent) {
    let event = decoded.name;
    // Parsed only for the settings events below, not for every log.
    let args = std::cell::LazyCell::new(|| decoded.args_map());
    let args = &args;
    let (name, value) = match event {
        "Paused" | "Unpaused" => (
            "pause".to_owned(),
            json!({"paused": event == "Paused", "by": args["account"], "endsAt": null}),
        ),
        "GuardianPaused" => (
            "pause".to_owned(),
            json!({"paused": true, "by": args["guardian"], "endsAt": args["endsAt"]}),
        ),
        "RoleGranted" | "RoleRevoked" => (
            format!(
                "role:{}:{}",
                first_arg(args),
                args["account"].as_str().unwrap_or_default()
            ),
            json!({"granted": event == "RoleGranted", "sender": args["sender"]}),
        ),
        // VerifierSet is keyed by batch size.
        "VerifierSet" => (
            format!("VerifierSet({})", first_arg(args)),
            Value::Object((**args).clone()),
        ),
        e if KEYED.contains(&e) => (
            format!("{e}({})", first_arg(args)),
            Value::Object((**args).clone()),
        ),
        e if e.ends_with("Set") || OTHER.contains(&e) => {
            (e.to_owned(), Value::Object((**args).clone()))
        }
        _ => return,
    };
    let chain = state.chain_id;
    let contract = decoded.contract.manifest_name().to_owned();
    let value = value.to_string();
    let p = row!(
        state,
        Parameter,
        "parameters",
        format!("{contract}:{name}"),
        parameter::Model {
            chain_id: chain,
            contract: contract.clone(),
            name: name.clone(),
            value: String::new(),
            block: 0,
        }
    );
    p.value = value;
    p.block = meta.block_number as i64;
}
