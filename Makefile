# Two commands for a new user on Debian 12: `make run` and `make test`.
# Everything else here is for developers.

JOBS ?= $(shell nproc)
RELEASE := build/release
DEBUG := build/debug
DZONG := $(RELEASE)/src/dzong

.PHONY: run test build debug deps test-deps bench format tidy clean

deps:
	scripts/install-deps build

test-deps:
	scripts/install-deps test

build: deps
	cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(RELEASE) -j $(JOBS)

debug: deps
	cmake -S . -B $(DEBUG) -G Ninja -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(DEBUG) -j $(JOBS)

## make run: build, migrate and seed ./var/dzong.db, serve http://127.0.0.1:8080
run: build
	scripts/run $(DZONG)

## make test: unit tests, then the integration suite on SQLite and on PostgreSQL 15
test: deps test-deps
	scripts/test

bench: build
	scripts/install-deps bench
	-DZONG_BIN=$(DZONG) bench/org_lookup.sh
	-DZONG_BIN=$(DZONG) bench/catalogue.sh
	-DZONG_BIN=$(DZONG) bench/verify.sh
	-DZONG_BIN=$(DZONG) AUDIT_BENCH_BIN=$(RELEASE)/bench/dzong_audit_bench bench/audited_writes.sh
	-DZONG_BIN=$(DZONG) AUDIT_BENCH_BIN=$(RELEASE)/bench/dzong_audit_bench bench/submissions.sh
	-DZONG_BIN=$(DZONG) SETUP_BIN=$(RELEASE)/bench/dzong_exchange_setup bench/exchange.sh
	$(RELEASE)/bench/dzong_audit_bench
	$(RELEASE)/bench/dzong_certificates_bench
	$(RELEASE)/bench/dzong_import_bench 1000000

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cpp' | xargs clang-tidy -p $(RELEASE) --quiet

clean:
	rm -rf build
