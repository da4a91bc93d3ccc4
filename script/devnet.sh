#!/usr/bin/env bash
# The main job on a fresh machine: installs whatever is missing (the same idempotent setup as
# the tests), then runs `vouch devnet`: anvil, the verified deployment, the indexer and the
# GraphQL API in one process, on SQLite. Arguments go to `vouch devnet` (try --help).
#
#   bash script/devnet.sh                 until Ctrl-C
#   bash script/devnet.sh --for 60        a minute, then a summary
set -euo pipefail
cd "$(dirname "$0")/.."
bash script/setup.sh
exec cargo run --quiet --bin vouch -- devnet "$@"
