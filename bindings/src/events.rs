//! Every event of every Vouch contract, decoded from a log. This module owns the mapping from a
//! log to a contract (by address, through an [`AddressBook`] of a [`Deployment`]) and to an
//! event (by topic0), and the event's arguments as JSON, so the indexer stores what it cannot
//! miss: [`ContractKind`] and [`Event`] are generated from the contract table, and the tests
//! check that each contract's typed events are exactly those of its artifact's ABI.
//!
//! Decoding is done twice, on purpose: the typed `sol!` enum (`<Name>Events`) dispatches and
//! gives Rust values; alloy's dynamic ABI, read from the same forge artifact, gives the
//! arguments by parameter name for the JSON without a hand-written mapping per event.

use std::collections::HashMap;
use std::sync::LazyLock;

use alloy::dyn_abi::{DynSolValue, EventExt};
use alloy::json_abi::{JsonAbi, Param};
use alloy::primitives::{Address, B256, hex};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;
use serde_json::{Map, Value};

use crate::Deployment;
use crate::contracts;

/// One contract's artifact ABI, indexed for decoding.
#[derive(Debug)]
pub struct ContractAbi {
    /// The artifact's full ABI.
    pub abi: JsonAbi,
    /// Its events by topic0. No Vouch event is anonymous, so each has one.
    events: HashMap<B256, alloy::json_abi::Event>,
}

impl ContractAbi {
    fn from_artifact(artifact: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Artifact {
            abi: JsonAbi,
        }
        let abi = serde_json::from_str::<Artifact>(artifact)
            .expect("forge artifacts hold an ABI")
            .abi;
        let events = abi.events().map(|e| (e.selector(), e.clone())).collect();
        ContractAbi { abi, events }
    }
}

macro_rules! events {
    (
        contracts: [$(($name:ident, $field:ident, $events:ident, $path:literal, $key:literal)),* $(,)?],
        verifiers: [$($verifier:tt)*] $(,)?
    ) => {
        /// A Vouch contract that emits events: one per deployed contract of the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ContractKind {
            $($name,)*
        }

        impl ContractKind {
            /// Every contract kind, in the table's order.
            pub const ALL: &'static [ContractKind] = &[$(ContractKind::$name,)*];

            /// Its name in the deployment manifest (and in forge's `out/`).
            pub const fn manifest_name(self) -> &'static str {
                match self {
                    $(ContractKind::$name => $key,)*
                }
            }

            /// Its address in a deployment.
            pub fn address(self, deployment: &Deployment) -> Address {
                match self {
                    $(ContractKind::$name => deployment.contracts.$field,)*
                }
            }

            /// Its ABI from forge's artifact, parsed on first use.
            pub fn abi(self) -> &'static ContractAbi {
                match self {
                    $(ContractKind::$name => {
                        static ABI: LazyLock<ContractAbi> = LazyLock::new(|| {
                            ContractAbi::from_artifact(include_str!(concat!(
                                env!("CARGO_MANIFEST_DIR"), "/", $path
                            )))
                        });
                        &ABI
                    })*
                }
            }

            /// The topic0 of every event the typed [`Event`] decodes for this contract.
            pub fn event_selectors(self) -> &'static [[u8; 32]] {
                match self {
                    $(ContractKind::$name => contracts::$field::$name::$events::SELECTORS,)*
                }
            }

            /// The signature (`Name(type,..)`) of every event in [`Self::event_selectors`],
            /// in the same order.
            pub fn event_signatures(self) -> &'static [&'static str] {
                match self {
                    $(ContractKind::$name => contracts::$field::$name::$events::SIGNATURES,)*
                }
            }

            /// The typed event of a log from this contract, and the event's name.
            fn decode_typed(self, log: &Log) -> Result<(&'static str, Event), DecodeError> {
                let topic0 = log.topics().first().copied().unwrap_or_default();
                match self {
                    $(ContractKind::$name => {
                        type Events = contracts::$field::$name::$events;
                        let name = Events::name_by_selector(topic0.0).ok_or(
                            DecodeError::UnknownEvent { contract: self, address: log.address(), topic0 },
                        )?;
                        let event = Events::decode_raw_log(log.topics(), &log.data().data)
                            .map_err(|source| DecodeError::Typed {
                                contract: self,
                                address: log.address(),
                                event: name,
                                source,
                            })?;
                        Ok((name, Event::$name(event)))
                    })*
                }
            }
        }

        /// A decoded event of any Vouch contract: one variant per [`ContractKind`], wrapping
        /// the contract's `sol!`-generated events enum.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $($name(contracts::$field::$name::$events),)*
        }

        impl Event {
            /// The contract that emitted it.
            pub const fn contract(&self) -> ContractKind {
                match self {
                    $(Event::$name(_) => ContractKind::$name,)*
                }
            }
        }
    };
}

for_each_contract!(events);

