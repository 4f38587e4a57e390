#!/usr/bin/env bash
# Fails when a crate depends (in its normal dependencies) on a part of the hexagon it must never
# reach: the domain on nothing of the project, each adapter on the domain alone (the SQL adapter
# also on its migrations), so that adapters never call each other and only wallet-app wires them.
set -euo pipefail
cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
allowed = {
    "wallet-domain": set(),
    "wallet-sql": {"wallet-domain", "wallet-migrations"},
    "wallet-redis": {"wallet-domain"},
    "wallet-kafka": {"wallet-domain"},
    "wallet-migrations": set(),
}
broken = []
for package in json.load(sys.stdin)["packages"]:
    name = package["name"]
    if name not in allowed:
        continue
    for dependency in package["dependencies"]:
        target = dependency["name"]
        if dependency["kind"] is None and target.startswith("wallet") and target not in allowed[name]:
            broken.append(f"{name} must not depend on {target}")
if broken:
    print("\n".join(broken))
    sys.exit(1)
print("layers hold: the domain depends on no project crate, each adapter on the domain alone")
'
