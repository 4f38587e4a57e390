# Broker Wallet — every entry point a developer or CI needs.
# CARGO_TARGET_DIR may point at a directory that survives between runs (CI does this).

CARGO ?= cargo
# I/O crates the domain must never depend on (SPEC §2).
DOMAIN_FORBIDDEN := tokio|sea-orm|sqlx|redis|rdkafka|actix

.PHONY: run demo test e2e fuzz lint fmt domain-purity layers services bench doc clean

## Starts the service on its embedded default: SQLite under data/, prices in memory, an
## in-process Kafka broker whose address is printed at start-up.
run:
	@scripts/build-deps.sh
	$(CARGO) run -p wallet-app --bin wallet -- serve

## Plays the fixture story through an embedded service (Kafka and HTTP) and checks every balance.
demo:
	@scripts/build-deps.sh
	$(CARGO) run -p wallet-app --bin wallet -- demo

## Formatting, lints, the domain purity check and every test (unit, integration, doc), a
## minute of fuzzing per parser, then the end-to-end tests of the real binary against MariaDB,
## Redis and a Tansu broker process.
test: lint
	scripts/services.sh
	$(CARGO) test --workspace --exclude wallet-e2e --all-targets --no-fail-fast
	$(CARGO) test --workspace --doc
	$(MAKE) fuzz
	$(MAKE) e2e

# The parsers cargo-fuzz exercises (crates/wallet-domain/fuzz) and how long each runs.
FUZZ_TARGETS := order_event amount calendar corporate_action
FUZZ_SECONDS ?= 60
FUZZ_DIR = $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/fuzz

## Fuzzes the domain's parsers of untrusted input with libFuzzer for FUZZ_SECONDS each, seeded
## with the shared fixtures; fails on the first crash, whose input is kept in
## $(FUZZ_DIR)/artifacts/<target>/. Stable toolchain: no sanitizer (the code is safe Rust).
fuzz:
	@tools="$$(scripts/install-cargo-fuzz.sh)" && export PATH="$$tools:$$PATH" && \
	cd crates/wallet-domain && for target in $(FUZZ_TARGETS); do \
		mkdir -p "$(FUZZ_DIR)/corpus/$$target" "$(FUZZ_DIR)/artifacts/$$target" && \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s" && \
		cargo fuzz run --sanitizer none --target-dir "$(FUZZ_DIR)/build" $$target \
			"$(FUZZ_DIR)/corpus/$$target" ../../../shared/fixtures/order-events -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix="$(FUZZ_DIR)/artifacts/$$target/" || exit 1; \
	done

## End-to-end scenarios (tests/): each starts its own broker and wallet processes, so they run
## two at a time on a 2-core machine.
e2e:
	@scripts/build-deps.sh
	scripts/services.sh
	$(CARGO) build -p wallet-app --bin wallet
	WALLET_E2E_TANSU="$$(scripts/install-tansu.sh)" $(CARGO) test -p wallet-e2e -- --test-threads=2

## fmt check + clippy with warnings as errors + the domain purity check.
lint: domain-purity layers
	@scripts/build-deps.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## Fails when wallet-domain depends, even indirectly, on an I/O crate.
domain-purity:
	@if $(CARGO) tree -p wallet-domain -e normal --prefix none | grep -E '^($(DOMAIN_FORBIDDEN))( |-)'; then \
		echo "wallet-domain must not depend on I/O crates (SPEC §2)"; exit 1; \
	else echo "wallet-domain is pure: no $(DOMAIN_FORBIDDEN) in its dependency tree"; fi

## Fails when an adapter depends on another adapter, or the domain on any project crate.
layers:
	@scripts/check-layers.sh

## Makes sure MariaDB and Redis (which the tests use) are running.
services:
	scripts/services.sh

# One build of both binaries: built apart, their dependencies would resolve to different feature
# sets and be compiled twice in release (minutes on 2 cores).
BENCH_BIN = $(or $(CARGO_TARGET_DIR),target)/release/wallet-bench

## SPEC §8 benchmarks of the release binary against MariaDB and Redis: prints one table (see
## docs/benchmarks.md). Under 15 minutes from a clean clone on 2 cores, the release build
## included (it shares CARGO_TARGET_DIR). Tune with BENCH_EVENTS, BENCH_BATCH1_EVENTS,
## BENCH_PHASES … (`wallet-bench --help`). Installs the load generator wrk when missing.
bench:
	@scripts/build-deps.sh
	scripts/services.sh
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(CARGO) build --release -p wallet-app -p wallet-bench --bins
	$(BENCH_BIN)

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -p wallet-domain

clean:
	$(CARGO) clean
