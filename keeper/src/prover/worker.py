"""Vouch prover worker: drives EZKL for the Rust prover pool (keeper/src/prover/worker.rs).

Started as `python -u -c <this file> <config json>`; speaks JSON lines. The config names, per
batch size, the compiled circuit, proving key, verifying key, settings and SRS. The worker
checks and reads them once at start (so later calls hit the page cache; EZKL's Python API takes
paths, so each call still deserializes the key it names), then prints one ready line:
    {"ready": true, "ezkl": "23.0.5", "pid": 123, "load_ms": 12.3}
Requests and replies, one JSON object per line:
    {"id": 1, "op": "prove", "batch_size": 16, "felts": ["<64 hex LE>", ...]}
 -> {"id": 1, "ok": true, "proof": "<hex>", "instances": [...], "verified": true,
     "witness_ms": .., "prove_ms": .., "verify_ms": ..}
    {"id": 2, "op": "verify", "batch_size": 16, "proof": "<hex>", "felts": [...]}
 -> {"id": 2, "ok": true, "valid": false, "reason": "..."}
A verifiable model (config "models", by name) runs the renter's input through EZKL's witness,
the quantized computation its circuit proves:
    {"id": 3, "op": "commit", "model": "mlp_classifier", "input": [0.1, ...]}
 -> {"id": 3, "ok": true, "input_hash": "<felt>", "quantized_input": ["<felt>", ...],
     "output": ["<felt>", ...], "witness_ms": ..}
    {"id": 4, "op": "infer", "model": "mlp_classifier", "input": [0.1, ...]}
 -> {"id": 4, "ok": true, "input_hash": "<felt>", "output_hash": "<felt>", "output": ["<felt>", ..],
     "proof": "<hex>", "instances": [...], "verified": true, "witness_ms": .., ...}
    {"id": 5, "op": "verify_inference", "model": "...", "proof": "<hex>", "felts": [in, out]}
 -> {"id": 5, "ok": true, "valid": true, "reason": null, "verify_ms": ..}
    any failure -> {"id": n, "ok": false, "error": "..."}
Only protocol lines go to stdout: file descriptor 1 is pointed at stderr, so nothing printed by
native code can corrupt the stream. EOF on stdin ends the worker.
"""

import json
import logging
import os
import sys
import time

protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import ezkl  # noqa: E402  (after the redirection: imports may print)

logging.getLogger("ezkl").setLevel(logging.ERROR)


def reply(obj):
    protocol.write(json.dumps(obj, separators=(",", ":")) + "\n")
    protocol.flush()


def ms(since):
    return round((time.perf_counter() - since) * 1000.0, 3)


class Circuit:
    def __init__(self, batch_size, paths, tmp, label=None):
        self.batch_size = batch_size
        label = label or f"b{batch_size}"
        self.compiled = paths["compiled"]
        self.pk = paths["pk"]
        self.vk = paths["vk"]
        self.settings = paths["settings"]
        self.srs = paths["srs"]
        self.tmp = tmp
        for path in (self.compiled, self.pk, self.vk, self.settings, self.srs):
            with open(path, "rb") as f:  # fail now, not at the first request; warm the cache
                while f.read(1 << 20):
                    pass
        with open(self.settings) as f:
            shapes = json.load(f)["model_instance_shapes"]
        # A model with hashed input and output has no instance shapes: its two instances are
        # the Poseidon commitments (Model._felts checks those).
        self.instances = shapes[0][-1] if shapes else 2
        self.input = os.path.join(tmp, f"{label}-input.json")
        self.witness = os.path.join(tmp, f"{label}-witness.json")
        self.proof = os.path.join(tmp, f"{label}-proof.json")
        self.check = os.path.join(tmp, f"{label}-check.json")

    def _felts(self, felts):
        if len(felts) != self.instances:
            raise ValueError(f"B={self.batch_size} takes {self.instances} field elements, "
                             f"got {len(felts)}")
        return felts

    def _verify(self, path):
        try:
            return ezkl.verify(path, self.settings, self.vk, srs_path=self.srs), None
        except RuntimeError as e:
            # EZKL raises instead of returning False: a halo2 error means the proof does not
            # verify (bad point encoding, unsatisfied constraints, failed opening).
            if "[halo2]" in str(e):
                return False, str(e)
            raise

    def prove(self, felts):
        felts = self._felts(felts)
        with open(self.input, "w") as f:
            json.dump({"input_data": [felts]}, f)
        t = time.perf_counter()
        ezkl.gen_witness(self.input, self.compiled, self.witness)
        witness_ms = ms(t)
        t = time.perf_counter()
        ezkl.prove(self.witness, self.compiled, self.pk, self.proof, srs_path=self.srs)
        prove_ms = ms(t)
        t = time.perf_counter()
        verified, reason = self._verify(self.proof)
        verify_ms = ms(t)
        with open(self.proof) as f:
            made = json.load(f)
        return {
            "proof": made["hex_proof"][2:] if made["hex_proof"].startswith("0x")
            else made["hex_proof"],
            "instances": made["instances"][0],
            "verified": verified,
            "reason": reason,
            "witness_ms": witness_ms,
            "prove_ms": prove_ms,
            "verify_ms": verify_ms,
        }

    def verify(self, proof_hex, felts):
        felts = self._felts(felts)
        with open(self.check, "w") as f:
            json.dump({"instances": [felts], "proof": list(bytes.fromhex(proof_hex)),
                       "protocol": None, "split": None}, f)
        t = time.perf_counter()
        valid, reason = self._verify(self.check)
        return {"valid": valid, "reason": reason, "verify_ms": ms(t)}


