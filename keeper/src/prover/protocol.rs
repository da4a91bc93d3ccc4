//! The worker protocol's wire types: what Rust sends to `worker.py` and what it answers, one
//! JSON object per line (the Python side documents the same shapes). Every field a reply must
//! carry is required here, so a reply without, say, its timings is a protocol error instead
//! of a silent zero.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::ProverError;

/// The first line a worker prints once its keys are read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Ready {
    /// Always true; anything else is not a ready line.
    pub ready: bool,
    /// EZKL's version in the worker.
    pub ezkl: String,
    pub pid: u32,
    /// Time the worker took to start, by its own clock.
    pub load_ms: f64,
}

/// One request line: an id the reply repeats, and the operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Request<'a> {
    pub id: u64,
    #[serde(flatten)]
    pub op: &'a Op,
}

/// An operation of the worker, tagged by `op` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub(crate) enum Op {
    /// Witness, prove and self-verify the instances `felts` (64-hex-digit little-endian
    /// field elements) with the circuit of `batch_size`.
    Prove {
        batch_size: usize,
        felts: Vec<String>,
    },
    /// Verify `proof` (hex, no `0x`) against the instances `felts`.
    Verify {
        batch_size: usize,
        proof: String,
        felts: Vec<String>,
    },
    /// Run verifiable `model`'s witness on `input` (the renter's numbers, flattened) and return
    /// the Poseidon commitment of the quantized input.
    Commit { model: String, input: Vec<f64> },
    /// Witness, prove and self-verify verifiable `model` on `input`.
    Infer { model: String, input: Vec<f64> },
    /// Verify an inference `proof` of `model` against `felts` = [input hash, output hash].
    #[serde(rename = "verify_inference")]
    VerifyInference {
        model: String,
        proof: String,
        felts: Vec<String>,
    },
}

impl Op {
    /// The operation's name, for logs and timeout errors.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Prove { .. } => "prove",
            Op::Verify { .. } => "verify",
            Op::Commit { .. } => "commit",
            Op::Infer { .. } => "infer",
            Op::VerifyInference { .. } => "verify_inference",
        }
    }
}

/// The part of every reply line the protocol itself reads; the rest is the operation's reply.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Envelope {
    /// The request's id (absent only when the request line itself was unreadable).
    pub id: Option<u64>,
    pub ok: bool,
    /// Why the request failed, when `ok` is false.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(flatten)]
    pub body: serde_json::Map<String, serde_json::Value>,
}

/// The reply to [`Op::Prove`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ProveReply {
    /// The proof bytes in hex, no `0x`.
    pub proof: String,
    /// The public instances the proof carries, as field elements like the request's.
    pub instances: Vec<String>,
    /// The worker's off-chain verification of the fresh proof.
    pub verified: bool,
    /// Why the verification failed, if it did.
    pub reason: Option<String>,
    pub witness_ms: f64,
    pub prove_ms: f64,
    pub verify_ms: f64,
}

/// The reply to [`Op::Commit`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CommitReply {
    /// Poseidon of the quantized input, as a field element (64 hex digits, little-endian).
    pub input_hash: String,
    /// Poseidon of the quantized output, likewise.
    pub output_hash: String,
    /// The quantized input, as field elements.
    pub quantized_input: Vec<String>,
    /// The quantized output of the witness (no proof made).
    pub output: Vec<String>,
    pub witness_ms: f64,
}

/// The reply to [`Op::Infer`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct InferReply {
    pub input_hash: String,
    pub output_hash: String,
    /// The quantized output, as field elements (negative values as r - |v|).
    pub output: Vec<String>,
    pub proof: String,
    pub instances: Vec<String>,
    pub verified: bool,
    pub reason: Option<String>,
    pub witness_ms: f64,
    pub prove_ms: f64,
    pub verify_ms: f64,
}

/// The reply to [`Op::Verify`] and [`Op::VerifyInference`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct VerifyReply {
    pub valid: bool,
    /// Why the proof does not verify, if it does not.
    pub reason: Option<String>,
    pub verify_ms: f64,
}

/// Reads an operation's reply out of an envelope's body.
pub(crate) fn decode<R: DeserializeOwned>(
    op: &'static str,
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<R, ProverError> {
    serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| ProverError::Protocol(format!("{op} reply: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_op_tag_and_their_fields() {
        let op = Op::Verify {
            batch_size: 16,
            proof: "ab".into(),
            felts: vec!["01".into()],
        };
        let line = serde_json::to_string(&Request { id: 7, op: &op }).unwrap();
        assert_eq!(
            line,
            r#"{"id":7,"op":"verify","batch_size":16,"proof":"ab","felts":["01"]}"#
        );
    }

    #[test]
    fn model_requests_name_the_model() {
        let op = Op::VerifyInference {
            model: "mlp_classifier".into(),
            proof: "ab".into(),
            felts: vec!["01".into(), "02".into()],
        };
        let line = serde_json::to_string(&Request { id: 3, op: &op }).unwrap();
        assert_eq!(
            line,
            r#"{"id":3,"op":"verify_inference","model":"mlp_classifier","proof":"ab","felts":["01","02"]}"#
        );
        let op = Op::Infer {
            model: "m".into(),
            input: vec![0.5, -1.0],
        };
        let line = serde_json::to_string(&Request { id: 4, op: &op }).unwrap();
        assert_eq!(
            line,
            r#"{"id":4,"op":"infer","model":"m","input":[0.5,-1.0]}"#
        );
    }

    #[test]
    fn a_reply_without_its_timings_is_a_protocol_error() {
        let envelope: Envelope = serde_json::from_str(
            r#"{"id":1,"ok":true,"proof":"ab","instances":[],"verified":true,"reason":null}"#,
        )
        .unwrap();
        assert_eq!(envelope.id, Some(1));
        let err = decode::<ProveReply>("prove", envelope.body).unwrap_err();
        assert_eq!(
            err.to_string(),
            "prover worker protocol error: prove reply: missing field `witness_ms`"
        );
    }
}
