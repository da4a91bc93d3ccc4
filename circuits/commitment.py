"""Vouch's commitment circuit: ONNX graph, settings, compiled circuit, keys, Solidity verifier.

The circuit is an identity over 8*B field elements, B the batch size: the input (the 128-bit
limbs of B job tuples) is private, the output is public, so the public instances of a proof are
exactly the limbs, in order. For slot i in 0..B the 8 instances are
    jobId>>128, jobId&(2^128-1), modelHash>>128, modelHash&mask,
    inputHash>>128, inputHash&mask, outputHash>>128, outputHash&mask
(each 32-byte value read as a big-endian uint256); unused slots are all zero. See
docs/circuit.md for what such a proof does and does not prove.

For each batch size this writes, under --build-dir/b{B}/:
    network.onnx, settings.json, network.compiled, pk.key, vk.key, manifest.json
the SRS derived for the circuit's logrows under --build-dir/srs/, and the Solidity verifier,
renamed to contract Halo2VerifierB{B}, to --verifier-dir/Halo2VerifierB{B}.sol (never commit
it: its template's licence reserves all rights).

Everything is deterministic given the source SRS: the settings' timestamp is pinned to 0, the
SRS is downsized exactly (circuits/srs.py), and halo2 key generation has no randomness. With
the committed development SRS, the outputs must match circuits/keys.lock.json byte for byte
(sha256); a mismatch stops setup. `--update-lock` rewrites the lock after an intended change.

    .venv/bin/python circuits/commitment.py [--batch-size N]... [--srs FILE]
        [--build-dir DIR] [--verifier-dir DIR] [--lock FILE] [--update-lock]

`vouch proof setup` runs this only for batch sizes whose inputs changed.
"""

import argparse
import asyncio
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time

import ezkl
import onnx
from onnx import TensorProto, helper

import srs as srs_mod

# EZKL warns that scale 0 "may impact precision": exact field elements are the point here.
logging.getLogger("ezkl").setLevel(logging.ERROR)

CIRCUIT_VERSION = 1
BATCH_SIZES = (1, 16, 64)
LIMBS_PER_JOB = 8
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEV_SRS = os.path.join(HERE, "srs", "kzg-dev-UNSAFE-k10.srs")
FILES = ("network.onnx", "settings.json", "network.compiled", "pk.key", "vk.key")


class SetupError(Exception):
    """A setup step failed; the message says what to do."""


def say(message):
    print(message, flush=True)


