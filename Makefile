# tokenrun — targets:
#   make build      debug build
#   make release    optimised build, Swift standard library linked statically; tokenrun itself one static PIE
#   make test       install what the tests need (see deps), lint, build, run every test
#   make stress     the long stress and crash-safety tests: 100 concurrent launches for 30 s,
#                   then 300 SIGKILLs during refreshes (STRESS_SECONDS, STRESS_WORKERS, STRESS_LIFETIME,
#                   CRASH_ITERATIONS)
#   make install    install tokenrun and its helpers tokenrun-http and tokenrun-pg, stripped, to $(DESTDIR)$(PREFIX)/bin,
#                   the man pages and the bash, zsh and fish completions under $(DESTDIR)$(PREFIX)/share
#                   (STRIP= keeps the programs' symbols, for symbolized backtraces)
#   make deb        tokenrun_VERSION_ARCH.deb (dpkg-deb, dpkg-shlibdeps), checked by lintian; installs
#                   dpkg-dev and lintian with apt-get when missing
#   make dist       tokenrun-VERSION-linux-ARCH.tar.gz: the programs, man pages, completions, README.md,
#                   SECURITY.md and docs/ (the pages README.md links to), LICENSE and install.sh
#   make release-test  the release build, installed and used as a user would (CI runs it once): every
#                   standard build runs, a DESTDIR install, the .deb (dpkg -i, lintian, dpkg -r) and the
#                   archive, each with the toolchain and the source tree out of sight (scripts/release-test.sh)
#   make demo       build, start the local demo provider, run the main job against it, show status and log
#   make bench      release build, then the benchmark suite (scripts/bench.py, ~3 min): warm launch and get beside
#                   true, passphrase vault with and without the cached key, refresh beside curl, 10,000 credentials,
#                   1,000 profiles, 1M audit records, 100 concurrent refreshes, peak memory, authsome side by side;
#                   one table (also as Markdown in .build/bench/results.md), exit 1 on a missed target
#                   (BENCH_QUICK=1 for a smoke run of 1-2 minutes; BENCH_RUNS, BENCH_CASES: see the script)
#   make deps       install libsodium-dev, libcurl4-openssl-dev, libpq-dev and pkg-config with apt-get, only when missing
#   make test-deps  install what the tests start (tinyproxy, openssl, curl, git, postgresql) with apt-get, only when missing
#   make profiles   re-embed profiles/*.toml into the binary's source after editing them
#   make man        regenerate man/tokenrun.1 from the command definitions (commit it; a test checks it is current)
#   make lint       swift format lint over Sources and Tests
#   make fuzz       libFuzzer on the profile parser, the vault reader and the token response reader,
#                   FUZZ_SECONDS (60) each; FUZZ_ENGINE=mutator for the seeded mutator instead (see Tests/Fuzz/README.md)
#   make clean      remove build output

