#!/usr/bin/env python3
"""`make bench`: tokenrun's benchmark suite.

    python scripts/bench.py TOKENRUN_BINARY PYTHON

TOKENRUN_BINARY is a release tokenrun (tokenrun-http beside it); PYTHON runs the
local OAuth provider (Tests/Provider/provider.py, Authlib). Every case runs in
scratch homes under a temporary directory against that provider on loopback.

Each case times two commands, A and B, interleaved in one loop after warm-up
runs (their order alternating), with this script's own posix_spawn harness,
and compares the medians (p90 shown beside them):

  #   case                      A                                   B                        target
  1   warm launch               tokenrun -p demo -- true            true                     A-B ≤ 1.5 ms
  2   warm get                  tokenrun get -p demo                true                     A-B ≤ 1 ms
  3a  passphrase vault          tokenrun -p demo -- true, Argon2id  true                     (reported)
                                on every call (TOKENRUN_PASSPHRASE)
  3b  passphrase vault, cached  the same after `vault unlock`       true                     A-B ≤ 2 ms
  3c  Argon2id vs cached key    3a's A                              3b's A                   (reported)
  4   refresh                   tokenrun -p demo --refresh --      curl of the same token   A/B < 1.2
                                true (refreshes on every launch)    request
  5   scale: credentials        vault of 10,000 credentials         vault of 1               A/B < 1.5
  6   scale: profiles           1,000 profile files                 1                        A/B < 1.5
  7   scale: audit trail        1,000,000 records                   1                        A/B < 1.1
  8   concurrency               100 simultaneous launches that      one launch that          1 refresh request,
                                need a refresh (wall time)          refreshes                A ≤ 8b's A + 2 B
  8b  floor                     100 simultaneous `true` (in 8's     one `true`               (reported)
                                loop)
  9   peak memory (MiB)         max RSS of tokenrun -p demo -- true of true (the floor)      A ≤ 6 MiB
  10  peer: authsome            authsome run -- true / authsome     tokenrun -p demo --      (reported)
                                connections inspect                 true / tokenrun get
  11  size (MiB)                tokenrun-http, stripped             tokenrun, stripped       A < 2 MiB

(1-7 and 10 are warm: the access token is fresh, no network.) Prints the
machine and one table, writes the table as Markdown to $BENCH_MARKDOWN
(default .build/bench/results.md), and exits 1 when a target is missed or a
case fails, 0 otherwise.

Knobs (environment):
  BENCH_RUNS=200          runs of each command in the fast cases (1, 2, 3b, 5, 6, 7)
  BENCH_REFRESH_RUNS=50   case 4;  BENCH_ARGON_RUNS=10  case 3a
  BENCH_BURSTS=5          case 8 repetitions (BENCH_BURST_SIZE=100 launches each)
  BENCH_MEMORY_RUNS=20    case 9;  BENCH_PEER_RUNS=20  case 10
  BENCH_QUICK=1           small counts and scales everywhere (a smoke run of about a minute)
  BENCH_CASES=1,4,8       only these cases
  BENCH_AUTHSOME_SPEC     what case 10 installs (default authsome==0.7.2), in .build/bench/authsome-venv
  BENCH_MARKDOWN          where the Markdown table goes
"""
import contextlib
import ctypes
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

QUICK = os.environ.get("BENCH_QUICK") == "1"


def knob(name, full, quick):
    return int(os.environ.get(name, quick if QUICK else full))


RUNS = knob("BENCH_RUNS", 200, 20)
REFRESH_RUNS = knob("BENCH_REFRESH_RUNS", 50, 10)
ARGON_RUNS = knob("BENCH_ARGON_RUNS", 10, 3)
BURSTS = knob("BENCH_BURSTS", 5, 2)
BURST_SIZE = knob("BENCH_BURST_SIZE", 100, 100)
MEMORY_RUNS = knob("BENCH_MEMORY_RUNS", 20, 5)
PEER_RUNS = knob("BENCH_PEER_RUNS", 20, 3)
WARMUP = 3 if QUICK else 10
CREDENTIALS = 1_000 if QUICK else 10_000
CREDENTIALS_ONE_BY_ONE = 100 if QUICK else 1_000  # the cap without `import --batch-stdin`
PROFILES = 1_000
AUDIT_RECORDS = 100_000 if QUICK else 1_000_000
PASSPHRASE = "bench passphrase, not a secret"
TOKEN_LIFETIME = 3600  # the provider's access tokens; --refresh forces a refresh

