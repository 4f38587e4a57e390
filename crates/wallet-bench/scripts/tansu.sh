#!/usr/bin/env bash
# Runs the wallet-kafka pipeline (consumer, dead letters, outbox relay) against a real, separate
# Kafka-protocol broker process: Tansu with SQLite storage (see ../shared/KAFKA.md; its
# `memory://` engine skips messages on resume). Installs Tansu on first use through the
# project's scripts/install-tansu.sh (6–11 minutes of compiling on 2 cores, cached afterwards)
# unless WALLET_TANSU names a binary. Needs MariaDB like the other tests. Exits non-zero on
# failure. Not part of CI on purpose: the install is long; run it by hand or from a CI job that
# caches the binary.
set -euo pipefail

crate_dir="$(cd "$(dirname "$0")/.." && pwd)"
workspace="$(cd "$crate_dir/../.." && pwd)"
tansu="${WALLET_TANSU:-$("$workspace/scripts/install-tansu.sh")}"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
workdir="$(mktemp -d)"
(cd "$workdir" && exec "$tansu" broker \
  --listener-url "tcp://127.0.0.1:$port" \
  --advertised-listener-url "tcp://127.0.0.1:$port" \
  --storage-engine sqlite://tansu.db) >"$workdir/tansu.log" 2>&1 &
broker=$!
cleanup() {
  kill "$broker" 2>/dev/null || true
  wait "$broker" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

# Ready when the port accepts connections (well under a second normally).
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || {
  echo "tansu did not start; its log:" >&2
  cat "$workdir/tansu.log" >&2
  exit 1
}

cd "$workspace"
cargo run -q -p wallet-bench --example tansu_pipeline -- "127.0.0.1:$port"
