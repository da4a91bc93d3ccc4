"""The example verifiable models: their graphs, weights and quantization, built by this code.

Nothing is downloaded. Each model is an ONNX graph made with the onnx helper API, its weights
either trained here on data generated here (the MLP) or drawn from a seeded generator (the
attention block). `MODELS` is the one table of what exists; `circuits/models/setup.py` builds
circuits, keys and verifiers from it and `circuits/models/reference.py` recomputes each model's
quantized output in numpy, independently of EZKL.

Quantization (EZKL's fixed point): a value v at scale s is the integer round(v * 2^s). Inputs
and weights use the model's `scale`; see reference.py for each operation's rounding.
"""

import hashlib
import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18


# --- a small topic classifier over hashed token features --------------------------------------

MLP_FEATURES = 32
MLP_HIDDEN = 16
TOPICS = ("sport", "finance", "science", "cooking")
# Each topic's own words; documents mix them with shared filler words.
TOPIC_WORDS = {
    "sport": "match goal team coach league score player season referee stadium win cup",
    "finance": "market stock bank rate bond price investor profit loss fund trade dollar",
    "science": "atom cell energy theory experiment quantum gene lab data physics star climate",
    "cooking": "oven salt recipe flour butter sauce garlic bake pan onion taste dinner",
}
FILLER = "the a of and to in is it for on with as at by this that from was be".split()


def tokens(text):
    return re.findall(r"[a-z]+", text.lower())


def bucket(token):
    """The feature bucket of a token: the first 4 bytes of its sha256, mod the feature count."""
    return int.from_bytes(hashlib.sha256(token.encode()).digest()[:4], "big") % MLP_FEATURES


def featurize(text):
    """Hashed bag of words: the share of the text's tokens that fall in each bucket, in [0, 1]."""
    words = tokens(text)
    features = np.zeros(MLP_FEATURES)
    for w in words:
        features[bucket(w)] += 1.0
    return (features / max(1, len(words))).tolist()


def topic_corpus(rng, n):
    """n generated documents (text, topic index): 6-14 topic words and as many filler words."""
    docs = []
    for _ in range(n):
        label = int(rng.integers(len(TOPICS)))
        own = TOPIC_WORDS[TOPICS[label]].split()
        words = list(rng.choice(own, size=int(rng.integers(6, 15))))
        words += list(rng.choice(FILLER, size=len(words)))
        rng.shuffle(words)
        docs.append((" ".join(words), label))
    return docs


def train_mlp(seed=13, steps=600, lr=0.5):
    """Trains the 32-16-4 MLP with full-batch gradient descent on softmax cross-entropy.

    Deterministic: numpy's PCG64 with a fixed seed, float64, a fixed number of steps."""
    rng = np.random.default_rng(seed)
    docs = topic_corpus(rng, 800)
    x = np.array([featurize(t) for t, _ in docs])
    y = np.array([label for _, label in docs])
    w1 = rng.normal(0, 0.5, (MLP_FEATURES, MLP_HIDDEN))
    b1 = np.zeros(MLP_HIDDEN)
    w2 = rng.normal(0, 0.5, (MLP_HIDDEN, len(TOPICS)))
    b2 = np.zeros(len(TOPICS))
    onehot = np.eye(len(TOPICS))[y]
    for _ in range(steps):
        h = np.maximum(x @ w1 + b1, 0)
        logits = h @ w2 + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / len(x)
        gw2 = h.T @ g
        gh = g @ w2.T * (h > 0)
        gw1 = x.T @ gh
        w2 -= lr * gw2
        b2 -= lr * g.sum(axis=0)
        w1 -= lr * gw1
        b1 -= lr * gh.sum(axis=0)
    accuracy = float((np.argmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2, axis=1) == y).mean())
    # Round the weights to 4 decimals so the float graph, and so the circuit, is the same on
    # every machine even if the last bits of a float64 sum differed.
    return {"w1": w1.round(4), "b1": b1.round(4), "w2": w2.round(4), "b2": b2.round(4)}, accuracy


def mlp_graph(weights):
    x = helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, MLP_FEATURES])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, len(TOPICS)])
    inits = [numpy_helper.from_array(weights[k].astype(np.float32), k)
             for k in ("w1", "b1", "w2", "b2")]
    nodes = [
        helper.make_node("MatMul", ["features", "w1"], ["h0"], name="fc1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="bias1"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu"),
        helper.make_node("MatMul", ["h2", "w2"], ["h3"], name="fc2"),
        helper.make_node("Add", ["h3", "b2"], ["logits"], name="bias2"),
    ]
    return helper.make_graph(nodes, "mlp_classifier", [x], [out], inits)