class Model(Circuit):
    """A verifiable model: hashed input and output, so its instances are the two Poseidon
    commitments; the input is the renter's numbers, quantized by EZKL as the circuit does."""

    def __init__(self, name, paths, tmp):
        super().__init__(None, paths, tmp, label=f"model-{name}")
        self.name = name

    def _witness(self, values):
        # The Rust side checks the length against the manifest's input shape; EZKL reports a
        # wrong length too.
        if not isinstance(values, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ValueError(f"model {self.name} takes a list of numbers")
        with open(self.input, "w") as f:
            json.dump({"input_data": [values]}, f)
        t = time.perf_counter()
        ezkl.gen_witness(self.input, self.compiled, self.witness)
        witness_ms = ms(t)
        with open(self.witness) as f:
            return json.load(f), witness_ms

    def commit(self, values):
        w, witness_ms = self._witness(values)
        return {"input_hash": w["processed_inputs"]["poseidon_hash"][0],
                "output_hash": w["processed_outputs"]["poseidon_hash"][0],
                "quantized_input": w["inputs"][0], "output": w["outputs"][0],
                "witness_ms": witness_ms}

    def infer(self, values):
        w, witness_ms = self._witness(values)
        t = time.perf_counter()
        ezkl.prove(self.witness, self.compiled, self.pk, self.proof, srs_path=self.srs)
        prove_ms = ms(t)
        t = time.perf_counter()
        verified, reason = self._verify(self.proof)
        verify_ms = ms(t)
        with open(self.proof) as f:
            made = json.load(f)
        proof = made["hex_proof"]
        return {
            "input_hash": w["processed_inputs"]["poseidon_hash"][0],
            "output_hash": w["processed_outputs"]["poseidon_hash"][0],
            "output": w["outputs"][0],
            "proof": proof[2:] if proof.startswith("0x") else proof,
            "instances": made["instances"][0],
            "verified": verified,
            "reason": reason,
            "witness_ms": witness_ms,
            "prove_ms": prove_ms,
            "verify_ms": verify_ms,
        }

    def _felts(self, felts):
        if len(felts) != 2:
            raise ValueError(f"model {self.name} has 2 public instances, got {len(felts)}")
        return felts


def main():
    started = time.perf_counter()
    config = json.loads(sys.argv[1])
    tmp = config["tmp"]
    circuits = {int(b): Circuit(int(b), paths, tmp) for b, paths in config["circuits"].items()}
    models = {name: Model(name, paths, tmp) for name, paths in config.get("models", {}).items()}
    reply({"ready": True, "ezkl": ezkl.__version__, "pid": os.getpid(), "load_ms": ms(started)})
    for line in sys.stdin:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            op = request.get("op")
            if op in ("commit", "infer", "verify_inference"):
                model = models.get(request.get("model"))
                if model is None:
                    raise ValueError(f"model {request.get('model')!r} is not loaded")
                if op == "commit":
                    result = model.commit(request["input"])
                elif op == "infer":
                    result = model.infer(request["input"])
                else:
                    result = model.verify(request["proof"], request["felts"])
                reply({"id": request_id, "ok": True, **result})
                continue
            circuit = circuits.get(request.get("batch_size"))
            if circuit is None:
                raise ValueError(f"batch size {request.get('batch_size')} is not loaded")
            if op == "prove":
                result = circuit.prove(request["felts"])
            elif op == "verify":
                result = circuit.verify(request["proof"], request["felts"])
            else:
                raise ValueError(f"unknown op {op!r}")
            reply({"id": request_id, "ok": True, **result})
        except Exception as e:  # noqa: BLE001 - every failure is reported to the caller
            reply({"id": request_id, "ok": False, "error": f"{type(e).__name__}: {e}"})


main()
