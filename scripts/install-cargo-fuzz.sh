#!/usr/bin/env bash
# Installs cargo-fuzz (crates.io) into the tools directory that survives between runs, and
# prints the directory holding the `cargo-fuzz` binary. It fuzzes on the stable toolchain with
# `--sanitizer none` (the sanitizers need nightly; the fuzzed code is safe Rust).
set -euo pipefail

version=0.13.2
root="${WALLET_TOOLS_DIR:-$HOME/.cache/broker-wallet/tools}"
binary="$root/bin/cargo-fuzz"

if [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -q "$version"; then
  echo "$root/bin"
  exit 0
fi

mkdir -p "$root"
echo "install-cargo-fuzz: building cargo-fuzz $version into $root" >&2
CARGO_TARGET_DIR="$root/target-cargo-fuzz" cargo install cargo-fuzz --version "$version" \
  --locked --root "$root" >&2
rm -rf "$root/target-cargo-fuzz"
echo "$root/bin"