def mlp_sample():
    return featurize("the team won the cup after a late goal and the coach praised the player")


# --- a tiny single-block attention model ------------------------------------------------------

SEQ = 4
DIM = 8


def attention_weights(seed=7):
    """Deterministic weights: seeded normal draws, rounded to 4 decimals."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(DIM)
    return {k: rng.normal(0, scale, (DIM, DIM)).round(4) for k in ("wq", "wk", "wv", "wo")}


def attention_graph(weights):
    """y = x + softmax(x Wq (x Wk)^T / sqrt(d)) (x Wv) Wo over a [1, SEQ, DIM] input."""
    x = helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [1, SEQ, DIM])
    out = helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, SEQ, DIM])
    inits = [numpy_helper.from_array(weights[k].astype(np.float32), k)
             for k in ("wq", "wk", "wv", "wo")]
    inits.append(numpy_helper.from_array(np.array(1.0 / np.sqrt(DIM), np.float32), "inv_sqrt_d"))
    nodes = [
        helper.make_node("MatMul", ["tokens", "wq"], ["q"], name="query"),
        helper.make_node("MatMul", ["tokens", "wk"], ["k"], name="key"),
        helper.make_node("MatMul", ["tokens", "wv"], ["v"], name="value"),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1], name="key_t"),
        helper.make_node("MatMul", ["q", "kt"], ["s0"], name="scores"),
        helper.make_node("Mul", ["s0", "inv_sqrt_d"], ["s1"], name="scale"),
        helper.make_node("Softmax", ["s1"], ["p"], axis=-1, name="softmax"),
        helper.make_node("MatMul", ["p", "v"], ["a"], name="attend"),
        helper.make_node("MatMul", ["a", "wo"], ["o"], name="project"),
        helper.make_node("Add", ["tokens", "o"], ["hidden"], name="residual"),
    ]
    return helper.make_graph(nodes, "attention_block", [x], [out], inits)


def attention_sample():
    rng = np.random.default_rng(99)
    return rng.uniform(-1, 1, (SEQ, DIM)).round(3).flatten().tolist()


def serialize(graph, name):
    model = helper.make_model(graph, producer_name="vouch", producer_version=name,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


# The one table of example models: name -> how to build it. `logrows` is set by hand (EZKL's
# calibration over-sizes these circuits); `scale` is the input and parameter scale. EZKL's
# defaults size the lookup table for inputs in [-32768, 32768] and the range checks of its
# rescaling for 2^28 (decomposition base 16384, 2 legs): at these logrows that costs 5 to 9
# extra advice columns. `lookup_range` and `decomp_base` shrink both to what the models need
# (their inputs are in [-1, 1], every intermediate stays far below 2^24 at scale 12), which
# cut the attention block's proving key from 348 MB to 166 MB and its proving time by 3x.
# The MLP's on-chain verification is what renters pay for, so its circuit is shaped for gas:
# one inner column (fewer, longer columns: fewer commitments to open) and a range table of
# 256 entries with three legs (the same 2^24 range as 4096 with two, but a table that fits
# one column at logrows 12); that took its verifier from 699,871 to 540,620 gas and its proof
# from 4,320 to 2,912 bytes (docs/benchmarks.md).
MODELS = {
    "mlp_classifier": {
        "contract": "MlpClassifierVerifier",
        "weights": lambda: train_mlp()[0],
        "graph": mlp_graph,
        "input_shape": [1, MLP_FEATURES],
        "output_shape": [1, len(TOPICS)],
        "labels": list(TOPICS),
        "scale": 6,
        "logrows": 12,
        "lookup_range": (-2048, 2048),
        "decomp_base": 256,
        "decomp_legs": 3,
        "num_inner_cols": 1,
        "sample": mlp_sample,
    },
    "attention_block": {
        "contract": "AttentionBlockVerifier",
        "weights": attention_weights,
        "graph": attention_graph,
        "input_shape": [1, SEQ, DIM],
        "output_shape": [1, SEQ, DIM],
        "labels": None,
        "scale": 6,
        "logrows": 13,
        "lookup_range": (-2048, 2048),
        "decomp_base": 4096,
        "decomp_legs": 2,
        "num_inner_cols": 2,
        "sample": attention_sample,
    },
}
