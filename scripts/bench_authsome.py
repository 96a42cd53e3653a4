"""Case 10 of scripts/bench.py: authsome (PyPI), set up offline beside tokenrun.

setup(scratch, venv, true, log_path) returns a Peer holding one stored OAuth
credential: `peer.run` is `authsome run -- true`, `peer.get` is `authsome
connections inspect tokenrun-test` (authsome has no `get`), both to be run
with `peer.env`. It raises Unavailable, with the reason, when Python >= 3.13
or authsome cannot be had.

* The venv (Python >= 3.13, `pip install $BENCH_AUTHSOME_SPEC`, default
  authsome==0.7.2 — the setup below uses its client API) is `venv`, kept
  between runs; it is made anew only when the spec changes.
* HOME, AUTHSOME_HOME, TMPDIR and XDG_* live under `scratch`; the vault master
  key and the UI-session key are written as files first (no keyring, no prompt).
* authsome's CLI talks to its daemon (uvicorn), which `authsome daemon start`
  leaves running on a free loopback port: Peer.stop() stops it.
* The agent identity is created, registered and claimed by a local account
  through the daemon's own HTTP endpoints (what the browser claim page does).
* The credential: a custom OAuth2 provider "tokenrun-test", logged in through
  authsome's real PKCE flow; the browser step is a direct GET of the daemon's
  callback, and the code is exchanged at a throwaway token endpoint run by the
  setup. The token has a refresh token and a 10-year expiry, so nothing
  refreshes while the bench runs.
"""
import base64
import glob
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PROVIDER = "tokenrun-test"
HANDLE = "bench-agent"
DEFAULT_SPEC = "authsome==0.7.2"

# Runs inside the authsome venv, with authsome's own (proof-of-possession signing) API client.
STORE_OAUTH = r'''
import asyncio, json, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import httpx
from authsome.cli.client import AuthsomeApiClient

final_token_url, access, refresh = sys.argv[1:4]

class TokenEndpoint(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        ok = (form.get("grant_type") == ["authorization_code"] and form.get("client_id") == ["tokenrun-test"]
              and form.get("client_secret") == ["test-secret"])
        body = {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": 10 * 365 * 86400, "scope": "read"} if ok else {"error": "invalid_client"}
        out = json.dumps(body).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *args):
        pass

def definition(token_url):
    return {"schema_version": 1, "name": "tokenrun-test", "display_name": "tokenrun test provider",
            "type": "app", "auth_type": "oauth2", "flow": "pkce", "api_url": ["api.tokenrun.test"],
            "oauth": {"authorization_url": token_url.rsplit("/", 1)[0] + "/authorize",
                      "token_url": token_url, "scopes": ["read"], "pkce": True},
            "export": {"env": {"access_token": "TOKENRUN_TEST_ACCESS_TOKEN"}}}

async def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        temp_url = f"http://127.0.0.1:{srv.server_address[1]}/oauth/token"
        c = AuthsomeApiClient()
        await c.register_provider(definition(temp_url), force=True)
        await c._request("PUT", "/api/providers/tokenrun-test/configuration",
                         body={"client_id": "tokenrun-test", "client_secret": "test-secret"})
        s = await c.start_login(provider="tokenrun-test", connection="default", flow="pkce", force=True)
        q = urllib.parse.parse_qs(urllib.parse.urlparse(s["next_action"]["url"]).query)
        httpx.get(q["redirect_uri"][0], params={"code": "bench-code", "state": q["state"][0]}, timeout=30)
        done = await c.get_session(s["id"])
        if done["status"] != "completed":
            raise SystemExit(f"OAuth login did not complete: {done}")
        await c._request("PUT", "/api/providers/tokenrun-test", body={"definition": definition(final_token_url)})
        creds = await c.resolve_credentials(provider="tokenrun-test")
        if creds["headers"].get("Authorization") != f"Bearer {access}":
            raise SystemExit(f"unexpected credentials: {creds}")
    finally:
        srv.shutdown()

asyncio.run(main())
'''


