#!/usr/bin/env bash
# Installs the Kafka-compatible broker Tansu (crates.io) that the end-to-end tests run as a
# separate process, into a directory that survives between runs (compiling it takes 6–11
# minutes on 2 cores, so it is built once per machine). Prints the binary's path.
#
# The default features carry no storage engine and the broker refuses to start without one;
# `libsql` gives the SQLite engine the tests use (its `memory://` engine skips messages on
# resume in 0.6.0).
set -euo pipefail

version=0.6.0
root="${WALLET_TOOLS_DIR:-$HOME/.cache/broker-wallet/tools}"
binary="$root/bin/tansu"

if [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -q "$version"; then
  echo "$binary"
  exit 0
fi

mkdir -p "$root"
echo "install-tansu: building tansu $version into $root (takes several minutes)" >&2
# Its own target directory, so that it never invalidates the project's build cache.
CARGO_TARGET_DIR="$root/target" cargo install tansu --version "$version" --locked \
  --no-default-features --features dynostore,libsql --root "$root" >&2
rm -rf "$root/target"
echo "$binary"
