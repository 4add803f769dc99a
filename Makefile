# openjpki — the two set-up commands and friends.
#   make run     install missing Debian packages, build, create the demo store
#                ./var/jpki.db when absent and run jpkid on 127.0.0.1:8080
#   make demo    the command-line demonstration (scripts/demo)
#   make check   install, build with ASan+UBSan, run every test (ctest -j2),
#                then compile the optimized build too
#   make bench   install, build optimized, run the benchmarks under bench/
#   make clean   remove build trees

JOBS ?= 2
MAKEFLAGS += --no-print-directory
CMAKE ?= cmake

.PHONY: run demo check bench clean deps build

deps:
	@scripts/install-deps

build: deps
	@$(CMAKE) -S . -B build/dev -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@$(CMAKE) --build build/dev -j$(JOBS)

# Optimized: seeding 10,000 demo residents takes a minute, not five.
run: deps
	@$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	@$(CMAKE) --build build/release -j$(JOBS)
	@scripts/run build/release

demo: build
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
	@build/release/bench/bench_notice
	@bench/http/run.sh build/release

clean:
	rm -rf build
