"""Builds the verifiable models of circuits/models/zoo.py: circuit, keys, verifier, manifest.

For each model NAME this writes, under --build-dir/models/NAME/:
    network.onnx, settings.json, network.compiled, pk.key, vk.key, model.json
and the Solidity verifier, contract renamed to the model's (e.g. MlpClassifierVerifier), to
--verifier-dir/<Contract>.sol (never commit it: its template's licence reserves all rights).

Settings: input and output visibility "hashed" (EZKL's Poseidon), params "fixed" (the weights
are constants of the circuit), input and parameter scale from the model table, logrows by hand.
The proof's public instances are exactly [poseidon(input), poseidon(output)]; the self-test
checks that on a real proof and the manifest records it as the "HashedInputOutput" layout.
`vouch proof setup` adds the modelHash to model.json (computed in Rust from the artifacts).

SRS: by default the deterministic development SRS of circuits/models/devsrs.py (its secret is
public: UNSAFE), generated once per logrows under --build-dir/srs/; the artifacts must then match
circuits/models/keys.lock.json byte for byte. With --srs FILE (a public ceremony SRS) the SRS is
downsized from it with circuits/srs.py.

    .venv/bin/python circuits/models/setup.py [--model NAME]... [--srs FILE]
        [--build-dir DIR] [--verifier-dir DIR] [--update-lock]
"""

import argparse
import asyncio
import hashlib
import json
import logging
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CIRCUITS = os.path.dirname(HERE)
ROOT = os.path.dirname(CIRCUITS)
sys.path.insert(0, CIRCUITS)

import ezkl  # noqa: E402

import devsrs  # noqa: E402
import srs as srs_mod  # noqa: E402
import zoo  # noqa: E402

logging.getLogger("ezkl").setLevel(logging.ERROR)

MODEL_CIRCUIT_VERSION = 1
FILES = ("network.onnx", "settings.json", "network.compiled", "pk.key", "vk.key")
LOCK = os.path.join(HERE, "keys.lock.json")
# Models whose build is not reproducible yet (none since the settings' hash-set fields are
# sorted; the attention block's differed from build to build before that).
UNLOCKED = set()
DEV_SRS_STEM = "kzg-dev-UNSAFE-tau"


class SetupError(Exception):
    """A setup step failed; the message says what to do."""


def say(message):
    print(message, flush=True)


