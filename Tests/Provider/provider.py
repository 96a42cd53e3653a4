#!/usr/bin/env python3
"""A real, in-memory OAuth 2.0 authorization server for tokenrun's end-to-end tests.

Built on Authlib's Flask integration: the token, authorization, device and
revocation endpoints are Authlib's own grant/endpoint classes; this file only
supplies the storage callbacks (query_client, save_token, ...) and a few
test-only knobs (seeding, faults, clock skew, stats).

    python3 provider.py --port 0 [--host 127.0.0.1] [--access-token-lifetime N]
                        [--device-interval N] [--device-expires-in N]
                        [--no-rotate] [--access-log] [--tls CERT KEY]...

Prints one line "TLS https://127.0.0.1:<port>" per --tls listener, then one
line "READY http://127.0.0.1:<port>" to stdout once every socket is listening.
Everything else (errors, optional access log) goes to stderr. Loopback only.
The plain-http listener is always there (AUTHLIB_INSECURE_TRANSPORT is set for
it): the tests' control calls use it even when the token endpoint they point
tokenrun at is one of the https listeners, which serve the same app and state.
See README.md for the endpoint list.
"""

import os

# Authlib refuses plain-http OAuth requests unless this is set; we only ever
# listen on loopback, which is exactly the case RFC 8252 allows.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

import argparse, email.utils, hmac, ipaddress, json, signal, ssl, sys, threading, time, uuid  # noqa: E401,E402
from urllib.parse import urlsplit  # noqa: E402

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector  # noqa: E402
from authlib.oauth2 import OAuth2Error  # noqa: E402
from authlib.oauth2.rfc6749 import (  # noqa: E402
    AuthorizationCodeMixin, ClientMixin, TokenMixin, grants, list_to_scope, scope_to_list)
from authlib.oauth2.rfc6749.errors import (  # noqa: E402
    InvalidGrantError, InvalidRequestError, InvalidScopeError)
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError  # noqa: E402
from authlib.oauth2.rfc7009 import RevocationEndpoint  # noqa: E402
from authlib.oauth2.rfc7636 import CodeChallenge  # noqa: E402
from authlib.oauth2.rfc8628 import (  # noqa: E402
    DeviceAuthorizationEndpoint, DeviceCodeGrant, DeviceCredentialDict)
from flask import Flask, Response, jsonify, request  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

SCOPES = ["api.read", "api.write", "offline_access"]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
AUTH_CODE_LIFETIME = 600
ALL_AUTH = ["client_secret_basic", "client_secret_post", "none"]

# ==== State =================================================================
# One process-wide lock guards everything below. The whole Authlib token
# endpoint run happens under it, so two refreshes of the same refresh token
# are strictly serialized: the first rotates it, the second sees a rotated
# token (a reuse event).
LOCK = threading.RLock()
SHUTDOWN = threading.Event()      # set on SIGTERM/SIGINT: releases "hang" faults
DEFAULT_CONFIG = {
    "access_token_lifetime": 3600,
    "rotate_refresh_tokens": True,
    "clock_skew": 0,
    "device_interval": 1,
    "device_expires_in": 600,
    "strict_client_auth": True,   # a client may only use its registered auth method
}
FAULT_KINDS = {"status", "error", "html", "json", "delay", "hang", "close", "redirect", "corrupt"}
ACCESS_LOG = False


class State:
    def __init__(self):
        self.reset()

    def reset(self):
        self.config = dict(DEFAULT_CONFIG)
        self.stats = {k: 0 for k in (
            "token_requests", "refresh_requests", "refresh_success", "reuse_events",
            "api_requests", "api_ok", "api_unauthorized", "revocations",
            "revocation_requests", "authorize_requests", "device_authorizations")}
        self.stats["last_token_request"] = None
        self.faults = []          # [{"fault": {...}, "remaining": n}, ...]
        self.tokens = []          # every Token ever issued (families are revoked by scan)
        self.by_access = {}
        self.by_refresh = {}
        self.codes = {}           # authorization code -> AuthCode
        self.devices = {}         # device_code -> DeviceCredentialDict
        self.device_grants = {}   # user_code -> (user, approved)

    def pop_fault(self):
        if not self.faults:
            return None
        head = self.faults[0]
        head["remaining"] -= 1
        if head["remaining"] <= 0:
            self.faults.pop(0)
        return head["fault"]


