#!/usr/bin/env bash
# Release sizes of the function binaries as Lambda would load them:
# `cargo lambda build --release --x86-64` (the release profile of Cargo.toml:
# opt-level "s", LTO, one codegen unit, strip, abort on panic), then each
# bootstrap's size and its size gzip'ed (close to the deployment zip).
# Needs cargo-lambda on PATH (bash scripts/test installs it into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/cargo-lambda ] && export PATH="$PWD/.venv/bin:$PATH"
functions=(catalog checkout orders outbox-relay outbox-sweeper notifier shipment tracking-update order-lifecycle order-expiry order-adjustment)
# Each package's binaries (order-lifecycle's crate builds order-expiry too).
packages=()
for package in catalog checkout orders outbox-relay notifier shipment tracking-update order-lifecycle order-adjustment; do
  packages+=(-p "kontor-$package")
done
cargo lambda build --release --x86-64 "${packages[@]}"
target="${CARGO_TARGET_DIR:-target}"
printf '| function | bootstrap | gzip -9 |\n|---|---|---|\n'
for function in "${functions[@]}"; do
  binary="$target/lambda/$function/bootstrap"
  printf '| %s | %s KiB | %s KiB |\n' "$function" \
    "$(( $(stat -c %s "$binary") / 1024 ))" "$(( $(gzip -9c "$binary" | wc -c) / 1024 ))"
done
