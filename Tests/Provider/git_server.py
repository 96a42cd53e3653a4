#!/usr/bin/env python3
"""A git smart-HTTP server on 127.0.0.1 for tokenrun's git-credential tests.

Every request must carry HTTP Basic credentials whose password is an access
token the test provider accepts (checked with GET <provider>/api/me); then the
request is served by the real `git http-backend`. Without them: 401 with
WWW-Authenticate, as GitHub answers, so git asks its credential helper.

    git_server.py --root DIR --provider URL [--port 0]
    -> READY http://127.0.0.1:PORT   (the only line on stdout)

GET /test/stats answers {"authorized": n, "rejected": n} (no secrets).
"""
import argparse, base64, json, os, subprocess, sys, threading, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"authorized": 0, "rejected": 0}
LOCK = threading.Lock()


def token_ok(provider, token):
    req = urllib.request.Request(provider + "/api/me", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status == 200
    except Exception:
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def deny(self):
        with LOCK:
            STATS["rejected"] += 1
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="tokenrun test git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def serve(self):
        if self.path == "/test/stats":
            body = json.dumps(STATS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return self.deny()
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except Exception:
            return self.deny()
        if not user or not token_ok(self.server.provider, password):
            return self.deny()
        with LOCK:
            STATS["authorized"] += 1
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.root, "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user, "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--provider", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.root = os.path.abspath(args.root)
    server.provider = args.provider.rstrip("/")
    print("READY http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
