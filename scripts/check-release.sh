#!/bin/sh
# Before `make install` copies BIN_DIR's programs: they are `make release`'s
# (tokenrun a static executable, not a plain `swift build -c release` that
# loads the toolchain's libraries) and of the commit checked out, so that
# `sudo make install`, which builds nothing as root, never installs a stale build.
#   sh scripts/check-release.sh BIN_DIR
set -eu
bin=${1:?usage: check-release.sh BIN_DIR}
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
for program in tokenrun tokenrun-http tokenrun-pg; do
    [ -x "$bin/$program" ] || { echo "make install: $bin/$program is missing: run make release first" >&2; exit 1; }
done
if command -v readelf >/dev/null 2>&1 && readelf -l "$bin/tokenrun" | grep -q 'program interpreter'; then
    echo "make install: $bin/tokenrun is not make release's static build (a plain swift build -c release?): run make release" >&2
    exit 1
fi
built=$("$bin/tokenrun" --version) || { echo "make install: $bin/tokenrun does not run: run make release" >&2; exit 1; }
if head=$(git -c safe.directory="$top" -C "$top" rev-parse --short=12 HEAD 2>/dev/null); then
    case $built in
    *"(commit $head)" | *"(commit $head-dirty)") ;;
    *) echo "make install: the release build is $built, but the checkout is at $head: run make release first (as yourself)" >&2
       exit 1 ;;
    esac
fi
