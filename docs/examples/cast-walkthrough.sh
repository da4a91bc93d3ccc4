#!/usr/bin/env bash
# A host and a renter driven with nothing but `cast` (docs/integrators.md): the host stakes the
# minimum and registers a model, the renter escrows an ETH job for it, the host claims it, and
# the job is read back. Completing it takes a proof: the host's keeper does that
# (docs/keeper.md).
#
#   RPC_URL=http://127.0.0.1:8545 DEPLOYMENT=deploy/31337.json \
#   FUNDER_KEY=0x... HOST_KEY=0x... RENTER_KEY=0x... bash docs/examples/cast-walkthrough.sh
#
# FUNDER_KEY holds VOUCH (on a devnet: the deployer, anvil's first account). Keys come from the
# environment only; prefer `--keystore` / `--account` with cast on a real network.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${RPC_URL:?set RPC_URL}" "${DEPLOYMENT:?set DEPLOYMENT (a manifest written by vouch deploy)}"
: "${FUNDER_KEY:?set FUNDER_KEY}" "${HOST_KEY:?set HOST_KEY}" "${RENTER_KEY:?set RENTER_KEY}"
CAST=${CAST:-node_modules/@foundry-rs/cast-linux-amd64/bin/cast}
export ETH_RPC_URL=$RPC_URL

# Contract addresses from the manifest (its `contracts` object is keyed by contract name).
contract() { node -e 'console.log(require(process.argv[1]).contracts[process.argv[2]])' "$(realpath "$DEPLOYMENT")" "$1"; }
TOKEN=$(contract VouchToken)
STAKING=$(contract Staking)
REGISTRY=$(contract NodeRegistry)
MARKET=$(contract JobMarketplace)
# `cast call` prints numbers as "123 [1.23e2]": keep the exact decimal.
num() { "$CAST" call "$@" | awk '{ print $1 }'; }

HOST=$("$CAST" wallet address --private-key "$HOST_KEY")
RENTER=$("$CAST" wallet address --private-key "$RENTER_KEY")
MODEL=$("$CAST" keccak "vouch-demo/llama-3-8b-instruct")
INPUT=$("$CAST" keccak "Summarize the plot of Hamlet in one sentence.")

# 1. The host: VOUCH from the funder, approve, stake the minimum.
MIN=$(num "$STAKING" 'minimumStake()(uint256)')
"$CAST" send --quiet "$TOKEN" 'transfer(address,uint256)' "$HOST" "$MIN" --private-key "$FUNDER_KEY"
"$CAST" send --quiet "$TOKEN" 'approve(address,uint256)' "$STAKING" "$MIN" --private-key "$HOST_KEY"
"$CAST" send --quiet "$STAKING" 'stake(uint256)' "$MIN" --private-key "$HOST_KEY"
echo "host $HOST staked $(num "$STAKING" 'activeStakeOf(address)(uint256)' "$HOST") (minimum $MIN)"

# 2. Register: endpoint, region (bytes16: UTF-8, right-padded), models, price per token (wei).
REGION=0x$(printf '%-32s' "$(printf 'eu-west' | xxd -p)" | tr ' ' 0)
"$CAST" send --quiet "$REGISTRY" 'register(string,bytes16,bytes32[],uint96)' \
  "https://host.example/v1" "$REGION" "[$MODEL]" 1000000000 --private-key "$HOST_KEY"
echo "host serves the model: $("$CAST" call "$REGISTRY" 'servesModel(address,bytes32)(bool)' "$HOST" "$MODEL")"

# 3. The renter escrows 0.01 ETH (token 0x0) for one hour, open to any host.
PAYMENT=10000000000000000
DEADLINE=$(( $("$CAST" block latest --field timestamp) + 3600 ))
ZERO=0x0000000000000000000000000000000000000000
"$CAST" send --quiet "$MARKET" 'createJob(bytes32,bytes32,address,uint96,uint40,address,uint16)' \
  "$MODEL" "$INPUT" "$ZERO" "$PAYMENT" "$DEADLINE" "$ZERO" 0 --value "$PAYMENT" --private-key "$RENTER_KEY"
JOB=$(num "$MARKET" 'jobCount()(uint256)')
echo "renter $RENTER created job $JOB"

# 4. The host claims it (a host's operator may claim for it too).
"$CAST" send --quiet "$MARKET" 'claimJob(uint256,address)' "$JOB" "$HOST" --private-key "$HOST_KEY"

# 5. Read it back. Status: 0 None, 1 Open, 2 Claimed, 3 Completed, ...
STATUS=$("$CAST" call "$MARKET" 'getJob(uint256)((address,address,address,address,uint96,uint96,uint8,uint40,uint40,uint16,uint8,bytes32,bytes32,bytes32))' "$JOB" \
  | tr -d '()' | awk -F', ' '{ print $7 }')
echo "job $JOB status $STATUS (2 = Claimed), active jobs of the host: $(num "$MARKET" 'activeJobsOf(address)(uint256)' "$HOST")"
