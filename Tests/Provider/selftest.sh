#!/usr/bin/env bash
# Self-test for the tokenrun OAuth test provider: starts provider.py, exercises
# every endpoint with curl (plus python3 stdlib one-liners), stops it.
# Needs: curl, python3 (stdlib) and, for the server, a python with the pinned
# requirements.txt installed:  PROVIDER_PYTHON=/path/to/venv/bin/python ./selftest.sh
# Prints "N passed, M failed" last; exits non-zero if anything failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PPY=${PROVIDER_PYTHON:-python3}     # runs the server (needs Authlib/Flask)
PY=${PYTHON:-python3}               # stdlib helpers and child.py
if ! "$PPY" -c 'import authlib, flask' 2>/dev/null; then
  echo "selftest: $PPY lacks Authlib/Flask; pip install -r $HERE/requirements.txt" \
       "and set PROVIDER_PYTHON" >&2
  exit 2
fi
TMP=$(mktemp -d); PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

PASS=0; FAIL=0
ok()  { PASS=$((PASS+1)); }
bad() { FAIL=$((FAIL+1)); echo "FAIL: $*" >&2; }
# check "description" expected actual
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: expected [$2] got [$3]"; fi; }
# checkc "description" command...   (passes when the command succeeds)
checkc() { local d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }

