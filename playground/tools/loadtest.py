"""`python -m playground loadtest`: latency of the served app under concurrent clients.

Starts `app.py` on a free loopback port in its own process (its own runs folder), then N client
threads call one endpoint M times back to back, each as its own session. A call is what a page
does: POST the event, read its server-sent-event stream to the result, then GET the image file
the result names. Plain HTTP over one keep-alive connection per visitor, so the measurement is the server's, not a client
library's. Reports errors and latency percentiles (p50, p95, max) per call, image download
included. Loopback only, and bounded: the run stops at `--timeout` seconds whatever is left.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from ..errors import PlaygroundError

# endpoint -> (the arguments one call sends, the position of the seed, set per call: a number, or a
# text template such as "{seed}-{last}" for a range of six seeds)
ENDPOINTS = {
    "generate": (("cgan-mnist", "one row per class", 10, None, 0.0), 3),   # a 100-image grid, no truncation
    "style_mix": (("stylegan-fashion", "{seed}-{last}", "10-15", "coarse", 0, 3, 1.0, "on (fixed maps)"), 1),  # 6x6
    "infogan_image": (("infogan-mnist", "code 0 ≈ 0", None, 0, 0, 0, 0), 2),                          # one sample
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(port: int, runs_dir: str) -> subprocess.Popen:
    """`app.py` in its own process on a loopback port, returned once it answers (also `bench app`)."""
    root = Path(__file__).resolve().parents[2]          # the repository: playground/tools/ -> ..
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", PLAYGROUND_RUNS_DIR=runs_dir)
    proc = subprocess.Popen([sys.executable, str(root / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter()
    while time.perf_counter() - t < 120:
        if proc.poll() is not None:
            raise PlaygroundError("the app exited before serving")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise PlaygroundError("the app did not answer within 120 s")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100])."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))]


class PageClient:
    """One visitor: a keep-alive HTTP connection (as a browser keeps one) and a session id."""

    def __init__(self, port: int, session: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.session = session

    def _get(self, path: str, body: bytes | None = None) -> bytes:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request("POST" if body is not None else "GET", path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status} for {path}: {data[:200]!r}")
        return data

    def call(self, endpoint: str, args: list, queued: bool = True) -> None:
        """One event through Gradio's HTTP API, then the first file of its result, as a page does:
        a queued event is POSTed, then its server-sent-event stream read to the result; an event
        the app serves without the queue is one POST that answers with the result."""
        body = json.dumps({"data": args, "session_hash": self.session}).encode()
        if queued:
            event_id = json.loads(self._get(f"/gradio_api/call/{endpoint}", body))["event_id"]
            stream = self._get(f"/gradio_api/call/{endpoint}/{event_id}").decode()
            kind, _, data = stream.strip().rpartition("event: ")[2].partition("\ndata: ")
            if kind != "complete":
                raise RuntimeError(f"{kind}: {data[:200]}")
            result = json.loads(data)
        else:
            result = json.loads(self._get(f"/gradio_api/run/{endpoint}", body))["data"]
        files = [r for r in result if isinstance(r, dict) and r.get("url")]
        if files:
            self._get(urllib.parse.urlsplit(files[0]["url"]).path)


def run_loadtest(clients: int = 8, calls: int = 50, endpoint: str = "generate", timeout: float = 300.0,
                 warmup: int = 2) -> dict:
    if endpoint not in ENDPOINTS:
        raise PlaygroundError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
    if not (1 <= clients <= 64 and 1 <= calls <= 10_000):
        raise PlaygroundError("clients must be 1..64 and calls 1..10000")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="playground-loadtest-") as runs:
        proc = serve_app(port, runs)
        try:
            url = f"http://127.0.0.1:{port}/"
            config = json.loads(urllib.request.urlopen(f"{url}config", timeout=30).read())
            queued = next((d.get("queue", True) is not False for d in config["dependencies"]
                           if d.get("api_name") == endpoint), True)
            deadline = time.perf_counter() + timeout
            latencies, errors, lock = [], [], threading.Lock()

            def one_client(k: int) -> None:
                client = PageClient(port, f"loadtest-{k}-{os.getpid()}")
                template, seed_at = ENDPOINTS[endpoint]
                args = list(template)
                for i in range(-warmup, calls):
                    if time.perf_counter() > deadline:
                        return
                    seed = 1000 * k + i + warmup
                    slot = template[seed_at]
                    args[seed_at] = slot.format(seed=seed, last=seed + 5) if isinstance(slot, str) else seed
                    t = time.perf_counter()
                    try:
                        client.call(endpoint, args, queued)
                        ok = True
                    except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the test
                        ok = False
                        with lock:
                            errors.append(f"{type(e).__name__}: {str(e)[:120]}")
                    if i >= 0 and ok:
                        with lock:
                            latencies.append(time.perf_counter() - t)

            threads = [threading.Thread(target=one_client, args=(k,)) for k in range(clients)]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join(max(0.0, deadline - time.perf_counter()) + 5)
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    if not latencies:
        raise PlaygroundError(f"no call succeeded; errors: {errors[:3]}")
    ms = [1000 * v for v in latencies]
    return {"endpoint": f"/{endpoint}", "clients": clients, "calls_per_client": calls,
            "route": "queue (POST + event stream)" if queued else "direct POST (queue=False)", "completed": len(ms), "errors": len(errors), "error_examples": errors[:3],
            "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1), "throughput_per_s": round(len(ms) / wall, 1),
            "cpu_count": os.cpu_count(), "timed_out": time.perf_counter() > deadline}
