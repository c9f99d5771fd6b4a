# Allmende: the two commands are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
# make test runs each fuzz harness this long (make fuzz: FUZZ_SECONDS, 60).
FUZZ_SECONDS_CI ?= 20
# ... and these harnesses: the parsers of outside input. router_fuzz (whole requests through the
# real router) needs every library built with clang, so it runs in make fuzz only.
FUZZ_HARNESSES_CI ?= json_fuzz query_fuzz geo_fuzz entity_fuzz text_fuzz ingest_fuzz header_fuzz jwt_fuzz
PORT ?= 1026
DATA ?= ./data
# ccache: hits also from another checkout of the same sources (CI clones into a fresh folder).
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: setup configure build run test test-asan test-tsan bench bench-federation soak fuzz format clean

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/allmende serve --port $(PORT) --data $(DATA) --demo

# make test = the Release build's tests (SQLite and PostgreSQL, browser tests), the fuzzers for a
# short time, then the suite again under ASan + UBSan and under TSan.
test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS_CI) FUZZ_HARNESSES="$(FUZZ_HARNESSES_CI)" scripts/fuzz
	@$(MAKE) --no-print-directory test-asan test-tsan

# The sanitizer passes leave out the browser tests (web_*): they test the web app's JavaScript in
# Chromium, and the server they talk to is the one every API test runs under the sanitizer.
SANITIZER_SKIP ?= ^web_

# The same tests against the Debug build with AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: setup
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug > /dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) \
	  -E '$(SANITIZER_SKIP)'

# The solver's thread tests compare 1, 2 and 3 threads bit for bit; its OpenMP code is suppressed
# under TSan (tests/tsan.supp), so there they only cost time (over 25 min each since the dynamic
# row blocks of session 5, at TSan's speed).
TSAN_SKIP ?= ^TwinSolver\.ThreadsGiveTheSameResults

# The tests against a ThreadSanitizer build (servers the API tests start are built with it too:
# a data race stops the server, which fails the test). tests/tsan.supp: races inside libraries.
test-tsan: setup
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Release -DALLMENDE_TSAN=ON > /dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -E '$(SANITIZER_SKIP)|$(TSAN_SKIP)'

bench: build
	@bench/run $(BUILD_DIR)
	@bench/temporal $(BUILD_DIR)
	@bench/postgres $(BUILD_DIR)
	@bench/opendata $(BUILD_DIR)
	@bench/federation $(BUILD_DIR)

# Distributed operations alone (bench/federation_bench.cc): local vs forwarded query latency and
# throughput with 3 sources.
bench-federation: build
	@bench/federation $(BUILD_DIR)

# Long mixed load (not in CI): throughput, p99 and RSS per interval (bench/soak.cc).
# A short try: make soak SOAK_MINUTES=2 SOAK_INTERVAL=15 SOAK_WARMUP=0.5
SOAK_MINUTES ?= 30
SOAK_INTERVAL ?= 60
SOAK_WARMUP ?= 5
soak: build
	@$(BUILD_DIR)/bench/soak $(BUILD_DIR)/allmende --minutes $(SOAK_MINUTES) --interval $(SOAK_INTERVAL) \
	  --warmup-minutes $(SOAK_WARMUP)

# libFuzzer harnesses (clang, ASan + UBSan), FUZZ_SECONDS (60) each; see scripts/fuzz.
fuzz: setup
	@scripts/fuzz

format:
	@find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