def show(path):
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_atomic(path, data):
    """Writes `data` unless the file already holds it (keeps its mtime for forge and cargo)."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def run_args(model):
    args = ezkl.PyRunArgs()
    args.input_visibility = "hashed"
    args.output_visibility = "hashed"
    args.param_visibility = "fixed"
    args.input_scale = model["scale"]
    args.param_scale = model["scale"]
    args.logrows = model["logrows"]
    args.lookup_range = model["lookup_range"]
    args.decomp_base = model["decomp_base"]
    args.decomp_legs = model["decomp_legs"]
    args.num_inner_cols = model["num_inner_cols"]
    return args


def srs_for(logrows, source, build_dir):
    """The SRS file for `logrows`: the dev one generated here, or one downsized from `source`."""
    srs_dir = os.path.join(build_dir, "srs")
    os.makedirs(srs_dir, exist_ok=True)
    if source is None:
        path = os.path.join(srs_dir, f"{DEV_SRS_STEM}-k{logrows}.srs")
        marker_value = f"devsrs tau={devsrs.TAU:x}"
    else:
        sha = srs_mod.sha256_file(source)
        path = os.path.join(srs_dir, f"models-{sha[:16]}-k{logrows}.srs")
        marker_value = sha
    marker = path + ".source"
    try:
        with open(marker) as f:
            if f.read().strip() == marker_value and os.path.exists(path):
                return path
    except FileNotFoundError:
        pass
    started = time.perf_counter()
    data = devsrs.generate(logrows) if source is None else srs_mod.downsize(source, logrows)
    write_atomic(path, data)
    write_atomic(marker, (marker_value + "\n").encode())
    say(f"  {'generated' if source is None else 'derived'} {show(path)} ({len(data)} bytes) "
        f"in {time.perf_counter() - started:.1f} s")
    return path


def generate_verifier(vk, settings, srs_path, contract, verifier_dir):
    """Writes <verifier-dir>/<contract>.sol; tolerates EZKL's failed solc download only when the
    file is whole (see circuits/commitment.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        sol = os.path.join(tmp, "Halo2Verifier.sol")
        failure = None

        async def create():
            return await ezkl.create_evm_verifier(vk, settings, sol, os.path.join(tmp, "abi"),
                                                  srs_path=srs_path)

        try:
            asyncio.run(create())
        except Exception as e:  # noqa: BLE001 - inspected below
            failure = e
        try:
            with open(sol, encoding="utf-8") as f:
                code = f.read()
        except FileNotFoundError:
            raise SetupError(f"create_evm_verifier wrote no Solidity file ({failure})") from None
    if not (code.rstrip().endswith("}") and code.count("{") == code.count("}")
            and "function verifyProof(" in code and code.count("contract Halo2Verifier {") == 1):
        raise SetupError(f"create_evm_verifier wrote an incomplete Solidity file ({failure})")
    code = code.replace("contract Halo2Verifier {", f"contract {contract} {{")
    os.makedirs(verifier_dir, exist_ok=True)
    path = os.path.join(verifier_dir, f"{contract}.sol")
    data = code.encode("utf-8")
    write_atomic(path, data)
    return path, data


def self_test(dir_, srs_path, sample):
    """Proves the sample input; checks the instances are [poseidon(input), poseidon(output)]."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "input.json")
        witness = os.path.join(tmp, "witness.json")
        proof = os.path.join(tmp, "proof.json")
        with open(data, "w") as f:
            json.dump({"input_data": [sample]}, f)
        compiled = os.path.join(dir_, "network.compiled")
        ezkl.gen_witness(data, compiled, witness)
        started = time.perf_counter()
        ezkl.prove(witness, compiled, os.path.join(dir_, "pk.key"), proof, srs_path=srs_path)
        prove_s = time.perf_counter() - started
        with open(witness) as f:
            w = json.load(f)
        with open(proof) as f:
            made = json.load(f)
        expected = [w["processed_inputs"]["poseidon_hash"] + w["processed_outputs"]["poseidon_hash"]]
        if made["instances"] != expected or len(expected[0]) != 2:
            raise SetupError(f"the self-test proof's instances {made['instances']} are not "
                             f"[poseidon(input), poseidon(output)] = {expected}")
        if not ezkl.verify(proof, os.path.join(dir_, "settings.json"),
                           os.path.join(dir_, "vk.key"), srs_path=srs_path):
            raise SetupError("the self-test proof does not verify")
        outputs = [ezkl.felt_to_int(x) for x in w["outputs"][0]]
        return len(bytes.fromhex(made["hex_proof"][2:])), outputs, prove_s


def setup_model(name, source, build_dir, verifier_dir):
    model = zoo.MODELS[name]
    started = time.perf_counter()
    dir_ = os.path.join(build_dir, "models", name)
    os.makedirs(dir_, exist_ok=True)
    path = {f: os.path.join(dir_, f) for f in FILES}
    write_atomic(path["network.onnx"], zoo.serialize(model["graph"](model["weights"]()), name))
    if not ezkl.gen_settings(path["network.onnx"], path["settings.json"],
                             py_run_args=run_args(model)):
        raise SetupError(f"{name}: gen_settings failed")
    with open(path["settings.json"]) as f:
        settings = json.load(f)
    settings["timestamp"] = 0
    # EZKL collects these in hash sets, so their order changes from run to run, and with it the
    # circuit's column layout and both keys: one canonical order makes the build reproducible.
    settings["required_range_checks"] = sorted(settings.get("required_range_checks") or [])
    settings["required_lookups"] = sorted(settings.get("required_lookups") or [],
                                          key=lambda v: json.dumps(v, sort_keys=True))
    write_atomic(path["settings.json"], json.dumps(settings, sort_keys=True).encode())
    if not ezkl.compile_circuit(path["network.onnx"], path["network.compiled"],
                                path["settings.json"]):
        raise SetupError(f"{name}: compile_circuit failed")
    logrows = model["logrows"]
    srs_path = srs_for(logrows, source, build_dir)
    try:
        ok = ezkl.setup(path["network.compiled"], path["vk.key"], path["pk.key"],
                        srs_path=srs_path)
    except RuntimeError as e:
        raise SetupError(f"{name}: key generation failed at logrows {logrows} ({e}): raise "
                         f"logrows in circuits/models/zoo.py") from None
    if not ok:
        raise SetupError(f"{name}: key generation failed")
    sol_path, sol = generate_verifier(path["vk.key"], path["settings.json"], srs_path,
                                      model["contract"], verifier_dir)
    proof_bytes, sample_output, prove_s = self_test(dir_, srs_path, model["sample"]())
    files = {f: sha256_file(p) for f, p in path.items()}
    manifest = {
        "name": name,
        "circuitVersion": MODEL_CIRCUIT_VERSION,
        "contract": model["contract"],
        "logrows": logrows,
        "inputShape": model["input_shape"],
        "outputShape": model["output_shape"],
        "inputScale": settings["model_input_scales"][0],
        "outputScale": settings["model_output_scales"][0],
        "paramScale": model["scale"],
        "labels": model["labels"],
        "instanceLayout": "HashedInputOutput",
        "instances": ["poseidon(input)", "poseidon(output)"],
        "ezkl": ezkl.__version__,
        "sizes": {
            "pkBytes": os.path.getsize(path["pk.key"]),
            "vkBytes": os.path.getsize(path["vk.key"]),
            "compiledBytes": os.path.getsize(path["network.compiled"]),
            "proofBytes": proof_bytes,
            "numRows": settings["num_rows"],
        },
        "sample": {"input": model["sample"](), "quantizedOutput": sample_output},
        "srs": {"file": os.path.relpath(srs_path, dir_),
                "source": "devsrs" if source is None else os.path.abspath(source),
                "unsafe": source is None or "UNSAFE" in os.path.basename(source)},
        "files": files,
        "verifier": {"path": sol_path, "contract": model["contract"],
                     "sha256": hashlib.sha256(sol).hexdigest()},
    }
    write_atomic(os.path.join(dir_, "model.json"),
                 (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    say(f"  {name}: logrows {logrows}, {settings['num_rows']} rows, pk {manifest['sizes']['pkBytes']} B, "
        f"vk {manifest['sizes']['vkBytes']} B, verifier {show(sol_path)}, self-test proof "
        f"{proof_bytes} B verified (prove {prove_s:.1f} s; setup {time.perf_counter() - started:.1f} s)")
    return manifest


def locked_entry(manifest):
    # Not network.compiled: EZKL serializes the same compiled circuit differently on different
    # machines (seen on a fresh clone: every other file, keys included, byte for byte equal).
    files = {f: h for f, h in manifest["files"].items() if f != "network.compiled"}
    return {"logrows": manifest["logrows"], "files": files,
            "verifier": manifest["verifier"]["sha256"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", dest="models",
                        help=f"model to build (repeatable; default all: {', '.join(zoo.MODELS)})")
    parser.add_argument("--srs", default=None,
                        help="source SRS (default: the deterministic dev SRS, UNSAFE)")
    parser.add_argument("--build-dir", default=os.path.join(CIRCUITS, "build"))
    parser.add_argument("--verifier-dir", default=os.path.join(ROOT, "contracts", "generated"))
    parser.add_argument("--update-lock", action="store_true")
    args = parser.parse_args(argv)
    names = args.models or list(zoo.MODELS)
    for n in names:
        if n not in zoo.MODELS:
            parser.error(f"unknown model {n}: one of {', '.join(zoo.MODELS)}")
    try:
        with open(LOCK) as f:
            lock = json.load(f)
    except FileNotFoundError:
        lock = {}
    try:
        if args.srs is None:
            say("model SRS: the deterministic development SRS (circuits/models/devsrs.py), "
                "UNSAFE: its secret is public, anyone can forge proofs; never deploy these keys "
                "or verifiers (docs/circuit.md)")
        manifests = [setup_model(n, args.srs, os.path.abspath(args.build_dir),
                                 os.path.abspath(args.verifier_dir)) for n in names]
        if args.srs is not None:
            return 0
        if args.update_lock:
            lock["ezkl"] = ezkl.__version__
            lock["srs"] = f"devsrs tau={devsrs.TAU:x}"
            lock.setdefault("models", {})
            for m in manifests:
                lock["models"][m["name"]] = locked_entry(m)
            write_atomic(LOCK, (json.dumps(lock, indent=2, sort_keys=True) + "\n").encode())
            say(f"updated {show(LOCK)}")
            return 0
        if lock.get("ezkl") != ezkl.__version__:
            raise SetupError(f"ezkl {ezkl.__version__} is installed but the model keys were "
                             f"locked with ezkl {lock.get('ezkl')}: reinstall with "
                             f"script/setup.sh, or re-lock with --update-lock if intended")
        for m in manifests:
            if m["name"] in UNLOCKED:
                say(f"{m['name']}: not locked: its settings and keys differ from build to build "
                    f"(an open problem, docs/circuit.md); its verifier is generated from this "
                    f"build's key, so this machine's proofs and verifier agree")
                continue
            expected = lock.get("models", {}).get(m["name"])
            if expected != locked_entry(m):
                raise SetupError(f"{m['name']}: the artifacts differ from "
                                 f"circuits/models/keys.lock.json: setup is no longer "
                                 f"reproducible; investigate, or re-lock with --update-lock")
        say("model artifacts match circuits/models/keys.lock.json")
    except (SetupError, srs_mod.SrsError) as e:
        print(f"setup: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