S = State()


# ==== Models (Authlib mixins) ===============================================
class Client(ClientMixin):
    def __init__(self, client_id, secret, auth_method, grant_types):
        self.client_id, self.secret, self.auth_method = client_id, secret, auth_method
        self.grant_types = set(grant_types)

    @property
    def is_public(self): return self.auth_method == "none"
    def get_client_id(self): return self.client_id
    def get_default_redirect_uri(self): return None  # redirect_uri is always required

    def get_allowed_scope(self, scope):
        if not scope:           # RFC 6749 3.3: omitted scope -> default (everything)
            return list_to_scope(SCOPES)
        return list_to_scope([s for s in scope_to_list(scope) if s in SCOPES])

    def check_redirect_uri(self, redirect_uri):
        # RFC 8252 7.3: loopback IP literal, any port, any path.
        try:
            u = urlsplit(redirect_uri)
            return u.scheme == "http" and u.hostname in ("127.0.0.1", "::1") and not u.fragment
        except ValueError:
            return False

    def check_client_secret(self, client_secret):
        return bool(self.secret) and hmac.compare_digest(self.secret, client_secret or "")

    def check_endpoint_auth_method(self, method, endpoint):
        if not S.config["strict_client_auth"] and not self.is_public:
            return method in ("client_secret_basic", "client_secret_post")
        return method == self.auth_method

    def check_response_type(self, response_type): return response_type == "code"
    def check_grant_type(self, grant_type): return grant_type in self.grant_types


_COMMON = ["authorization_code", "refresh_token", DEVICE_GRANT]
CLIENTS = {c.client_id: c for c in (
    Client("tokenrun-test", "test-secret", "client_secret_basic", _COMMON + ["client_credentials"]),
    Client("tokenrun-post", "post-secret", "client_secret_post", _COMMON + ["client_credentials"]),
    Client("tokenrun-public", None, "none", _COMMON),
)}


def query_client(client_id):
    return CLIENTS.get(client_id)


class Token(TokenMixin):
    """One issuance: an access token plus (maybe) a refresh token. Tokens that
    descend from the same login share a `family` id (for reuse revocation)."""

    def __init__(self, data, client_id, user, family, grant_type):
        self.access_token = data["access_token"]
        self.refresh_token = data.get("refresh_token")
        self.expires_in = int(data.get("expires_in", 0))
        self.scope = data.get("scope", "")
        self.client_id, self.user, self.family, self.grant_type = client_id, user, family, grant_type
        self.issued_at = time.time()
        self.access_revoked = False
        self.refresh_revoked = False
        self.rotated = False        # refresh token replaced by a newer one

    def check_client(self, client): return self.client_id == client.get_client_id()
    def get_scope(self): return self.scope
    def get_expires_in(self): return self.expires_in
    def is_expired(self): return time.time() >= self.issued_at + self.expires_in
    def is_revoked(self): return self.access_revoked
    def get_user(self): return self.user
    def get_client(self): return CLIENTS[self.client_id]


class AuthCode(AuthorizationCodeMixin):
    def __init__(self, code, client_id, redirect_uri, scope, user, challenge, method):
        self.code, self.client_id, self.redirect_uri = code, client_id, redirect_uri
        self.scope, self.user = scope, user
        self.code_challenge, self.code_challenge_method = challenge, method
        self.expires_at = time.time() + AUTH_CODE_LIFETIME
        self.used = False
        self.family = uuid.uuid4().hex

    def get_redirect_uri(self): return self.redirect_uri
    def get_scope(self): return self.scope


def store_token(data, client_id, user, family, grant_type):
    tok = Token(data, client_id, user, family, grant_type)
    S.tokens.append(tok)
    S.by_access[tok.access_token] = tok
    if tok.refresh_token:
        S.by_refresh[tok.refresh_token] = tok
    return tok


