#!/usr/bin/env bash
# Kontor against the floor, side by side in one run on this machine: the
# release build of the local runtime (SQLite, in-process bus, mail outbox)
# and bench/floor (axum answering the same catalog bytes from memory, and
# one SQLite transaction of the checkout's shape), each loaded with
# `wrk -t2 -c64` for the same time, one after the other. Prints a Markdown
# table with each figure's ratio to the floor's: the machine is shared and
# noisy, so only ratios from one run are compared.
#
# Usage: bash bench/throughput.sh [SECONDS]   (default 10; needs wrk:
# `apt-get install wrk`)
#
# Where the time goes: `PROFILE=1 bash bench/throughput.sh` builds with the
# `profiling` profile (the release build with symbols) and records Kontor's
# runs with `perf record --call-graph dwarf`, then prints the functions
# that take the most time, self and inclusive, for each request
# (`perf report -i …` on the kept files reads them further).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
target="${CARGO_TARGET_DIR:-target}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
profile=release
[ -n "${PROFILE:-}" ] && profile=profiling
cargo build --profile "$profile" --quiet -p kontor -p kontor-floor

work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kontor_port=$(free_port)
floor_port=$(free_port)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$work/kontor" "$work/floor"
KONTOR_ADDR="127.0.0.1:$kontor_port" KONTOR_DATA="$work/kontor" RUST_LOG=error \
  KONTOR_CHECKOUT_LIMIT=10000000 KONTOR_DEMO_DISCOUNTS=off \
  "$target/$profile/kontor" >"$work/kontor.log" 2>&1 &
pids+=($!)
kontor="http://127.0.0.1:$kontor_port"
for _ in $(seq 100); do curl -sf -o /dev/null "$kontor/catalog/products" && break; sleep 0.1; done

# Enough stock that no checkout of the run is refused.
token=$(curl -sf -X POST "$kontor/local/token" -H 'content-type: application/json' \
  -d '{"email":"bench@kontor.example","staff":true}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
version=$(curl -sf "$kontor/admin/products" -H "Authorization: Bearer $token" |
  python3 -c 'import sys,json; print(next(p["version"] for p in json.load(sys.stdin) if p["sku"]=="TR-CHINO-BEIGE"))')
curl -sf -o /dev/null -X PATCH "$kontor/admin/products/TR-CHINO-BEIGE" -H "Authorization: Bearer $token" \
  -H 'content-type: application/json' -d "{\"version\":$version,\"stock\":100000000}"

curl -sf "$kontor/catalog/products" >"$work/catalog.json"
"$target/$profile/kontor-floor" "127.0.0.1:$floor_port" "$work/catalog.json" "$work/floor" &
pids+=($!)
floor="http://127.0.0.1:$floor_port"
for _ in $(seq 100); do curl -sf -o /dev/null "$floor/catalog/products" && break; sleep 0.1; done

# Both runs report the same way: "RESULT requests/s p99-ms errors".
cat >"$work/get.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000, e.status + e.connect + e.read + e.write + e.timeout))
end
LUA
# Each request a new order: a key no other request of the run has.
{ cat "$work/get.lua"; cat <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
local body = '{"lines":[{"sku":"TR-CHINO-BEIGE","quantity":1}],"email":"anna@example.de",' ..
  '"shipping_address":{"name":"Anna Muster","street":"Hauptstraße 1","postal_code":"10115","city":"Berlin","country":"DE"},' ..
  '"payment_method":"invoice","language":"de"}'
function request()
  n = n + 1
  return wrk.format("POST", "/checkout",
    { ["Content-Type"] = "application/json", ["Idempotency-Key"] = "bench-" .. id .. "-" .. n }, body)
end
LUA
} >"$work/checkout.lua"

# "requests/s p99-ms errors" of one wrk run.
load() { wrk -t2 -c64 -d"${seconds}s" -s "$1" "$2" | awk '/^RESULT/ {print $2, $3, $4}'; }

# With PROFILE set, `perf` records Kontor while wrk loads it; its files
# stay in bench/profiles/ (ignored by git).
profiled() {
  local name=$1; shift
  if [ -z "${PROFILE:-}" ]; then "$@"; return; fi
  mkdir -p bench/profiles
  perf record -q -F 499 --call-graph dwarf,16384 -p "${pids[0]}" -o "bench/profiles/$name.data" \
    -- sleep "$seconds" 2>/dev/null &
  local recorder=$!
  "$@"
  wait "$recorder" || true
}

read -r kc kc99 kce < <(profiled catalog load "$work/get.lua" "$kontor/catalog/products")
read -r fc fc99 fce < <(load "$work/get.lua" "$floor/catalog/products")
read -r ko ko99 koe < <(profiled checkout load "$work/checkout.lua" "$kontor/checkout")
read -r fo fo99 foe < <(load "$work/checkout.lua" "$floor/checkout")

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
printf '| request | Kontor req/s | floor req/s | ratio | Kontor p99 | floor p99 | p99 ratio | errors (K/F) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
printf '| GET /catalog/products | %s | %s | %s | %s ms | %s ms | %s | %s/%s |\n' \
  "$kc" "$fc" "$(ratio "$kc" "$fc")" "$kc99" "$fc99" "$(ratio "$kc99" "$fc99")" "$kce" "$fce"
printf '| POST /checkout | %s | %s | %s | %s ms | %s ms | %s | %s/%s |\n' \
  "$ko" "$fo" "$(ratio "$ko" "$fo")" "$ko99" "$fo99" "$(ratio "$ko99" "$fo99")" "$koe" "$foe"
printf '\n%s, %s cores, wrk -t2 -c64 -d%ss, %s bytes of catalog\n' \
  "$(date -u +%Y-%m-%d)" "$(nproc)" "$seconds" "$(wc -c <"$work/catalog.json")"

if [ -n "${PROFILE:-}" ]; then
  for name in catalog checkout; do
    printf '\n## %s: self time, then inclusive, top 25\n' "$name"
    perf report -i "bench/profiles/$name.data" --no-children --sort symbol --stdio -g none 2>/dev/null |
      grep '%' | cut -c1-150 | sed 's/  */ /g' | head -25 || true
    perf report -i "bench/profiles/$name.data" --children --sort symbol --stdio -g none 2>/dev/null |
      grep '%' | grep -v 'inlined' | cut -c1-150 | sed 's/  */ /g' | head -25 || true
  done
fi
