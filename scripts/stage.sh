#!/bin/sh
# Lays out what gets installed, as it sits under a prefix, in STAGE_DIR:
#   sh scripts/stage.sh BIN_DIR STAGE_DIR [STRIP]
#     bin/tokenrun, bin/tokenrun-http             the programs, stripped with STRIP (strip by default;
#                                                  an empty STRIP keeps their symbols)
#     share/man/man1/tokenrun.1, tokenrun-http.1   the man pages, with the version of VERSION
#     share/bash-completion/completions/tokenrun, share/zsh/site-functions/_tokenrun,
#     share/fish/vendor_completions.d/tokenrun.fish
#     install.sh                                   copies the tree under a prefix (scripts/install.sh)
# `make install` runs install.sh from the stage; `make dist` packs the stage
# with README.md and LICENSE; `make deb` builds its tree from it.
set -eu
bin=${1:?usage: stage.sh BIN_DIR STAGE_DIR [STRIP]}
stage=${2:?usage: stage.sh BIN_DIR STAGE_DIR [STRIP]}
strip=${3-strip}
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d ' \t\r\n' < "$top/VERSION")

rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/share/man/man1" "$stage/share/bash-completion/completions" \
    "$stage/share/zsh/site-functions" "$stage/share/fish/vendor_completions.d"
for program in tokenrun tokenrun-http; do
    [ -x "$bin/$program" ] || { echo "stage.sh: $bin/$program is missing: build it first (make release)" >&2; exit 1; }
    cp "$bin/$program" "$stage/bin/$program"
    chmod 0755 "$stage/bin/$program"
    # As Debian's dh_strip does: symbols not needed for relocation, and the comment and note sections.
    [ -z "$strip" ] || "$strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/bin/$program"
done
# The version goes into the pages' footer (mdoc's .Os).
for page in tokenrun.1 tokenrun-http.1; do
    sed "s/^\.Os.*/.Os tokenrun $version/" "$top/man/$page" > "$stage/share/man/man1/$page"
done
# bash-completion sources the file: no #! line.
"$stage/bin/tokenrun" completion bash | sed '1{/^#!/d}' > "$stage/share/bash-completion/completions/tokenrun"
"$stage/bin/tokenrun" completion zsh > "$stage/share/zsh/site-functions/_tokenrun"
"$stage/bin/tokenrun" completion fish > "$stage/share/fish/vendor_completions.d/tokenrun.fish"
cp "$top/scripts/install.sh" "$stage/install.sh"
chmod 0755 "$stage/install.sh"
find "$stage/share" -type f -exec chmod 0644 {} +
