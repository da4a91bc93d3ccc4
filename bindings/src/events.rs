//! Every event of every Vouch contract, decoded from a log. This module owns the mapping from a
//! log to a contract (by address, through an [`AddressBook`] of a [`Deployment`]) and to an
//! event (by topic0), and the event's arguments as JSON, so the indexer stores what it cannot
//! miss: [`ContractKind`] and [`Event`] are generated from the contract table, and the tests
//! check that each contract's typed events are exactly those of its artifact's ABI.
//!
//! The typed `sol!` enum (`<Name>Events`) dispatches and gives Rust values; the artifact's ABI
//! (the same forge artifact) names the arguments for the JSON without a hand-written mapping
//! per event. An event whose parameters are all one word each (integers, addresses, bools,
//! fixed bytes, or anything indexed) has its JSON written straight from the log's words by a
//! plan made once per event ([`ArgsPlan`]); only an event with a dynamic or composite
//! non-indexed parameter (a `string`, `bytes`, array or struct in the data) goes through
//! alloy's dynamic ABI decoder, as the words alone do not give those. Both give the same text
//! (checked by a test over every event of every contract).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use alloy::dyn_abi::{DynSolType, DynSolValue, EventExt};
use alloy::json_abi::{JsonAbi, Param};
use alloy::primitives::{Address, B256, I256, U256, hex};
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
    /// The word-by-word JSON plan of each event that has one (see [`ArgsPlan`]).
    plans: HashMap<B256, ArgsPlan>,
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
        let events: HashMap<B256, alloy::json_abi::Event> =
            abi.events().map(|e| (e.selector(), e.clone())).collect();
        let plans = events
            .iter()
            .filter_map(|(topic0, e)| Some((*topic0, ArgsPlan::new(e)?)))
            .collect();
        ContractAbi { abi, events, plans }
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
    /// The arguments as the text of a JSON object, keys by parameter name in sorted order:
    /// integers (enums too) as decimal strings, addresses as checksummed hex, bytes as 0x hex,
    /// bools as bools, arrays as arrays, structs as objects. An indexed `string`, `bytes`,
    /// array or struct is only its hash in the log: 0x hex. Compact, as `serde_json` writes it.
    pub args: String,
}

impl DecodedEvent {
    /// The arguments parsed back into a JSON object (for the few readers that look inside).
    pub fn args_map(&self) -> Map<String, Value> {
        // `args` is written by this module as a JSON object.
        serde_json::from_str(&self.args).expect("decoded arguments are a JSON object")
    }
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
    let abi = contract.abi();
    let args = match abi.plans.get(&topic0) {
        Some(plan) => plan.write(log),
        None => None,
    };
    let args = match args {
        Some(text) => text,
        None => dynamic_args(contract, abi, name, log)?,
    };
    Ok(Some(DecodedEvent {
        contract,
        name,
        event,
        args,
    }))
}