def revoke_where(pred):
    n = 0
    for tok in S.tokens:
        if pred(tok) and not (tok.access_revoked and tok.refresh_revoked):
            tok.access_revoked = tok.refresh_revoked = True
            n += 1
    return n


def revoke_family(family):
    return revoke_where(lambda t: t.family == family)


def save_token(token, req):
    """Authlib callback: persist a freshly generated token dict."""
    gt = req.payload.grant_type
    if gt == "refresh_token":
        family = req.refresh_token.family
    elif gt == "authorization_code":
        family = req.authorization_code.family
    else:
        family = uuid.uuid4().hex
    store_token(token, req.client.get_client_id(), req.user, family, gt)


def generate_bearer_token(grant_type, client, user=None, scope=None, expires_in=None,
                          include_refresh_token=True):
    """Registered as Authlib's default token generator. Unlike Authlib's
    BearerTokenGenerator it always emits expires_in (even 0 / negative, which
    /test/seed uses) and uses the runtime-configurable lifetime."""
    scope = client.get_allowed_scope(scope)
    if scope is None:
        raise InvalidScopeError()
    if expires_in is None:
        expires_in = S.config["access_token_lifetime"]
    tok = {"access_token": generate_token(42), "token_type": "Bearer", "expires_in": int(expires_in)}
    if include_refresh_token:
        tok["refresh_token"] = generate_token(48)
    tok["scope"] = scope
    return tok


