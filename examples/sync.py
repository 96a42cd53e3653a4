#!/usr/bin/env python3
"""A small real API client for `make demo`: it knows nothing about OAuth.

It reads the access token tokenrun injected (DEMO_TOKEN) and calls the demo
provider's API (PROVIDER_URL/api/me). Standard library only.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    token = os.environ.get("DEMO_TOKEN")
    base = os.environ.get("PROVIDER_URL")
    if not token or not base:
        print("sync.py: run me through tokenrun: tokenrun -p demo -- python3 examples/sync.py", file=sys.stderr)
        return 2
    request = urllib.request.Request(base + "/api/me", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            me = json.load(response)
    except urllib.error.HTTPError as error:
        print(f"sync.py: the API refused the token (HTTP {error.code})", file=sys.stderr)
        return 1
    expires = os.environ.get("TOKENRUN_EXPIRES_AT", "?")
    print(f"sync.py: synced as {me.get('user')} with scope '{me.get('scope')}' (token expires at {expires})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
