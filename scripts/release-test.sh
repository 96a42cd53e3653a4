#!/bin/sh
# `make release-test`, run once by CI: the release build, installed and used as
# a user would.
#   sh scripts/release-test.sh PYTHON     (PYTHON: the venv with the test provider's packages)
#  1. Every standard build runs: swift build -c release, with and without
#     --static-swift-stdlib, and make release (tokenrun, tokenrun-http and tokenrun-pg --version).
#  2. make install into a DESTDIR: stripped programs; then the smoke test below.
#     make install STRIP= keeps the symbols, and the Swift backtracer names
#     tokenrun's functions in a crash report (the recipe of docs/troubleshooting.md).
#  3. make deb: lintian-clean (make deb checks), its fields, Installed-Size;
#     dpkg -i, the smoke test, dpkg -r leaves none of its files.
#  4. make dist: the archive's contents; unpacked and installed with its
#     install.sh, the smoke test; install.sh --uninstall.
#  5. Every command of README's "Install" section was run above.
# The smoke test runs the installed programs with the Swift toolchain and this
# source tree out of sight (a private mount namespace with empty directories
# mounted over them): --version of both, vault init, an import of a refresh
# token minted by the test provider, and a launch whose child calls the
# provider's API with the token tokenrun refreshed for it.
set -eu
py=${1:?usage: release-test.sh PYTHON}
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$top"
version=$(tr -d ' \t\r\n' < VERSION)
arch=$(dpkg --print-architecture)
dist=tokenrun-$version-linux-$(uname -m)
deb=tokenrun_${version}_$arch.deb
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
case $toolchain in
/usr | /usr/local | /) hide_toolchain= ;;  # swift installed among the system's programs: cannot be hidden alone
*) hide_toolchain=$toolchain ;;
esac
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tokenrun-release-XXXXXX")
chmod 0755 "$scratch"
provider_pid=
deb_installed=
crasher=
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
cleanup() {
    [ -z "$deb_installed" ] || $SUDO dpkg -r tokenrun >/dev/null 2>&1 || true
    [ -z "$crasher" ] || kill "$crasher" 2>/dev/null || true
    [ -z "$provider_pid" ] || { kill "$provider_pid" 2>/dev/null || true; wait "$provider_pid" 2>/dev/null || true; }
    rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "release-test: FAIL: $*" >&2; exit 1; }
step() { printf '\n== release-test: %s\n' "$*"; }
# Runs a command and notes its words (without sudo, as the README check of step 5 compares them).
run() {
    printf '$ %s\n' "$*"
    printf '%s\n' "$*" | sed 's/^sudo //' >> "$scratch/commands"
    "$@"
}
# The same for a README command line that needs a shell: SHELL SETUP COMMAND CHECK, run as one script.
run_in() {
    printf '$ %s    (%s)\n' "$3" "$1"
    printf '%s\n' "$3" >> "$scratch/commands"
    "$1" -c "$2
$3
$4"
}
quiet() {
    log=$1; shift
    "$@" > "$scratch/$log.log" 2>&1 || { tail -40 "$scratch/$log.log" >&2; fail "$* failed"; }
}
commit=$(git rev-parse --short=12 HEAD)
expect_version() {  # BIN_DIR LABEL
    for program in tokenrun tokenrun-http tokenrun-pg; do
        status=0
        got=$("$1/$program" --version 2>&1) || status=$?
        [ "$status" -eq 0 ] || fail "$2: $program --version exited with status $status: $got"
        case $got in
        *"$version (commit $commit"*) echo "   $program --version: $got" ;;
        *) fail "$2: $program --version printed '$got', not version $version (commit $commit)" ;;
        esac
    done
}
unstripped() { readelf -S "$1" | grep -q ' \.symtab '; }

step "1. every standard build runs"
for build in "swift build -c release" "swift build -c release --static-swift-stdlib"; do
    echo "$ $build"
    # shellcheck disable=SC2086
    quiet build $build
    # shellcheck disable=SC2086
    expect_version "$($build --show-bin-path)" "$build"