# ==== Grants and endpoints (Authlib subclasses) =============================
class S256OnlyChallenge(CodeChallenge):
    """RFC 7636 extension; `required=True` makes code_verifier mandatory for
    public clients. We additionally accept only S256 (no "plain")."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        if self.request.client.is_public and not self.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("PKCE (S256 code_challenge) is required for public clients",
                                      state=self.request.payload.state, redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code, req):
        data = req.payload.data
        S.codes[code] = AuthCode(code, req.client.get_client_id(), data.get("redirect_uri"),
                                 req.scope, req.user, data.get("code_challenge"),
                                 data.get("code_challenge_method"))

    def query_authorization_code(self, code, client):
        ac = S.codes.get(code)
        if ac is None or ac.client_id != client.get_client_id():
            return None
        if ac.used:                      # RFC 6749 4.1.2: code replay -> revoke its tokens
            revoke_family(ac.family)
            return None
        return None if time.time() > ac.expires_at else ac

    def delete_authorization_code(self, ac):
        ac.used = True

    def authenticate_user(self, ac):
        return ac.user


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True    # rotation; switchable via /test/config

    def authenticate_refresh_token(self, refresh_token):
        tok = S.by_refresh.get(refresh_token)
        if tok is None:
            return None
        if tok.rotated:
            # Reuse of a refresh token that was already rotated away: assume
            # theft, kill the whole grant family (including the newest token).
            S.stats["reuse_events"] += 1
            revoke_family(tok.family)
            raise InvalidGrantError("Refresh token reuse detected; the grant has been revoked.")
        return None if tok.refresh_revoked else tok

    def authenticate_user(self, refresh_token):
        return refresh_token.user or "-"   # client_credentials never has refresh tokens

    def issue_token(self, user, refresh_token):
        self.INCLUDE_NEW_REFRESH_TOKEN = S.config["rotate_refresh_tokens"]
        return super().issue_token(user, refresh_token)

    def revoke_old_credential(self, refresh_token):
        if S.config["rotate_refresh_tokens"]:
            refresh_token.rotated = True
            refresh_token.refresh_revoked = True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class DeviceGrant(DeviceCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH
    SLOW_DOWN_TOLERANCE = 0.1  # seconds of jitter forgiven before answering slow_down

    def query_device_credential(self, device_code):
        cred = S.devices.get(device_code)
        if cred is None:   # Authlib checks the client_id match itself
            raise InvalidGrantError("Unknown or already used device_code.")
        return cred

    def query_user_grant(self, user_code):
        return S.device_grants.get(user_code)

    def should_slow_down(self, cred):
        # RFC 8628 3.5: polled faster than `interval` -> slow_down, and the
        # interval grows by 5 s for this and all later requests.
        now, last = time.time(), cred.get("last_poll")
        cred["last_poll"] = now
        if last is not None and now - last < cred["interval"] - self.SLOW_DOWN_TOLERANCE:
            cred["interval"] += 5
            return True
        return False

    def create_token_response(self):
        result = super().create_token_response()
        cred = self.request.credential      # device codes are single-use
        S.devices.pop(cred["device_code"], None)
        S.device_grants.pop(cred["user_code"], None)
        return result


class DeviceEndpoint(DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = ALL_AUTH

    @property
    def EXPIRES_IN(self):
        return S.config["device_expires_in"]

    @property
    def INTERVAL(self):
        return S.config["device_interval"]

    def get_verification_uri(self):
        return request.host_url.rstrip("/") + "/device"

    def save_device_credential(self, client_id, scope, data):
        S.stats["device_authorizations"] += 1
        S.devices[data["device_code"]] = DeviceCredentialDict(
            client_id=client_id, scope=scope, expires_at=time.time() + data["expires_in"], **data)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ALL_AUTH

    def query_token(self, token_string, token_type_hint):
        order = [S.by_refresh, S.by_access] if token_type_hint == "refresh_token" \
            else [S.by_access, S.by_refresh]
        for index in order:
            if token_string in index:
                return index[token_string]
        return None

    def revoke_token(self, token, req):
        S.stats["revocations"] += 1
        if req.form["token"] == token.refresh_token:
            revoke_family(token.family)      # refresh token: the whole grant dies
        else:
            token.access_revoked = True      # access token: only that one


class BearerValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return S.by_access.get(token_string)


# ==== Flask app =============================================================
app = Flask(__name__)
authorization = AuthorizationServer(app, query_client=query_client, save_token=save_token)
authorization.scopes_supported = SCOPES
authorization.register_token_generator("default", generate_bearer_token)
authorization.register_grant(AuthorizationCodeGrant, [S256OnlyChallenge(required=True)])
authorization.register_grant(RefreshTokenGrant)
authorization.register_grant(ClientCredentialsGrant)
authorization.register_grant(DeviceGrant)
authorization.register_endpoint(DeviceEndpoint)
authorization.register_endpoint(Revocation)
require_oauth = ResourceProtector()
require_oauth.register_token_validator(BearerValidator())


def json_error(status, error, description=None, headers=None):
    body = {"error": error}
    if description:
        body["error_description"] = description
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def body_json():
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


def describe_token_request():
    """What the client sent, minus secrets (for /test/stats)."""
    form = request.form
    auth = request.headers.get("Authorization", "")
    basic = auth[:6].lower() == "basic "
    client_id = form.get("client_id")
    if basic:
        try:
            from authlib.oauth2.rfc6749.util import extract_basic_authorization
            client_id = extract_basic_authorization(request.headers)[0] or client_id
        except Exception:  # malformed header: keep what we have
            pass
    if basic and "client_secret" in form:
        method = "multiple"
    elif basic:
        method = "client_secret_basic"
    elif "client_secret" in form:
        method = "client_secret_post"
    else:
        method = "none"
    return {"grant_type": form.get("grant_type"), "client_id": client_id, "auth_method": method,
            "had_basic_auth": basic, "form_keys": sorted(form.keys())}


CAPTIVE_PORTAL = """<!DOCTYPE html>
<html><head><title>Hotel WiFi - Sign in</title></head>
<body><h1>Welcome to Hotel WiFi</h1><p>Please accept the terms to continue.</p>
<form method="post" action="/accept"><button>Connect</button></form></body></html>
"""


def apply_fault(fault):
    """Turn a queued fault into a response. Returns None to proceed normally."""
    kind = fault["kind"]
    if kind == "delay":
        time.sleep(float(fault.get("seconds", 5)))
        return None
    if kind in ("hang", "close"):
        if kind == "hang":
            SHUTDOWN.wait()              # only this worker thread blocks
        request.environ["provider.drop"] = True   # DropMiddleware closes the socket
        return Response(b"")
    if kind == "status":
        resp = Response(fault.get("body", ""), status=int(fault.get("status", 503)),
                        content_type=fault.get("content_type", "text/plain"))
        if fault.get("retry_after") is not None:
            resp.headers["Retry-After"] = str(fault["retry_after"])
        return resp
    if kind == "error":
        err = fault.get("error", "invalid_grant")
        status = int(fault.get("status", 401 if err == "invalid_client" else 400))
        hdrs = {"WWW-Authenticate": 'Basic realm="tokenrun-provider"'} if status == 401 else {}
        return json_error(status, err, fault.get("error_description", "injected fault"), hdrs)
    if kind == "html":
        return Response(CAPTIVE_PORTAL, status=int(fault.get("status", 200)), content_type="text/html")
    if kind == "json":
        return Response(fault.get("body", ""), status=int(fault.get("status", 200)),
                        content_type=fault.get("content_type", "application/json"))
    if kind == "redirect":
        return Response("", status=int(fault.get("status", 302)),
                        headers={"Location": fault.get("location", "http://127.0.0.1:1/x")})
    raise AssertionError(kind)


def corrupt_member(resp, fault):
    """The "corrupt" fault: the token request really ran (a refresh rotated),
    then one member of its JSON answer is replaced, or removed with "remove"."""
    data = resp.get_json(silent=True)
    if resp.status_code != 200 or not isinstance(data, dict):
        return resp
    member = fault.get("member", "access_token")
    if fault.get("remove"):
        data.pop(member, None)
    else:
        data[member] = fault.get("value")
    resp.set_data(json.dumps(data))
    return resp


def with_fault_date(resp, fault):
    """A fault's "date_offset" (seconds) shifts this one answer's Date header
    instead of clock_skew. werkzeug writes Date itself (a Date set here would
    be a second one), so the offset goes to QuietHandler through the environ."""
    if fault is not None and fault.get("date_offset") is not None:
        request.environ["provider.date_offset"] = float(fault["date_offset"])
    return resp


@app.post("/oauth/token")
def token_endpoint():
    info = describe_token_request()
    is_refresh = info["grant_type"] == "refresh_token"
    with LOCK:
        S.stats["token_requests"] += 1
        S.stats["refresh_requests"] += int(is_refresh)
        S.stats["last_token_request"] = info
        fault = S.pop_fault()
    if fault is not None and fault["kind"] != "corrupt":   # faults run outside the lock
        resp = apply_fault(fault)
        if resp is not None:
            return with_fault_date(resp, fault)
    if info["auth_method"] == "multiple":  # RFC 6749 2.3: MUST NOT use more than one
        return json_error(400, "invalid_request", "More than one client authentication method used.")
    with LOCK:
        resp = authorization.create_token_response()
        if is_refresh and resp.status_code == 200:
            S.stats["refresh_success"] += 1
    if fault is not None and fault["kind"] == "corrupt":
        resp = corrupt_member(resp, fault)
    return with_fault_date(resp, fault)


@app.get("/oauth/authorize")
def authorize():
    # No login page: the "logged-in" user comes from ?test_user=, consent is
    # automatic unless ?test_deny=1.
    user = request.args.get("test_user", "alice")
    with LOCK:
        S.stats["authorize_requests"] += 1
        try:
            grant = authorization.get_consent_grant(end_user=user)
        except OAuth2Error as error:
            return authorization.handle_error_response(request, error)
        granted = None if request.args.get("test_deny") == "1" else user
        return authorization.create_authorization_response(grant_user=granted, grant=grant)


@app.post("/oauth/device")
def device_authorization():
    with LOCK:
        return authorization.create_endpoint_response(DeviceEndpoint.ENDPOINT_NAME)


@app.post("/oauth/revoke")
def revoke():
    with LOCK:
        S.stats["revocation_requests"] += 1
        return authorization.create_endpoint_response(Revocation.ENDPOINT_NAME)


@app.get("/api/me")
def api_me():
    with LOCK:
        S.stats["api_requests"] += 1
        try:
            token = require_oauth.acquire_token()
        except OAuth2Error as error:
            S.stats["api_unauthorized"] += 1
            if not isinstance(error, InvalidTokenError):  # missing / non-Bearer header
                error = InvalidTokenError(description="Missing or malformed bearer token.")
            return json_error(401, "invalid_token", error.get_error_description(),
                              dict(error.get_headers()))
        S.stats["api_ok"] += 1
        return jsonify(user=token.user, scope=token.scope, client_id=token.client_id)


@app.get("/device")
def device_page():
    code = request.args.get("user_code", "")
    return Response(f"<html><body><h1>Device login</h1><p>Code: {code}</p>"
                    "<p>Tests approve via POST /test/device/approve.</p></body></html>",
                    content_type="text/html")


@app.get("/.well-known/oauth-authorization-server")
def metadata():
    base = request.host_url.rstrip("/")
    return jsonify(issuer=base, authorization_endpoint=base + "/oauth/authorize",
                   token_endpoint=base + "/oauth/token", revocation_endpoint=base + "/oauth/revoke",
                   device_authorization_endpoint=base + "/oauth/device", scopes_supported=SCOPES,
                   response_types_supported=["code"], code_challenge_methods_supported=["S256"],
                   grant_types_supported=_COMMON + ["client_credentials"],
                   token_endpoint_auth_methods_supported=ALL_AUTH)


# ---- test-only endpoints ----
@app.post("/test/seed")
def test_seed():
    b = body_json()
    client = CLIENTS.get(b.get("client_id", "tokenrun-test"))
    if client is None:
        return json_error(400, "invalid_client", "unknown client_id")
    scope = b.get("scope", "api.read offline_access")
    if not set(scope_to_list(scope) or []).issubset(SCOPES):
        return json_error(400, "invalid_scope")
    user = b.get("user", "alice")
    expires_in = int(b.get("access_expires_in", S.config["access_token_lifetime"]))
    data = generate_bearer_token("authorization_code", client, user, scope, expires_in, True)
    with LOCK:
        store_token(data, client.client_id, user, uuid.uuid4().hex, "seed")
    return jsonify({k: data[k] for k in ("access_token", "refresh_token", "expires_in", "scope")})


@app.route("/test/config", methods=["GET", "POST"])
def test_config():
    if request.method == "POST":
        b = body_json()
        unknown = set(b) - set(DEFAULT_CONFIG)
        if unknown:
            return json_error(400, "invalid_request", "unknown keys: " + ", ".join(sorted(unknown)))
        with LOCK:
            for k, v in b.items():
                if isinstance(DEFAULT_CONFIG[k], bool):
                    S.config[k] = bool(v)
                else:
                    S.config[k] = float(v) if k == "clock_skew" else int(v)
    return jsonify(S.config)


@app.post("/test/fault")
def test_fault():
    b = body_json()
    with LOCK:
        if b.get("clear"):
            S.faults.clear()
        else:
            if b.get("kind") not in FAULT_KINDS:
                return json_error(400, "invalid_request", "kind must be one of " + ", ".join(sorted(FAULT_KINDS)))
            fault = {k: v for k, v in b.items() if k != "count"}
            S.faults.append({"fault": fault, "remaining": max(1, int(b.get("count", 1)))})
        return jsonify(queued=sum(f["remaining"] for f in S.faults))


@app.get("/test/stats")
def test_stats():
    with LOCK:
        return jsonify(S.stats)


@app.post("/test/reset")
def test_reset():
    with LOCK:
        S.reset()
        for k, v in CLI_DEFAULTS.items():
            S.config[k] = v
    return jsonify(ok=True)


@app.post("/test/revoke-user")
def test_revoke_user():
    user = body_json().get("user", "alice")
    with LOCK:
        return jsonify(revoked=revoke_where(lambda t: t.user == user))


def _device_decision(approved):
    b = body_json()
    code = str(b.get("user_code", "")).strip().upper()
    with LOCK:
        cred = next((c for c in S.devices.values() if c["user_code"] == code), None)
        if cred is None or cred.is_expired():
            return json_error(404, "not_found", "unknown or expired user_code")
        S.device_grants[code] = (b.get("user", "alice"), approved)
    return jsonify(ok=True, user_code=code, approved=approved)


@app.post("/test/device/approve")
def test_device_approve():
    return _device_decision(True)


@app.post("/test/device/deny")
def test_device_deny():
    return _device_decision(False)


# ==== HTTP server plumbing ==================================================
class DropMiddleware:
    """If a view marked the request with provider.drop, abort the WSGI call
    before anything is written: werkzeug treats ConnectionAbortedError as a
    dropped connection and closes the socket, so the client gets no bytes."""

    def __init__(self, wsgi):
        self.wsgi = wsgi

    def __call__(self, environ, start_response):
        result = self.wsgi(environ, start_response)
        if environ.get("provider.drop"):
            if hasattr(result, "close"):
                result.close()
            raise ConnectionAbortedError("fault injection: close connection")
        return result


app.wsgi_app = DropMiddleware(app.wsgi_app)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        if ACCESS_LOG:
            super().log_request(code, size)

    def date_time_string(self, timestamp=None):
        # Every response's Date header goes through here: apply clock_skew,
        # or the date_offset of the fault this answer carries.
        offset = getattr(self, "environ", {}).get("provider.date_offset", S.config["clock_skew"])
        return email.utils.formatdate(time.time() + offset, usegmt=True)

    def connection_dropped(self, error, environ=None):
        self.close_connection = True     # don't wait for a keep-alive request


def make_tls_server(host, cert, key):
    """An https listener for the same app on a free port. The handshake is
    left to the request's own thread (the first read does it): done in
    accept(), as werkzeug does it, one client that never finishes it (a
    bare TCP probe, a stalled proxy tunnel) would hold up every other
    connection of this listener."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = make_server(host, 0, app, threaded=True, request_handler=QuietHandler, ssl_context=context)
    tls.socket.do_handshake_on_connect = False
    return tls