def show(path):
    """A path relative to the repository when it is inside it, else absolute."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def write_atomic(path, data):
    """Writes `data` to `path` through a temporary file; leaves an identical file untouched
    (keeps its mtime, so forge and cargo see nothing new)."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def build_onnx(batch_size):
    """The identity graph over 8*B limbs, serialized deterministically."""
    n = LIMBS_PER_JOB * batch_size
    limbs = helper.make_tensor_value_info("limbs", TensorProto.FLOAT, [1, n])
    public = helper.make_tensor_value_info("public_limbs", TensorProto.FLOAT, [1, n])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["limbs"], ["public_limbs"], name="commit")],
        f"vouch_commitment_b{batch_size}",
        [limbs],
        [public],
    )
    model = helper.make_model(
        graph, producer_name="vouch", producer_version=str(CIRCUIT_VERSION),
        opset_imports=[helper.make_opsetid("", 18)],
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def run_args():
    """Exact integers: field elements in, no scaling, no range checks on inputs/outputs."""
    args = ezkl.PyRunArgs()
    args.input_visibility = "private"
    args.output_visibility = "public"
    args.param_visibility = "fixed"
    args.input_scale = 0
    args.param_scale = 0
    args.ignore_range_check_inputs_outputs = True
    return args


def felt(value):
    """A field element as EZKL reads it: 64 hex digits, little-endian, no 0x."""
    return value.to_bytes(32, "little").hex()


def sample_limbs(batch_size):
    """Deterministic, non-trivial limbs for the self-test (every limb < 2^128, distinct)."""
    return [(1 << 128) - 1 - 0x9E3779B97F4A7C15 * i for i in range(LIMBS_PER_JOB * batch_size)]


class Source:
    """The source SRS: its path, hash, logrows and whether it is the unsafe development one."""

    def __init__(self, path, lock):
        self.path = os.path.abspath(path)
        self.logrows, _ = srs_mod.read_header(self.path)
        self.sha256 = srs_mod.sha256_file(self.path)
        locked = (lock or {}).get("srs", {}).get("sha256")
        self.is_dev = locked == self.sha256
        self.unsafe = self.is_dev or "UNSAFE" in os.path.basename(self.path)
        stem = os.path.basename(self.path)
        stem = re.sub(r"\.srs$", "", stem)
        stem = re.sub(r"-?k?\d+$", "", stem) or "kzg"
        self.stem = stem

    def describe(self):
        rel = show(self.path)
        if self.unsafe:
            return (f"SRS {rel} (logrows {self.logrows}): development SRS, UNSAFE: whoever "
                    f"generated it could know its secret and forge proofs; never deploy keys "
                    f"or verifiers made from it (docs/circuit.md)")
        return f"SRS {rel} (logrows {self.logrows}, sha256 {self.sha256[:16]}...)"

    def derived(self, build_dir, logrows):
        """Path of the SRS for `logrows`, derived once and cached under build/srs/."""
        srs_dir = os.path.join(build_dir, "srs")
        os.makedirs(srs_dir, exist_ok=True)
        path = os.path.join(srs_dir, f"{self.stem}-k{logrows}.srs")
        marker = path + ".source"
        try:
            with open(marker) as f:
                if f.read().strip() == self.sha256 and os.path.exists(path):
                    return path
        except FileNotFoundError:
            pass
        started = time.perf_counter()
        data = srs_mod.downsize(self.path, logrows)
        write_atomic(path, data)
        write_atomic(marker, (self.sha256 + "\n").encode())
        say(f"  derived {show(path)} ({len(data)} bytes) from the source SRS "
            f"in {time.perf_counter() - started:.1f} s")
        return path


def generate_verifier(vk, settings, srs_path, batch_size, verifier_dir):
    """Writes contracts/generated/Halo2VerifierB{B}.sol; returns its path and bytes.

    ezkl writes the complete .sol, then tries to download a native solc for the ABI and fails
    offline: that failure is tolerated only if the .sol is whole."""
    with tempfile.TemporaryDirectory() as tmp:
        sol = os.path.join(tmp, "Halo2Verifier.sol")
        abi = os.path.join(tmp, "Halo2Verifier.abi")
        failure = None

        async def create():  # the binding needs a running event loop when it is called
            return await ezkl.create_evm_verifier(vk, settings, sol, abi, srs_path=srs_path)

        try:
            asyncio.run(create())
        except Exception as e:  # noqa: BLE001 - inspected below
            failure = e
        try:
            with open(sol, encoding="utf-8") as f:
                code = f.read()
        except FileNotFoundError:
            raise SetupError(f"create_evm_verifier wrote no Solidity file ({failure})") from None
    complete = (
        code.rstrip().endswith("}")
        and code.count("{") == code.count("}")
        and "function verifyProof(" in code
        and code.count("contract Halo2Verifier {") == 1
    )
    if not complete:
        raise SetupError(f"create_evm_verifier wrote an incomplete Solidity file ({failure})")
    name = f"Halo2VerifierB{batch_size}"
    code = code.replace("contract Halo2Verifier {", f"contract {name} {{")
    os.makedirs(verifier_dir, exist_ok=True)
    path = os.path.join(verifier_dir, f"{name}.sol")
    data = code.encode("utf-8")
    write_atomic(path, data)
    return path, data


def self_test(dir_, srs_path, batch_size):
    """Proves and verifies one sample batch with the fresh keys; returns the proof size."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "input.json")
        witness = os.path.join(tmp, "witness.json")
        proof = os.path.join(tmp, "proof.json")
        limbs = [felt(v) for v in sample_limbs(batch_size)]
        with open(data, "w") as f:
            json.dump({"input_data": [limbs]}, f)
        compiled = os.path.join(dir_, "network.compiled")
        ezkl.gen_witness(data, compiled, witness)
        ezkl.prove(witness, compiled, os.path.join(dir_, "pk.key"), proof, srs_path=srs_path)
        with open(proof) as f:
            made = json.load(f)
        if made["instances"] != [limbs]:
            raise SetupError(f"B={batch_size}: the self-test proof's public instances are not "
                             f"the input limbs in order")
        ok = ezkl.verify(proof, os.path.join(dir_, "settings.json"), os.path.join(dir_, "vk.key"),
                         srs_path=srs_path)
        if not ok:
            raise SetupError(f"B={batch_size}: the self-test proof does not verify")
        return len(bytes.fromhex(made["hex_proof"][2:]))


def setup_batch(batch_size, source, build_dir, verifier_dir):
    """Builds every artifact of one batch size; returns its manifest."""
    started = time.perf_counter()
    dir_ = os.path.join(build_dir, f"b{batch_size}")
    os.makedirs(dir_, exist_ok=True)
    onnx_path = os.path.join(dir_, "network.onnx")
    settings_path = os.path.join(dir_, "settings.json")
    compiled_path = os.path.join(dir_, "network.compiled")
    pk_path = os.path.join(dir_, "pk.key")
    vk_path = os.path.join(dir_, "vk.key")
    write_atomic(onnx_path, build_onnx(batch_size))
    if not ezkl.gen_settings(onnx_path, settings_path, py_run_args=run_args()):
        raise SetupError(f"B={batch_size}: gen_settings failed")
    with open(settings_path) as f:
        settings = json.load(f)
    # No calibration: scale 0 needs none, and calibration can pick a logrows too small for the
    # instance count. Start at the smallest k with 2^k > num_rows and grow until setup works.
    logrows = max(1, int(settings["num_rows"]).bit_length())
    while True:
        if logrows > source.logrows:
            raise SetupError(
                f"B={batch_size} needs more than {source.logrows} logrows, the size of the source "
                f"SRS: use a larger SRS (--srs)")
        settings["run_args"]["logrows"] = logrows
        settings["timestamp"] = 0  # the only non-deterministic field
        write_atomic(settings_path, json.dumps(settings, sort_keys=True).encode())
        if not ezkl.compile_circuit(onnx_path, compiled_path, settings_path):
            raise SetupError(f"B={batch_size}: compile_circuit failed")
        srs_path = source.derived(build_dir, logrows)
        try:
            if ezkl.setup(compiled_path, vk_path, pk_path, srs_path=srs_path):
                break
        except RuntimeError as e:
            if "synthesis" not in str(e) and "too small" not in str(e):
                raise SetupError(f"B={batch_size}: setup failed: {e}") from None
        say(f"  B={batch_size}: logrows {logrows} is too small, trying {logrows + 1}")
        logrows += 1
    sol_path, sol = generate_verifier(vk_path, settings_path, srs_path, batch_size, verifier_dir)
    proof_bytes = self_test(dir_, srs_path, batch_size)
    files = {}
    for name in FILES:
        with open(os.path.join(dir_, name), "rb") as f:
            files[name] = sha256_bytes(f.read())
    manifest = {
        "circuitVersion": CIRCUIT_VERSION,
        "batchSize": batch_size,
        "logrows": logrows,
        "instances": LIMBS_PER_JOB * batch_size,
        "ezkl": ezkl.__version__,
        "proofBytes": proof_bytes,
        "srs": {
            "file": os.path.relpath(srs_path, dir_),
            "source": source.path,
            "sourceSha256": source.sha256,
            "unsafe": source.unsafe,
        },
        "files": files,
        "verifier": {"path": sol_path, "contract": f"Halo2VerifierB{batch_size}",
                     "sha256": sha256_bytes(sol)},
    }
    write_atomic(os.path.join(dir_, "manifest.json"),
                 (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    say(f"  B={batch_size}: logrows {logrows}, {LIMBS_PER_JOB * batch_size} public instances, "
        f"pk {os.path.getsize(pk_path)} B, vk {os.path.getsize(vk_path)} B, "
        f"verifier {show(sol_path)}, self-test proof {proof_bytes} B verified "
        f"({time.perf_counter() - started:.1f} s)")
    return manifest


def locked_entry(manifest):
    return {
        "logrows": manifest["logrows"],
        "files": manifest["files"],
        "verifier": manifest["verifier"]["sha256"],
    }


def check_lock(lock, manifest):
    """With the development SRS, the artifacts must be exactly the locked ones."""
    b = manifest["batchSize"]
    expected = lock.get("circuits", {}).get(str(b))
    if expected is None:
        raise SetupError(f"B={b} is not in circuits/keys.lock.json: run circuits/commitment.py "
                         f"--update-lock after checking the new batch size")
    if lock.get("ezkl") != ezkl.__version__:
        raise SetupError(f"ezkl {ezkl.__version__} is installed but the keys were locked with "
                         f"ezkl {lock.get('ezkl')}: reinstall with script/setup.sh, or "
                         f"re-lock with --update-lock if the upgrade is intended")
    actual = locked_entry(manifest)
    if actual != expected:
        diff = [k for k in expected["files"] if expected["files"][k] != actual["files"].get(k)]
        if expected["verifier"] != actual["verifier"]:
            diff.append("verifier")
        if expected["logrows"] != actual["logrows"]:
            diff.append("logrows")
        raise SetupError(f"B={b}: the artifacts differ from circuits/keys.lock.json "
                         f"({', '.join(diff)}): setup is no longer reproducible; "
                         f"investigate, or re-lock with --update-lock if intended")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, action="append", dest="batch_sizes",
                        help="batch size to build (repeatable; default 1, 16 and 64)")
    parser.add_argument("--srs", default=DEV_SRS, help="source SRS (default: the dev UNSAFE one)")
    parser.add_argument("--build-dir", default=os.path.join(HERE, "build"))
    parser.add_argument("--verifier-dir", default=os.path.join(ROOT, "contracts", "generated"))
    parser.add_argument("--lock", default=os.path.join(HERE, "keys.lock.json"))
    parser.add_argument("--update-lock", action="store_true",
                        help="record the artifacts made from the dev SRS as the expected ones")
    args = parser.parse_args(argv)
    batch_sizes = args.batch_sizes or list(BATCH_SIZES)
    for b in batch_sizes:
        if b not in BATCH_SIZES:
            parser.error(f"batch size {b} is not one of {', '.join(map(str, BATCH_SIZES))}")
    try:
        with open(args.lock) as f:
            lock = json.load(f)
    except FileNotFoundError:
        lock = None
    try:
        source = Source(args.srs, lock)
        say(source.describe())
        manifests = [setup_batch(b, source, os.path.abspath(args.build_dir),
                                 os.path.abspath(args.verifier_dir)) for b in batch_sizes]
        if args.update_lock:
            if not source.unsafe or "UNSAFE" not in os.path.basename(source.path):
                raise SetupError("--update-lock records keys made from the committed dev SRS only")
            lock = lock if lock and lock.get("srs", {}).get("sha256") == source.sha256 else {}
            lock["ezkl"] = ezkl.__version__
            lock["srs"] = {"file": os.path.relpath(source.path, ROOT), "sha256": source.sha256}
            lock.setdefault("circuits", {})
            for m in manifests:
                lock["circuits"][str(m["batchSize"])] = locked_entry(m)
            write_atomic(args.lock, (json.dumps(lock, indent=2, sort_keys=True) + "\n").encode())
            say(f"updated {show(args.lock)}")
        elif source.is_dev:
            for m in manifests:
                check_lock(lock, m)
            say("artifacts match circuits/keys.lock.json")
    except (SetupError, srs_mod.SrsError) as e:
        print(f"setup: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
