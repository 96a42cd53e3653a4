#!/bin/sh
# `make demo`: the main job end to end, in a scratch home so nothing of yours
# is touched. Starts the local demo provider (Authlib, Tests/Provider), writes
# a demo profile for it, logs in with `tokenrun login -p demo` — a real
# authorization-code login with PKCE and a loopback redirect, where
# scripts/demo-browser.py plays the browser and the provider consents as alice —
# then runs `tokenrun -p demo -- python3 examples/sync.py` twice (the first run
# asks for more token life than is left, so tokenrun refreshes; the second
# finds the token fresh: no network), shows `status` and `log`, and stops the
# provider.
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
unset TOKENRUN_KEY_FILE TOKENRUN_PASSPHRASE TOKENRUN_PASSPHRASE_FILE CREDENTIALS_DIRECTORY TOKENRUN_PROFILE_PATH BROWSER

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

# The provider's public client: no secret, PKCE (S256) required, any loopback port.
mkdir -p "$XDG_CONFIG_HOME/tokenrun/profiles"
cat > "$XDG_CONFIG_HOME/tokenrun/profiles/demo.toml" <<TOML
description = "Local demo provider"
[oauth]
authorization_endpoint = "$PROVIDER_URL/oauth/authorize"
token_endpoint = "$PROVIDER_URL/oauth/token"
revocation_endpoint = "$PROVIDER_URL/oauth/revoke"
client_id = "tokenrun-public"
auth_method = "none"
scopes = ["api.read", "offline_access"]
[env]
DEMO_TOKEN = "{{access_token}}"
TOML

step() { printf '\n$ %s\n' "$*" | sed "s|$bin|tokenrun|g; s|$top/||g"; "$@"; }
step "$bin" profiles show demo
step "$bin" vault init

# The login. demo-browser.py stands in for the person at the browser: tokenrun
# runs it with the authorization URL; it returns at once and loads the page in
# the background (the provider consents and redirects to tokenrun's loopback
# listener), then leaves one line in browser.log, shown below.
printf '\n$ BROWSER=scripts/demo-browser.py tokenrun login -p demo\n'
status=0
BROWSER="$top/scripts/demo-browser.py" DEMO_BROWSER_LOG="$home/browser.log" \
    "$bin" login -p demo --timeout 1m || status=$?
i=0
until [ -s "$home/browser.log" ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
if [ -s "$home/browser.log" ]; then
    sed 's/^/    /' "$home/browser.log"
else
    echo "    (the scripted browser left no report: did tokenrun run \$BROWSER?)"
fi
if [ "$status" -ne 0 ]; then
    echo "demo: tokenrun login failed with exit status $status" >&2
    exit "$status"
fi

step "$bin" -p demo --min-ttl 2h -- python3 "$top/examples/sync.py"
step "$bin" -p demo -- python3 "$top/examples/sync.py"
step "$bin" status
step "$bin" log
cat <<'EOF'

The login stored the grant from a real browser-style consent, with nothing copied by hand.
The first run wanted the token to last 2 hours (--min-ttl 2h); the 1-hour token did not,
so tokenrun refreshed it (one request to the provider; the refresh token rotated).
The second run found the token fresh and used no network at all.
EOF
