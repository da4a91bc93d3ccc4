#!/usr/bin/env bash
# The whole test suite: sets up what is missing, then runs the Forge tests and the Rust tests
# (every crate, unit and integration, against real anvil, PostgreSQL and SQLite) and ends with
# one line `N passed, N failed` totalling every suite. Exits non-zero on any failure.
#
#   bash script/test.sh                 everything
#   FOUNDRY_PROFILE=deep bash script/test.sh    with 10,000 fuzz runs per fuzz test
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# A CI run builds once from scratch: incremental state would only cost time and ~17 GB of disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

bash script/setup.sh --test || { echo "0 passed, 1 failed"; exit 1; }

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
passed=0
failed=0

# Sums the leading numbers of its input lines ("3 passed" + "4 passed" -> 7).
sum() { awk '{ s += $1 } END { print s + 0 }'; }

# Reads "<passed> <failed>" from a suite's summary; a suite that ended without one (it did not
# compile, or crashed) counts as one failure so it can never pass silently.
count() {
  local name=$1 p=$2 f=$3 status=$4
  if [ -z "$p" ]; then
    echo "!! $name produced no summary (exit $status): counted as 1 failure"
    p=0; f=1
  elif [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
    echo "!! $name exited $status with no failing test: counted as 1 failure"
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + ${f:-0}))
  echo "== $name: $p passed, ${f:-0} failed"
}

echo "==> forge test"
node_modules/@foundry-rs/forge-linux-amd64/bin/forge test 2>&1 | tee "$logs/forge"
status=${PIPESTATUS[0]}
line=$(grep -E '^Ran [0-9]+ test suites?' "$logs/forge" | tail -n1)
count forge "$(grep -oE '[0-9]+ tests passed' <<<"$line" | grep -oE '^[0-9]+')" \
  "$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '^[0-9]+')" "$status"

echo "==> cargo tests"
if cargo nextest --version >/dev/null 2>&1; then
  # nextest runs every test in its own process: anvil instances, databases and the embedded
  # Python of the prover stay apart.
  cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logs/cargo"
  status=${PIPESTATUS[0]}
  line=$(grep -E 'Summary \[' "$logs/cargo" | tail -n1)
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '^[0-9]+')
  f=$(grep -oE '[0-9]+ (failed|timed out)' <<<"$line" | sum)
  count cargo "$p" "$f" "$status"
else
  cargo test --workspace --no-fail-fast 2>&1 | tee "$logs/cargo"
  status=${PIPESTATUS[0]}
  if grep -qE '^test result:' "$logs/cargo"; then
    p=$(grep -E '^test result:' "$logs/cargo" | grep -oE '[0-9]+ passed' | sum)
    f=$(grep -E '^test result:' "$logs/cargo" | grep -oE '[0-9]+ failed' | sum)
    count cargo "$p" "$f" "$status"
  else
    count cargo "" "" "$status"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