TARGET_LAUNCH_MS = 1.5       # 1: a warm launch over `true`
TARGET_GET_MS = 1.0          # 2: a warm get over `true`
TARGET_ADDED_MS = 2.0        # 3b: a warm launch with the passphrase vault's key cached
TARGET_REFRESH_RATIO = 1.2
TARGET_SCALE_RATIO = 1.5
TARGET_AUDIT_RATIO = 1.1
TARGET_BURST_REFRESHES = 2   # 8: a burst within 8b's bare processes + this many single refreshing launches
TARGET_RSS_MIB = 6.0
TARGET_HELPER_MIB = 2.0


class BenchError(Exception):
    """A case could not be measured (a command failed, a setup step went wrong)."""


# ==== Results ===============================================================
def median(values):
    return statistics.median(values)


def p90(values):
    return sorted(values)[min(len(values) - 1, int(len(values) * 0.9))]


@dataclass
class Row:
    case: str                  # "1", "3b", ...
    name: str
    a: str = ""                # what A and B are (the legend under the table)
    b: str = ""
    a_samples: list = field(default_factory=list)
    b_samples: list = field(default_factory=list)
    target: str = "—"
    verdict: str = "—"         # ok / MISSED / — (no target) / n/a / ERROR
    note: str = ""

    def cells(self):
        def num(x):
            return "—" if x is None else f"{x:.2f}"
        a = median(self.a_samples) if self.a_samples else None
        b = median(self.b_samples) if self.b_samples else None
        both = a is not None and b is not None
        return [self.case, self.name,
                num(a), num(p90(self.a_samples) if self.a_samples else None),
                num(b), num(p90(self.b_samples) if self.b_samples else None),
                f"{a / b:.2f}×" if both and b else "—", f"{a - b:+.2f}" if both else "—",
                self.target, self.verdict]


def added_row(case, name, a, b, a_samples, b_samples, target_ms=TARGET_ADDED_MS, note=""):
    """A row whose target is: A's median at most `target_ms` above B's."""
    added = median(a_samples) - median(b_samples)
    return Row(case, name, a, b, a_samples, b_samples, f"A−B ≤ {target_ms:g} ms",
               "ok" if added <= target_ms else "MISSED", note)


def ratio_row(case, name, a, b, a_samples, b_samples, target_ratio, note=""):
    """A row whose target is: A's median under `target_ratio` times B's."""
    ratio = median(a_samples) / median(b_samples)
    return Row(case, name, a, b, a_samples, b_samples, f"A/B < {target_ratio:g}",
               "ok" if ratio < target_ratio else "MISSED", note)


HEADER = ["#", "case", "A", "A p90", "B", "B p90", "A/B", "A−B", "target", "verdict"]


def render_text(rows):
    table = [HEADER] + [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {2, 3, 4, 5, 6, 7}
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in out)


def render_markdown(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---:" if i in range(2, 8) else "---" for i in range(len(HEADER))) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def legend(rows):
    out = []
    for r in rows:
        parts = [f"A = {r.a}" if r.a else "", f"B = {r.b}" if r.b else "", r.note]
        out.append(f"{r.case}: " + "; ".join(p for p in parts if p))
    return out


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Model", "cpu model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}, {date} (load average at the start {load})"