PREFIX  ?= /usr/local
VENV    := .venv-test
# The one version (VERSION): --version, the man pages, the .deb and the archive's name.
VERSION := $(shell tr -d ' \t\r\n' < VERSION)
# Release: static Swift standard library and no run path; with TOKENRUN_STATIC_PIE=1
# Package.swift links tokenrun itself as one static PIE (only safe with these flags).
# The programs export no symbols (3 MB less for tokenrun-http; nothing looks them up).
RELEASE_FLAGS := -c release --static-swift-stdlib --disable-local-rpath -Xlinker --no-export-dynamic
RELEASE_ENV   := TOKENRUN_STATIC_PIE=1
RELEASE_BIN    = $$($(RELEASE_ENV) $(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)
STRIP   ?= strip
DIST    := tokenrun-$(VERSION)-linux-$(shell uname -m)
PYREQ   := Tests/Provider/requirements.txt
DESTDIR ?=
SWIFT   ?= swift
SUDO    := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
STRESS_SECONDS   ?= 30
STRESS_WORKERS   ?= 100
# Access-token lifetime in seconds. A refreshed token has half of it left; with 100 launches on
# 2 cores a child can take over 2 s from getting its token to calling the API with it.
STRESS_LIFETIME  ?= 10
CRASH_ITERATIONS ?= 300

# The man page's date: the last change to the command definitions, so regenerating is reproducible.
MANDATE := $(shell git log -1 --format=%cs -- Sources/tokenrun 2>/dev/null || date +%F)

.PHONY: all build release test test-deps stress install deb dist release-test deps deb-deps demo bench profiles man lint fuzz clean

all: build

deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libsodium libcurl libpq; then \
		echo "make deps: installing libsodium-dev, libcurl4-openssl-dev, libpq-dev and pkg-config (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev libcurl4-openssl-dev libpq-dev pkg-config >/dev/null; \
	fi

# What the end-to-end tests start themselves: a forward proxy (tinyproxy), a test CA and
# certificates (openssl), curl beside tokenrun, git for the credential helper, a PostgreSQL
# server for fleet mode (initdb in a temporary directory).
test-deps:
	@missing=; \
	for tool in tinyproxy openssl curl git; do \
		command -v $$tool >/dev/null 2>&1 || [ -x /usr/bin/$$tool ] || missing="$$missing $$tool"; \
	done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "make test: installing$$missing (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The end-to-end tests' OAuth provider (Authlib) runs from this virtual environment.
$(VENV)/.installed: $(PYREQ)
	@if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then \
		echo "make: installing python3-venv (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null; \
	fi
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(PYREQ)
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(RELEASE_ENV) $(SWIFT) build $(RELEASE_FLAGS)

test: deps test-deps lint $(VENV)/.installed
	$(SWIFT) build --build-tests
	TOKENRUN_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" $(SWIFT) test --skip-build

# The short versions of these two tests run in `make test`; one after the other
# here, so that the crash test's timing is not the stress test's load.
stress: deps test-deps $(VENV)/.installed
	$(SWIFT) build --build-tests
	TOKENRUN_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" TOKENRUN_STRESS_SECONDS=$(STRESS_SECONDS) \
		TOKENRUN_STRESS_WORKERS=$(STRESS_WORKERS) TOKENRUN_STRESS_LIFETIME=$(STRESS_LIFETIME) \
		$(SWIFT) test --skip-build --filter StressTests
	TOKENRUN_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" TOKENRUN_CRASH_ITERATIONS=$(CRASH_ITERATIONS) \
		$(SWIFT) test --skip-build --filter CrashSafetyTests

demo: build $(VENV)/.installed
	sh scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/tokenrun" "$(CURDIR)/$(VENV)/bin/python"

# The refresh case times tokenrun beside a bare curl of the same token request.
bench: release $(VENV)/.installed
	@if ! command -v curl >/dev/null 2>&1; then \
		echo "make bench: installing curl (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; \
	fi
	"$(CURDIR)/$(VENV)/bin/python" scripts/bench.py "$(RELEASE_BIN)/tokenrun" "$(CURDIR)/$(VENV)/bin/python"

# The stage (scripts/stage.sh) is the tree as installed under a prefix, with its install.sh:
# the same files and the same copying for `make install` and the archive. As root (sudo make
# install) nothing is built when a release build is there: it must be current (check-release.sh).
install:
	@if [ "$$(id -u)" -ne 0 ] || [ ! -x .build/release/tokenrun ]; then \
		if command -v $(SWIFT) >/dev/null 2>&1; then $(MAKE) --no-print-directory release; \
		elif [ ! -x .build/release/tokenrun ]; then \
			echo "make install: no release build, and no swift on PATH to make one: run make release first" >&2; exit 1; fi; \
	fi
	@sh scripts/check-release.sh .build/release
	@stage=$$(mktemp -d "$${TMPDIR:-/tmp}/tokenrun-stage-XXXXXX") && \
		sh scripts/stage.sh .build/release "$$stage/tokenrun" "$(STRIP)" && \
		DESTDIR="$(DESTDIR)" sh "$$stage/tokenrun/install.sh" --prefix "$(PREFIX)"; \
		status=$$?; rm -rf "$$stage"; exit $$status

deb-deps:
	@if ! command -v dpkg-shlibdeps >/dev/null 2>&1 || ! command -v lintian >/dev/null 2>&1; then \
		echo "make deb: installing dpkg-dev and lintian (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev lintian >/dev/null; \
	fi

deb: release deb-deps
	sh scripts/make-deb.sh "$(RELEASE_BIN)" "$(CURDIR)"

dist: release
	sh scripts/stage.sh "$(RELEASE_BIN)" .build/dist/$(DIST) "$(STRIP)"
	cp README.md SECURITY.md LICENSE .build/dist/$(DIST)/
	cp -R docs .build/dist/$(DIST)/docs
	tar -C .build/dist --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$$(git log -1 --format=%ct 2>/dev/null || date +%s) \
		-cf .build/dist/$(DIST).tar $(DIST)
	gzip -9nf .build/dist/$(DIST).tar
	mv -f .build/dist/$(DIST).tar.gz $(DIST).tar.gz
	@echo "make dist: $(DIST).tar.gz"

release-test: deps test-deps $(VENV)/.installed
	sh scripts/release-test.sh "$(CURDIR)/$(VENV)/bin/python"

# ArgumentParser's generate-manual plugin, over the debug build (it runs tokenrun --experimental-dump-help);
# mdoc wants a paragraph macro, not an empty line, between the paragraphs of a discussion.
man: deps
	$(SWIFT) package generate-manual --configuration debug --date $(MANDATE)
	mkdir -p man
	sed 's/^$$/.Pp/' .build/plugins/GenerateManual/outputs/tokenrun/tokenrun.1 > man/tokenrun.1

profiles:
	sh scripts/embed-profiles.sh

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests Plugins Package.swift

FUZZ_SECONDS    ?= 60
FUZZ_TARGETS    ?= profile vault token-response
FUZZ_ENGINE     ?= libfuzzer
FUZZ_SANITIZERS ?= fuzzer
FUZZ_BUILD      := .build/fuzz

# New inputs libFuzzer finds go to $(FUZZ_BUILD)/corpus/TARGET, crashes to
# $(FUZZ_BUILD)/crashes/; the committed corpus is only read.
fuzz: deps
ifeq ($(FUZZ_ENGINE),mutator)
	$(SWIFT) build --product tokenrun-fuzz
	@for t in $(FUZZ_TARGETS); do \
		"$$($(SWIFT) build --show-bin-path)/tokenrun-fuzz" mutate $$t --seconds $(FUZZ_SECONDS) || exit 1; \
	done
else
	$(SWIFT) build --build-path $(FUZZ_BUILD) --product tokenrun-fuzz $(addprefix --sanitize=,$(FUZZ_SANITIZERS)) -Xswiftc -DTOKENRUN_LIBFUZZER
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes; \
		echo "make fuzz: $$t for $(FUZZ_SECONDS) s"; \
		TOKENRUN_FUZZ_TARGET=$$t $(FUZZ_BUILD)/debug/tokenrun-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
			-artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- $(FUZZ_BUILD)/corpus/$$t Tests/Fuzz/corpus/$$t Tests/Fuzz/regressions/$$t \
			>$(FUZZ_BUILD)/$$t.log 2>&1 \
			|| { tail -30 $(FUZZ_BUILD)/$$t.log; \
			     echo "make fuzz: $$t failed; the input is in $(FUZZ_BUILD)/crashes/ (log: $(FUZZ_BUILD)/$$t.log)"; exit 1; }; \
		grep '^Done' $(FUZZ_BUILD)/$$t.log; \
	done
endif

clean:
	rm -rf .build $(VENV) tokenrun_*.deb tokenrun-*.tar.gz