/// The arguments through alloy's dynamic ABI decoder (any parameter types).
fn dynamic_args(
    contract: ContractKind,
    abi: &ContractAbi,
    name: &'static str,
    log: &Log,
) -> Result<String, DecodeError> {
    let topic0 = log.topics().first().copied().unwrap_or_default();
    let abi_event = abi.events.get(&topic0).ok_or(DecodeError::UnknownEvent {
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
    let args: Map<String, Value> = abi_event
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
    Ok(Value::Object(args).to_string())
}

/// How one event's arguments are read from the log's words: each parameter is one word (a
/// topic if indexed, else the data word at its position), written by its kind. Keys are in
/// sorted order, as a `serde_json::Map` orders them.
#[derive(Debug, Clone)]
struct ArgsPlan {
    /// (`"name":` already quoted, where the word is, what it holds), sorted by name.
    fields: Vec<(String, Word, Kind)>,
    topics: usize,
    words: usize,
}

#[derive(Debug, Clone, Copy)]
enum Word {
    Topic(usize),
    Data(usize),
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Uint,
    Int,
    Address,
    Bool,
    Bytes(usize),
}

impl ArgsPlan {
    /// The plan of `event`, or `None` when a non-indexed parameter is not one word (it needs the
    /// dynamic decoder) or names are not distinct and non-empty.
    fn new(event: &alloy::json_abi::Event) -> Option<ArgsPlan> {
        let (mut topics, mut words) = (1, 0);
        let mut fields = Vec::with_capacity(event.inputs.len());
        for input in &event.inputs {
            if input.name.is_empty()
                || !input
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return None;
            }
            let ty = DynSolType::parse(&input.selector_type()).ok()?;
            let kind = match ty {
                DynSolType::Uint(_) => Kind::Uint,
                DynSolType::Int(_) => Kind::Int,
                DynSolType::Address => Kind::Address,
                DynSolType::Bool => Kind::Bool,
                DynSolType::FixedBytes(n) => Kind::Bytes(n),
                // An indexed dynamic or composite value is its hash: 32 bytes.
                _ if input.indexed => Kind::Bytes(32),
                _ => return None,
            };
            let word = if input.indexed {
                topics += 1;
                Word::Topic(topics - 1)
            } else {
                words += 1;
                Word::Data(words - 1)
            };
            fields.push((format!("\"{}\":", input.name), word, kind));
        }
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        if fields.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        Some(ArgsPlan {
            fields,
            topics,
            words,
        })
    }

    /// The JSON text of `log`'s arguments; `None` when its shape is not the event's (the
    /// dynamic decoder then says what is wrong).
    fn write(&self, log: &Log) -> Option<String> {
        let (topics, data) = (log.topics(), &log.data().data);
        if topics.len() != self.topics || data.len() != self.words * 32 {
            return None;
        }
        let mut out = String::with_capacity(16 + self.fields.len() * 56);
        out.push('{');
        for (i, (key, at, kind)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            let word: [u8; 32] = match *at {
                Word::Topic(t) => topics[t].0,
                Word::Data(w) => data[w * 32..w * 32 + 32].try_into().expect("32 bytes"),
            };
            match *kind {
                Kind::Uint => write!(out, "\"{}\"", U256::from_be_bytes(word)).ok()?,
                Kind::Int => write!(out, "\"{}\"", I256::from_be_bytes(word)).ok()?,
                Kind::Address => {
                    out.push('"');
                    out.push_str(&checksummed(Address::from_word(word.into())));
                    out.push('"');
                }
                Kind::Bool => out.push_str(if word != [0; 32] { "true" } else { "false" }),
                Kind::Bytes(n) => {
                    out.push('"');
                    out.push_str(&hex::encode_prefixed(&word[..n]));
                    out.push('"');
                }
            }
        }
        out.push('}');
        Some(out)
    }
}

/// `address` in checksummed hex (EIP-55). A keccak per call, and the same few contracts, hosts
/// and renters recur in every log: remembered per thread (a bounded table, cleared when full).
pub fn checksummed(address: Address) -> String {
    const MAX: usize = 1 << 16;
    thread_local! {
        static KNOWN: RefCell<HashMap<Address, String>> = RefCell::new(HashMap::new());
    }
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        if let Some(text) = known.get(&address) {
            return text.clone();
        }
        if known.len() >= MAX {
            known.clear();
        }
        let text = address.to_checksum(None);
        known.insert(address, text.clone());
        text
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic word source (xorshift64*): canonical random values of each kind.
    struct Words(u64);

    impl Words {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn bytes(&mut self) -> [u8; 32] {
            let mut w = [0u8; 32];
            for chunk in w.chunks_mut(8) {
                chunk.copy_from_slice(&self.next().to_be_bytes());
            }
            w
        }

        /// A valid ABI word of `ty` (one-word types; anything else: its 32-byte hash).
        fn word(&mut self, ty: &DynSolType) -> [u8; 32] {
            let mut w = self.bytes();
            match ty {
                DynSolType::Uint(bits) => {
                    let keep = bits / 8;
                    w[..32 - keep].fill(0);
                }
                DynSolType::Int(bits) => {
                    let keep = bits / 8;
                    let negative = self.next() % 2 == 0;
                    w[..32 - keep].fill(0);
                    w[32 - keep] &= 0x7f;
                    if negative {
                        // Two's complement of a value in range: sign-extend with ones.
                        w[..=32 - keep].iter_mut().for_each(|b| *b |= 0x80);
                        w[..32 - keep].fill(0xff);
                    }
                }
                DynSolType::Address => w[..12].fill(0),
                DynSolType::Bool => {
                    w = [0; 32];
                    w[31] = (self.next() % 2) as u8;
                }
                DynSolType::FixedBytes(n) => w[*n..].fill(0),
                _ => {}
            }
            w
        }
    }

    /// The word-by-word plan writes exactly what the dynamic decoder writes, for every event of
    /// every contract that has a plan (and every event with only one-word parameters has one).
    #[test]
    fn planned_args_equal_the_dynamic_decoder() {
        let mut words = Words(0x9e37_79b9_7f4a_7c15);
        let mut planned = 0;
        for &kind in ContractKind::ALL {
            let abi = kind.abi();
            for (topic0, event) in &abi.events {
                let types: Vec<DynSolType> = event
                    .inputs
                    .iter()
                    .map(|i| DynSolType::parse(&i.selector_type()).unwrap())
                    .collect();
                let one_word = event.inputs.iter().zip(&types).all(|(i, t)| {
                    i.indexed
                        || matches!(
                            t,
                            DynSolType::Uint(_)
                                | DynSolType::Int(_)
                                | DynSolType::Address
                                | DynSolType::Bool
                                | DynSolType::FixedBytes(_)
                        )
                });
                let Some(plan) = abi.plans.get(topic0) else {
                    assert!(!one_word, "{kind:?}.{} has no plan", event.name);
                    continue;
                };
                for _ in 0..8 {
                    let mut topics = vec![*topic0];
                    let mut data = Vec::new();
                    for (input, ty) in event.inputs.iter().zip(&types) {
                        let w = words.word(ty);
                        if input.indexed {
                            topics.push(B256::from(w));
                        } else {
                            data.extend_from_slice(&w);
                        }
                    }
                    let log = Log {
                        inner: alloy::primitives::Log::new_unchecked(
                            Address::repeat_byte(1),
                            topics,
                            data.into(),
                        ),
                        ..Log::default()
                    };
                    let fast = plan.write(&log).expect("a log of the event's shape");
                    let slow = dynamic_args(kind, abi, "test", &log).unwrap();
                    assert_eq!(fast, slow, "{kind:?}.{}", event.name);
                }
                planned += 1;
            }
        }
        // Most Vouch events have only one-word parameters.
        assert!(planned >= 60, "{planned} events planned");
    }

    #[test]
    fn checksummed_is_eip55() {
        let a: Address = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
            .parse()
            .unwrap();
        assert_eq!(checksummed(a), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        assert_eq!(checksummed(a), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    }
}
