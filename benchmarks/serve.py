"""`localgpt serve` measured against the same calls in-process, in one run.

    python benchmarks/serve.py [--db DB] [--rounds 30] [--asks 5] [--seconds 10] [--pdf FILE]

Without --db the sample documents are ingested into a temporary index. A server is started as
a subprocess (`localgpt serve` on a free loopback port); the in-process baseline opens the same
index in this process. Each figure is a median over the same queries, interleaved (HTTP, then
in-process) so machine noise hits both. Prints:

- search latency: POST /api/search against the same search in-process (same k, mode), with the
  floor of an HTTP round trip here (GET /api/health) and the time to encode the hits as JSON;
- ask latency: POST /api/ask against the same engine call; time to first token over HTTP (stream);
- searches per second and p95 with 1, 4 and 16 clients for --seconds each, and with 20 while one asks;
- a PDF page render (with a highlight): in-process and GET /api/page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import REPO, free_port, on_path, percentile, sample_index

on_path()

SEARCHES = [
    "What is the notice period in the lease?",
    "How often should the kettle be descaled?",
    "monthly rent",
    "Who is the landlord?",
    "office chairs in the inventory",
    "vacation days policy",
]
ASK = "What is the notice period in the lease?"


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def p95_ms(values: list[float]) -> float:
    return round(percentile(values, 95) * 1000, 1)


def start_server(db: Path, port: int) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, str(REPO / "localgpt.py"), "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise SystemExit(f"the server did not start: {proc.stderr.read()}")
    raise SystemExit("the server did not start in 5 minutes")


def load(url: str, clients: int, seconds: float) -> dict:
    import httpx

    times: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = n
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = http.post("/api/search", json={"query": SEARCHES[i % len(SEARCHES)]})
                if response.status_code != 200:
                    errors[0] += 1
                times.append(time.perf_counter() - started)
                i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    return {
        "clients": clients,
        "searches_per_s": round(len(times) / elapsed, 1),
        "p50_ms": median_ms(times),
        "p95_ms": p95_ms(times),
        "errors": errors[0],
    }


def main() -> None:
    global ASK
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--asks", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pdf", default="lease_agreement.pdf", help="source of a PDF in the index")
    parser.add_argument("--ask", default=None, help="the question asked (default: the samples' lease question)")
    parser.add_argument("--search", action="append", help="a search query (repeat; default: questions on the samples)")
    args = parser.parse_args()
    ASK = args.ask or ASK
    if args.search:
        SEARCHES[:] = args.search

    import httpx

    from core.offline import enforce_offline
    from core.settings import load_settings
    from generation.record import search_record
    from server.engine import Engine

    enforce_offline()
    db = sample_index(args.db)
    port = free_port()
    server = start_server(db, port)
    url = f"http://127.0.0.1:{port}"
    engine = Engine(load_settings({"db": db}))
    engine.load()
    out: dict = {}
    try:
        with httpx.Client(base_url=url, timeout=600) as http:
            for q in SEARCHES:  # warm both
                http.post("/api/search", json={"query": q})
                engine.search(q)
            over_http, in_process = [], []
            for i in range(args.rounds):
                q = SEARCHES[i % len(SEARCHES)]
                started = time.perf_counter()
                assert http.post("/api/search", json={"query": q}).status_code == 200
                over_http.append(time.perf_counter() - started)
                started = time.perf_counter()
                engine.search(q)
                in_process.append(time.perf_counter() - started)
            floor, encode = [], []
            for i in range(args.rounds):
                started = time.perf_counter()
                http.get("/api/health")
                floor.append(time.perf_counter() - started)
                hits = engine.search(SEARCHES[i % len(SEARCHES)])
                started = time.perf_counter()
                json.dumps(search_record(hits), ensure_ascii=False)
                encode.append(time.perf_counter() - started)
            out["search_ms"] = {
                "http": median_ms(over_http),
                "in_process": median_ms(in_process),
                "overhead": round(statistics.median(over_http) / statistics.median(in_process) - 1, 3),
                "http_round_trip_floor": median_ms(floor),
                "json_encode": median_ms(encode),
            }

            over_http, in_process, first_token = [], [], []
            for _ in range(args.asks):
                started = time.perf_counter()
                http.post("/api/ask", json={"query": ASK})
                over_http.append(time.perf_counter() - started)
                started = time.perf_counter()
                engine.ask(ASK)
                in_process.append(time.perf_counter() - started)
                started = time.perf_counter()
                with http.stream("POST", "/api/ask", json={"query": ASK, "stream": True}) as response:
                    seen = False
                    for line in response.iter_lines():  # read to the end: the next request must not wait behind it
                        if not seen and line.startswith("event: token"):
                            first_token.append(time.perf_counter() - started)
                            seen = True
            out["ask_ms"] = {
                "http": median_ms(over_http),
                "in_process": median_ms(in_process),
                "overhead": round(statistics.median(over_http) / statistics.median(in_process) - 1, 3),
                "first_token_http": median_ms(first_token),
            }

            record = http.post("/api/ask", json={"query": ASK, "where": [f"source={args.pdf}"]}).json()
            ev = record["evidence"][0] if record["evidence"] else {"text": "", "n": 1}
            page = record["passages"][ev["n"] - 1]["page"] if record["passages"] else 1
            over_http, in_process = [], []
            for _ in range(10):
                started = time.perf_counter()
                shown = http.get("/api/page", params={"source": args.pdf, "page": page, "highlight": ev["text"]})
                assert shown.status_code == 200, shown.text
                over_http.append(time.perf_counter() - started)
                started = time.perf_counter()
                engine.page(args.pdf, page, ev["text"])
                in_process.append(time.perf_counter() - started)
            out["page_render_ms"] = {"http": median_ms(over_http), "in_process": median_ms(in_process)}
        engine.close()
        out["load"] = [load(url, n, args.seconds) for n in (1, 4, 16)]
        asked: list[float] = []

        def ask_meanwhile() -> None:
            with httpx.Client(base_url=url, timeout=600) as http:
                started = time.perf_counter()
                http.post("/api/ask", json={"query": ASK})
                asked.append(time.perf_counter() - started)

        asker = threading.Thread(target=ask_meanwhile)
        asker.start()
        out["load_20_while_asking"] = {**load(url, 20, args.seconds), "ask_s": None}
        asker.join()
        out["load_20_while_asking"]["ask_s"] = round(asked[0], 2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