# jget PATH < json  ->  value (strings raw, null -> empty, bool/obj as JSON)
jget() { "$PY" -c '
import json, sys
try: d = json.loads(sys.stdin.read())
except ValueError: print("<not json>"); sys.exit()
for k in sys.argv[1].split("."):
    if k: d = d[int(k)] if isinstance(d, list) else (d or {}).get(k)
print("" if d is None else d if isinstance(d, str) else json.dumps(d))' "$1"; }

# req METHOD PATH [curl args...] -> $STATUS, $BODY, $HDRS (file), $CURLRC
req() {
  local m=$1 p=$2; shift 2
  STATUS=$(curl -s -X "$m" -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' "$@" "$URL$p")
  CURLRC=$?; BODY=$(cat "$TMP/body" 2>/dev/null); HDRS="$TMP/hdrs"
}
hdr() { grep -i "^$1:" "$HDRS" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
post_json() { req POST "$1" -H 'Content-Type: application/json' -d "$2"; }
stat() { curl -s "$URL/test/stats" | jget "$1"; }
seed() { curl -s -X POST "$URL/test/seed" -H 'Content-Type: application/json' -d "${1:-{\}}"; }
refresh_basic() { req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=refresh_token --data-urlencode "refresh_token=$1"; }
me() { req GET /api/me -H "Authorization: Bearer $1"; }
reset() { curl -s -X POST "$URL/test/reset" >/dev/null; }

# ---- start ---------------------------------------------------------------
start_server() {
  : >"$TMP/out"
  "$PPY" "$HERE/provider.py" --port 0 "$@" >"$TMP/out" 2>>"$TMP/err" &
  PID=$!
  for _ in $(seq 100); do grep -q '^READY ' "$TMP/out" && break; sleep 0.02; done
  URL=$(sed -n 's/^READY //p' "$TMP/out")
}
T0=$(date +%s%N); start_server; T1=$(date +%s%N)
if [ -z "$URL" ]; then echo "server did not start"; cat "$TMP/err"; exit 1; fi
echo "server at $URL (startup $(( (T1-T0)/1000000 )) ms)"
checkc "startup < 2s" [ $(( (T1-T0)/1000000 )) -lt 2000 ]
checkc "READY line format" grep -Eq '^READY http://127\.0\.0\.1:[0-9]+$' "$TMP/out"
check "stdout has exactly one line" 1 "$(wc -l <"$TMP/out" | tr -d ' ')"
"$PPY" "$HERE/provider.py" --host 0.0.0.0 >/dev/null 2>&1; check "non-loopback --host refused" 2 $?

# ---- seed + /api/me ------------------------------------------------------
S1=$(seed '{"client_id":"tokenrun-test","user":"alice","scope":"api.read offline_access"}')
AT=$(echo "$S1" | jget access_token); RT=$(echo "$S1" | jget refresh_token)
check "seed expires_in" 3600 "$(echo "$S1" | jget expires_in)"
check "seed scope" "api.read offline_access" "$(echo "$S1" | jget scope)"
me "$AT"; check "api/me 200" 200 "$STATUS"
check "api/me user" alice "$(echo "$BODY" | jget user)"
check "api/me client_id" tokenrun-test "$(echo "$BODY" | jget client_id)"
check "api/me scope" "api.read offline_access" "$(echo "$BODY" | jget scope)"
req GET /api/me; check "api/me no auth 401" 401 "$STATUS"
checkc "WWW-Authenticate invalid_token" grep -q '^WWW-Authenticate: Bearer error="invalid_token"' "$HDRS"
me garbage; check "api/me bad token 401" 401 "$STATUS"
EXP=$(seed '{"access_expires_in":0}'); me "$(echo "$EXP" | jget access_token)"
check "expired seed 401" 401 "$STATUS"; check "expired seed expires_in" 0 "$(echo "$EXP" | jget expires_in)"
NEG=$(seed '{"access_expires_in":-30}'); me "$(echo "$NEG" | jget access_token)"
check "negative expiry 401" 401 "$STATUS"

# ---- refresh rotation + reuse detection ----------------------------------
refresh_basic "$RT"; check "refresh 200" 200 "$STATUS"
AT2=$(echo "$BODY" | jget access_token); RT2=$(echo "$BODY" | jget refresh_token)
check "refresh token_type" Bearer "$(echo "$BODY" | jget token_type)"
check "refresh expires_in" 3600 "$(echo "$BODY" | jget expires_in)"
check "refresh scope" "api.read offline_access" "$(echo "$BODY" | jget scope)"
checkc "refresh rotated" [ -n "$RT2" ] && [ "$RT2" != "$RT" ]
checkc "token response no-store" grep -qi '^Cache-Control: no-store' "$HDRS"
me "$AT2"; check "new access token works" 200 "$STATUS"
refresh_basic "$RT"; check "reuse -> 400" 400 "$STATUS"
check "reuse -> invalid_grant" invalid_grant "$(echo "$BODY" | jget error)"
check "reuse_events 1" 1 "$(stat reuse_events)"
refresh_basic "$RT2"; check "new refresh token dead after reuse" invalid_grant "$(echo "$BODY" | jget error)"
check "reuse_events still 1" 1 "$(stat reuse_events)"
me "$AT2"; check "family access token dead after reuse" 401 "$STATUS"
check "refresh_requests" 3 "$(stat refresh_requests)"; check "refresh_success" 1 "$(stat refresh_success)"

# ---- concurrent refreshes: exactly one wins ------------------------------
concurrent() {  # concurrent N REFRESH_TOKEN -> "successes invalid_grants others"
  "$PY" - "$URL" "$1" "$2" <<'EOF'
import base64, json, sys, threading, urllib.error, urllib.parse, urllib.request
url, n, rt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
auth = "Basic " + base64.b64encode(b"tokenrun-test:test-secret").decode()
data = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": rt}).encode()
res, barrier = [], threading.Barrier(n)
def go():
    barrier.wait()
    r = urllib.request.Request(url + "/oauth/token", data=data, headers={"Authorization": auth})
    try:
        with urllib.request.urlopen(r, timeout=30) as resp: res.append(resp.status)
    except urllib.error.HTTPError as e: res.append(json.loads(e.read()).get("error"))
    except Exception as e: res.append(repr(e))
ts = [threading.Thread(target=go) for _ in range(n)]
[t.start() for t in ts]; [t.join() for t in ts]
print(res.count(200), res.count("invalid_grant"), n - res.count(200) - res.count("invalid_grant"))
EOF
}
reset
check "20 concurrent: 1 ok, 19 invalid_grant, 0 other" "1 19 0" "$(concurrent 20 "$(seed | jget refresh_token)")"
check "refresh_success after 20" 1 "$(stat refresh_success)"
check "reuse_events after 20" 19 "$(stat reuse_events)"
reset; T0=$(date +%s%N)
check "100 concurrent: 1 ok, 99 invalid_grant" "1 99 0" "$(concurrent 100 "$(seed | jget refresh_token)")"
echo "  100 concurrent refreshes took $(( ($(date +%s%N)-T0)/1000000 )) ms"

# ---- client authentication methods ---------------------------------------
reset
refresh_basic "$(seed | jget refresh_token)"; check "basic refresh" 200 "$STATUS"
check "auth_method basic" client_secret_basic "$(stat last_token_request.auth_method)"
check "had_basic_auth true" true "$(stat last_token_request.had_basic_auth)"
check "form_keys basic" '["grant_type", "refresh_token"]' "$(stat last_token_request.form_keys)"
check "last grant_type" refresh_token "$(stat last_token_request.grant_type)"
check "last client_id" tokenrun-test "$(stat last_token_request.client_id)"
PRT=$(seed '{"client_id":"tokenrun-post"}' | jget refresh_token)
req POST /oauth/token -d grant_type=refresh_token -d "refresh_token=$PRT" -d client_id=tokenrun-post -d client_secret=post-secret
check "post refresh" 200 "$STATUS"
check "auth_method post" client_secret_post "$(stat last_token_request.auth_method)"
check "had_basic_auth false" false "$(stat last_token_request.had_basic_auth)"
check "form_keys post" '["client_id", "client_secret", "grant_type", "refresh_token"]' "$(stat last_token_request.form_keys)"
URT=$(seed '{"client_id":"tokenrun-public"}' | jget refresh_token)
req POST /oauth/token -d grant_type=refresh_token -d "refresh_token=$URT" -d client_id=tokenrun-public
check "public refresh" 200 "$STATUS"; check "auth_method none" none "$(stat last_token_request.auth_method)"
checkc "stats never contain secrets/tokens" bash -c "! curl -s '$URL/test/stats' | grep -Eq 'post-secret|test-secret|$URT'"
req POST /oauth/token -d grant_type=client_credentials -d client_id=tokenrun-test -d client_secret=test-secret
check "post for a basic client -> 401" 401 "$STATUS"; check "-> invalid_client" invalid_client "$(echo "$BODY" | jget error)"
req POST /oauth/token -u tokenrun-test:wrong -d grant_type=client_credentials
check "wrong secret -> invalid_client" invalid_client "$(echo "$BODY" | jget error)"
req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=client_credentials -d client_secret=test-secret
check "two auth methods -> invalid_request" invalid_request "$(echo "$BODY" | jget error)"
check "auth_method multiple" multiple "$(stat last_token_request.auth_method)"
req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=client_credentials -d scope=api.read
check "client_credentials 200" 200 "$STATUS"; check "cc no refresh_token" "" "$(echo "$BODY" | jget refresh_token)"
me "$(echo "$BODY" | jget access_token)"; check "cc token api/me" 200 "$STATUS"
check "cc token has no user" "" "$(echo "$BODY" | jget user)"
req POST /oauth/token -d grant_type=client_credentials -d client_id=tokenrun-public
checkc "public client_credentials refused" [ "$STATUS" -ge 400 ]
req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=client_credentials -d scope=admin
check "unknown scope -> invalid_scope" invalid_scope "$(echo "$BODY" | jget error)"
req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=password -d username=a -d password=b
check "unsupported grant" unsupported_grant_type "$(echo "$BODY" | jget error)"

# ---- config: rotation off, lifetime --------------------------------------
post_json /test/config '{"rotate_refresh_tokens": false, "access_token_lifetime": 120}'
check "config echo" false "$(echo "$BODY" | jget rotate_refresh_tokens)"
NRT=$(seed | jget refresh_token)
refresh_basic "$NRT"; check "no-rotate refresh 200" 200 "$STATUS"
check "no-rotate: no new refresh_token" "" "$(echo "$BODY" | jget refresh_token)"
check "lifetime config" 120 "$(echo "$BODY" | jget expires_in)"
refresh_basic "$NRT"; check "no-rotate: old refresh token still valid" 200 "$STATUS"
post_json /test/config '{"bogus": 1}'; check "unknown config key 400" 400 "$STATUS"

# ---- faults --------------------------------------------------------------
reset; FRT=$(seed | jget refresh_token)
post_json /test/fault '{"kind":"status","status":503,"retry_after":2,"body":"down"}'
refresh_basic "$FRT"; check "fault status 503" 503 "$STATUS"; check "Retry-After" 2 "$(hdr Retry-After)"
check "fault status body" down "$BODY"
refresh_basic "$FRT"; check "fault consumed -> normal" 200 "$STATUS"; FRT=$(echo "$BODY" | jget refresh_token)
check "faulted requests counted" 2 "$(stat token_requests)"
post_json /test/fault '{"kind":"error","error":"invalid_grant"}'
refresh_basic "$FRT"; check "fault error 400" 400 "$STATUS"; check "fault error body" invalid_grant "$(echo "$BODY" | jget error)"
post_json /test/fault '{"kind":"error","error":"invalid_client"}'
refresh_basic "$FRT"; check "fault invalid_client 401" 401 "$STATUS"
post_json /test/fault '{"kind":"error","error":"temporarily_unavailable","status":503}'
refresh_basic "$FRT"; check "fault error custom status" 503 "$STATUS"
post_json /test/fault '{"kind":"html"}'
refresh_basic "$FRT"; check "fault html 200" 200 "$STATUS"
checkc "fault html content-type" grep -qi '^Content-Type: text/html' "$HDRS"
checkc "fault html body" grep -q '<html' "$TMP/body"
post_json /test/fault '{"kind":"json","body":"{\"access_token\": \"abc"}'
refresh_basic "$FRT"; check "fault json raw body" '{"access_token": "abc' "$BODY"
checkc "fault json content-type" grep -qi '^Content-Type: application/json' "$HDRS"
post_json /test/fault '{"kind":"json","body":"{\"access_token\": 42}","content_type":"text/plain"}'
refresh_basic "$FRT"; checkc "fault json custom content-type" grep -qi '^Content-Type: text/plain' "$HDRS"
post_json /test/fault '{"kind":"redirect","location":"http://127.0.0.1:1/x"}'
refresh_basic "$FRT"; check "fault redirect 302" 302 "$STATUS"; check "fault redirect Location" "http://127.0.0.1:1/x" "$(hdr Location)"
post_json /test/fault '{"kind":"close"}'
refresh_basic "$FRT"; check "fault close: empty reply (curl 52)" 52 "$CURLRC"
post_json /test/fault '{"kind":"delay","seconds":1}'
T0=$(date +%s%N); refresh_basic "$FRT"; MS=$(( ($(date +%s%N)-T0)/1000000 ))
check "fault delay then normal" 200 "$STATUS"; checkc "delay >= 1s" [ "$MS" -ge 950 ]; FRT=$(echo "$BODY" | jget refresh_token)
post_json /test/fault '{"kind":"hang"}'
curl -s -o /dev/null --max-time 3 -u tokenrun-test:test-secret -d grant_type=refresh_token \
  --data-urlencode "refresh_token=$FRT" "$URL/oauth/token" & HANG=$!
sleep 0.3
T0=$(date +%s%N); req GET /test/stats; MS=$(( ($(date +%s%N)-T0)/1000000 ))
check "server responsive during hang" 200 "$STATUS"; checkc "  ...quickly" [ "$MS" -lt 500 ]
refresh_basic "$FRT"; check "token endpoint works during hang" 200 "$STATUS"
wait $HANG; check "hung request times out (curl 28)" 28 $?
post_json /test/fault '{"kind":"status","status":500,"count":2}'
check "fault count queued" 2 "$(echo "$BODY" | jget queued)"
req POST /oauth/token -d grant_type=x; check "count 1/2" 500 "$STATUS"
req POST /oauth/token -d grant_type=x; check "count 2/2" 500 "$STATUS"
req POST /oauth/token -d grant_type=x; check "count exhausted" 400 "$STATUS"
post_json /test/fault '{"kind":"html","count":5}'; post_json /test/fault '{"clear":true}'
check "clear" 0 "$(echo "$BODY" | jget queued)"
req POST /oauth/token -d grant_type=x; check "cleared faults -> normal" 400 "$STATUS"
post_json /test/fault '{"kind":"nope"}'; check "unknown fault kind 400" 400 "$STATUS"

# ---- device flow ---------------------------------------------------------
reset
req POST /oauth/device -d client_id=tokenrun-public -d "scope=api.read offline_access"
check "device 200" 200 "$STATUS"
DC=$(echo "$BODY" | jget device_code); UC=$(echo "$BODY" | jget user_code)
check "device verification_uri" "$URL/device" "$(echo "$BODY" | jget verification_uri)"
checkc "device verification_uri_complete" bash -c "echo '$BODY' | grep -q 'user_code=$UC'"
check "device interval" 1 "$(echo "$BODY" | jget interval)"
check "device expires_in" 600 "$(echo "$BODY" | jget expires_in)"
poll() { req POST /oauth/token -d "grant_type=urn:ietf:params:oauth:grant-type:device_code" -d "device_code=$1" -d client_id=tokenrun-public; }
poll "$DC"; check "device pending" authorization_pending "$(echo "$BODY" | jget error)"
poll "$DC"; check "device slow_down" slow_down "$(echo "$BODY" | jget error)"
req GET "/device?user_code=$UC"; check "device page" 200 "$STATUS"
post_json /test/device/approve "{\"user_code\":\"$UC\",\"user\":\"bob\"}"; check "approve 200" 200 "$STATUS"
poll "$DC"; check "device approved -> token" 200 "$STATUS"
check "device refresh_token present" 1 "$([ -n "$(echo "$BODY" | jget refresh_token)" ] && echo 1)"
me "$(echo "$BODY" | jget access_token)"; check "device token user" bob "$(echo "$BODY" | jget user)"
poll "$DC"; check "device code single-use" invalid_grant "$(echo "$BODY" | jget error)"
req POST /oauth/device -u tokenrun-test:test-secret; DC=$(echo "$BODY" | jget device_code)
post_json /test/device/deny "{\"user_code\":\"$(echo "$BODY" | jget user_code)\"}"
req POST /oauth/token -u tokenrun-test:test-secret -d "grant_type=urn:ietf:params:oauth:grant-type:device_code" -d "device_code=$DC"
check "device denied" access_denied "$(echo "$BODY" | jget error)"
post_json /test/config '{"device_expires_in": 1, "device_interval": 3}'
req POST /oauth/device -d client_id=tokenrun-public; DC=$(echo "$BODY" | jget device_code)
check "device_interval config" 3 "$(echo "$BODY" | jget interval)"
sleep 1.2; poll "$DC"; check "device expired" expired_token "$(echo "$BODY" | jget error)"
post_json /test/device/approve '{"user_code":"NOPE-NOPE"}'; check "approve unknown 404" 404 "$STATUS"

# ---- authorization code + PKCE (redirect followed by hand) ---------------
reset
read -r VERIFIER CHALLENGE < <("$PY" -c '
import base64, hashlib, secrets
v = secrets.token_urlsafe(48)
print(v, base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode())')
REDIR="http://127.0.0.1:53682/callback"
urlq() { "$PY" -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$1"; }
authz() { req GET "/oauth/authorize?response_type=code&redirect_uri=$(urlq "$REDIR")&state=st123&$1"; }
qparam() { hdr Location | "$PY" -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlsplit(sys.stdin.read().strip()).query).get(sys.argv[1], [""])[0])' "$1"; }
authz "client_id=tokenrun-public&scope=api.read%20offline_access&code_challenge=$CHALLENGE&code_challenge_method=S256&test_user=carol"
check "authorize 302" 302 "$STATUS"; checkc "redirect to redirect_uri" bash -c "[[ '$(hdr Location)' == $REDIR\?* ]]"
check "state echoed" st123 "$(qparam state)"; CODE=$(qparam code)
req POST /oauth/token -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=$REDIR" -d client_id=tokenrun-public -d "code_verifier=bad${VERIFIER:3}"
check "wrong verifier -> invalid_grant" invalid_grant "$(echo "$BODY" | jget error)"
req POST /oauth/token -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=$REDIR" -d client_id=tokenrun-public -d "code_verifier=$VERIFIER"
check "code exchange 200" 200 "$STATUS"; CAT=$(echo "$BODY" | jget access_token)
check "code scope" "api.read offline_access" "$(echo "$BODY" | jget scope)"
checkc "code refresh_token" [ -n "$(echo "$BODY" | jget refresh_token)" ]
me "$CAT"; check "code token user" carol "$(echo "$BODY" | jget user)"
req POST /oauth/token -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=$REDIR" -d client_id=tokenrun-public -d "code_verifier=$VERIFIER"
check "code replay -> invalid_grant" invalid_grant "$(echo "$BODY" | jget error)"
me "$CAT"; check "code replay revokes its tokens" 401 "$STATUS"
authz "client_id=tokenrun-public"; check "public w/o PKCE -> invalid_request" invalid_request "$(qparam error)"
authz "client_id=tokenrun-public&code_challenge=$CHALLENGE&code_challenge_method=plain"
check "plain PKCE refused" invalid_request "$(qparam error)"
authz "client_id=tokenrun-test&test_deny=1"; check "deny -> access_denied" access_denied "$(qparam error)"
check "deny keeps state" st123 "$(qparam state)"
req GET "/oauth/authorize?response_type=code&client_id=tokenrun-test&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
check "non-loopback redirect_uri -> 400, no redirect" 400 "$STATUS"
REDIR="http://[::1]:8080/cb"; authz "client_id=tokenrun-test"; check "[::1] redirect ok" 302 "$STATUS"
REDIR="http://127.0.0.1:40001/cb"; authz "client_id=tokenrun-test&scope=api.write"; CODE=$(qparam code)
req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=http://127.0.0.1:40002/cb"
check "redirect_uri mismatch -> invalid_grant" invalid_grant "$(echo "$BODY" | jget error)"
req POST /oauth/token -u tokenrun-test:test-secret -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=$REDIR"
check "confidential code w/o PKCE" 200 "$STATUS"; check "code scope api.write" api.write "$(echo "$BODY" | jget scope)"
req GET /.well-known/oauth-authorization-server
check "metadata token_endpoint" "$URL/oauth/token" "$(echo "$BODY" | jget token_endpoint)"

# ---- revocation ----------------------------------------------------------
reset
R=$(seed); RAT=$(echo "$R" | jget access_token); RRT=$(echo "$R" | jget refresh_token)
req POST /oauth/revoke -u tokenrun-test:test-secret -d "token=$RAT" -d token_type_hint=access_token
check "revoke access 200" 200 "$STATUS"
me "$RAT"; check "revoked access -> 401" 401 "$STATUS"
refresh_basic "$RRT"; check "refresh survives access revocation" 200 "$STATUS"
RAT=$(echo "$BODY" | jget access_token); RRT=$(echo "$BODY" | jget refresh_token)
req POST /oauth/revoke -u tokenrun-test:test-secret -d "token=$RRT"; check "revoke refresh 200" 200 "$STATUS"
refresh_basic "$RRT"; check "revoked refresh -> invalid_grant" invalid_grant "$(echo "$BODY" | jget error)"
me "$RAT"; check "refresh revocation kills grant" 401 "$STATUS"
check "no reuse event for revoked token" 0 "$(stat reuse_events)"
PUB=$(seed '{"client_id":"tokenrun-public"}' | jget refresh_token)
req POST /oauth/revoke -d "token=$PUB" -d client_id=tokenrun-public; check "public revoke 200" 200 "$STATUS"
req POST /oauth/revoke -u tokenrun-test:test-secret -d token=unknown; check "unknown token revoke 200" 200 "$STATUS"
req POST /oauth/revoke -d token=x; check "unauthenticated revoke 401" 401 "$STATUS"
check "revocations stat" 3 "$(stat revocations)"

# ---- revoke-user ---------------------------------------------------------
A1=$(seed '{"user":"alice"}' | jget access_token); A2=$(seed '{"user":"alice","client_id":"tokenrun-post"}' | jget access_token)
B1=$(seed '{"user":"bob"}' | jget access_token)
post_json /test/revoke-user '{"user":"alice"}'; check "revoke-user count" 2 "$(echo "$BODY" | jget revoked)"
me "$A1"; check "alice token 1 dead" 401 "$STATUS"; me "$A2"; check "alice token 2 dead" 401 "$STATUS"
me "$B1"; check "bob token alive" 200 "$STATUS"

# ---- child.py ------------------------------------------------------------
C=$(seed); CAT=$(echo "$C" | jget access_token)
OUT=$(PROVIDER_URL=$URL TOKEN=$CAT "$PY" "$HERE/child.py"); check "child exit 0" 0 $?
check "child status" 200 "$(echo "$OUT" | jget status)"; check "child user" alice "$(echo "$OUT" | jget user)"
OUT=$(PROVIDER_URL=$URL TOKEN=nope "$PY" "$HERE/child.py"); check "child exit 3 on 401" 3 $?
check "child status 401" 401 "$(echo "$OUT" | jget status)"
echo "$CAT" >"$TMP/tok"
OUT=$(TOKFILE="$TMP/tok" "$PY" "$HERE/child.py" --file-env TOKFILE --url "$URL"); check "child --file-env" 0 $?
OUT=$(MYTOK=$CAT PROVIDER_URL=$URL "$PY" "$HERE/child.py" --env MYTOK --exit 7); check "child --env/--exit" 7 $?
OUT=$(PROVIDER_URL=$URL TOKEN=$CAT SECRET_X=1 "$PY" "$HERE/child.py" --print-env SECRET_X NOT_THERE)
check "child --print-env" "SECRET_X=set NOT_THERE=unset" "$(echo "$OUT" | head -2 | tr '\n' ' ' | sed 's/ $//')"
check "child json last line" 200 "$(echo "$OUT" | tail -1 | jget status)"
PROVIDER_URL=http://127.0.0.1:1 TOKEN=x "$PY" "$HERE/child.py" >/dev/null; check "child exit 4 unreachable" 4 $?
PROVIDER_URL=$URL "$PY" "$HERE/child.py" >/dev/null; check "child exit 5 no token" 5 $?
PROVIDER_URL=$URL TOKEN=$CAT "$PY" "$HERE/child.py" --sleep 5 --trap-signals >"$TMP/child" & CP=$!
sleep 0.5; kill -TERM $CP; wait $CP; check "child trap SIGTERM exit 143" 143 $?
check "child reports signal" SIGTERM "$(jget signal <"$TMP/child")"

# ---- clock skew ----------------------------------------------------------
skew_of() { "$PY" -c 'import sys, time, email.utils as e; print(round(e.parsedate_to_datetime(sys.argv[1]).timestamp() - time.time()))' "$1"; }
post_json /test/config '{"clock_skew": 3600}'; req GET /test/stats; S=$(skew_of "$(hdr Date)")
checkc "Date skewed by +3600 (got $S)" [ "$S" -ge 3595 ] && [ "$S" -le 3601 ]
refresh_basic x; S=$(skew_of "$(hdr Date)"); checkc "token endpoint Date skewed too" [ "$S" -ge 3595 ]
post_json /test/config '{"clock_skew": -600}'; req GET /api/me; S=$(skew_of "$(hdr Date)")
checkc "Date skewed by -600 (got $S)" [ "$S" -ge -605 ] && [ "$S" -le -599 ]

# ---- reset ---------------------------------------------------------------
reset; req GET /test/stats
check "reset stats" 0 "$(echo "$BODY" | jget token_requests)"; check "reset last_token_request" "" "$(echo "$BODY" | jget last_token_request)"
check "reset config" 0 "$(curl -s "$URL/test/config" | jget clock_skew)"
me "$B1"; check "reset drops tokens" 401 "$STATUS"

# ---- shutdown ------------------------------------------------------------
post_json /test/fault '{"kind":"hang"}'
curl -s -o /dev/null --max-time 5 -d grant_type=x "$URL/oauth/token" & HANG=$!; sleep 0.3
T0=$(date +%s%N); kill -TERM "$PID"; wait "$PID"; RC=$?; MS=$(( ($(date +%s%N)-T0)/1000000 ))
check "SIGTERM exit 0 (with a hung request)" 0 "$RC"; checkc "SIGTERM exits fast ($MS ms)" [ "$MS" -lt 2000 ]
wait $HANG 2>/dev/null
start_server; kill -INT "$PID"; wait "$PID"; check "SIGINT exit 0" 0 $?; PID=""
checkc "no tracebacks on stderr" bash -c "! grep -q Traceback '$TMP/err'"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
