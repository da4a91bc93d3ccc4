#!/usr/bin/env bash
# Installs everything Vouch needs on a fresh machine, idempotently: the npm toolchain (forge,
# anvil, cast, solc, OpenZeppelin, forge-std), the Python venv with EZKL, the contracts and the
# Rust workspace. A second run with nothing changed does no work beyond cheap checks.
#
#   bash script/setup.sh           build for running
#   bash script/setup.sh --test    also build the test targets and require PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

want_tests=0
for arg in "$@"; do
  case "$arg" in
    --test) want_tests=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

step() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
# A stamp records the hash of the inputs of a step; the step reruns only when they change.
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- prerequisites -------------------------------------------------------------------------
command -v node >/dev/null || die "node is missing: install Node.js 20 or newer (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is missing: install npm (Debian: apt-get install npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old: Node.js 18 or newer is needed"
command -v python3 >/dev/null || die "python3 is missing: install Python 3.10 or newer"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "python3 $(python3 --version 2>&1) is too old: 3.10 or newer is needed"
python3 -c 'import venv' 2>/dev/null || die "python3 has no venv module (Debian: apt-get install python3-venv)"
command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup"
if [ "$want_tests" = 1 ]; then
  pg_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  pg_hostport=${pg_url#*@}; pg_hostport=${pg_hostport%%/*}
  pg_host=${pg_hostport%%:*}; pg_port=${pg_hostport##*:}; [ "$pg_port" = "$pg_hostport" ] && pg_port=5432
  (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null \
    || die "PostgreSQL is not reachable at $pg_host:$pg_port (tests need it): start it, e.g. pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start, or set DATABASE_URL"
  # Debian's chromium, for the headless GraphiQL test (graphql/tests/graphiql.rs).
  if [ ! -x /usr/bin/chromium ]; then
    step "apt-get install chromium"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q chromium || { apt-get update -q && apt-get install -y -q chromium; }; } </dev/null \
      || die "cannot install chromium (the GraphiQL test needs it): run as root, or apt-get install chromium"
  fi
fi

# --- npm toolchain -------------------------------------------------------------------------
npm_stamp=node_modules/.vouch-setup
npm_hash=$(hash_of package.json package-lock.json)
if ! stamp_ok "$npm_stamp" "$npm_hash"; then
  step "npm ci (forge, anvil, cast 1.7.1; solc 0.8.30; OpenZeppelin 5.7.0; forge-std)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > "$npm_stamp"
fi
chmod +x node_modules/@foundry-rs/*-linux-amd64/bin/* script/solc
FORGE=$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge

# --- Python venv with EZKL -----------------------------------------------------------------
venv_stamp=.venv/.vouch-setup
venv_hash=$(hash_of requirements.txt)
if ! stamp_ok "$venv_stamp" "$venv_hash"; then
  step "python venv .venv (ezkl, onnx)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$venv_hash" > "$venv_stamp"
fi

# --- contracts and Rust --------------------------------------------------------------------
step "forge build"
"$FORGE" build --quiet

step "cargo build"
if [ "$want_tests" = 1 ]; then
  cargo build --quiet --workspace --all-targets
else
  cargo build --quiet --workspace
fi

# Circuits, keys and the Solidity verifiers (contracts/generated/, never committed), from the
# committed development SRS (UNSAFE, docs/circuit.md); a no-op when up to date. forge then
# compiles the generated verifiers.
step "vouch proof setup"
cargo run --quiet --bin vouch -- proof setup
"$FORGE" build --quiet
step "setup done"
