#!/usr/bin/env bash
# Compares the release profile's opt-level ("z", "s", 3) for what a Lambda
# cold start and a warm request cost: the function binaries' size, the local
# runtime's time from exec to its first answer, and request latency under load
# (wrk, 2 threads, 16 connections, on 127.0.0.1).
#
# Usage: bash bench/opt-level.sh [levels…]   (default: z s 3)
# Needs: wrk and curl (apt-get install wrk curl). Each level is a full LTO
# build in its own target folder under ${BENCH_DIR:-/tmp/kontor-opt-bench}.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then levels=("$@"); else levels=(z s 3); fi
bench_dir="${BENCH_DIR:-/tmp/kontor-opt-bench}"
mkdir -p "$bench_dir"

evaluate_body='{"lines":[{"sku":"TR-CHINO-BEIGE","quantity":1},{"sku":"BE-LEATHER-BROWN","quantity":2},{"sku":"CA-CARE-GUIDE","quantity":1}],"shipping_country":"DE"}'
cat > "$bench_dir/evaluate.lua" <<LUA
wrk.method = "POST"
wrk.body   = '$evaluate_body'
wrk.headers["Content-Type"] = "application/json"
LUA

port=3917
printf '| opt-level | catalog | checkout | orders | start to first answer (median of 20) | GET /catalog/products req/s, p50, p99 | POST /cart/evaluate req/s, p50, p99 |\n'
printf '|---|---|---|---|---|---|---|\n'
for level in "${levels[@]}"; do
  target="$bench_dir/target-$level"
  CARGO_PROFILE_RELEASE_OPT_LEVEL="$level" CARGO_TARGET_DIR="$target" \
    cargo build --release --locked -q -p kontor-catalog -p kontor-checkout -p kontor-orders -p kontor --features lambda >&2
  size() { printf '%s KiB' $(( $(stat -c %s "$target/release/$1") / 1024 )); }

  starts=()
  for _ in $(seq 20); do
    data=$(mktemp -d)
    begin=$(date +%s%N)
    KONTOR_ADDR=127.0.0.1:$port KONTOR_DATA=$data RUST_LOG=error "$target/release/kontor" &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/openapi.json"; do sleep 0.002; done
    end=$(date +%s%N)
    kill $pid; wait $pid 2>/dev/null || true
    rm -rf "$data"
    starts+=($(( (end - begin) / 1000000 )))
  done
  start_median=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 10p)

  data=$(mktemp -d)
  KONTOR_ADDR=127.0.0.1:$port KONTOR_DATA=$data RUST_LOG=error "$target/release/kontor" &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/openapi.json"; do sleep 0.01; done
  load() {
    wrk -t2 -c16 -d10s --latency "$@" | awk '
      /Requests\/sec/ {rps=$2}
      /^ +50%/ {p50=$2}
      /^ +99%/ {p99=$2}
      END {printf "%d, %s, %s", rps, p50, p99}'
  }
  catalog=$(load "http://127.0.0.1:$port/catalog/products")
  evaluate=$(load -s "$bench_dir/evaluate.lua" "http://127.0.0.1:$port/cart/evaluate")
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$data"

  printf '| %s | %s | %s | %s | %s ms | %s | %s |\n' "$level" "$(size catalog)" "$(size checkout)" "$(size orders)" \
    "$start_median" "$catalog" "$evaluate"
done
