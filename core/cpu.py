"""What this CPU can run: its instruction-set features, read without running anything that needs them.

The features come from numpy's runtime CPU detection (CPUID and XGETBV, as the CPU and the OS
report them, so an emulator's CPU model is seen as it is); where numpy is missing, from the
flags in /proc/cpuinfo. Names are numpy's: AVX2, FMA3, F16C, AVX512F, AVX512BF16...
"""

from __future__ import annotations

import hashlib
import platform
from functools import lru_cache

# /proc/cpuinfo's names for the features we act on, in numpy's spelling.
_PROC_NAMES = {
    "sse4_2": "SSE42",
    "avx": "AVX",
    "avx2": "AVX2",
    "fma": "FMA3",
    "f16c": "F16C",
    "bmi2": "BMI2",
    "avx512f": "AVX512F",
    "avx512bw": "AVX512BW",
    "avx512vl": "AVX512VL",
    "avx512dq": "AVX512DQ",
    "avx512_vnni": "AVX512VNNI",
    "avx512vbmi": "AVX512VBMI",
    "avx512_bf16": "AVX512BF16",
    "avx512_fp16": "AVX512FP16",
}
# What a report lists (the features llama.cpp's CPU variants and OpenVINO choose kernels by), oldest first.
SHOWN = (
    "SSE42",
    "AVX",
    "AVX2",
    "FMA3",
    "F16C",
    "BMI2",
    "AVX512F",
    "AVX512BW",
    "AVX512VL",
    "AVX512VNNI",
    "AVX512VBMI",
    "AVX512BF16",
    "AVX512FP16",
)


def _from_numpy() -> frozenset[str] | None:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__  # numpy 1.x
        except ImportError:
            return None
    return frozenset(name for name, present in __cpu_features__.items() if present)


def _from_proc() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return frozenset()
    return frozenset(_PROC_NAMES[flag] for flag in flags if flag in _PROC_NAMES)


@lru_cache(maxsize=1)
def cpu_features() -> frozenset[str]:
    """The features this CPU has (numpy's names)."""
    found = _from_numpy()
    return found if found is not None else _from_proc()


def shown_features(features: frozenset[str] | None = None) -> list[str]:
    """The features a report lists, of those the CPU has."""
    have = cpu_features() if features is None else features
    return [name for name in SHOWN if name in have]


def has_native_bf16(features: frozenset[str] | None = None) -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX512-BF16; AMX CPUs have it too)."""
    return "AVX512BF16" in (cpu_features() if features is None else features)


def cpu_key(features: frozenset[str] | None = None) -> str:
    """A short name for this CPU's instruction set: the same on every machine that can run the same kernels."""
    have = cpu_features() if features is None else features
    text = platform.machine() + ":" + ",".join(sorted(have))
    return hashlib.sha256(text.encode()).hexdigest()[:10]
