# The two commands of README.md: `make demo` and `make test`. Both install what they need first.
.PHONY: setup build build-fuzz build-release test demo bench torture format clean

setup:
	@scripts/setup

build: setup
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug

build-fuzz: setup
	@cmake --preset fuzz -DLIFEBOAT_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build --preset fuzz

build-release: setup
	@cmake --preset release >/dev/null
	@cmake --build --preset release

FUZZ_SECONDS ?= 10

test: build build-fuzz
	@ctest --preset debug
	@ctest --preset fuzz

demo: build-release
	@scripts/demo

bench: build-release
	@bench/files_bench.sh
	@bench/pg_bench.sh
	@bench/s3_bench.sh
	@bench/recovery_bench.sh
	@bench/s3_replay_bench.sh
	@bench/agent_bench.sh
	@bench/rebuild_bench.sh

torture: build
	@$(MAKE) --no-print-directory build-fuzz FUZZ_SECONDS=600
	@LIFEBOAT_TORTURE=1 ctest --preset debug
	@ctest --preset fuzz

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf build