done
echo "$ make build"
quiet build make build
expect_version "$(swift build --show-bin-path)" "make build"
run make release > "$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log" >&2; fail "make release failed"; }
release_bin=$(TOKENRUN_STATIC_PIE=1 swift build -c release --static-swift-stdlib --disable-local-rpath --show-bin-path)
expect_version "$release_bin" "make release"
readelf -h "$release_bin/tokenrun" | grep -q 'Type: *DYN' && ! readelf -l "$release_bin/tokenrun" | grep -q 'program interpreter' ||
    fail "make release: tokenrun is not a static PIE"

# The test provider, from this tree; the programs under test never see the tree.
"$py" Tests/Provider/provider.py --port 0 > "$scratch/provider.out" 2> "$scratch/provider.err" &
provider_pid=$!
i=0
until grep -q '^READY ' "$scratch/provider.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || { cat "$scratch/provider.err" >&2; fail "the test provider did not start"; }
    sleep 0.05
done
url=$(sed -n 's/^READY //p' "$scratch/provider.out")
cp Tests/Provider/child.py "$scratch/child.py"
cat > "$scratch/smoke.sh" <<'SMOKE'
#!/bin/sh
# Inside the mount namespace: the installed programs, no toolchain, no source tree.
set -eu
bin=$1 home=$2 url=$3 token_file=$4 child=$5
fail() { echo "release-test: FAIL (smoke, $bin): $*" >&2; exit 1; }
[ -n "${SMOKE_TOOLCHAIN_VISIBLE:-}" ] || ! command -v swift >/dev/null 2>&1 || fail "the Swift toolchain is still reachable: $(command -v swift)"
mkdir -p "$home"
export HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_STATE_HOME="$home/state"
export XDG_RUNTIME_DIR="$home/runtime" PATH="$bin:/usr/bin:/bin:$PATH"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset TOKENRUN_KEY_FILE TOKENRUN_PASSPHRASE TOKENRUN_PASSPHRASE_FILE CREDENTIALS_DIRECTORY TOKENRUN_PROFILE_PATH
mkdir -p "$XDG_CONFIG_HOME/tokenrun/profiles"
cat > "$XDG_CONFIG_HOME/tokenrun/profiles/smoke.toml" <<TOML
[oauth]
token_endpoint = "$url/oauth/token"
client_id = "tokenrun-public"
auth_method = "none"
scopes = ["api.read", "offline_access"]
[env]
SMOKE_TOKEN = "{{access_token}}"
TOML
"$bin/tokenrun" --version
"$bin/tokenrun" vault init
"$bin/tokenrun" import -p smoke --refresh-token-stdin < "$token_file"
out=$("$bin/tokenrun" -p smoke -- python3 "$child" --env SMOKE_TOKEN --url "$url") || fail "the launch failed: $out"
printf '%s\n' "$out" | tail -1 | grep -q '"status": 200' || fail "the child's API call was not accepted: $out"
"$bin/tokenrun" log --json | grep -q '"event": *"refresh"' ||
    fail "the audit trail has no refresh: $("$bin/tokenrun" log)"
echo "   smoke: vault init, import, a refresh and an API call through $bin/tokenrun"
SMOKE
n=0
smoke() {  # BIN_DIR
    n=$((n + 1))
    (umask 077 && "$py" - "$url" > "$scratch/token$n") <<'SEED'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/test/seed", data=json.dumps({"client_id": "tokenrun-public"}).encode(),
                             headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["refresh_token"])
SEED
    if [ -n "$hide_toolchain" ] && [ "$(id -u)" -eq 0 ] && unshare --mount --propagation private true 2>/dev/null; then
        unshare --mount --propagation private sh -c '
            mount -t tmpfs -o size=1m,mode=0755 tokenrun-hidden "$1" && mount -t tmpfs -o size=1m,mode=0755 tokenrun-hidden "$2" &&
            shift 2 && exec sh "$@"' sh "$hide_toolchain" "$top" \
            "$scratch/smoke.sh" "$1" "$scratch/home$n" "$url" "$scratch/token$n" "$scratch/child.py"
    else
        echo "   (not root, no mount namespace, or swift in /usr: the smoke test runs with the toolchain and the source tree in sight)"
        SMOKE_TOOLCHAIN_VISIBLE=1 sh "$scratch/smoke.sh" "$1" "$scratch/home$n" "$url" "$scratch/token$n" "$scratch/child.py"
    fi
}

