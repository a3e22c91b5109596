"""The embedding model loads once, however many threads ask for it at once: a server's first
questions arrive together, and each loading its own copy hung OpenVINO (two `serve` processes,
16 clients at once: benchmarks/pg_retrieval.py --clients 16)."""

from __future__ import annotations

import threading
import time

from core.settings import load_settings
from embeddings import load_embedder


def test_threads_asking_at_once_share_one_load(monkeypatch):
    embedder = load_embedder(load_settings(environ={}))
    loads = []

    def slow_load(backend, device):
        loads.append(threading.get_ident())
        time.sleep(0.2)  # long enough for every thread to arrive while it loads
        return object()

    monkeypatch.setattr(embedder, "_load_backend", slow_load)
    start = threading.Barrier(8)
    models = []

    def ask():
        start.wait()
        models.append(embedder._load())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(loads) == 1
    assert len(models) == 8 and len({id(m) for m in models}) == 1
