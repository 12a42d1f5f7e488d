"""Load on the web API from a second process on loopback: requests per second and p50/p99 latency
for /api/lint and /api/draft (offline backend) at 1, 8 and 32 concurrent clients. Every loop is
bounded by a request count; the server is started here and stopped at the end.

    python bench/web_load.py [--requests 400]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from _stats import percentile

ROOT = Path(__file__).resolve().parent.parent
REPLY = (
    "Hi Tom,\n\nI'm so sorry your kettle arrived cracked. Our records show it was delivered, but I've "
    "sent a replacement today and you'll have the tracking number this afternoon.\n\nSam"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(
    port: int, path: str, body: dict[str, str], clients: int, total: int
) -> tuple[float, list[float]]:
    """`clients` threads, each with its own kept-alive connection, share `total` requests.

    Plain http.client threads, not an async HTTP client: on these 2 cores the load generator
    competes with the server, and httpx's per-request work at 32 clients cost more CPU than the
    server's own (the same server answered 2,900 req/s to these threads and 340 to httpx).
    """
    payload = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    latencies: list[float] = []
    remaining = [total]
    lock = threading.Lock()
    connections = [
        http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(clients)
    ]
    # Each client's connection is opened and used once before the clock starts, as a browser's
    # stays open.
    for conn in connections:
        conn.request("POST", path, payload, headers)
        conn.getresponse().read()

    def client(conn: http.client.HTTPConnection) -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            t0 = time.perf_counter()
            conn.request("POST", path, payload, headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - t0)
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")

    threads = [threading.Thread(target=client, args=(conn,)) for conn in connections]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    for conn in connections:
        conn.close()
    return wall, sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    port = free_port()
    email = (ROOT / "examples" / "emails" / "04-broken-kettle.txt").read_text()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "ASSISTANT_AUDIT_DB": str(Path(folder) / "audit.sqlite3"),
            "ASSISTANT_BACKEND": "offline",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/openapi.json", timeout=1).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            print(
                f"web_load: uvicorn in its own process on loopback, {args.requests} requests per row"
            )
            for path, body in (("/api/lint", {"text": REPLY}), ("/api/draft", {"email": email})):
                for clients in (1, 8, 32):
                    wall, lat = load(port, path, body, clients, args.requests)
                    p50 = percentile(lat, 0.5) * 1000
                    p99 = percentile(lat, 0.99) * 1000
                    print(
                        f"{path:<11} {clients:>2} clients: {len(lat) / wall:7.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
                    )
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
