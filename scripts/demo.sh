#!/bin/sh
# `make demo`: the main job end to end, in a scratch home so nothing of yours
# is touched. Starts the local demo provider (Authlib, Tests/Provider), seeds a
# grant as a login would, stores its refresh token, runs
# `tokenrun -p demo -- python3 examples/sync.py` (the token is expired, so it
# is refreshed first), runs it again (fresh token: no network), then shows
# `status` and `log`, and stops the provider.
set -eu
bin=${1:?usage: demo.sh TOKENRUN PYTHON}
py=${2:?usage: demo.sh TOKENRUN PYTHON}
top=$(cd "$(dirname "$0")/.." && pwd)
home=$(mktemp -d "${TMPDIR:-/tmp}/tokenrun-demo-XXXXXX")
provider_pid=
cleanup() {
    [ -n "$provider_pid" ] && kill "$provider_pid" 2>/dev/null && wait "$provider_pid" 2>/dev/null
    rm -rf "$home"
}
trap cleanup EXIT INT TERM
export HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" XDG_STATE_HOME="$home/state"
export XDG_RUNTIME_DIR="$home/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset TOKENRUN_KEY_FILE TOKENRUN_PASSPHRASE TOKENRUN_PASSPHRASE_FILE CREDENTIALS_DIRECTORY TOKENRUN_PROFILE_PATH

"$py" "$top/Tests/Provider/provider.py" --port 0 > "$home/provider.out" 2> "$home/provider.err" &
provider_pid=$!
i=0
until grep -q '^READY ' "$home/provider.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || { echo "demo: the provider did not start:" >&2; cat "$home/provider.err" >&2; exit 1; }
    sleep 0.05
done
PROVIDER_URL=$(sed -n 's/^READY //p' "$home/provider.out")
export PROVIDER_URL
echo "demo provider listening at $PROVIDER_URL"

mkdir -p "$XDG_CONFIG_HOME/tokenrun/profiles"
cat > "$XDG_CONFIG_HOME/tokenrun/profiles/demo.toml" <<TOML
description = "Local demo provider"
[oauth]
token_endpoint = "$PROVIDER_URL/oauth/token"
client_id = "tokenrun-test"
client_secret = "test-secret"
scopes = ["api.read", "offline_access"]
[env]
DEMO_TOKEN = "{{access_token}}"
TOML

step() { printf '\n$ %s\n' "$*" | sed "s|$bin|tokenrun|g"; "$@"; }
# A login on the provider's side; its access token is already expired.
"$py" - "$PROVIDER_URL" > "$home/token.txt" <<'PY'
import json, sys, urllib.request
body = json.dumps({"client_id": "tokenrun-test", "user": "alice", "scope": "api.read offline_access", "access_expires_in": 0}).encode()
request = urllib.request.Request(sys.argv[1] + "/test/seed", data=body, headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request))["refresh_token"])
PY
step "$bin" profiles show demo
printf '\n$ tokenrun import -p demo --refresh-token-stdin < token.txt\n'
"$bin" import -p demo --refresh-token-stdin < "$home/token.txt"
step "$bin" -p demo -- python3 "$top/examples/sync.py"
step "$bin" -p demo -- python3 "$top/examples/sync.py"
step "$bin" status
step "$bin" log
printf '\nThe first run refreshed the expired token (one request to the provider); the second used the fresh one.\n'
