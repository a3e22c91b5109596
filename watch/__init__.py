"""Keeping an index in step with its folders while they change: `localgpt watch`, `serve --watch`.

    filesystem events (watch/events.py) -> paths, temp files left out (watch/rules.py)
    -> batches after a quiet period, files still being written held back (watch/batch.py)
    -> the ordinary incremental ingest of just those paths (ingest/pipeline.py, `only`)
    -> one log line per batch, a status file beside the index (watch/status.py)

watch/runner.py ties them together; nothing here writes the index but `run_ingest`, so a
watched index is exactly what `localgpt ingest` gives (docs/watch.md).
"""
