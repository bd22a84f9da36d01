# sealhook — `make run` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
ARGS ?=
# Seconds each libFuzzer target runs in `make test` and `make fuzz` (scripts/fuzz.sh).
FUZZ_SECONDS ?= 30
FUZZERS ?=

.PHONY: deps build run test ctest-release build-rest asan-beside test-unit test-asan run-asan fuzz demo bench format format-check clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target sealhook

run: build
	./build/sealhook serve $(ARGS)

# Everything: unit tests, end-to-end and interop tests (release build), then the unit tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer (clang), and the fuzzers, built in
# that same tree, each for FUZZ_SECONDS plus their regression inputs.
# The release tests mostly wait on sockets and child processes (the e2e suite keeps about half a
# core busy), so while they run, the rest goes on beside them at low priority: the release bench
# targets, the asan tree, then the asan unit tests and the fuzzers (each asan test starts its own
# redis-server, Kafka broker and PostgreSQL, on other free ports). make's --output-sync prints
# each of the two whole, when it ends. Each phase prints when it starts (`== HH:MM:SS phase`), so
# a slow CI run says where it went.
test: deps format-check
	@echo "== $$(date +%T) release build"
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target $(RELEASE_TEST_TARGETS)
	@echo "== $$(date +%T) release tests, beside the bench and asan builds and the asan tests"
	@$(MAKE) --no-print-directory -j2 --output-sync=target ctest-release asan-beside
	@echo "== $$(date +%T) done"

# What the release ctest run needs: the server (e2e) and every test binary.
RELEASE_TEST_TARGETS = apps/sealhook/all tests/all

ctest-release:
	@cd build && ctest --output-on-failure
	@echo "== $$(date +%T) release tests finished"

# The bench targets (built in CI so they keep compiling) and the asan tree, at low priority.
build-rest:
	@nice -n 19 cmake --build --preset release -j $(JOBS)
	@cmake --preset asan >/dev/null
	@nice -n 19 cmake --build --preset asan -j $(JOBS) --target unit_tests fuzz_targets
	@echo "== $$(date +%T) bench and asan builds finished"

# After build-rest, the asan unit tests and the fuzzers, at low priority too.
asan-beside: build-rest
	@echo "== $$(date +%T) asan unit tests and fuzzers"
	@nice -n 19 $(MAKE) --no-print-directory run-asan
	@echo "== $$(date +%T) asan unit tests and fuzzers finished"

test-unit: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@cd build && ctest --output-on-failure -L unit

# The asan tree: -O1 with line tables only (CMakePresets.json), the usual sanitizer build, which
# compiles faster than -O2 -g and still symbolizes every report to file:line.
test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS) --target unit_tests fuzz_targets
	@$(MAKE) --no-print-directory run-asan

# The asan unit tests, then the fuzzers (scripts/fuzz.sh runs one a core at a time), on a built
# asan tree.
run-asan:
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZERS)

# Only the fuzzers (FUZZERS="url_guard jwe_open" picks some; fuzz/README.md).
fuzz: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS) --target fuzz_targets
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZERS)

# QUEUE=redis WORKERS=N: the same on a Redis queue with N workers beside serve (scripts/demo.sh).
demo: build
	@QUEUE=$(or $(QUEUE),sqlite) WORKERS=$(or $(WORKERS),0) scripts/demo.sh

bench: deps
	@bench/run $(ARGS)

CXX_SOURCES = $$(git ls-files '*.cpp' '*.hpp')

format:
	@clang-format -i $(CXX_SOURCES)

format-check: deps
	@clang-format --dry-run -Werror $(CXX_SOURCES) && echo "clang-format: clean"

clean:
	rm -rf build build-debug build-asan
