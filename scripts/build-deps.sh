#!/usr/bin/env bash
# Makes sure the C libraries the build links are installed: OpenSSL's development files, which
# librdkafka (rdkafka's `ssl` feature) needs for SASL_SSL, SSL and the SCRAM mechanisms. Debian's
# packages are installed when they are missing; nothing happens when they are there.
set -euo pipefail

if pkg-config --exists openssl 2>/dev/null; then
  exit 0
fi
echo "build-deps: installing libssl-dev and pkg-config (librdkafka links OpenSSL)" >&2
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo apt-get install -y -qq libssl-dev pkg-config
else
  apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config
fi
