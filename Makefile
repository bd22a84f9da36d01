# sealhook — `make run` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
ARGS ?=
# Seconds each libFuzzer target runs in `make test` and `make fuzz` (scripts/fuzz.sh).
FUZZ_SECONDS ?= 30
FUZZERS ?=

.PHONY: deps build run test test-unit test-asan fuzz demo bench format format-check clean

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
test: deps format-check
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@cd build && ctest --output-on-failure
	@$(MAKE) --no-print-directory test-asan

test-unit: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@cd build && ctest --output-on-failure -L unit

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS) --target unit_tests fuzz_targets
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZERS)

# Only the fuzzers (FUZZERS="url_guard jwe_open" picks some; fuzz/README.md).
fuzz: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS) --target fuzz_targets
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZERS)

demo: build
	@scripts/demo.sh

bench: deps
	@bench/run $(ARGS)

CXX_SOURCES = $$(git ls-files '*.cpp' '*.hpp')

format:
	@clang-format -i $(CXX_SOURCES)

format-check: deps
	@clang-format --dry-run -Werror $(CXX_SOURCES) && echo "clang-format: clean"

clean:
	rm -rf build build-debug build-asan
