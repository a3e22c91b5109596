"""`python -m llama_cpp.server`, after loading the CPU variants of a portable llama.cpp build
(generation/backends/llama_native.py says why llama.cpp does not find them itself)."""

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generation.backends.llama_native import load_cpu_backends

load_cpu_backends()
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
