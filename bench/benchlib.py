"""Helpers shared by bench/run and bench/scale (Python standard library only).

Processes are measured from /proc: CPU as utime+stime deltas of a process and all its
descendants, memory as VmRSS sampled every 50 ms (summed over the process tree) and VmHWM.
The load generator is wrk (Debian package), driven by the Lua scripts in bench/lua, which
print one JSON line per run.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEERS = BENCH / ".peers"
RESULTS = BENCH / "results"
LUA = BENCH / "lua"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc readings


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'
    return raw[raw.rfind(")") + 2 :].split()


def proc_comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        f = _stat_fields(pid)
        if f:
            children.setdefault(int(f[1]), []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        f = _stat_fields(pid)
        if f:
            total += int(f[11]) + int(f[12])  # utime, stime
    return total


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pids: list[int]) -> int:
    return sum(_status_kib(p, "VmRSS") for p in pids)


def hwm_kib(pids: list[int]) -> int:
    return sum(_status_kib(p, "VmHWM") for p in pids)


def postgres_pids() -> list[int]:
    return [p for p in all_pids() if proc_comm(p) == "postgres"]


def system_busy_ticks() -> int:
    """Busy jiffies of the whole machine (all CPUs) since boot."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = [int(x) for x in parts[:8]]
    user, nice, system, idle, iowait, irq, softirq, steal = vals
    return user + nice + system + irq + softirq + steal


def self_ticks() -> int:
    t = os.times()
    return round((t.user + t.system) * CLK_TCK)


def children_ticks() -> int:
    t = os.times()
    return round((t.children_user + t.children_system) * CLK_TCK)


class RssSampler:
    """Samples the summed VmRSS of a process tree every 50 ms in a thread; `peak_kib`."""

    def __init__(self, root: int | None):
        self.root = root
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self):
        if self.root is not None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        pids = process_tree(self.root)
        last_scan = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() - last_scan > 1.0:
                pids = process_tree(self.root)
                last_scan = time.monotonic()
            self.peak_kib = max(self.peak_kib, rss_kib(pids))
            self._stop.wait(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join()


# ---------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """A keep-alive JSON client for setup requests (not for load)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None, headers=None):
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode(errors="replace")
        return resp.status, resp.headers, doc

    def ok(self, method: str, path: str, body=None, headers=None):
        status, hdrs, doc = self.request(method, path, body, headers)
        if status != 200 and status != 201:
            raise RuntimeError(f"{method} {path} -> {status}: {doc}")
        return doc

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None


# ---------------------------------------------------------------- servers


class Server:
    """A server process started in its own process group, logged to a file."""

    def __init__(self, name, argv, port, *, env=None, cwd=None, ready_path="/healthz", log_dir=None):
        self.name, self.argv, self.port = name, [str(a) for a in argv], port
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.ready_path = ready_path
        self.log_path = Path(log_dir or RESULTS) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.log"
        self.proc: subprocess.Popen | None = None
        self.ready_s: float | None = None

    def start(self, timeout: float = 60) -> float:
        """Starts and waits until `ready_path` answers 200; returns seconds from spawn."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = open(self.log_path, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdout=logf, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        logf.close()
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(f"GET {self.ready_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                    head = s.recv(64)
                if head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"):
                    self.ready_s = time.perf_counter() - t0
                    return self.ready_s
            except OSError:
                pass
            time.sleep(0.001)
        self.stop()
        raise RuntimeError(f"{self.name} not ready within {timeout}s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def pids(self) -> list[int]:
        return process_tree(self.pid)

    def stop(self, timeout: float = 10) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


# ---------------------------------------------------------------- load generator


def wrk_argv(url: str, script: str, duration: float, conns: int, threads: int) -> list[str]:
    return [
        "wrk", f"-t{threads}", f"-c{conns}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
        "-s", str(LUA / script), url,
    ]


def parse_wrk(out: str) -> dict:
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError(f"wrk printed no result:\n{out[-2000:]}")


def wrk_env(extra: dict | None) -> dict:
    return {**os.environ, "BENCH_LUA": str(LUA), **(extra or {})}


def run_wrk(url, script, duration, conns, threads, env=None) -> dict:
    p = subprocess.run(
        wrk_argv(url, script, duration, conns, threads), env=wrk_env(env),
        capture_output=True, text=True, timeout=duration + 60,
    )
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr[-2000:]}")
    return parse_wrk(p.stdout)


def start_wrk(url, script, duration, conns, threads, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        wrk_argv(url, script, duration, conns, threads), env=wrk_env(env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish_wrk(p: subprocess.Popen, duration: float) -> dict:
    out, err = p.communicate(timeout=duration + 60)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {err[-2000:]}")
    return parse_wrk(out)


# ---------------------------------------------------------------- tools and builds


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("installing wrk from Debian's packages")
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: install it (apt-get install wrk) and re-run")
    cmd = ["apt-get", "install", "-y", "wrk"]
    if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")


def build_tessera(skip: bool = False) -> Path:
    binary = target_dir() / "release" / "tessera"
    if not skip:
        log("building tessera (cargo build --release -p tessera-cli)")
        subprocess.run(["cargo", "build", "--release", "-p", "tessera-cli"], cwd=REPO, check=True)
    if not binary.exists():
        raise SystemExit(f"{binary} is missing: build it or drop --no-build")
    return binary


def machine() -> dict:
    def first(path, key):
        try:
            for line in open(path):
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "absent"

    mem_kib = int(first("/proc/meminfo", "MemTotal").split()[0] or 0)
    pretty = "?"
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1048576, 1),
        "os": pretty,
        "kernel": os.uname().release,
        "rustc": version(["rustc", "-V"]),
        "wrk": version(["wrk", "-v"]),
        "node": version(["node", "-v"]),
        "python": sys.version.split()[0],
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "crates",
                                "migrations", "Cargo.lock"], cwd=REPO, capture_output=True,
                               text=True).stdout.strip()
        return rev + ("+uncommitted changes" if dirty else "")
    except OSError:
        return "?"
