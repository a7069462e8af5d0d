# The two commands of README.md: `make demo` and `make test`. Both install what they need first.
.PHONY: setup build build-release test demo bench torture format clean

setup:
	@scripts/setup

build: setup
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug

build-release: setup
	@cmake --preset release >/dev/null
	@cmake --build --preset release

test: build
	@ctest --preset debug

demo: build-release
	@scripts/demo

bench: build-release
	@bench/files_bench.sh
	@bench/pg_bench.sh

torture: build
	@LIFEBOAT_TORTURE=1 ctest --preset debug

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf build