class Unavailable(Exception):
    """authsome cannot be set up here; the message says why."""


class Peer:
    def __init__(self, env, run, get, version, python_version, authsome, pid_file):
        self.env, self.run, self.get = env, run, get
        self.version, self.python_version = version, python_version
        self._authsome, self._pid_file = authsome, pid_file

    def stop(self):
        """Stops the daemon: `authsome daemon stop`, then SIGTERM/SIGKILL to its pid if it is still there."""
        subprocess.run([self._authsome, "daemon", "stop"], env=self.env, capture_output=True, timeout=30)
        stop_daemon(self._pid_file)


def stop_daemon(pid_file):
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except OSError:
            return
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.1)


def find_python313():
    candidates = [os.environ.get("BENCH_AUTHSOME_PYTHON"), shutil.which("python3.13"), shutil.which("python3.14"),
                  *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[3-9]*/bin/python3"))),
                  shutil.which("python3")]
    for candidate in candidates:
        if not candidate or not os.path.exists(candidate):
            continue
        r = subprocess.run([candidate, "-c", "import sys, venv; print(sys.version_info >= (3, 13))"],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip() == "True":
            return candidate
    raise Unavailable("authsome needs Python >= 3.13 and none was found (set BENCH_AUTHSOME_PYTHON)")


def ensure_venv(venv, log):
    """The venv at `venv` with authsome installed as $BENCH_AUTHSOME_SPEC says, made anew when that changed."""
    spec = os.environ.get("BENCH_AUTHSOME_SPEC", DEFAULT_SPEC)
    marker = os.path.join(venv, ".bench-spec")
    try:
        with open(marker) as f:
            if f.read() == spec and os.path.exists(os.path.join(venv, "bin", "authsome")):
                return
    except OSError:
        pass
    python = find_python313()
    shutil.rmtree(venv, ignore_errors=True)
    print(f"bench: installing {spec} into {venv} (once)", file=log.stderr_echo, flush=True)
    for argv in ([python, "-m", "venv", venv],
                 [os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check", spec]):
        r = log.run(argv, timeout=900)
        if r.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise Unavailable(f"`{' '.join(argv[:3])} …` failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
    with open(marker, "w") as f:
        f.write(spec)


class Log:
    """Runs setup commands with their output captured and appended to the bench's stderr log."""

    def __init__(self, path, stderr_echo):
        self.path, self.stderr_echo = path, stderr_echo

    def run(self, argv, env=None, timeout=120):
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        with open(self.path, "a") as f:
            f.write(f"$ {' '.join(argv)}\n{r.stdout}{r.stderr}")
        return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def claim_identity(base_url, home):
    """Registers the agent and claims it with a fresh local account (the first one is admin)."""
    with open(os.path.join(home, ".authsome", "client", "identities", f"{HANDLE}.json")) as f:
        meta = json.load(f)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar),
                                         urllib.request.ProxyHandler({}))

    def post(path, data, content_type):
        request = urllib.request.Request(base_url + path, data=data, method="POST",
                                         headers={"Content-Type": content_type})
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:  # the 303 redirects land here, with NoRedirect
            return e.code, e.read()

    status, body = post("/api/identities/register",
                        json.dumps({"handle": meta["handle"], "did": meta["did"]}).encode(), "application/json")
    registered = json.loads(body)
    if status != 200 or registered.get("registration_status") != "claim_required":
        raise Unavailable(f"authsome identity register failed: {status} {body!r}")
    token = registered["claim_url"].split("token=", 1)[1]
    form = urllib.parse.urlencode({"email": "bench@example.invalid", "password": "bench-password", "next": "/"})
    status, body = post("/api/auth/register", form.encode(), "application/x-www-form-urlencoded")
    if status != 303 or not any(c.name == "authsome_ui_session" for c in jar):
        raise Unavailable(f"authsome account register failed: {status} {body!r}")
    status, body = post(f"/api/claim/{token}/confirm", b"", "application/x-www-form-urlencoded")
    if status != 303:
        raise Unavailable(f"authsome claim confirm failed: {status} {body!r}")
    with opener.open(f"{base_url}/api/identities/{HANDLE}", timeout=30) as response:
        state = json.loads(response.read())
    if state.get("registration_status") != "claimed":
        raise Unavailable(f"authsome identity not claimed: {state}")


def environment(scratch, home, venv, port):
    """os.environ without inherited AUTHSOME_* or proxy settings, with everything pointed into `scratch`."""
    drop = ("AUTHSOME_", "DATABASE_URL", "POSTHOG_", "TOKENRUN_")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(drop) and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    base_url = f"http://127.0.0.1:{port}"
    env.update({
        "HOME": home, "AUTHSOME_HOME": os.path.join(home, ".authsome"),
        "AUTHSOME_PORT": str(port), "AUTHSOME_BASE_URL": base_url, "AUTHSOME_ENV": "dev",
        "AUTHSOME_DO_NOT_TRACK": "1", "DO_NOT_TRACK": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": os.path.join(home, ".config"), "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"), "TMPDIR": os.path.join(scratch, "tmp"),
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
        "PATH": f"{os.path.join(venv, 'bin')}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    })
    return env, base_url


def setup(scratch, venv, true, log_path, stderr_echo=None):
    log = Log(log_path, stderr_echo or sys.stderr)
    try:
        return _setup(os.path.abspath(scratch), os.path.abspath(venv), true, log)
    except subprocess.TimeoutExpired as error:
        raise Unavailable(f"authsome setup timed out: {' '.join(error.cmd[:3])} …")
    except (OSError, KeyError, ValueError) as error:
        raise Unavailable(f"authsome setup failed: {error!r}")


def _setup(scratch, venv, true, log):
    ensure_venv(venv, log)
    authsome, python = os.path.join(venv, "bin", "authsome"), os.path.join(venv, "bin", "python")
    r = log.run([python, "-c", "import sys, authsome; print(authsome.__version__, sys.version.split()[0])"])
    if r.returncode != 0:
        raise Unavailable(f"authsome does not import: {r.stderr.strip()[-300:]}")
    version, python_version = r.stdout.split()

    home = os.path.join(scratch, "home")
    os.makedirs(os.path.join(scratch, "tmp"), mode=0o700)
    server_home = os.path.join(home, ".authsome", "server")
    os.makedirs(server_home)
    # The vault master secret and UI-session signing key: the daemon reads the environment, then these
    # files, and only then the OS keyring; with the files present no keyring is used.
    for name in ("master.key", "ui_session_secret.key"):
        path = os.path.join(server_home, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(base64.b64encode(secrets.token_bytes(32)).decode())

    env, base_url = environment(scratch, home, venv, free_port())
    pid_file = os.path.join(server_home, "daemon", "daemon.pid")

    def run(argv, timeout=120):
        r = log.run(argv, env, timeout)
        if r.returncode != 0:
            raise Unavailable(f"`{' '.join(argv[1:])}` failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
        return r.stdout

    peer = Peer(env, [authsome, "run", "--", true], [authsome, "connections", "inspect", PROVIDER],
                version, python_version, authsome, pid_file)
    try:
        run([authsome, "agent", "create", "--handle", HANDLE])
        started = run([authsome, "daemon", "start"], timeout=60)
        if json.loads(started).get("status") != "started":
            raise Unavailable(f"the authsome daemon did not start: {started.strip()}")
        claim_identity(base_url, home)
        # The token URL stored at the end is only used for a refresh, which a 10-year token never needs.
        run([python, "-c", STORE_OAUTH, "http://127.0.0.1:9/oauth/token", "authsome-bench-access-token",
             "authsome-bench-refresh-token"])
        record = json.loads(run(peer.get))
        if record.get("status") != "connected" or record.get("auth_type") != "oauth2":
            raise Unavailable(f"authsome stored no usable OAuth credential: {record}")
        run(peer.run)
    except BaseException:
        peer.stop()
        raise
    return peer
