#!/usr/bin/env bash
# A newcomer's first minutes: clones this repository into a temporary folder
# and times `cargo run` from an empty build folder to the first answer of
# `GET /` — the README's first command as a new user meets it (the crates
# already downloaded, nothing compiled). Prints the seconds and the number of
# crates compiled, and with `--aws` does the same for `cargo run --features aws`.
#
#   bash bench/first-shop.sh          # the embedded default
#   bash bench/first-shop.sh --aws    # the runtime with the AWS adapters
set -euo pipefail
cd "$(dirname "$0")/.."

features=()
label="cargo run"
if [ "${1:-}" = "--aws" ]; then
  features=(--features aws)
  label="cargo run --features aws"
fi

work=$(mktemp -d)
pid=""
# cargo and the shop it starts run in a process group of their own, so that
# one signal stops both.
trap '[ -n "$pid" ] && kill -- "-$pid" 2>/dev/null; rm -rf "$work"' EXIT
git clone -q . "$work/kontor"
cd "$work/kontor"
export CARGO_TARGET_DIR="$work/target" CARGO_TERM_COLOR=never
# The shell that runs the benchmark may carry settings a newcomer's does not.
unset CARGO_INCREMENTAL RUSTFLAGS CARGO_BUILD_JOBS
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

begin=$(date +%s.%N)
KONTOR_ADDR=127.0.0.1:$port KONTOR_DATA="$work/data" RUST_LOG=warn \
  setsid cargo run "${features[@]}" >"$work/run.log" 2>&1 &
pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/run.log" >&2
    echo "cargo run stopped before the shop answered" >&2
    exit 1
  fi
  sleep 0.2
done
end=$(date +%s.%N)
compiled=$(grep -c '^ *Compiling ' "$work/run.log" || true)
aws=$(grep -c '^ *Compiling aws-' "$work/run.log" || true)
printf '| %s | %.0f s to the first answer of / | %s crates compiled (%s aws-*) | %s cores | %s |\n' \
  "$label" "$(awk "BEGIN { print $end - $begin }")" "$compiled" "$aws" "$(nproc)" "$(date -u +%F)"
