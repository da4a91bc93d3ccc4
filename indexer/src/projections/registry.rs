//! NodeRegistry -> `hosts`.

use vouch_bindings::contracts::NodeRegistry::NodeRegistryEvents as E;

use super::state::{LogMeta, State};
use super::util::{addr, dec, hash, opt_addr, region, row, secs};
use crate::store::entity::host;

fn blank(chain_id: i64, address: String) -> host::Model {
    host::Model {
        chain_id,
        address,
        endpoint: String::new(),
        region: String::new(),
        price_per_token: "0".into(),
        models: "[]".into(),
        operator: None,
        registered: false,
        registered_at: None,
        deregistered_at: None,
        last_heartbeat: None,
        block: 0,
    }
}

fn models(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn set_models(h: &mut host::Model, list: Vec<String>) {
    h.models = serde_json::to_string(&list).expect("a list of strings serializes");
}

/// The host's row, created blank on first sight.
fn host(state: &mut State, address: alloy::primitives::Address) -> &mut host::Model {
    let (chain, address) = (state.chain_id, addr(address));
    row!(state, Host, "hosts", address.clone(), blank(chain, address))
}

pub fn apply(state: &mut State, meta: &LogMeta, event: &E) {
    let at = meta.block_timestamp as i64;
    let h = match event {
        E::NodeRegistered(e) => {
            let h = host(state, e.host);
            h.endpoint = e.endpoint.clone();
            h.region = region(e.region);
            h.price_per_token = dec(e.pricePerToken);
            set_models(h, e.models.iter().map(|m| hash(*m)).collect());
            // A registration starts from a clean record: the contract deletes it on deregister.
            h.operator = None;
            h.registered = true;
            h.registered_at = Some(at);
            h.deregistered_at = None;
            h.last_heartbeat = Some(at);
            h
        }
        E::NodeUpdated(e) => {
            let h = host(state, e.host);
            h.endpoint = e.endpoint.clone();
            h.region = region(e.region);
            h.price_per_token = dec(e.pricePerToken);
            h
        }
        E::ModelAdded(e) => {
            let h = host(state, e.host);
            let mut list = models(&h.models);
            list.push(hash(e.modelHash));
            set_models(h, list);
            h
        }
        E::ModelRemoved(e) => {
            let h = host(state, e.host);
            let gone = hash(e.modelHash);
            set_models(
                h,
                models(&h.models)
                    .into_iter()
                    .filter(|m| *m != gone)
                    .collect(),
            );
            h
        }
        E::NodeDeregistered(e) => {
            let h = host(state, e.host);
            h.registered = false;
            h.deregistered_at = Some(at);
            h.operator = None;
            set_models(h, Vec::new());
            h
        }
        E::Heartbeat(e) => {
            let h = host(state, e.host);
            h.last_heartbeat = Some(secs(e.at.to::<u64>()));
            h
        }
        E::OperatorSet(e) => {
            let h = host(state, e.host);
            h.operator = opt_addr(e.operator);
            h
        }
        _ => return,
    };
    h.block = meta.block_number as i64;
}
