#!/bin/sh
# Installs tokenrun from the directory this script is in (an unpacked release
# archive, or the stage `make install` builds):
#   ./install.sh                      under /usr/local
#   ./install.sh --prefix ~/.local    under another prefix (bin/ must be on PATH)
#   ./install.sh --uninstall [--prefix DIR]   remove what it installed
# DESTDIR, when set, is put before the prefix (for packaging).
set -eu
umask 022
usage() { sed -n '2,8s/^# \{0,1\}//p' "$0"; }
prefix=/usr/local
action=install
while [ $# -gt 0 ]; do
    case $1 in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 64; }; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --uninstall) action=uninstall; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
case $prefix in
/*) ;;
*) echo "install.sh: the prefix must be an absolute path, not '$prefix'" >&2; exit 64 ;;
esac
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root="${DESTDIR:-}$prefix"
# Every file installed, relative to the prefix: the programs first.
files="bin/tokenrun bin/tokenrun-http bin/tokenrun-pg share/man/man1/tokenrun.1 share/man/man1/tokenrun-http.1
share/man/man1/tokenrun-pg.1
share/bash-completion/completions/tokenrun share/zsh/site-functions/_tokenrun
share/fish/vendor_completions.d/tokenrun.fish share/doc/tokenrun/NOTICES"

if [ "$action" = uninstall ]; then
    for f in $files; do rm -f "$root/$f"; done
    rmdir "$root/share/doc/tokenrun" 2>/dev/null || true
    echo "removed tokenrun from $root"
    exit 0
fi
for f in $files; do
    [ -f "$here/$f" ] || { echo "install.sh: $here/$f is missing: is this an unpacked tokenrun archive?" >&2; exit 1; }
    if [ -d "$root/$f" ]; then echo "install.sh: $root/$f is a directory: move it away first" >&2; exit 1; fi
done
for f in $files; do
    case $f in bin/*) mode=0755 ;; *) mode=0644 ;; esac
    mkdir -p "$root/$(dirname "$f")"
    # Through a temporary name, so a running tokenrun keeps its old file and never sees half a new one.
    cp "$here/$f" "$root/$f.new.$$"
    chmod "$mode" "$root/$f.new.$$"
    mv -f "$root/$f.new.$$" "$root/$f"
done
version=$("$root/bin/tokenrun" --version) || { echo "install.sh: the installed $root/bin/tokenrun does not run" >&2; exit 1; }
echo "installed tokenrun $version under $root"
