# openjpki — the two set-up commands and friends.
#   make run     install missing Debian packages, build, run the demonstration
#   make check   install, build with ASan+UBSan, run every test (ctest -j2),
#                then compile the optimized build too
#   make bench   install, build optimized, run the benchmarks under bench/
#   make clean   remove build trees

JOBS ?= 2
MAKEFLAGS += --no-print-directory
CMAKE ?= cmake

.PHONY: run check bench clean deps build

deps:
	@scripts/install-deps

build: deps
	@$(CMAKE) -S . -B build/dev -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@$(CMAKE) --build build/dev -j$(JOBS)

run: build
	@scripts/demo build/dev/jpki

check: deps
	@$(CMAKE) -S . -B build/check -DCMAKE_BUILD_TYPE=Debug -DJPKI_SANITIZE=ON >/dev/null
	@$(CMAKE) --build build/check -j$(JOBS)
	@cd build/check && ctest -j$(JOBS) --output-on-failure
	@# The optimized build warns about things -O0 cannot see (-Werror).
	@$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build/release -j$(JOBS) >/dev/null

bench: deps
	@$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build/release -j$(JOBS)
	@build/release/bench/bench_rules
	@build/release/bench/bench_pki
	@build/release/bench/bench_card
	@# SQLite, then PostgreSQL on a throw-away server (fsync off: see its line).
	@python3 tests/pg/pgserver.py run -- build/release/bench/bench_registry

clean:
	rm -rf build
