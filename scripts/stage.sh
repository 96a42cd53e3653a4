#!/bin/sh
# Lays out what gets installed, as it sits under a prefix, in STAGE_DIR:
#   sh scripts/stage.sh BIN_DIR STAGE_DIR [STRIP]
#     bin/tokenrun, bin/tokenrun-http, bin/tokenrun-pg   the programs, stripped with STRIP (strip by default;
#                                                  an empty STRIP keeps their symbols)
#     share/man/man1/tokenrun.1, tokenrun-http.1, tokenrun-pg.1   the man pages, with the version of VERSION
#     share/bash-completion/completions/tokenrun, share/zsh/site-functions/_tokenrun,
#     share/fish/vendor_completions.d/tokenrun.fish
#     share/doc/tokenrun/NOTICES                   the NOTICE files of the Swift packages linked in
#                                                  (Apache-2.0 §4(d)), from the build's checkouts
#     install.sh                                   copies the tree under a prefix (scripts/install.sh)
# `make install` runs install.sh from the stage; `make dist` packs the stage
# with README.md, SECURITY.md, docs/ and LICENSE; `make deb` builds its tree from it.
set -eu
umask 022
bin=${1:?usage: stage.sh BIN_DIR STAGE_DIR [STRIP]}
stage=${2:?usage: stage.sh BIN_DIR STAGE_DIR [STRIP]}
strip=${3-strip}
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
version=$(tr -d ' \t\r\n' < "$top/VERSION")

rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/share/man/man1" "$stage/share/bash-completion/completions" \
    "$stage/share/zsh/site-functions" "$stage/share/fish/vendor_completions.d" "$stage/share/doc/tokenrun"
for program in tokenrun tokenrun-http tokenrun-pg; do
    [ -x "$bin/$program" ] || { echo "stage.sh: $bin/$program is missing: build it first (make release)" >&2; exit 1; }
    cp "$bin/$program" "$stage/bin/$program"
    chmod 0755 "$stage/bin/$program"
    # As Debian's dh_strip does: symbols not needed for relocation, and the comment and note sections.
    [ -z "$strip" ] || "$strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/bin/$program"
done
# The version goes into the pages' footer (mdoc's .Os).
for page in tokenrun.1 tokenrun-http.1 tokenrun-pg.1; do
    sed "s/^\.Os.*/.Os tokenrun $version/" "$top/man/$page" > "$stage/share/man/man1/$page"
done
# bash-completion sources the file: no #! line.
"$stage/bin/tokenrun" completion bash > "$stage/bash.tmp"
sed '1{/^#!/d}' "$stage/bash.tmp" > "$stage/share/bash-completion/completions/tokenrun"
rm "$stage/bash.tmp"
"$stage/bin/tokenrun" completion zsh > "$stage/share/zsh/site-functions/_tokenrun"
"$stage/bin/tokenrun" completion fish > "$stage/share/fish/vendor_completions.d/tokenrun.fish"
# The packages the build resolved (Package.resolved), not every checkout an older build left behind.
packages=
for identity in $(sed -n 's/^ *"identity" *: *"\([^"]*\)".*/\1/p' "$top/Package.resolved" 2>/dev/null); do
    [ -d "$top/.build/checkouts/$identity" ] && packages="$packages $top/.build/checkouts/$identity/"
done
[ -n "$packages" ] || { echo "stage.sh: no resolved Swift packages under $top/.build/checkouts: build with swift build first" >&2; exit 1; }
{
    echo "tokenrun links the following Swift packages, under the Apache License 2.0."
    echo "Each one's NOTICE file follows, as the licence asks, or its licence where it has none."
    echo "tokenrun's own licence is LICENSE."
    for directory in $packages; do
        notice=$(ls "$directory"NOTICE* 2>/dev/null | head -1)
        [ -n "$notice" ] || notice=$(ls "$directory"LICENSE* 2>/dev/null | head -1)
        [ -n "$notice" ] || { echo "stage.sh: $directory has neither a NOTICE nor a LICENSE file" >&2; exit 1; }
        package=$(basename "$directory")
        printf '
==== %s ====

' "$package"
        cat "$notice"
    done
} > "$stage/share/doc/tokenrun/NOTICES"
cp "$top/scripts/install.sh" "$stage/install.sh"
chmod 0755 "$stage/install.sh"
find "$stage/share" -type f -exec chmod 0644 {} +
