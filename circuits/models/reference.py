"""An independent numpy computation of a verifiable model's quantized output (no EZKL).

The keeper's output comes from EZKL's witness, the fixed-point computation the circuit proves.
This recomputes it from the weights in the built ONNX graph with EZKL's documented fixed-point
rules, so a test can check that the two agree exactly:

- a float v at scale s is q = round(f32(v) * 2^s), rounding half away from zero;
- MatMul of scale-a and scale-b operands is the exact integer product, at scale a + b;
- Add brings the lower-scale operand up by 2^diff (exact), then adds;
- after an operation whose scale exceeds the input scale, EZKL rescales by dividing by
  2^(excess), rounding half away from zero (its range-checked division);
- Relu is max(q, 0).

Only the MLP is covered: the attention block's softmax goes through EZKL's lookup-table
exponential and division, whose table construction this does not reproduce.

    .venv/bin/python circuits/models/reference.py MODEL_DIR INPUT_JSON
prints {"output": [q, ...]} for INPUT_JSON = {"input": [numbers...]}.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def quantize(values, scale):
    x = np.asarray(values, dtype=np.float32).astype(np.float64) * (1 << scale)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(object)


def rescale(q, bits):
    """Divide by 2^bits, rounding half away from zero, on exact integers."""
    if bits == 0:
        return q
    d = 1 << bits
    half = d >> 1

    def one(v):
        v = int(v)
        return (abs(v) + half) // d * (1 if v >= 0 else -1)

    return np.vectorize(one, otypes=[object])(q)


def mlp(weights, features, scale):
    x = quantize(features, scale).reshape(1, -1)
    w1, b1 = quantize(weights["w1"], scale), quantize(weights["b1"], scale)
    w2, b2 = quantize(weights["w2"], scale), quantize(weights["b2"], scale)
    h = x.dot(w1) + b1 * (1 << scale)  # scale 2s
    h = rescale(h, scale)  # back to s
    h = np.where(h > 0, h, 0)
    o = h.dot(w2) + b2 * (1 << scale)
    return [int(v) for v in rescale(o, scale).flatten()]


def main():
    model_dir, input_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(model_dir, "model.json")) as f:
        manifest = json.load(f)
    if manifest["name"] != "mlp_classifier":
        print(f"no numpy reference for {manifest['name']}", file=sys.stderr)
        return 2
    graph = onnx.load(os.path.join(model_dir, "network.onnx")).graph
    weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    with open(input_path) as f:
        features = json.load(f)["input"]
    print(json.dumps({"output": mlp(weights, features, manifest["paramScale"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
