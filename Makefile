# tokenrun — targets:
#   make build      debug build
#   make release    optimised build with the Swift standard library linked statically
#   make test       install what the tests need (see deps), lint, build, run every test
#   make install    install tokenrun and its network helper tokenrun-http to $(DESTDIR)$(PREFIX)/bin,
#                   the man page and the bash, zsh and fish completions under $(DESTDIR)$(PREFIX)/share
#   make demo       build, start the local demo provider, run the main job against it, show status and log
#   make bench      release build; median warm-launch time of tokenrun -p demo -- true beside true
#   make deps       install libsodium-dev and pkg-config with apt-get, only when missing
#   make profiles   re-embed profiles/*.toml into the binary's source after editing them
#   make man        regenerate man/tokenrun.1 from the command definitions (commit it; a test checks it is current)
#   make lint       swift format lint over Sources and Tests
#   make clean      remove build output

PREFIX  ?= /usr/local
VENV    := .venv-test
PYREQ   := Tests/Provider/requirements.txt
DESTDIR ?=
SWIFT   ?= swift
SUDO    := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# The man page's date: the last change to the command definitions, so regenerating is reproducible.
MANDATE := $(shell git log -1 --format=%cs -- Sources/tokenrun 2>/dev/null || date +%F)

.PHONY: all build release test install deps demo bench profiles man lint clean

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
	$(SWIFT) build -c release --static-swift-stdlib

test: deps lint $(VENV)/.installed
	$(SWIFT) build --build-tests
	TOKENRUN_TEST_PYTHON="$(CURDIR)/$(VENV)/bin/python" $(SWIFT) test --skip-build

demo: build $(VENV)/.installed
	sh scripts/demo.sh "$$($(SWIFT) build --show-bin-path)/tokenrun" "$(CURDIR)/$(VENV)/bin/python"

bench: release $(VENV)/.installed
	"$(CURDIR)/$(VENV)/bin/python" scripts/bench.py "$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/tokenrun" "$(CURDIR)/$(VENV)/bin/python"

install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/tokenrun" "$(DESTDIR)$(PREFIX)/bin/tokenrun"
	install -m 0755 "$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)/tokenrun-http" "$(DESTDIR)$(PREFIX)/bin/tokenrun-http"
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

clean:
	rm -rf .build $(VENV)
