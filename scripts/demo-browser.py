#!/usr/bin/env python3
"""A scripted browser for `make demo`: `BROWSER=scripts/demo-browser.py tokenrun login -p demo`.

tokenrun runs it as `$BROWSER URL` with the authorization URL. It stands in for
the person at the browser: it loads the URL from the local demo provider
(Tests/Provider), which has no login page and consents at once (as alice) by
answering 302 to tokenrun's loopback redirect; urllib follows that redirect,
which hands the authorization code to tokenrun, and reads the page tokenrun
answers with once the login has ended.

Like a real browser launcher it returns at once, with status 0: the page loads
in a background process, so tokenrun never has to wait for its browser. That
process writes one line saying what happened, to the file named by
DEMO_BROWSER_LOG if that is set (demo.sh shows it), else to standard error. It
never prints a token, a code or the state, and it refuses any URL that is not
on a loopback address: it is not a browser for the real internet.

Standard library only.
"""
import html.parser
import ipaddress
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 120  # seconds; tokenrun answers the redirect as soon as the code is exchanged


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def where(url):
    """scheme://host:port/path of a URL, without its query (which holds the code and state)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


class Title(html.parser.HTMLParser):
    """The text of the page's <title>, else of its first <h1>."""

    def __init__(self):
        super().__init__()
        self.title, self.h1, self._in = "", "", None

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "h1"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "h1" and not self.h1:
            self.h1 += data

    def text(self):
        words = " ".join((self.title or self.h1).split())
        return words[:80] + ("…" if len(words) > 80 else "")


class Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects like a browser, remembering where they went (loopback only)."""

    def __init__(self):
        super().__init__()
        self.hops = []
        self.error = None  # the OAuth error a redirect carried (access_denied, ...), if any

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        parts = urllib.parse.urlsplit(newurl)
        if not is_loopback(parts.hostname or ""):
            raise urllib.error.HTTPError(newurl, code, "refusing a redirect off this machine", headers, fp)
        self.hops.append(where(newurl))
        self.error = dict(urllib.parse.parse_qsl(parts.query)).get("error")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def page_title(body):
    parser = Title()
    try:
        parser.feed(body.decode("utf-8", "replace"))
    except Exception:  # a page that is not HTML says nothing more
        return ""
    return parser.text()


def visit(url):
    """Loads `url`; returns one line describing what happened, and whether it went well."""
    redirects = Redirects()
    opener = urllib.request.build_opener(redirects)
    request = urllib.request.Request(url, headers={"User-Agent": "tokenrun-demo-browser"})
    start = f"demo-browser: opened {where(url)}"
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            status, body = response.status, response.read(65536)
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read(65536) if error.fp else b""
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"{start}, but could not load it: {reason}", False
    if not redirects.hops:
        return f"{start}; it answered HTTP {status} without redirecting to tokenrun", False
    title = page_title(body)
    shown = f' ("{title}")' if title else ""
    verdict = f"refused ({redirects.error})" if redirects.error else "consented"
    line = (f"{start}; the demo provider {verdict} and redirected to {redirects.hops[-1]},"
            f" where tokenrun answered HTTP {status}{shown}")
    return line, status == 200


def report(line):
    log = os.environ.get("DEMO_BROWSER_LOG")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    else:
        print(line, file=sys.stderr, flush=True)


def main(argv):
    if len(argv) != 2:
        print("usage: demo-browser.py URL", file=sys.stderr)
        return 2
    url = argv[1]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not is_loopback(parts.hostname or ""):
        print(f"demo-browser: refusing {where(url)}: this scripted browser only visits loopback addresses",
              file=sys.stderr)
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() > 0:
        return 0  # the launcher's part is done; the page loads in the background
    # The background "browser": hold none of tokenrun's pipes open while loading.
    if os.environ.get("DEMO_BROWSER_LOG"):
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
    try:
        line, ok = visit(url)
        report(line)
    except BaseException as error:  # never let a traceback reach tokenrun's terminal
        report(f"demo-browser: failed: {type(error).__name__}")
        ok = False
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