CLI_DEFAULTS = {}


def main(argv=None):
    global ACCESS_LOG
    p = argparse.ArgumentParser(description="OAuth 2.0 test provider for tokenrun")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--host", default="127.0.0.1", help="loopback address only")
    p.add_argument("--access-token-lifetime", type=int, default=3600)
    p.add_argument("--device-interval", type=int, default=1)
    p.add_argument("--device-expires-in", type=int, default=600)
    p.add_argument("--no-rotate", action="store_true", help="don't rotate refresh tokens")
    p.add_argument("--access-log", action="store_true", help="log requests to stderr")
    p.add_argument("--tls", nargs=2, action="append", default=[], metavar=("CERT", "KEY"),
                   help="also serve the app over https with this PEM certificate chain and key, "
                        "on another free port (repeatable: one listener each)")
    a = p.parse_args(argv)

    host = "127.0.0.1" if a.host == "localhost" else a.host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        print(f"provider.py: refusing non-loopback --host {a.host!r}", file=sys.stderr)
        return 2

    ACCESS_LOG = a.access_log
    CLI_DEFAULTS.update(access_token_lifetime=a.access_token_lifetime,
                        device_interval=a.device_interval, device_expires_in=a.device_expires_in,
                        rotate_refresh_tokens=not a.no_rotate)
    S.config.update(CLI_DEFAULTS)

    server = make_server(host, a.port, app, threaded=True, request_handler=QuietHandler)
    tls_servers = [make_tls_server(host, cert, key) for cert, key in a.tls]
    for tls in tls_servers:
        threading.Thread(target=tls.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Explicit for SIGINT too: a background job of a non-interactive shell
    # starts with SIGINT ignored, and Python would keep it that way.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    shown = f"[{host}]" if ":" in host else host
    for tls in tls_servers:
        print(f"TLS https://{shown}:{tls.port}", flush=True)
    print(f"READY http://{shown}:{server.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        SHUTDOWN.set()                   # release hanging requests (daemon threads)
        for tls in tls_servers:
            tls.shutdown()
            tls.server_close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
