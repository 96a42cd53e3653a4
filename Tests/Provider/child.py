#!/usr/bin/env python3
"""The "real child program" that tokenrun launches in end-to-end tests.

Reads an access token (from env var --env, default TOKEN, or from the file
whose path is in env var --file-env), calls GET {URL}/api/me with
"Authorization: Bearer <token>" (standard library only) and prints one JSON
line {"status": <http status>, "user": ..., "scope": ...} as the LAST line of
stdout.

Exit codes: 0 = HTTP 200, 3 = HTTP 401, 4 = anything else (other status,
connection error), 5 = no token could be read (env var unset/empty, file
missing), 2 = usage error. --exit N overrides the code after the call.

Other options:
  --url URL            provider base URL (default: $PROVIDER_URL)
  --sleep N            sleep N seconds before the call (signal tests)
  --trap-signals       on SIGTERM/SIGINT/SIGHUP print {"signal": "SIGTERM"} and
                       exit 128+signum (lets a test see that a signal was forwarded)
  --print-env NAME...  print NAME=set / NAME=unset lines first (never values)
  --no-call            skip the HTTP call (exit 0 unless --exit)
  --fingerprint        add "fingerprint": the first 16 hex digits of the token's
                       SHA-256 (tells tokens apart without showing them), and
                       "ttl": seconds from the call to $TOKENRUN_EXPIRES_AT, if set
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request


def emit(obj):
    print(json.dumps(obj), flush=True)


def read_token(args):
    if args.file_env:
        path = os.environ.get(args.file_env)
        if not path:
            return None, f"env var {args.file_env} (token file path) is not set"
        try:
            with open(path, encoding="utf-8") as f:
                tok = f.read().strip()
        except OSError as e:
            return None, f"cannot read token file: {e.strerror}"
        return (tok, None) if tok else (None, "token file is empty")
    tok = os.environ.get(args.env, "").strip()
    return (tok, None) if tok else (None, f"env var {args.env} is not set or empty")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="TOKEN", help="env var holding the access token")
    p.add_argument("--file-env", help="env var holding the PATH of a file with the token")
    p.add_argument("--url", default=os.environ.get("PROVIDER_URL"), help="provider base URL")
    p.add_argument("--sleep", type=float, default=0)
    p.add_argument("--exit", type=int, dest="exit_code")
    p.add_argument("--print-env", nargs="+", default=[], metavar="NAME")
    p.add_argument("--trap-signals", action="store_true")
    p.add_argument("--no-call", action="store_true")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--fingerprint", action="store_true")
    args = p.parse_args()

    if args.trap_signals:
        def on_signal(signum, frame):
            emit({"signal": signal.Signals(signum).name})
            os._exit(128 + signum)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, on_signal)

    for name in args.print_env:
        print(f"{name}={'set' if name in os.environ else 'unset'}", flush=True)

    if args.sleep:
        time.sleep(args.sleep)

    if args.no_call:
        return args.exit_code if args.exit_code is not None else 0

    token, problem = read_token(args)
    if token is None:
        emit({"status": None, "user": None, "scope": None, "error": problem})
        return args.exit_code if args.exit_code is not None else 5
    if not args.url:
        emit({"status": None, "user": None, "scope": None, "error": "no --url and PROVIDER_URL unset"})
        return 2

    called = time.time()
    req = urllib.request.Request(args.url.rstrip("/") + "/api/me",
                                 headers={"Authorization": f"Bearer {token}"})
    status, body = None, {}
    try:
        with urllib.request.urlopen(req, timeout=args.timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        emit({"status": None, "user": None, "scope": None, "error": str(getattr(e, "reason", e))})
        return args.exit_code if args.exit_code is not None else 4
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except ValueError:
        body = {}
    out = {"status": status, "user": body.get("user"), "scope": body.get("scope")}
    if status != 200 and body.get("error"):
        out["error"] = body["error"]
    if args.fingerprint:
        out["fingerprint"] = hashlib.sha256(token.encode()).hexdigest()[:16]
        if os.environ.get("TOKENRUN_EXPIRES_AT", "").isdigit():
            out["ttl"] = round(int(os.environ["TOKENRUN_EXPIRES_AT"]) - called, 3)
    emit(out)
    if args.exit_code is not None:
        return args.exit_code
    return 0 if status == 200 else 3 if status == 401 else 4


if __name__ == "__main__":
    sys.exit(main())
