# xipc: build, test, demo, bench, install. `make help` lists the targets.

CARGO   ?= cargo
PYTHON  ?= python3
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
MAJOR   := $(firstword $(subst ., ,$(VERSION)))
MINOR   := $(word 2,$(subst ., ,$(VERSION)))
CMAKEDIR = $(LIBDIR)/cmake/xipc
RELEASE := target/release
LIB_SO  := $(RELEASE)/libxipc.so
BUILD   := build

TIRPC_CFLAGS := $(shell pkg-config --cflags libtirpc 2>/dev/null)
TIRPC_LIBS   := $(shell pkg-config --libs libtirpc 2>/dev/null)
TEST_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror -g -Iinclude $(TIRPC_CFLAGS)
TEST_LDFLAGS := -L$(RELEASE) -Wl,-rpath,$(abspath $(RELEASE)) -lxipc -lpthread -lrt $(TIRPC_LIBS)

export XIPC_LIBRARY := $(abspath $(LIB_SO))
export PYTHONPATH   := $(abspath bindings/python)$(if $(PYTHONPATH),:$(PYTHONPATH))
export XIPC_BIN     := $(abspath $(RELEASE)/xipc)

# The optional C module of the Python package (its hot calls without ctypes).
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("include"))')
PY_FAST    := bindings/python/xipc/_fast$(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

C_TESTS := $(patsubst tests/c/%.c,$(BUILD)/tests/c/%,$(wildcard tests/c/*.c))
# Every C test runs under valgrind: any memory error or definite leak fails it.
# Children are not traced: a test that forks or execs a peer checks the peer's
# exit status itself.
VALGRIND ?= valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --trace-children=no --suppressions=tests/c/valgrind.supp

.PHONY: all help deps deps-demo deps-bench header test test-rust test-c test-python test-interop bench-against \
        test-snippets demo bench install uninstall clean fuzz soak doc

all: ## release library (.so, .a), header and the xipc binary
	$(CARGO) build --release --lib --bins
	@ln -sf libxipc.so $(RELEASE)/libxipc.so.$(MAJOR)  # the soname, for programs linked here
	@sed -i 's/^__version__ = .*/__version__ = "$(VERSION)"/' bindings/python/xipc/_version.py
	@if [ -e $(PY_INCLUDE)/Python.h ]; then $(MAKE) --no-print-directory $(PY_FAST); \
	 else echo "note: $(PY_INCLUDE)/Python.h is missing (apt-get install python3-dev): the Python package uses ctypes for every call"; fi

$(PY_FAST): bindings/python/xipc/_fast.c include/xipc.h
	$(CC) -O2 -g -shared -fPIC -std=c11 -Wall -Wextra -Werror -I$(PY_INCLUDE) -Iinclude -o $@ $<

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

deps: ## install missing Debian and Python packages the tests need
	@scripts/deps.sh test

deps-demo:
	@scripts/deps.sh demo

deps-bench:
	@scripts/deps.sh bench

header: ## regenerate include/xipc.h from src/ffi
	XIPC_WRITE_HEADER=1 $(CARGO) build --lib

# A hung test fails its suite with a message instead of stalling CI:
# LIMIT SECONDS COMMAND... runs COMMAND, killed after SECONDS.
LIMIT := scripts/limit.sh
PYTEST_LIMIT := --timeout=300

test: deps all test-rust test-c test-python test-snippets test-interop ## every test: Rust, C, Python, doc snippets, interop
	@echo "make test: all suites passed"

test-rust:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	@# The library alone, as a user with `default-features = false` builds it.
	$(CARGO) clippy --lib --no-default-features -- -D warnings
	@# The Rust API documentation builds without a warning (a broken
	@# intra-doc link fails here, not only in make doc).
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet
	@# Optimised as release is, without its link-time optimisation (see
	@# profile.test-opt in Cargo.toml): linking every test program with
	@# LTO took most of the suite's time.
	$(LIMIT) 1500 $(CARGO) test --profile test-opt --lib --bins --tests --examples
	@# Doc examples with the same profile, whose library and dependencies
	@# are built by now: in the dev profile every dependency was compiled
	@# once more for them (48 s of a fresh clone's suite; now 9 s in all).
	$(CARGO) test --doc --profile test-opt

$(BUILD)/tests/c/%: tests/c/%.c tests/c/check.h tests/c/waiting.h include/xipc.h $(LIB_SO)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LDFLAGS)

# The certificates of the RPC-with-TLS tests, made at test time.
TLS_CERTS := $(BUILD)/tls
$(TLS_CERTS)/ca.pem: tests/tls/make_certs.sh
	bash $< $(TLS_CERTS)

test-c: $(C_TESTS) $(TLS_CERTS)/ca.pem
	@command -v valgrind >/dev/null || { echo "test-c: valgrind is missing; run make deps (apt-get install valgrind)" >&2; exit 1; }
	@set -e; export XIPC_TEST_CERTS=$(abspath $(TLS_CERTS)); \
	 for t in $(C_TESTS); do echo "== $$t (valgrind)"; $(LIMIT) 300 $(VALGRIND) $$t; done
	@echo "C tests: $(words $(C_TESTS)) passed"

test-python:
	$(PYTHON) -m pytest -q $(PYTEST_LIMIT) tests/python
	@echo "== queues, streams and RPC clients again without the C module (the ctypes path)"
	XIPC_NO_FAST=1 $(PYTHON) -m pytest -q $(PYTEST_LIMIT) tests/python/test_mq.py tests/python/test_stream.py tests/python/test_rpc.py tests/python/test_fast.py

# Every code block of README.md and docs/src: compiled, run, compared
# (tests/snippets/run.py says how).
test-snippets:
	$(LIMIT) 900 $(PYTHON) tests/snippets/run.py

test-interop:
	@set -e; for t in $(sort $(wildcard tests/interop/*.sh)); do echo "== $$t"; $(LIMIT) 600 bash $$t; done

demo: deps-demo all ## build everything and run the cross-language demo
	@bash examples/demo/run.sh

bench: deps-bench all ## benchmarks: xipc beside its baselines, as ratios, then each figure against its bar
	@set -e; export XIPC_BENCH_TARGETS=$$(mktemp); trap 'rm -f "$$XIPC_BENCH_TARGETS"' EXIT; \
	for b in $(sort $(wildcard benches/*.sh)); do bash $$b; done; \
	bash -c 'source benches/targets.bash && targets_summary "$$XIPC_BENCH_TARGETS"'

bench-against: all ## this tree beside an earlier commit (REV=<commit>) on the stream, queue and RPC benchmarks
	@scripts/bench_against.sh

# Libraries and the program are installed stripped; their debug information
# goes to .debug/NAME.debug beside them, where debuggers find it.
INSTALL_STRIPPED := scripts/install_stripped.sh

install: all ## install library, header, xipc, pkg-config and CMake files, stripped (PREFIX, DESTDIR)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL_STRIPPED) 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libxipc.so.$(VERSION)
	ln -sf libxipc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libxipc.so.$(MAJOR)
	ln -sf libxipc.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libxipc.so
	$(INSTALL_STRIPPED) 644 $(RELEASE)/libxipc.a $(DESTDIR)$(LIBDIR)/libxipc.a
	install -m 644 include/xipc.h $(DESTDIR)$(INCDIR)/xipc.h
	$(INSTALL_STRIPPED) 755 $(RELEASE)/xipc $(DESTDIR)$(BINDIR)/xipc
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' bindings/c/xipc.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/xipc.pc
	install -d $(DESTDIR)$(CMAKEDIR)
	sed -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@MAJOR@|$(MAJOR)|' bindings/c/xipcConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/xipcConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@MAJOR@|$(MAJOR)|' -e 's|@MINOR@|$(MINOR)|' \
	    -e "s|@SIZEOF_VOID_P@|$$(( $$(getconf LONG_BIT) / 8 ))|" \
	    bindings/c/xipcConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/xipcConfigVersion.cmake

uninstall: ## remove what install put in place
	rm -f $(DESTDIR)$(LIBDIR)/libxipc.so $(DESTDIR)$(LIBDIR)/libxipc.so.$(MAJOR) \
	      $(DESTDIR)$(LIBDIR)/libxipc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libxipc.a \
	      $(DESTDIR)$(LIBDIR)/.debug/libxipc.so.$(VERSION).debug $(DESTDIR)$(BINDIR)/.debug/xipc.debug \
	      $(DESTDIR)$(INCDIR)/xipc.h $(DESTDIR)$(BINDIR)/xipc $(DESTDIR)$(LIBDIR)/pkgconfig/xipc.pc \
	      $(DESTDIR)$(CMAKEDIR)/xipcConfig.cmake $(DESTDIR)$(CMAKEDIR)/xipcConfigVersion.cmake
	rmdir $(DESTDIR)$(CMAKEDIR) $(DESTDIR)$(LIBDIR)/.debug $(DESTDIR)$(BINDIR)/.debug 2>/dev/null || true

doc: all ## the book (docs/), the Rust API and the Python API, in target/doc-site/
	@scripts/doc.sh

fuzz: all ## run every fuzz target FUZZ_SECONDS (default 60) each; not part of test
	@scripts/fuzz.sh

soak: all ## load tests: 15,000 idle RPC connections, RPC under load, 1,000,000 queue messages (SOAK_*, SCALE_* settings); not part of test
	@scripts/soak.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD) $(PY_FAST)