# ==== Harness ===============================================================
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class Harness:
    """Starts commands with posix_spawn (stdout to /dev/null, stderr to the log) and times them."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        self.log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self.live = set()

    def spawn(self, argv, env, stdout=None):
        actions = [(os.POSIX_SPAWN_DUP2, self.devnull if stdout is None else stdout, 1),
                   (os.POSIX_SPAWN_DUP2, self.log, 2)]
        # Signals wait until the pid is recorded, so an interrupted run can kill every child it started.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsigmask=())
            self.live.add(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        return pid

    def wait(self, pid, argv):
        _, status = os.waitpid(pid, 0)
        self.live.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise BenchError(f"`{shlex.join(argv)}` exited {code}{self.log_tail()}")

    def time(self, argv, env, stdout=None):
        """Milliseconds from spawning `argv` to having reaped it."""
        start = time.perf_counter_ns()
        self.wait(self.spawn(argv, env, stdout), argv)
        return (time.perf_counter_ns() - start) / 1e6

    def burst(self, argv, env, count):
        """Milliseconds from spawning the first of `count` copies of `argv` to having reaped the last."""
        start = time.perf_counter_ns()
        pids = [self.spawn(argv, env) for _ in range(count)]
        for pid in pids:
            self.wait(pid, argv)
        return (time.perf_counter_ns() - start) / 1e6

    def interleave(self, commands, runs, warmup=WARMUP):
        """Runs each of `commands` (name -> function returning ms) `runs` times, interleaved,
        the order reversed every other round so that neither side always goes first."""
        names = list(commands)
        for _ in range(warmup):
            for name in names:
                commands[name]()
        samples = {name: [] for name in names}
        for i in range(runs):
            for name in (names if i % 2 == 0 else names[::-1]):
                samples[name].append(commands[name]())
        return samples

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                tail = f.read()[-600:].strip()
        except OSError:
            return ""
        return f"; the end of its stderr log:\n{tail}" if tail else ""

    def kill_all(self):
        for pid in list(self.live):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        self.live.clear()


# ==== The provider and the scratch homes =====================================
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Provider:
    def __init__(self, python, top, scratch):
        self.out = open(os.path.join(scratch, "provider.out"), "w+")
        self.err = open(os.path.join(scratch, "provider.err"), "w")
        self.proc = subprocess.Popen([python, os.path.join(top, "Tests/Provider/provider.py"), "--port", "0",
                                      "--access-token-lifetime", str(TOKEN_LIFETIME)],
                                     stdout=self.out, stderr=self.err)

    def wait_ready(self):
        for _ in range(600):
            self.out.seek(0)
            line = self.out.readline()
            if line.startswith("READY "):
                self.url = line.split()[1]
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise BenchError("the provider (Tests/Provider/provider.py) did not start; see " + self.err.name)

    def call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})
        with NO_PROXY.open(request, timeout=30) as response:
            return json.load(response)

    def seed(self):
        """A new refresh token (a grant family of its own)."""
        return self.call("/test/seed", {"client_id": "tokenrun-test", "user": "alice",
                                        "scope": "api.read offline_access", "access_expires_in": 0})["refresh_token"]

    def refresh_requests(self):
        return self.call("/test/stats")["refresh_requests"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def clean_environment():
    """The caller's environment minus anything that would pick a key, a vault or a proxy."""
    drop = {"CREDENTIALS_DIRECTORY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if not k.startswith("TOKENRUN_") and k.lower() not in drop}


class Home:
    """A scratch HOME with its own XDG directories and a demo profile against the provider."""

    def __init__(self, bench, name):
        self.bench = bench
        self.path = os.path.join(bench.scratch, name)
        p = self.path
        self.profiles = f"{p}/config/tokenrun/profiles"
        self.audit = f"{p}/state/tokenrun/audit.jsonl"
        self.env = dict(bench.base_env, HOME=p, XDG_CONFIG_HOME=f"{p}/config", XDG_DATA_HOME=f"{p}/data",
                        XDG_STATE_HOME=f"{p}/state", XDG_CACHE_HOME=f"{p}/cache", XDG_RUNTIME_DIR=f"{p}/runtime",
                        TMPDIR=f"{p}/tmp")
        os.makedirs(f"{p}/runtime", mode=0o700)
        os.makedirs(f"{p}/tmp", mode=0o700)
        os.makedirs(self.profiles)
        self.profile_text = (f'[oauth]\ntoken_endpoint = "{bench.provider.url}/oauth/token"\n'
                             'client_id = "tokenrun-test"\nclient_secret = "test-secret"\n'
                             '[env]\nDEMO_TOKEN = "{{access_token}}"\n')
        with open(f"{self.profiles}/demo.toml", "w") as f:
            f.write(self.profile_text)

    def tokenrun(self, *args, input=None, env=None, check=True):
        argv = [self.bench.tokenrun, *args]
        r = subprocess.run(argv, input=input, text=True, capture_output=True, env=env or self.env)
        if check and r.returncode != 0:
            raise BenchError(f"`{shlex.join(argv)}` exited {r.returncode}: {r.stderr.strip()}")
        return r

    def import_fresh(self, env=None):
        """Stores a new refresh token for demo (and so no access token: the next launch refreshes)."""
        self.tokenrun("import", "-p", "demo", "--refresh-token-stdin", input=self.bench.provider.seed() + "\n", env=env)

    def ready(self, env=None):
        """Imports a token and launches once, so the access token is fresh (the warm path)."""
        self.import_fresh(env)
        self.tokenrun("-p", "demo", "--", "true", env=env)
        return self

    def run_argv(self, *extra):
        return [self.bench.tokenrun, "-p", "demo", *extra, "--", self.bench.true]

    def get_argv(self):
        return [self.bench.tokenrun, "get", "-p", "demo"]


def join_private_session_keyring():
    """Gives this process (and so every tokenrun it starts) a new anonymous session keyring,
    so that `vault unlock` caches its key there and not in the caller's session keyring."""
    numbers = {"x86_64": 250, "aarch64": 219, "armv7l": 311, "riscv64": 219, "ppc64le": 355, "s390x": 280}
    number = numbers.get(platform.machine())
    if number is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    KEYCTL_JOIN_SESSION_KEYRING = 1
    return libc.syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), ctypes.c_void_p(None)) >= 0


