#!/bin/sh
# `make deb`: tokenrun_VERSION_ARCH.deb from the release build, with dpkg-deb
# (no debhelper), then lintian.
#   sh scripts/make-deb.sh BIN_DIR OUT_DIR
# The tree comes from scripts/stage.sh (stripped programs, man pages with the
# version, completions), laid out as Debian's policy wants: man pages gzipped,
# zsh completion in vendor-completions, /usr/share/doc/tokenrun/{copyright,
# changelog.gz} (packaging/deb/). Depends comes from the programs' shared
# libraries (dpkg-shlibdeps), Installed-Size from the files, as dpkg-gencontrol
# counts it. lintian must report no error and no warning; what is left is
# overridden in packaging/deb/lintian-overrides, each with its reason.
set -eu
umask 022
bin=${1:?usage: make-deb.sh BIN_DIR OUT_DIR}
out=${2:?usage: make-deb.sh BIN_DIR OUT_DIR}
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
version=$(tr -d ' \t\r\n' < "$top/VERSION")
arch=$(dpkg --print-architecture)
deb="$out/tokenrun_${version}_${arch}.deb"
maintainer="tokenrun developers <tokenrun@users.noreply.github.com>"

changelog_version=$(sed -n '1s/^tokenrun (\([^)]*\)).*/\1/p' "$top/packaging/deb/changelog")
if [ "$changelog_version" != "$version" ]; then
    echo "make deb: packaging/deb/changelog's first entry is for '$changelog_version', VERSION says '$version': add an entry" >&2
    exit 1
fi

work="$top/.build/deb"
rm -rf "$work"
mkdir -p "$work"
sh "$top/scripts/stage.sh" "$bin" "$work/stage" strip
stage="$work/stage"
root="$work/root"
doc="$root/usr/share/doc/tokenrun"
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d" "$doc" "$root/usr/share/lintian/overrides"
install -m 0755 "$stage/bin/tokenrun" "$stage/bin/tokenrun-http" "$stage/bin/tokenrun-pg" "$root/usr/bin/"
for page in tokenrun.1 tokenrun-http.1 tokenrun-pg.1; do
    gzip -9n < "$stage/share/man/man1/$page" > "$root/usr/share/man/man1/$page.gz"
done
install -m 0644 "$stage/share/bash-completion/completions/tokenrun" "$root/usr/share/bash-completion/completions/"
install -m 0644 "$stage/share/zsh/site-functions/_tokenrun" "$root/usr/share/zsh/vendor-completions/"
install -m 0644 "$stage/share/fish/vendor_completions.d/tokenrun.fish" "$root/usr/share/fish/vendor_completions.d/"
install -m 0644 "$top/packaging/deb/copyright" "$doc/copyright"
install -m 0644 "$stage/share/doc/tokenrun/NOTICES" "$doc/NOTICES"
gzip -9n < "$top/packaging/deb/changelog" > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz" "$root"/usr/share/man/man1/*.gz
# The overrides file as lintian reads it: each override with its comment line, the header left out.
sed '1,/^$/d' "$top/packaging/deb/lintian-overrides" > "$root/usr/share/lintian/overrides/tokenrun"
chmod 0644 "$root/usr/share/lintian/overrides/tokenrun"

# Depends: what the programs' shared libraries need (dpkg-shlibdeps reads debian/control).
mkdir -p "$work/debian"
printf 'Source: tokenrun\nMaintainer: %s\n\nPackage: tokenrun\nArchitecture: any\n' "$maintainer" > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e root/usr/bin/tokenrun -e root/usr/bin/tokenrun-http -e root/usr/bin/tokenrun-pg 2>"$work/shlibdeps.err") || {
    cat "$work/shlibdeps.err" >&2
    exit 1
}
grep -v "couldn.t parse dynamic symbol\|should already be installed\|useless dependency" "$work/shlibdeps.err" >&2 || true
depends=$(printf '%s\n' "$shlibs" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

# Built-Using (Debian policy 7.8): the source packages of what tokenrun links statically, whose
# licences (glibc's LGPL) ask for their source to stay available.
static_built_using=$(dpkg-query -W -f '${source:Package} (= ${source:Version}), ' libc6-dev "libstdc++-$(gcc -dumpversion)-dev" libsodium-dev |
    sed 's/, $//')

# Installed-Size in KiB, as dpkg-gencontrol counts: each file rounded up to a KiB, 1 KiB per directory.
size=$(cd "$root" && find . -path ./DEBIAN -prune -o ! -path . -printf '%y %s\n' |
    awk '$1 == "f" || $1 == "l" { kib += int(($2 + 1023) / 1024); next } { kib += 1 } END { print kib }')

(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
cat > "$root/DEBIAN/control" <<CONTROL
Package: tokenrun
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Built-Using: $static_built_using
Section: utils
Priority: optional
Description: run commands with fresh OAuth access tokens from a sealed vault
 tokenrun runs a command with a fresh OAuth 2.0 access token, taken from a
 vault sealed with libsodium and handed over as environment variables or a
 private file, the way a declarative profile says. It logs in (browser with
 PKCE, device code, client credentials or an API key), refreshes the access
 token when it is about to expire, and records every login, launch and refresh
 in an audit trail. It serves scripts, shell sessions, cron jobs and services,
 mail clients that need an XOAUTH2 token on demand, and git.
CONTROL
chmod 0644 "$root/DEBIAN/control"

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "make deb: $deb ($size KiB installed; Depends: $depends)"
status=0
lintian --fail-on error,warning --tag-display-limit 0 "$deb" > "$work/lintian.log" 2>&1 || status=$?
grep -v 'running with root privileges' "$work/lintian.log" || true
if [ "$status" -ne 0 ]; then
    echo "make deb: lintian found errors or warnings (above); fix them, or override one in packaging/deb/lintian-overrides with its reason" >&2
    exit 1
fi
echo "make deb: lintian reports no error and no warning ($(grep -c "^tokenrun:" "$top/packaging/deb/lintian-overrides") overridden, with reasons, in packaging/deb/lintian-overrides)"