/// The contract kind at each address of a deployment (the Halo2 verifiers emit no events and
/// are not in it).
#[derive(Debug, Clone, Default)]
pub struct AddressBook {
    kinds: HashMap<Address, ContractKind>,
}

impl AddressBook {
    /// The book of `deployment`'s contracts.
    pub fn new(deployment: &Deployment) -> Self {
        let kinds = ContractKind::ALL
            .iter()
            .map(|&kind| (kind.address(deployment), kind))
            .collect();
        AddressBook { kinds }
    }

    /// The contract kind at `address`, if it is one of the deployment's.
    pub fn kind(&self, address: Address) -> Option<ContractKind> {
        self.kinds.get(&address).copied()
    }

    /// Every address in the book, for a log filter.
    pub fn addresses(&self) -> Vec<Address> {
        self.kinds.keys().copied().collect()
    }
}

impl From<&Deployment> for AddressBook {
    fn from(deployment: &Deployment) -> Self {
        AddressBook::new(deployment)
    }
}

/// A log decoded as one Vouch event.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedEvent {
    /// The contract that emitted it.
    pub contract: ContractKind,
    /// The event's name, e.g. `JobCreated`.
    pub name: &'static str,
    /// The typed event.
    pub event: Event,
    /// The arguments by parameter name: integers (enums too) as decimal strings, addresses as
    /// checksummed hex, bytes as 0x hex, bools as bools, arrays as arrays, structs as objects.
    /// An indexed `string`, `bytes`, array or struct is only its hash in the log: 0x hex.
    pub args: Map<String, Value>,
}

/// Why a log from a known contract could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("log of {contract:?} at {address}: no event of its ABI has topic0 {topic0}")]
    UnknownEvent {
        contract: ContractKind,
        address: Address,
        /// Zero when the log has no topics.
        topic0: B256,
    },
    #[error("log of {contract:?} at {address}: bad {event} data: {source}")]
    Typed {
        contract: ContractKind,
        address: Address,
        event: &'static str,
        source: alloy::sol_types::Error,
    },
    #[error("log of {contract:?} at {address}: bad {event} data for the artifact's ABI: {source}")]
    Dynamic {
        contract: ContractKind,
        address: Address,
        event: &'static str,
        source: alloy::dyn_abi::Error,
    },
}

/// Decodes `log`: `None` when its address is not in `book`, an error when it is but the log is
/// not one of that contract's events.
pub fn decode(book: &AddressBook, log: &Log) -> Result<Option<DecodedEvent>, DecodeError> {
    let Some(contract) = book.kind(log.address()) else {
        return Ok(None);
    };
    let (name, event) = contract.decode_typed(log)?;
    // The typed enum knew the topic0; the tests keep the artifact's ABI in step with it.
    let topic0 = log.topics().first().copied().unwrap_or_default();
    let abi_event = contract
        .abi()
        .events
        .get(&topic0)
        .ok_or(DecodeError::UnknownEvent {
            contract,
            address: log.address(),
            topic0,
        })?;
    let values = abi_event
        .decode_log(log.data())
        .map_err(|source| DecodeError::Dynamic {
            contract,
            address: log.address(),
            event: name,
            source,
        })?;
    let (mut indexed, mut body) = (values.indexed.into_iter(), values.body.into_iter());
    let args = abi_event
        .inputs
        .iter()
        .map(|input| {
            let value = if input.indexed {
                indexed.next()
            } else {
                body.next()
            };
            // decode_log checked the counts against the inputs.
            let value = value.expect("one value per input");
            (input.name.clone(), to_json(&value, &input.components))
        })
        .collect();
    Ok(Some(DecodedEvent {
        contract,
        name,
        event,
        args,
    }))
}

/// One ABI value as JSON; `components` names a struct's fields.
fn to_json(value: &DynSolValue, components: &[Param]) -> Value {
    match value {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => i.to_string().into(),
        DynSolValue::Uint(u, _) => u.to_string().into(),
        DynSolValue::Address(a) => a.to_checksum(None).into(),
        DynSolValue::FixedBytes(word, size) => hex::encode_prefixed(&word[..*size]).into(),
        DynSolValue::Bytes(b) => hex::encode_prefixed(b).into(),
        DynSolValue::Function(f) => hex::encode_prefixed(f).into(),
        DynSolValue::String(s) => s.clone().into(),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            items.iter().map(|item| to_json(item, components)).collect()
        }
        DynSolValue::Tuple(fields) => {
            let named =
                components.len() == fields.len() && components.iter().all(|c| !c.name.is_empty());
            if named {
                let object = fields.iter().zip(components);
                object
                    .map(|(f, c)| (c.name.clone(), to_json(f, &c.components)))
                    .collect::<Map<_, _>>()
                    .into()
            } else {
                let inner = |i: usize| components.get(i).map_or(&[][..], |c| &c.components[..]);
                let items = fields.iter().enumerate();
                items.map(|(i, f)| to_json(f, inner(i))).collect()
            }
        }
    }
}
