# The two commands a fresh Debian 12 machine needs: `make run` and `make test`.
# Everything else is a convenience around CMake presets (CMakePresets.json).
.PHONY: all deps build run test asan-test fuzz bench format clean

JOBS ?= $(shell nproc)

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# The main job: a scan of every TCP port on this machine.
run: build
	./build/release/app/sockit scan localhost -p-

test: build
	ctest --preset release -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan-test: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# Coverage-guided fuzzing (libFuzzer, clang 14, ASan + UBSan) of every parser and byte-stream
# consumer, FUZZ_SECONDS (default 60) per target, in build/fuzz (fuzz/README.md). The same
# targets replay their seed corpus inside `make test`.
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/deps.sh clang-14 libclang-rt-14-dev   # libFuzzer, ASan, UBSan
	@cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
	  -DSOCKIT_SANITIZE=address,undefined -DSOCKIT_FUZZ=ON -DSOCKIT_BUILD_TESTS=OFF \
	  -DSOCKIT_BUILD_EXAMPLES=OFF -DSOCKIT_BUILD_BENCH=OFF >/dev/null
	@nice cmake --build build/fuzz -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

# The whole benchmark suite: every serve model vs asio and libuv, resolve vs getent, scan vs
# nmap, the load generator cross-checked with iperf3 and Python; rewrites the suite section of
# docs/BENCHMARKS.md and docs/bench_*.svg (bench/run.sh; root; ~12 min, QUICK=1 for ~2 min,
# report in build/suite/report/).
bench: deps
	bench/run.sh $(if $(QUICK),--quick)

# The event loop micro-benchmarks (Google Benchmark).
.PHONY: bench-loop
bench-loop: build
	./build/release/bench/loop_bench

format:
	@git ls-files '*.hpp' '*.cpp' | xargs clang-format -i

clean:
	rm -rf build

# sockit serve vs asio's echo server and the io_uring yardstick, -j 1 and -j 2 with and
# without --pin (bench/serve_bench.sh; ~12 min, QUICK=1 for ~1.5 min).
.PHONY: bench-serve
bench-serve: deps
	bench/serve_bench.sh $(if $(QUICK),--quick)

# sockit scan -sT and -sS vs nmap -sT/-sS -T4, masscan and zmap: loopback -p-, a 20 ms / 1 %
# loss path -p-, a /24 x 1024 ports, a filtered /22 and a /16 answered by one namespace, all
# in private network namespaces (bench/scan_bench.sh; root; ~25 min, QUICK=1 for ~10 min).
.PHONY: bench-scan
bench-scan: deps
	bench/scan_bench.sh $(if $(QUICK),--quick)
