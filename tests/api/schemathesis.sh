#!/usr/bin/env bash
# schemathesis over the local runtime's /openapi.json, as staff, as a
# shopper and as nobody: every phase (examples, coverage, fuzzing, stateful
# links) and every check. It fails on a 5xx, a status code or response the
# document does not describe, a content type or header that differs from
# it, a request the document forbids but the server accepts, a request the
# document allows but the server refuses, and an operation that leaks what
# an unauthenticated caller may not see. `schemathesis.toml` beside this
# script names the operations whose rules no schema can state (stock,
# coupons, the rule language, …) and lets only those refuse with 422.
#
# Usage: bash tests/api/schemathesis.sh [EXAMPLES]   (needs the runtime
# built by `cargo build` and schemathesis in .venv; scripts/test has both)
set -euo pipefail
cd "$(dirname "$0")/../.."

examples="${1:-25}"
binary="${CARGO_TARGET_DIR:-target}/debug/kontor"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Limits far above what the run sends: the per-client limits are tested
# on their own (tests/local_runtime.rs).
KONTOR_ADDR=127.0.0.1:$port KONTOR_DATA="$data" RUST_LOG=error \
  KONTOR_CHECKOUT_LIMIT=100000 KONTOR_SIGN_IN_LIMIT=100000 KONTOR_DEMO_DISCOUNTS=off \
  "$binary" &
runtime=$!
trap 'kill "$runtime" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "$base/openapi.json" && break; sleep 0.1; done

token() {
  curl -sf -X POST "$base/local/token" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"staff\":$2}" | .venv/bin/python -c 'import sys, json; print(json.load(sys.stdin)["token"])'
}
staff=$(token lena@kontor.example true)
shopper=$(token anna@example.de false)

for who in staff shopper anonymous; do
  case $who in
    staff) auth=(-H "Authorization: Bearer $staff") ;;
    shopper) auth=(-H "Authorization: Bearer $shopper") ;;
    anonymous) auth=() ;;
  esac
  echo "schemathesis as $who"
  .venv/bin/schemathesis --config-file tests/api/schemathesis.toml run "$base/openapi.json" "${auth[@]}" \
    --checks all \
    --max-examples "$examples" --workers 1 --seed 20261129 --no-color
done
