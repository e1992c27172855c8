# Vidup: the few commands a person needs. CMake presets (CMakePresets.json) hold the build settings.
#
#   make / make build   configure build/ (preset release) if needed, build build/vidup
#   make run            scripts/setup, build, serve http://127.0.0.1:8080 with data in ./data
#   make test           scripts/setup, build release + asan, run CTest in both (ASan skips label slow),
#                       then `make fuzz-smoke`
#   make tsan-test      build vidup with ThreadSanitizer (preset tsan, build-tsan/) and run the
#                       e2e tests against it, but slow and TSAN_EXCLUDE (docs/reliability.md)
#   make fuzz-smoke     build the libFuzzer targets (preset fuzz, build-fuzz/, target fuzz_all) and
#                       run each for 30 s over a copy of its corpus (CTest label fuzz; fuzz/README.md)
#   make clean          remove the build trees
#   make bench          build the bench targets (EXCLUDE_FROM_ALL), run bench/run and the parser
#                       benchmark (bench/README.md); BENCH_ARGS=--quick for one round
#
# CMAKE_ARGS is passed to every configure (and forces one); VIDUP_WERROR=ON in the environment
# (as .ci/run sets it) adds -DVIDUP_WERROR=ON.

JOBS ?= 2
CMAKE_ARGS ?=
ifneq ($(strip $(VIDUP_WERROR)),)
CMAKE_ARGS += -DVIDUP_WERROR=$(VIDUP_WERROR)
endif

SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Steps run in the order they are listed, even under `make -j`.
.NOTPARALLEL:
.DEFAULT_GOAL := build
.PHONY: all build build-asan setup run test tsan-test fuzz-smoke clean bench bench-parsers

all: build

# configure PRESET DIR: run cmake --preset when DIR has no build.ninja yet or CMAKE_ARGS asks.
define configure
	@if [ ! -f $(2)/build.ninja ] || [ -n "$(strip $(CMAKE_ARGS))" ]; then \
	  echo "cmake --preset $(1)$(if $(strip $(CMAKE_ARGS)), $(strip $(CMAKE_ARGS)))"; \
	  cmake --preset $(1) $(CMAKE_ARGS); \
	fi
endef

build:
	$(call configure,release,build)
	cmake --build build -j $(JOBS)

build-asan:
	$(call configure,asan,build-asan)
	cmake --build build-asan -j $(JOBS)

setup:
	scripts/setup

run: setup build
	mkdir -p data
	build/vidup serve --listen 127.0.0.1:8080 --data ./data --demo

test: setup build build-asan
	ctest --test-dir build --output-on-failure -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE slow
	$(MAKE) --no-print-directory tsan-test
	$(MAKE) --no-print-directory fuzz-smoke

# ThreadSanitizer: only the vidup binary is built (the Node tests need nothing else) and the e2e
# tests run against it (crash loop, disk full, 200-client stress, kill -9, shutdown, HTTP, API,
# CLI client, and on S3 + PostgreSQL the store configurations, three nodes, a hung S3...), but
# label slow and TSAN_EXCLUDE: hostile_connections bounds RSS per connection (TSan's shadow
# memory multiplies RSS); reliability_crash_loop_s3pg takes 70 s without TSan and runs in the
# release and ASan stages. Timings in docs/reliability.md. The servers (and `vidup upload`) inherit TSAN_OPTIONS through the test
# helpers; a report makes vidup exit 66 and its test fail.
TSAN_EXCLUDE ?= ^(hostile_connections|reliability_crash_loop_s3pg)$$
TSAN_ENV := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/reliability/tsan.supp" \
	VIDUP_STRESS_ANSWER_MS=60000

tsan-test:
	$(call configure,tsan,build-tsan)
	cmake --build build-tsan -j $(JOBS) --target vidup
	$(TSAN_ENV) ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -L e2e -LE slow -E '$(TSAN_EXCLUDE)'

fuzz-smoke:
	$(call configure,fuzz,build-fuzz)
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	ctest --test-dir build-fuzz --output-on-failure -j $(JOBS) -L fuzz

clean:
	rm -rf build build-asan build-tsan build-debug build-fuzz

BENCH_ARGS ?=

bench: build
	cmake --build build -j $(JOBS) --target bench
	bench/run $(BENCH_ARGS)
	build/bench/vidup_parsers_bench --benchmark_min_time=0.2

bench-parsers: build
	cmake --build build -j $(JOBS) --target vidup_parsers_bench
	build/bench/vidup_parsers_bench
