"""`localgpt eval --mlflow DIR`: log an eval run's settings and figures to a local MLflow file store.

MLflow is an optional extra (`pip install 'localgpt[mlflow]'`, which installs mlflow-skinny):
the default install and the offline bundle do not carry it. Nothing leaves the machine: the
store is a folder, and MLflow's own usage telemetry is switched off before it is imported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.errors import LocalGPTError
from core.settings import Settings

EXPERIMENT = "localgpt-retrieval"
INSTALL_HINT = "pip install 'localgpt[mlflow]'"
# Settings that change what retrieval returns: logged as the run's parameters.
LOGGED_SETTINGS = (
    "k",
    "search_mode",
    "fusion",
    "bm25_weight",
    "passage_chars",
    "mmr",
    "reranker",
    "embedding_model",
    "embedding_precision",
    "chunk_tokens",
    "chunk_overlap",
)


class MlflowMissingError(LocalGPTError):
    """--mlflow was given but MLflow is not installed."""


def require_mlflow():
    """The mlflow module, imported with its telemetry off; a clear error naming the extra if it is missing."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    try:
        import mlflow
    except ImportError:
        raise MlflowMissingError(
            f"--mlflow needs MLflow, which is an optional extra: install it with `{INSTALL_HINT}` "
            "(or `pip install mlflow-skinny`), or leave out --mlflow."
        ) from None
    return mlflow


def log_eval(directory: str | Path, report_json: dict[str, Any], settings: Settings, qa_file: str) -> str:
    """One MLflow run in the file store at `directory` (created if missing); returns the run id.

    Parameters: the retrieval settings and the question file; metrics: each mode's figures,
    named "<mode>.recall_at_5" and so on."""
    mlflow = require_mlflow()
    store = Path(directory).expanduser().resolve()
    store.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(store.as_uri())
    mlflow.set_experiment(EXPERIMENT)
    params = {name: str(getattr(settings, name)) for name in LOGGED_SETTINGS}
    params.update(qa_file=str(qa_file), questions=str(report_json["questions"]))
    metrics: dict[str, float] = {"query_embedding_ms_p50": report_json["query_embedding_ms"]["p50"]}
    for mode, figures in report_json["modes"].items():
        for name, value in figures.items():
            if isinstance(value, (int, float)):
                metrics[f"{mode}.{name.replace('@', '_at_')}"] = float(value)
            elif name == "latency_ms":
                metrics[f"{mode}.latency_ms_p50"] = float(value["p50"])
    with mlflow.start_run(run_name=Path(qa_file).stem) as run:
        mlflow.log_params(params)
        mlflow.log_metrics({k.replace("+", "_"): v for k, v in metrics.items()})
        return run.info.run_id
