#!/bin/sh
# `make demo`: a walk through what tokenrun does today, in a scratch home so
# nothing of yours is touched. (The local demo provider and the main job,
# `tokenrun -p demo -- CMD`, arrive with refreshing and launching.)
set -eu
bin=${1:?usage: demo.sh PATH-TO-TOKENRUN}
home=$(mktemp -d "${TMPDIR:-/tmp}/tokenrun-demo-XXXXXX")
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_STATE_HOME="$home/state"
unset TOKENRUN_KEY_FILE TOKENRUN_PASSPHRASE TOKENRUN_PASSPHRASE_FILE CREDENTIALS_DIRECTORY TOKENRUN_PROFILE_PATH
mkdir -p "$XDG_CONFIG_HOME/tokenrun/profiles"
cat > "$XDG_CONFIG_HOME/tokenrun/profiles/demo.toml" <<'TOML'
description = "Local demo provider"
[oauth]
token_endpoint = "http://127.0.0.1:8765/oauth/token"
client_id = "tokenrun-demo"
scopes = ["demo.read", "offline_access"]
[env]
DEMO_TOKEN = "{{access_token}}"
TOML

step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$bin" profiles list
step "$bin" profiles show demo
step "$bin" vault init
echo 'demo-refresh-token' > "$home/token.txt"
printf '\n$ %s\n' "tokenrun import -p demo --refresh-token-stdin < token.txt"
"$bin" import -p demo --refresh-token-stdin < "$home/token.txt"
step "$bin" status
step "$bin" vault status
printf '\n$ %s\n' "tokenrun profiles validate   # with a misspelt key"
echo 'token_endpont = "x"' > "$XDG_CONFIG_HOME/tokenrun/profiles/typo.toml"
"$bin" profiles validate || echo "(exit $?)"
