#!/usr/bin/env bash
# Regenerate requirements.lock from pyproject.toml's ranges, in one command.
#
#   scripts/update-lock.sh                  # add what pyproject.toml gained; keep every other pin
#   scripts/update-lock.sh --upgrade        # move every package to its newest allowed version
#   scripts/update-lock.sh --upgrade-package chromadb
#
# The lock pins every package (the `test` and `postgres` extras included) to one version, with the
# SHA-256 of every file of that version, for one platform: Linux x86_64, CPython 3.11,
# CPU-only torch. Other targets (a CUDA torch, another Python) are set with variables:
#
#   echo 'torch==2.13.0' > cuda.txt
#   LOCK_CONSTRAINTS=cuda.txt LOCK_OUTPUT=requirements-cuda.lock \
#     LOCK_INDEXES=https://download.pytorch.org/whl/cu128 scripts/update-lock.sh
#
# Variables: UV (the uv binary), LOCK_OUTPUT, LOCK_CONSTRAINTS (scripts/lock-constraints.txt), LOCK_PYTHON (3.11),
# LOCK_PLATFORM (x86_64-manylinux_2_28), LOCK_INDEXES and LOCK_FIND_LINKS (space-separated;
# by default those of pip's own configuration, so the lock resolves against what pip installs from).
# Extra arguments go to `uv pip compile`.
set -euo pipefail
cd "$(dirname "$0")/.."

find_uv() {
    if [[ -n "${UV:-}" ]]; then echo "$UV"; return; fi
    if command -v uv >/dev/null; then command -v uv; return; fi
    for candidate in .venv/bin/uv "$(dirname "$(command -v python3)")/uv"; do
        if [[ -x "$candidate" ]]; then echo "$candidate"; return; fi
    done
    echo "uv is needed to update the lock: 'pip install uv', or set UV=/path/to/uv" >&2
    exit 2
}

pip_config() {  # pip's configured value for a key, from its config files and PIP_* variables
    python3 -m pip config get "global.$1" 2>/dev/null || true
}

uv_bin=$(find_uv)
output=${LOCK_OUTPUT:-requirements.lock}
constraints=${LOCK_CONSTRAINTS:-scripts/lock-constraints.txt}
indexes=${LOCK_INDEXES-${PIP_EXTRA_INDEX_URL:-$(pip_config extra-index-url)}}
find_links=${LOCK_FIND_LINKS-${PIP_FIND_LINKS:-$(pip_config find-links)}}

source_args=()
for url in $indexes; do source_args+=(--extra-index-url "$url"); done
for dir in $find_links; do source_args+=(--find-links "$dir"); done

# unsafe-best-match: take the best version across all indexes, as pip does
# (the extra indexes here are local mirrors of PyPI, not private packages).
"$uv_bin" pip compile pyproject.toml \
    --extra test \
    --extra postgres \
    --generate-hashes \
    --python-version "${LOCK_PYTHON:-3.11}" \
    --python-platform "${LOCK_PLATFORM:-x86_64-manylinux_2_28}" \
    --index-strategy unsafe-best-match \
    --constraint "$constraints" \
    --custom-compile-command "scripts/update-lock.sh" \
    --annotation-style line \
    --quiet \
    "${source_args[@]}" \
    --output-file "$output" \
    "$@"
# Record what the lock is for: bootstrap.py and deploy/make-bundle.sh compare it with the Python they run.
target="# target: python=${LOCK_PYTHON:-3.11} platform=${LOCK_PLATFORM:-x86_64-manylinux_2_28} $(grep -hv '^#' "$constraints" | xargs)"
sed -i "/^# target:/d; 2a $target" "$output"
echo "wrote $output: $(grep -cE '^[A-Za-z0-9]' "$output") packages" >&2