# ==== The cases =============================================================
class Bench:
    def __init__(self, tokenrun, python, top, scratch, harness):
        self.tokenrun, self.python, self.top, self.scratch, self.h = tokenrun, python, top, scratch, harness
        self.true = shutil.which("true") or "/bin/true"
        self.base_env = clean_environment()
        self.provider = None
        self.cleanups = []       # run last to first on exit
        self._base = None

    def home(self, name):
        return Home(self, name)

    def base(self):
        """The home of cases 1, 2, 9 and 10: a key-file vault holding the demo credential."""
        if self._base is None:
            self._base = self.home("base").ready()
        return self._base

    def timer(self, argv, env):
        return lambda: self.h.time(argv, env)

    def warm_pair(self, small, large, runs=None):
        """Interleaved warm launches in two homes: (large samples, small samples)."""
        with self.offline():
            s = self.h.interleave({"large": self.timer(large.run_argv(), large.env),
                                   "small": self.timer(small.run_argv(), small.env)}, runs or RUNS)
        return s["large"], s["small"]

    @contextlib.contextmanager
    def offline(self):
        """Around the timing of a warm case: fails it if any launch refreshed meanwhile."""
        before = self.provider.refresh_requests()
        yield
        made = self.provider.refresh_requests() - before
        if made:
            raise BenchError(f"the provider saw {made} refresh requests while warm launches were timed")

    # -- 1, 2 -----------------------------------------------------------------
    def case_warm(self):
        home = self.base()
        with self.offline():
            s = self.h.interleave({"true": self.timer([self.true], home.env),
                                   "run": self.timer(home.run_argv(), home.env),
                                   "get": self.timer(home.get_argv(), home.env)}, RUNS)
        return [added_row("1", "warm launch", "`tokenrun -p demo -- true`", f"`{self.true}`", s["run"], s["true"],
                          TARGET_LAUNCH_MS),
                added_row("2", "warm get", "`tokenrun get -p demo`", f"`{self.true}`", s["get"], s["true"],
                          TARGET_GET_MS, note="measured in the same loop as 1")]

    # -- 3 --------------------------------------------------------------------
    def case_passphrase(self):
        """Two passphrase vaults: `every` is opened with TOKENRUN_PASSPHRASE (Argon2id) on each call,
        `cached` was unlocked with `vault unlock --for 8h` (the key cached in the session keyring)."""
        with_passphrase = {}
        homes = {}
        for name in ("every", "cached"):
            home = self.home(f"passphrase-{name}")
            env = dict(home.env, TOKENRUN_PASSPHRASE=PASSPHRASE)
            home.tokenrun("vault", "init", "--passphrase", "--kdf-cost", "moderate", env=env)
            home.ready(env)
            homes[name], with_passphrase[name] = home, env
        every, cached = homes["every"], homes["cached"]
        unlock = cached.tokenrun("vault", "unlock", "--for", "8h", env=with_passphrase["cached"], check=False)
        if unlock.returncode == 0:
            self.cleanups.append(lambda: cached.tokenrun("vault", "lock", env=with_passphrase["cached"], check=False))
        a_name = "`tokenrun -p demo -- true`, passphrase vault, TOKENRUN_PASSPHRASE set (Argon2id moderate each call)"
        b_name = "the same without TOKENRUN_PASSPHRASE after `tokenrun vault unlock --for 8h`"
        unavailable = broken = None
        if unlock.returncode == 64:
            unavailable = "not available in this build (`tokenrun vault unlock` is a usage error)"
        elif unlock.returncode != 0:
            raise BenchError(f"`tokenrun vault unlock --for 8h` exited {unlock.returncode}: {unlock.stderr.strip()}")
        else:
            probe = cached.tokenrun("-p", "demo", "--", "true", check=False)
            if probe.returncode != 0:
                broken = (f"after `vault unlock` a launch without the passphrase exited {probe.returncode}: "
                          f"{probe.stderr.strip()}")

        # One loop: each (slow) Argon2id call, then a share of the fast runs, A and B alternating.
        fast = {"true": self.timer([self.true], cached.env)}
        if not (unavailable or broken):
            fast["cached"] = self.timer(cached.run_argv(), cached.env)
        argon = self.timer(every.run_argv(), with_passphrase["every"])
        samples = {"argon": [], "cached": [], "true": []}
        per_round = max(1, RUNS // ARGON_RUNS) if len(fast) > 1 else 1
        with self.offline():
            argon()
            for _ in range(WARMUP):
                for run in fast.values():
                    run()
            for i in range(ARGON_RUNS):
                samples["argon"].append(argon())
                for j in range(per_round):
                    names = list(fast) if (i + j) % 2 == 0 else list(fast)[::-1]
                    for name in names:
                        samples[name].append(fast[name]())
        rows = [Row("3a", "passphrase vault, Argon2id", a_name, f"`{self.true}`", samples["argon"], samples["true"],
                    note=f"{ARGON_RUNS} Argon2id runs, in the loop of 3b")]
        if unavailable or broken:
            rows += [Row("3b", "passphrase vault, unlocked", b_name, verdict="n/a" if unavailable else "MISSED",
                         note=unavailable or broken),
                     Row("3c", "Argon2id vs cached key", "3a's A", "3b's A", verdict="n/a", note=unavailable or broken)]
        else:
            rows += [added_row("3b", "passphrase vault, unlocked", b_name, f"`{self.true}`", samples["cached"],
                               samples["true"], note="`tokenrun vault lock` at the end"),
                     Row("3c", "Argon2id vs cached key", "3a's A", "3b's A", samples["argon"], samples["cached"])]
        return rows

    # -- 4 --------------------------------------------------------------------
    def case_refresh(self):
        curl = shutil.which("curl")
        home = self.home("refresh").ready()
        a_name = "`tokenrun -p demo --refresh -- true` (every launch refreshes)"
        if curl is None:
            return [Row("4", "refresh vs curl", a_name, "curl", verdict="n/a", note="curl is not installed")]

        class CurlRefresh:
            """curl doing the request tokenrun makes (client_secret_basic, as this client is registered),
            each time with the refresh token the previous answer rotated in."""
            def __init__(inner, token):
                inner.token = token
                inner.out = os.path.join(home.path, "curl.json")

            def __call__(inner):
                argv = [curl, "-q", "-sS", "--fail", "--noproxy", "*", "-o", inner.out,
                        "-u", "tokenrun-test:test-secret", "-d", "grant_type=refresh_token",
                        "-d", f"refresh_token={inner.token}", f"{self.provider.url}/oauth/token"]
                ms = self.h.time(argv, home.env)
                with open(inner.out) as f:
                    inner.token = json.load(f)["refresh_token"]
                return ms

        before = self.provider.refresh_requests()
        s = self.h.interleave({"tokenrun": self.timer(home.run_argv("--refresh"), home.env),
                               "curl": CurlRefresh(self.provider.seed())}, REFRESH_RUNS, warmup=min(WARMUP, 5))
        made = self.provider.refresh_requests() - before
        expected = 2 * (REFRESH_RUNS + min(WARMUP, 5))
        if made != expected:
            raise BenchError(f"the provider saw {made} refresh requests, expected {expected} (one per launch and per curl)")
        return [ratio_row("4", "refresh vs curl", a_name,
                          "`curl` POST grant_type=refresh_token, same endpoint and client auth, rotated token",
                          s["tokenrun"], s["curl"], TARGET_REFRESH_RATIO,
                          note="refresh-token rotation on for both (provider default); every request checked at /test/stats")]

    # -- 5 --------------------------------------------------------------------
    def case_credentials(self):
        small = self.home("credentials-1").ready()
        large = self.home("credentials-n").ready()
        extra_dir = os.path.join(large.path, "extra-profiles")
        os.makedirs(extra_dir)
        batch = "--batch-stdin" in large.tokenrun("import", "--help").stdout
        count = CREDENTIALS if batch else CREDENTIALS_ONE_BY_ONE
        names = [f"p{i:05d}" for i in range(1, count)]
        for name in names:
            with open(os.path.join(extra_dir, name + ".toml"), "w") as f:
                f.write(large.profile_text)
        # The extra profiles are found through TOKENRUN_PROFILE_PATH during the import only, so the
        # timed launches see as many profile files as in the small home (case 6 measures those).
        env = dict(large.env, TOKENRUN_PROFILE_PATH=extra_dir)
        note = "the extra profiles only on TOKENRUN_PROFILE_PATH during the import"
        if batch:
            lines = "".join(json.dumps({"profile": n, "refresh_token": os.urandom(24).hex()}) + "\n" for n in names)
            large.tokenrun("import", "--batch-stdin", input=lines, env=env)
        else:
            for n in names:
                large.tokenrun("import", "-p", n, "--refresh-token-stdin", input=os.urandom(24).hex() + "\n", env=env)
            note = (f"this tokenrun has no `import --batch-stdin`: {count:,} credentials imported one by one "
                    f"(each import rewrites the vault, O(n²)), capped there instead of {CREDENTIALS:,}; " + note)
        stored = json.loads(large.tokenrun("vault", "status", "--json").stdout)["credentials"]
        if stored != count:
            raise BenchError(f"the vault holds {stored} credentials, expected {count}")
        a, b = self.warm_pair(small, large)
        return [ratio_row("5", f"scale: {count:,} credentials", f"warm launch, vault of {count:,} credentials",
                          "warm launch, vault of 1", a, b, TARGET_SCALE_RATIO, note=note)]

    # -- 6 --------------------------------------------------------------------
    def case_profiles(self):
        small = self.home("profiles-1").ready()
        large = self.home("profiles-n").ready()
        for i in range(1, PROFILES):
            with open(os.path.join(large.profiles, f"p{i:05d}.toml"), "w") as f:
                f.write(large.profile_text)
        a, b = self.warm_pair(small, large)
        return [ratio_row("6", f"scale: {PROFILES:,} profiles", f"warm launch, {PROFILES:,} profile files",
                          "warm launch, 1 profile file", a, b, TARGET_SCALE_RATIO)]

    # -- 7 --------------------------------------------------------------------
    def case_audit(self):
        # 1M records of ~300 bytes are far past the default 8 MiB rotation size: raise it on both sides
        # so no append rotates during the run.
        homes = []
        for name in ("audit-1", "audit-n"):
            home = self.home(name)
            home.env["TOKENRUN_AUDIT_MAX_BYTES"] = "64G"
            home.ready()
            for argv in (home.run_argv(), home.get_argv(), home.run_argv()):
                self.h.time(argv, home.env)
            homes.append(home)
        small, large = homes
        write_trail(small.audit, 1)
        write_trail(large.audit, AUDIT_RECORDS)
        size = os.path.getsize(large.audit)
        a, b = self.warm_pair(small, large)
        return [ratio_row("7", f"scale: {AUDIT_RECORDS:,} audit records",
                          f"warm launch, audit trail of {AUDIT_RECORDS:,} records ({size / 2**20:.0f} MiB)",
                          "warm launch, audit trail of 1 record", a, b, TARGET_AUDIT_RATIO,
                          note="TOKENRUN_AUDIT_MAX_BYTES=64G on both sides (the default 8 MiB would rotate the "
                               "big trail on the first append); the trail repeats real records, the last one "
                               "written by tokenrun")]

    # -- 8 --------------------------------------------------------------------
    def case_concurrency(self):
        """Bursts of launches that all need a refresh, each beside a burst of as many bare `true`
        and one refreshing launch, in one loop: a burst should cost no more than starting that
        many processes plus TARGET_BURST_REFRESHES refreshes (the one refresh the burst makes,
        and the waiters reading its token), with one refresh request."""
        home = self.home("concurrency").ready()
        argv = home.run_argv()
        single, bursts, floor_bursts, refreshes = [], [], [], []
        for rep in range(BURSTS + 1):  # the first round warms up
            home.import_fresh()
            ms = self.h.time(argv, home.env)
            floor_ms = self.h.burst([self.true], home.env, BURST_SIZE)
            home.import_fresh()
            before = self.provider.refresh_requests()
            burst_ms = self.h.burst(argv, home.env, BURST_SIZE)
            if rep:
                single.append(ms)
                floor_bursts.append(floor_ms)
                bursts.append(burst_ms)
                refreshes.append(self.provider.refresh_requests() - before)
        limit = median(floor_bursts) + TARGET_BURST_REFRESHES * median(single)
        row = Row("8", f"concurrency: {BURST_SIZE} launches", f"wall time of {BURST_SIZE} simultaneous "
                  "`tokenrun -p demo -- true` needing a refresh (freshly imported refresh token, no access token)",
                  "one such launch", bursts, single,
                  f"1 refresh, A ≤ 8b + {TARGET_BURST_REFRESHES}×B",
                  "ok" if median(bursts) <= limit and all(n == 1 for n in refreshes) else "MISSED",
                  note=f"the limit this run: {limit:.2f} ms; refresh requests per burst at /test/stats: "
                       f"{', '.join(map(str, refreshes))}")
        # The floor on this machine: the same number of bare processes started at once.
        floor_single = [self.h.time([self.true], home.env) for _ in range(BURSTS)]
        floor = Row("8b", f"floor: {BURST_SIZE} × true", f"wall time of {BURST_SIZE} simultaneous `{self.true}`",
                    f"one `{self.true}`", floor_bursts, floor_single,
                    note="what starting that many processes at once costs here, measured in 8's loop")
        return [row, floor]

    # -- 9 --------------------------------------------------------------------
    def case_memory(self):
        home = self.base()
        s = {"run": [], "get": [], "true": []}
        with self.offline():
            for _ in range(MEMORY_RUNS):
                s["run"].append(max_rss_mib(home.run_argv(), home.env, self.python))
                s["get"].append(max_rss_mib(home.get_argv(), home.env, self.python))
                s["true"].append(max_rss_mib([self.true], home.env, self.python))
        peak = max(s["run"])
        how = ("ru_maxrss in MiB, the largest of "
               f"{MEMORY_RUNS} runs decides; tokenrun is forked by /bin/sh, which then execs a reporter of its "
               "RUSAGE_CHILDREN, so the figure is tokenrun's own peak (or its child's, were that larger: a maximum, "
               "not a sum) and not this Python's, which a process spawned from here inherits until its exec; "
               "B, `true` measured so, is the method's floor")
        return [Row("9", "peak memory, MiB", "max RSS of `tokenrun -p demo -- true`", "max RSS of `true`",
                    s["run"], s["true"], f"max A ≤ {TARGET_RSS_MIB:g} MiB",
                    "ok" if peak <= TARGET_RSS_MIB else "MISSED", f"{how}. Largest A: {peak:.2f} MiB"),
                Row("9b", "peak memory of get, MiB", "max RSS of `tokenrun get -p demo`", "max RSS of `true`",
                    s["get"], s["true"], note="same method")]

    # -- 10 -------------------------------------------------------------------
    def case_peer(self):
        sys.path.insert(0, os.path.join(self.top, "scripts"))
        import bench_authsome
        home = self.base()
        venv = os.path.join(self.top, ".build", "bench", "authsome-venv")
        try:
            peer = bench_authsome.setup(os.path.join(self.scratch, "authsome"), venv, self.true, self.h.log_path)
        except bench_authsome.Unavailable as error:
            reason = f"skipped: {error}"
            return [Row("10a", "peer: authsome run", verdict="n/a", note=reason),
                    Row("10b", "peer: authsome get", verdict="n/a", note=reason)]
        self.cleanups.append(peer.stop)
        env = peer.env
        with self.offline():
            s = self.h.interleave({"authsome run": self.timer(peer.run, env),
                                   "tokenrun run": self.timer(home.run_argv(), home.env),
                                   "authsome get": self.timer(peer.get, env),
                                   "tokenrun get": self.timer(home.get_argv(), home.env)}, PEER_RUNS,
                                  warmup=1 if QUICK else 2)
        faster = median(s["authsome run"]) / median(s["tokenrun run"])
        faster_get = median(s["authsome get"]) / median(s["tokenrun get"])
        where = f"authsome {peer.version} (Python {peer.python_version}, its daemon running), stored OAuth credential"
        return [Row("10a", "peer: authsome run", f"`authsome run -- {self.true}`", "`tokenrun -p demo -- true`",
                    s["authsome run"], s["tokenrun run"], note=f"tokenrun is {faster:.0f}× faster; {where}"),
                Row("10b", "peer: authsome get", "`authsome connections inspect tokenrun-test`",
                    "`tokenrun get -p demo`", s["authsome get"], s["tokenrun get"],
                    note=f"tokenrun is {faster_get:.0f}× faster; authsome has no `get`: its nearest is "
                         "`connections inspect` (the credential, redacted)")]

    # -- 11 -------------------------------------------------------------------
    def case_size(self):
        strip = shutil.which("strip")
        if strip is None:
            return [Row("11", "size, MiB", verdict="n/a", note="strip (binutils) is not installed")]
        sizes = {}
        for program in ("tokenrun-http", "tokenrun"):
            copy = os.path.join(self.scratch, program + ".stripped")
            # As make install strips them (scripts/stage.sh).
            subprocess.run([strip, "--strip-unneeded", "--remove-section=.comment", "--remove-section=.note", "-o", copy,
                            os.path.join(os.path.dirname(self.tokenrun), program)], check=True)
            sizes[program] = os.path.getsize(copy) / (1 << 20)
        helper = sizes["tokenrun-http"]
        return [Row("11", "size, MiB", "`tokenrun-http` stripped (the network helper, on libcurl)", "`tokenrun` stripped",
                    [helper], [sizes["tokenrun"]], f"A < {TARGET_HELPER_MIB:g} MiB",
                    "ok" if helper < TARGET_HELPER_MIB else "MISSED",
                    "as installed (strip --strip-unneeded); libcurl itself is Debian's libcurl4, shared")]


def write_trail(path, records):
    """Rewrites the audit trail at `path` as `records` lines: tokenrun's earlier records repeated, then its
    real last record (an append reads only the last line, so the chain continues from there)."""
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    last, body = lines[-1], lines[:-1] or lines
    chunk_lines = 10_000
    chunk = b"".join(body[i % len(body)] for i in range(chunk_lines))
    with open(path, "r+b") as f:
        f.truncate(0)
        left = records - 1
        while left >= chunk_lines:
            f.write(chunk)
            left -= chunk_lines
        f.write(b"".join(body[i % len(body)] for i in range(left)))
        f.write(last)


RSS_REPORTER = "import resource; print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"


def max_rss_mib(argv, env, python):
    """Peak RSS of `argv` in MiB. wait4's ru_maxrss from here would include this Python's memory (a process
    keeps the peak of its pre-exec image, which is ours), so /bin/sh forks the command from its own small
    image, waits for it, and execs a reporter that reads RUSAGE_CHILDREN (kept across exec)."""
    script = '"$0" "$@" >/dev/null || exit 1; exec "$BENCH_PYTHON" -I -S -c "$BENCH_REPORTER"'
    r = subprocess.run(["/bin/sh", "-c", script, *argv], capture_output=True, text=True,
                       env=dict(env, BENCH_PYTHON=python, BENCH_REPORTER=RSS_REPORTER))
    if r.returncode != 0:
        raise BenchError(f"`{shlex.join(argv)}` failed: {r.stderr.strip()}")
    return int(r.stdout) / 1024


CASES = [("1", "case_warm", "1-2 warm launch and get"), ("3", "case_passphrase", "3 passphrase vault"),
         ("4", "case_refresh", "4 refresh vs curl"), ("5", "case_credentials", "5 scale: credentials"),
         ("6", "case_profiles", "6 scale: profiles"), ("7", "case_audit", "7 scale: audit trail"),
         ("8", "case_concurrency", "8 concurrency"), ("9", "case_memory", "9 peak memory"),
         ("10", "case_peer", "10 peer: authsome"), ("11", "case_size", "11 size")]


def remove_tree(path):
    """rmtree, again a moment later if a process killed while it was interrupted still wrote there."""
    for _ in range(10):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            return
        time.sleep(0.2)


def progress(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench.py TOKENRUN_BINARY PYTHON")
    tokenrun, python = os.path.abspath(sys.argv[1]), sys.argv[2]
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    markdown = os.environ.get("BENCH_MARKDOWN", os.path.join(top, ".build", "bench", "results.md"))
    wanted = set(os.environ.get("BENCH_CASES", "").replace(" ", "").split(",")) - {""}
    if "2" in wanted:
        wanted.add("1")
    started, where = time.monotonic(), machine()

    def terminate(signum, frame):
        raise KeyboardInterrupt
    # SIGINT explicitly too: a background job of a non-interactive shell starts with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    scratch = tempfile.mkdtemp(prefix="tokenrun-bench-")
    harness = Harness(os.path.join(scratch, "stderr.log"))
    bench = Bench(tokenrun, python, top, scratch, harness)
    rows = []
    try:
        private_keyring = join_private_session_keyring()
        bench.provider = Provider(python, top, scratch)
        bench.provider.wait_ready()
        bench.provider.call("/test/config", {"access_token_lifetime": TOKEN_LIFETIME})
        for key, method, title in CASES:
            if wanted and key not in wanted:
                continue
            progress(f"case {title} …")
            case_started = time.monotonic()
            try:
                rows.extend(getattr(bench, method)())
            except BenchError as error:
                harness.kill_all()
                rows.append(Row(key, title.split(" ", 1)[1], verdict="ERROR", note=str(error)))
            progress(f"case {title}: {time.monotonic() - case_started:.0f} s")
    except KeyboardInterrupt:
        print("bench: interrupted; cleaning up", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    finally:
        harness.kill_all()
        for cleanup in reversed(bench.cleanups):
            try:
                cleanup()
            except Exception as error:  # cleaning up goes on whatever one step did
                print(f"bench: cleanup: {error}", file=sys.stderr)
        if bench.provider:
            bench.provider.stop()
        remove_tree(scratch)

    counts = (f"runs per case: {RUNS} (1, 2, 3b, 5, 6, 7), 3a {ARGON_RUNS}, 4 {REFRESH_RUNS}, "
              f"8 {BURSTS}×{BURST_SIZE}, 9 {MEMORY_RUNS}, 10 {PEER_RUNS}; {WARMUP} warm-up runs"
              + ("; BENCH_QUICK=1" if QUICK else ""))
    version = subprocess.run([tokenrun, "--version"], capture_output=True, text=True).stdout.strip() or "(no version)"
    head = [f"machine: {where}", f"tokenrun {version}: {tokenrun}", counts,
            "times in ms (medians; p90 beside), memory and sizes in MiB; A and B interleaved in one loop per case",
            "" if private_keyring else "note: no private session keyring (keyctl failed); `vault lock` ran at the end"]
    head = [line for line in head if line]
    missed = [r for r in rows if r.verdict in ("MISSED", "ERROR")]
    summary = (f"{len(missed)} of {sum(r.verdict in ('ok', 'MISSED', 'ERROR') for r in rows)} targets missed"
               if missed else "every target met") + f"; the run took {time.monotonic() - started:.0f} s"
    print("\n".join(head) + "\n\n" + render_text(rows) + "\n\n" + "\n".join(legend(rows)) + "\n\n" + summary)
    os.makedirs(os.path.dirname(os.path.abspath(markdown)), exist_ok=True)
    with open(markdown, "w") as f:
        f.write("\n".join(f"{line}  " for line in head) + "\n\n" + render_markdown(rows) + "\n\n"
                + "\n".join(f"- {line}" for line in legend(rows)) + "\n\n" + summary + "\n")
    print(f"bench: the table is also in {markdown}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
