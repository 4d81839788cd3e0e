"""Throughput and tail latency of the product and cart services (a benchmark, not a test).

    python benchmarks/bench_services.py [--duration 10] [--connections 16]

Measures, with wrk on loopback against the MongoDB stand-in (CongoDB, in memory):
  * GET /products?limit=20  (product service)
  * POST /cart              (cart service; 200 shoppers adding one item at a time, the price
                             read from the product service over HTTP for every add)
The service under test is pinned to CPU 0 with `taskset` (one core); the stand-in, the
product service when it serves the cart as upstream, and wrk share CPU 1. Prints requests/s,
p50/p99 latency, non-2xx counts, and POST /cart relative to GET /products. Needs node, npm
and wrk (Debian package `wrk`); exits 0 with a message when one is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STANDIN = REPO / "tests" / "services" / "mongo-standin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {url} not ready after {timeout} s")


def npm_ci(folder: Path, *extra: str) -> None:
    if not (folder / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", *extra], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)


def pinned(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=cwd, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def unit(value: str) -> float:
    """wrk latency ('1.23ms', '850.00us', '1.01s') -> milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (taskset execs, so the pid is node's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, duration: int, connections: int, script: str | None = None, pid: int | None = None) -> dict:
    args = pinned(1) + ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", script]
    cpu0, t0 = (cpu_seconds(pid), time.monotonic()) if pid else (0.0, 0.0)
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 60).stdout
    busy = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) * 100 if pid else float("nan")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = unit(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = unit(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    by_status = dict(re.findall(r"^status (\d+) (\d+)$", out, re.M))
    return {"statuses": by_status, "cpu_pct": busy,"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else "none"}


POST_CART = """
local n = 0
request = function()
  n = n + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  -- 200 shoppers: the first request of each creates the cart, the others add to it
  headers["X-User-Id"] = "bench-" .. math.fmod(n, 200)
  return wrk.format("POST", "/cart", headers, '{"productId": "%s", "quantity": 1}')
end
-- Each wrk thread has its own Lua state: count there, collect in done() via setup().
statuses = {}
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write("status " .. status .. " " .. count .. "\\n")
    end
  end
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    parser.add_argument("--connections", type=int, default=16)
    opts = parser.parse_args()
    for tool in ("node", "npm", "wrk"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} is not installed; nothing measured (apt-get install wrk nodejs npm)")
            return 0
    npm_ci(STANDIN, "--ignore-scripts")
    npm_ci(REPO / "services" / "product")
    npm_ci(REPO / "services" / "cart")

    procs: list[subprocess.Popen[bytes]] = []
    try:
        db_port, product_port, cart_port = free_port(), free_port(), free_port()
        procs.append(start(pinned(1) + ["node", "standin.mjs", "--port", str(db_port)], STANDIN, {}))
        time.sleep(1.5)
        uri = f"mongodb://127.0.0.1:{db_port}/bench"
        quiet = {"LOG_LEVEL": "warn", "MONGODB_URI": uri}
        procs.append(start(pinned(0) + ["node", "src/server.js"], REPO / "services" / "product",
                           {**quiet, "PORT": str(product_port), "SEED_CATALOG": "true", "HOST": "127.0.0.1"}))
        product = f"http://127.0.0.1:{product_port}"
        wait(f"{product}/ready")
        deadline = time.monotonic() + 20
        items: list[dict[str, object]] = []
        while not items and time.monotonic() < deadline:
            with urllib.request.urlopen(f"{product}/products?limit=20", timeout=5) as r:
                items = json.load(r)["items"]
            time.sleep(0.2)
        if not items:
            raise SystemExit("bench: the catalogue was not seeded")

        results = {"GET /products": wrk(f"{product}/products?limit=20", opts.duration, opts.connections,
                                        pid=procs[1].pid)}

        # For POST /cart the cart service has CPU 0; product moves next to the database.
        procs[1].send_signal(signal.SIGTERM)
        procs[1].wait(15)
        procs.append(start(pinned(1) + ["node", "src/server.js"], REPO / "services" / "product",
                           {**quiet, "PORT": str(product_port), "HOST": "127.0.0.1"}))
        wait(f"{product}/ready")
        procs.append(start(pinned(0) + ["node", "src/server.js"], REPO / "services" / "cart",
                           {**quiet, "PORT": str(cart_port), "PRODUCT_SERVICE_URL": product, "HOST": "127.0.0.1"}))
        cart = f"http://127.0.0.1:{cart_port}"
        wait(f"{cart}/ready")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(POST_CART % items[0]["id"])
            script = f.name
        try:
            results["POST /cart"] = wrk(cart, opts.duration, opts.connections, script, pid=procs[-1].pid)
        finally:
            os.unlink(script)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    print(f"services benchmark: wrk -t1 -c{opts.connections} -d{opts.duration}s on loopback, "
          f"service under test on 1 core, MongoDB stand-in (CongoDB, in memory)")
    print(f"{'endpoint':15s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'requests':>9s} {'non-2xx':>8s} "
          f"{'svc CPU%':>9s}  socket errors")
    for name, r in results.items():
        print(f"{name:15s} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['requests']:9.0f} "
              f"{r['non_2xx']:8.0f} {r['cpu_pct']:9.0f}  {r['socket_errors']}")
        if r["statuses"]:
            print(f"{'':15s} answers by status: {r['statuses']}")
    get, post = results["GET /products"], results["POST /cart"]
    print("svc CPU% is the service under test's share of its one core: well under 100 means the")
    print("MongoDB stand-in (a single-threaded JavaScript server) is the bottleneck, not the service.")
    print(f"ratio POST /cart / GET /products: throughput {post['rps'] / get['rps']:.2f}x, "
          f"p99 {post['p99_ms'] / get['p99_ms']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
