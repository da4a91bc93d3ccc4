#!/usr/bin/env bash
# The main job on a fresh machine: installs whatever is missing (the same idempotent setup as
# the tests), then runs `vouch devnet --demo`: anvil, the verified deployment, the indexer and
# the GraphQL API in one process, on SQLite, with five hosts and their keepers serving renters
# (real proofs, payments, and once each a dispute, a missed deadline, an equivocation and a
# governance proposal). Arguments go to `vouch devnet` (try --help).
#
#   bash script/devnet.sh                 until Ctrl-C
#   bash script/devnet.sh --for 60        a minute, then a summary
#   bash script/devnet.sh --rounds 4      the scripted rounds, then a quiet chain
set -euo pipefail
cd "$(dirname "$0")/.."
bash script/setup.sh
exec cargo run --quiet --bin vouch -- devnet --demo "$@"
