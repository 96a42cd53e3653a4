# tokenrun — targets:
#   make build      debug build
#   make release    optimised build, Swift standard library linked statically; tokenrun itself one static PIE
#   make test       install what the tests need (see deps), lint, build, run every test
#   make stress     the long stress and crash-safety tests: 100 concurrent launches for 30 s,
#                   then 300 SIGKILLs during refreshes (STRESS_SECONDS, STRESS_WORKERS, STRESS_LIFETIME,
#                   CRASH_ITERATIONS)
#   make install    install tokenrun and its network helper tokenrun-http to $(DESTDIR)$(PREFIX)/bin,
#                   the man page and the bash, zsh and fish completions under $(DESTDIR)$(PREFIX)/share
#   make demo       build, start the local demo provider, run the main job against it, show status and log
#   make bench      release build, then the benchmark suite (scripts/bench.py, ~3 min): warm launch and get beside
#                   true, passphrase vault with and without the cached key, refresh beside curl, 10,000 credentials,
#                   1,000 profiles, 1M audit records, 100 concurrent refreshes, peak memory, authsome side by side;
#                   one table (also as Markdown in .build/bench/results.md), exit 1 on a missed target
#                   (BENCH_QUICK=1 for a smoke run of 1-2 minutes; BENCH_RUNS, BENCH_CASES: see the script)
#   make deps       install libsodium-dev and pkg-config with apt-get, only when missing
#   make profiles   re-embed profiles/*.toml into the binary's source after editing them
#   make man        regenerate man/tokenrun.1 from the command definitions (commit it; a test checks it is current)
#   make lint       swift format lint over Sources and Tests
#   make fuzz       libFuzzer on the profile parser, the vault reader and the token response reader,
#                   FUZZ_SECONDS (60) each; FUZZ_ENGINE=mutator for the seeded mutator instead (see Tests/Fuzz/README.md)
#   make clean      remove build output

PREFIX  ?= /usr/local
VENV    := .venv-test
# Release: static Swift standard library; tokenrun itself links as one static PIE
# (Package.swift), which needs no $$ORIGIN run path.
RELEASE_FLAGS := -c release --static-swift-stdlib --disable-local-rpath
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

.PHONY: all build release test stress install deps demo bench profiles man lint fuzz clean

all: build

deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libsodium; then \
		echo "make deps: installing libsodium-dev and pkg-config (apt-get)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsodium-dev pkg-config >/dev/null; \
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
	$(SWIFT) build $(RELEASE_FLAGS)

test: deps lint $(VENV)/.installed
	$(SWIFT) build --build-tests
	TOKENRUN_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" $(SWIFT) test --skip-build

# The short versions of these two tests run in `make test`; one after the other
# here, so that the crash test's timing is not the stress test's load.
stress: deps $(VENV)/.installed
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
	"$(CURDIR)/$(VENV)/bin/python" scripts/bench.py "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/tokenrun" "$(CURDIR)/$(VENV)/bin/python"

install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/tokenrun" "$(DESTDIR)$(PREFIX)/bin/tokenrun"
	install -m 0755 "$$($(SWIFT) build $(RELEASE_FLAGS) --show-bin-path)/tokenrun-http" "$(DESTDIR)$(PREFIX)/bin/tokenrun-http"
	install -d "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
		"$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"
	"$(DESTDIR)$(PREFIX)/bin/tokenrun" completion bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tokenrun"
	"$(DESTDIR)$(PREFIX)/bin/tokenrun" completion zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tokenrun"
	"$(DESTDIR)$(PREFIX)/bin/tokenrun" completion fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tokenrun.fish"
	chmod 0644 "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tokenrun" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tokenrun" \
		"$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tokenrun.fish"
	install -d "$(DESTDIR)$(PREFIX)/share/man/man1"
	install -m 0644 man/tokenrun.1 "$(DESTDIR)$(PREFIX)/share/man/man1/tokenrun.1"

# ArgumentParser's generate-manual plugin, over the debug build (it runs tokenrun --experimental-dump-help);
# mdoc wants a paragraph macro, not an empty line, between the paragraphs of a discussion.
man: deps
	$(SWIFT) package generate-manual --configuration debug --date $(MANDATE)
	mkdir -p man
	sed 's/^$$/.Pp/' .build/plugins/GenerateManual/outputs/tokenrun/tokenrun.1 > man/tokenrun.1

profiles:
	sh scripts/embed-profiles.sh

lint:
	$(SWIFT) format lint --recursive --strict Sources Tests Package.swift

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
	rm -rf .build $(VENV)