step "2. make install into a DESTDIR"
DESTDIR="$scratch/destdir" run make install > "$scratch/install.log" 2>&1 || { tail -20 "$scratch/install.log" >&2; fail "make install failed"; }
installed="$scratch/destdir/usr/local"
for f in bin/tokenrun bin/tokenrun-http bin/tokenrun-pg share/man/man1/tokenrun.1 share/man/man1/tokenrun-http.1 share/man/man1/tokenrun-pg.1 \
    share/bash-completion/completions/tokenrun share/zsh/site-functions/_tokenrun share/fish/vendor_completions.d/tokenrun.fish; do
    [ -f "$installed/$f" ] || fail "make install did not install $f"
done
for program in tokenrun tokenrun-http tokenrun-pg; do
    ! unstripped "$installed/bin/$program" || fail "make install left $program unstripped"
done
grep -q "^\.Os tokenrun $version\$" "$installed/share/man/man1/tokenrun.1" || fail "the installed man page does not carry version $version"
echo "   stripped: tokenrun $(stat -c %s "$installed/bin/tokenrun") bytes, tokenrun-http $(stat -c %s "$installed/bin/tokenrun-http") bytes"
# The network helper is Embedded Swift over the system's libcurl: small, and it links no Swift runtime.
[ "$(stat -c %s "$installed/bin/tokenrun-http")" -le 2097152 ] || fail "tokenrun-http is over 2 MiB stripped"
! ldd "$installed/bin/tokenrun-http" | grep -q libswift || fail "tokenrun-http loads a Swift runtime library: $(ldd "$installed/bin/tokenrun-http")"
ldd "$installed/bin/tokenrun-http" | grep -q 'libcurl\.so\.4' || fail "tokenrun-http does not load libcurl.so.4"
# Its own needs are libcurl and libc: anything more (libstdc++ came with the static stdlib's
# link arguments) is loaded before main on every refresh.
needed=$(readelf -d "$installed/bin/tokenrun-http" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
[ "$needed" = "libc.so.6 libcurl.so.4 " ] || fail "tokenrun-http names more libraries than libcurl and libc: $needed"
# The database helper likewise: Embedded Swift over the system's libpq, small, nothing more.
[ "$(stat -c %s "$installed/bin/tokenrun-pg")" -le 2097152 ] || fail "tokenrun-pg is over 2 MiB stripped"
needed=$(readelf -d "$installed/bin/tokenrun-pg" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
[ "$needed" = "libc.so.6 libpq.so.5 " ] || fail "tokenrun-pg names other libraries than libpq and libc: $needed"
expect_version "$installed/bin" "make install"
smoke "$installed/bin"
# sudo's PATH usually has no swift: make install then installs the release build as it is.
PATH=/usr/bin:/bin DESTDIR="$scratch/nosw" make install > "$scratch/install.log" 2>&1 ||
    { tail -20 "$scratch/install.log" >&2; fail "make install without swift on PATH failed"; }
[ -x "$scratch/nosw/usr/local/bin/tokenrun" ] || fail "make install without swift on PATH installed nothing"
echo "   make install with no swift on PATH (as under sudo) installs the release build"

# The Install section's completion lines, as written, in each shell, with the installed tokenrun.
for shell in zsh fish; do
    command -v $shell >/dev/null 2>&1 || {
        echo "   installing $shell (apt-get)"
        $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $shell >/dev/null
    }
done
completion_home="$scratch/completion-home"
mkdir -p "$completion_home/zfunc" "$completion_home/.config/fish/completions"
readme_line() { sed -n '/^## Install$/,/^## /p' README.md | sed -n "s/^    \($1\)[[:space:]]*#.*/\1/p" | sed 's/[[:space:]]*$//'; }
(
    export HOME="$completion_home" XDG_CONFIG_HOME="$completion_home/.config" PATH="$installed/bin:/usr/bin:/bin"
    line=$(readme_line 'source <(tokenrun completion bash)')
    run_in bash '' "$line" 'complete -p tokenrun > /dev/null' || fail "bash: '$line' defined no completion"
    line=$(readme_line 'tokenrun completion zsh > [^#]*')
    run_in zsh 'fpath=($HOME/zfunc $fpath)' "$line" \
        'autoload -Uz compinit && compinit -u -d $HOME/zcompdump && (( $+_comps[tokenrun] ))' || fail "zsh: '$line' defined no completion"
    line=$(readme_line 'tokenrun completion fish > [^#]*')
    run_in fish '' "$line" 'complete -C"tokenrun vault " | string match -q "unlock*"' ||
        fail "fish: '$line' completes no vault subcommand"
) || exit 1
echo "   the completion lines work in bash, zsh and fish"

DESTDIR="$scratch/symbols" run make install STRIP= > "$scratch/install.log" 2>&1 || { tail -20 "$scratch/install.log" >&2; fail "make install STRIP= failed"; }
unstripped "$scratch/symbols/usr/local/bin/tokenrun" || fail "make install STRIP= stripped tokenrun"
# The backtrace recipe of docs/troubleshooting.md, its SWIFT_BACKTRACE as written (with this toolchain's path, and
# interactive=no): a crash, here a SIGSEGV sent while tokenrun waits for input, is reported with
# tokenrun's own function names and no registers.
recipe=$(sed -n 's/^    SWIFT_BACKTRACE=\([^ ]*\) tokenrun .*/\1/p' docs/troubleshooting.md | sed "s|/opt/swift/usr|$toolchain|")
[ -n "$recipe" ] || fail "docs/troubleshooting.md shows no SWIFT_BACKTRACE recipe"
( sleep 30 | SWIFT_BACKTRACE="$recipe,interactive=no" \
    HOME="$scratch/bt" XDG_CONFIG_HOME="$scratch/bt/c" XDG_DATA_HOME="$scratch/bt/d" \
    "$scratch/symbols/usr/local/bin/tokenrun" import -p github --refresh-token-stdin > /dev/null 2> "$scratch/backtrace" ) &
crasher=$!
i=0
until pgrep -f "$scratch/symbols/usr/local/bin/tokenrun import" >/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "tokenrun import did not start"; sleep 0.05
done
sleep 0.3
pkill -SEGV -f "$scratch/symbols/usr/local/bin/tokenrun import"
wait "$crasher" || true
crasher=
grep -q 'ImportCommand.run()' "$scratch/backtrace" || { cat "$scratch/backtrace" >&2; fail "the crash report names no tokenrun function"; }
! grep -q '^rax ' "$scratch/backtrace" || fail "the crash report shows registers despite registers=none"
echo "   make install STRIP=: symbols kept; a crash report names ImportCommand.run()"

step "3. make deb"
! dpkg -s tokenrun >/dev/null 2>&1 || fail "a tokenrun package is installed already: dpkg -r tokenrun first"
run make deb
[ -f "$deb" ] || fail "make deb wrote no $deb"
[ "$(dpkg-deb -f "$deb" Package)" = tokenrun ] && [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
    fail "the package's name or version is wrong: $(dpkg-deb -f "$deb" Package Version)"
# tokenrun links libsodium statically (Built-Using names it); the helper loads the system's libcurl.
dpkg-deb -f "$deb" Depends | grep -q libcurl4 || fail "Depends does not name libcurl4: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -q libpq5 || fail "Depends does not name libpq5: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Built-Using | grep -q libsodium || fail "Built-Using does not name libsodium: $(dpkg-deb -f "$deb" Built-Using)"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/tokenrun ./usr/bin/tokenrun-http ./usr/bin/tokenrun-pg ./usr/share/man/man1/tokenrun.1.gz \
    ./usr/share/man/man1/tokenrun-http.1.gz ./usr/share/man/man1/tokenrun-pg.1.gz \
    ./usr/share/bash-completion/completions/tokenrun ./usr/share/zsh/vendor-completions/_tokenrun \
    ./usr/share/fish/vendor_completions.d/tokenrun.fish ./usr/share/doc/tokenrun/copyright ./usr/share/doc/tokenrun/changelog.gz \
    ./usr/share/doc/tokenrun/NOTICES; do
    printf '%s\n' "$contents" | grep -q " $f\$" || fail "the package lacks $f"
done
size=$(dpkg-deb -f "$deb" Installed-Size)
deb_installed=1
run $SUDO dpkg -i "$deb" > "$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log" >&2; fail "dpkg -i failed"; }
files=$(dpkg -L tokenrun)
counted=$(printf '%s\n' "$files" | while read -r f; do
    if [ -d "$f" ] && [ ! -L "$f" ]; then echo 1; else echo $(( ($(stat -c %s "$f") + 1023) / 1024 )); fi
done | awk '{ s += $1 } END { print s }')
# dpkg -L lists shared directories such as / and /usr too; the package's own count leaves them out.
[ "$size" -le "$counted" ] && [ "$size" -ge $((counted - 20)) ] || fail "Installed-Size is $size KiB; the installed files take $counted"
echo "   Installed-Size: $size KiB"
# Issue 13's bound: the whole package, both programs, docs and completions, at most 25 MB installed.
[ "$size" -le 25000 ] || fail "the package installs $size KiB, over 25 MB"
expect_version /usr/bin "the package"
smoke /usr/bin
run $SUDO dpkg -r tokenrun > "$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log" >&2; fail "dpkg -r failed"; }
deb_installed=
left=$(printf '%s\n' "$files" | while read -r f; do [ -d "$f" ] || [ ! -e "$f" ] || echo "$f"; done)
[ -z "$left" ] || fail "dpkg -r left files behind: $left"
[ ! -e /usr/share/doc/tokenrun ] || fail "dpkg -r left /usr/share/doc/tokenrun"
! dpkg -s tokenrun >/dev/null 2>&1 || fail "dpkg -s still knows tokenrun after dpkg -r"
echo "   dpkg -r removed every file"

step "4. make dist"
run make dist > "$scratch/dist.log" 2>&1 || { tail -20 "$scratch/dist.log" >&2; fail "make dist failed"; }
[ -f "$dist.tar.gz" ] || fail "make dist wrote no $dist.tar.gz"
listing=$(tar tzf "$dist.tar.gz")
for f in bin/tokenrun bin/tokenrun-http bin/tokenrun-pg share/man/man1/tokenrun.1 share/man/man1/tokenrun-http.1 share/man/man1/tokenrun-pg.1 \
    share/bash-completion/completions/tokenrun share/zsh/site-functions/_tokenrun \
    share/fish/vendor_completions.d/tokenrun.fish share/doc/tokenrun/NOTICES README.md SECURITY.md LICENSE install.sh \
    docs/troubleshooting.md docs/profiles.md; do
    printf '%s\n' "$listing" | grep -qx "$dist/$f" || fail "the archive lacks $dist/$f"
done
cp "$dist.tar.gz" "$scratch/"
(
    cd "$scratch" &&
        run tar xzf "$dist.tar.gz" &&
        DESTDIR="$scratch/archive-root" run "$dist/install.sh" &&
        run "$dist/install.sh" --prefix "$scratch/archive-prefix"
) || fail "the archive did not install"
expect_version "$scratch/archive-prefix/bin" "the archive"
smoke "$scratch/archive-root/usr/local/bin"
smoke "$scratch/archive-prefix/bin"
"$scratch/$dist/install.sh" --uninstall --prefix "$scratch/archive-prefix"
[ -z "$(find "$scratch/archive-prefix" -type f)" ] || fail "install.sh --uninstall left $(find "$scratch/archive-prefix" -type f)"

step "5. README's Install section"
# Each command line of the section's code blocks (comments and sudo dropped) must be one run above.
sed -n '/^## Install$/,/^## /p' README.md | sed -n 's/^    //p' | sed 's/[[:space:]]*#.*$//; s/^sudo //; s/[[:space:]]*$//' |
    grep -v '^$' | grep -v '^SWIFT_BACKTRACE' > "$scratch/readme-commands" || true
[ -s "$scratch/readme-commands" ] || fail "README.md has no Install commands"
sed 's/--prefix [^ ]*$/--prefix DIR/' "$scratch/commands" > "$scratch/ran"
while read -r command; do
    grep -qxF -- "$(printf '%s' "$command" | sed 's/--prefix [^ ]*$/--prefix DIR/')" "$scratch/ran" ||
        fail "README's Install shows '$command', which this test did not run (the commands run: $(tr '\n' ';' < "$scratch/ran"))"
    echo "   ran: $command"
done < "$scratch/readme-commands"
echo
echo "release-test: all passed"
