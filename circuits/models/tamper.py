"""A dishonest host, for tests: change one output element of a real witness and try to prove it.

Runs the model's witness on the input, checks that EZKL's Poseidon of the honest output
(`ezkl.poseidon_hash`) is the witness's own output commitment, then adds 1 to output element
INDEX, recomputes the output commitment for the changed output (what a cheating host would
submit as outputHash) and asks EZKL to prove that witness with the model's proving key. It
prints one JSON line:
    {"honest_hash_matches": true, "tampered_output_hash": "<felt>", "prove_error": "..." | null,
     "verified": false | true | null}
`verified` is null when EZKL refused to prove at all.

    .venv/bin/python circuits/models/tamper.py MODEL_DIR INPUT_JSON INDEX
"""

import json
import logging
import os
import sys
import tempfile

protocol = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)

import ezkl  # noqa: E402

logging.getLogger("ezkl").setLevel(logging.ERROR)


def main():
    model_dir, input_path, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(os.path.join(model_dir, "model.json")) as f:
        manifest = json.load(f)
    srs = os.path.join(model_dir, manifest["srs"]["file"])
    compiled = os.path.join(model_dir, "network.compiled")
    with open(input_path) as f:
        values = json.load(f)["input"]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "input.json")
        witness = os.path.join(tmp, "witness.json")
        proof = os.path.join(tmp, "proof.json")
        with open(data, "w") as f:
            json.dump({"input_data": [values]}, f)
        ezkl.gen_witness(data, compiled, witness)
        with open(witness) as f:
            w = json.load(f)
        outputs = w["outputs"][0]
        honest = ezkl.poseidon_hash(outputs)
        matches = honest == w["processed_outputs"]["poseidon_hash"]
        changed = list(outputs)
        changed[index] = ezkl.float_to_felt(ezkl.felt_to_int(outputs[index]) + 1, 0)
        tampered = ezkl.poseidon_hash(changed)
        w["outputs"][0] = changed
        w["processed_outputs"]["poseidon_hash"] = tampered
        with open(witness, "w") as f:
            json.dump(w, f)
        prove_error = None
        verified = None
        try:
            ezkl.prove(witness, compiled, os.path.join(model_dir, "pk.key"), proof,
                       srs_path=srs)
        except Exception as e:  # noqa: BLE001 - reported
            prove_error = f"{type(e).__name__}: {e}"
        if prove_error is None:
            try:
                verified = bool(ezkl.verify(proof, os.path.join(model_dir, "settings.json"),
                                            os.path.join(model_dir, "vk.key"), srs_path=srs))
            except Exception:  # noqa: BLE001 - EZKL raises instead of returning False
                verified = False
    protocol.write(json.dumps({"honest_hash_matches": matches,
                               "tampered_output_hash": tampered[0],
                               "prove_error": prove_error, "verified": verified}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
