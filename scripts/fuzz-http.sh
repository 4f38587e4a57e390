#!/usr/bin/env bash
# Fuzzes the HTTP API of a running wallet from its own OpenAPI document with schemathesis
# (PyPI, installed once per machine into a virtualenv): no input may produce a 5xx, and every
# response must conform to the document. Usage: scripts/fuzz-http.sh http://127.0.0.1:PORT
set -euo pipefail

base_url=${1:?usage: scripts/fuzz-http.sh BASE_URL}
version=4.32.5
venv="${WALLET_TOOLS_DIR:-$HOME/.cache/broker-wallet/tools}/schemathesis-$version"

if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "fuzz-http: installing schemathesis $version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

# Bounded: a fixed number of examples per operation, a timeout per request, one worker.
exec "$venv/bin/schemathesis" --no-color run "$base_url/api-docs/openapi.json" \
  --url "$base_url" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${WALLET_FUZZ_EXAMPLES:-40}" \
  --request-timeout 10 \
  --seed 20261127 \
  --max-time "${WALLET_FUZZ_SECONDS_MAX:-120}"
