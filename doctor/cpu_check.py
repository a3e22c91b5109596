"""The CPU's instruction-set features, and whether it can run the installed llama.cpp build (checked in a
child process, so a build made for another CPU cannot kill the doctor with an illegal instruction). A shared
library the system lacks (libgomp.so.1) is told apart from a CPU the build cannot run on."""

from __future__ import annotations

import platform

from core.cpu import cpu_features, has_native_bf16, shown_features
from doctor.report import Problem
from generation.backends.llama_native import installed_build, probe


def cpu_facts() -> tuple[dict[str, object], list[Problem], bool]:
    """Facts, problems, and whether llama.cpp can be loaded in this process."""
    features = cpu_features()
    facts: dict[str, object] = {
        "architecture": platform.machine(),
        "features": shown_features(features),
        "native_bfloat16": has_native_bf16(features),
    }
    build = installed_build()
    facts["llama_cpp_build"] = build.describe()
    if not build.installed:
        return facts, [], False  # library_facts names the missing package
    found = probe()
    if not found.ok:
        reason = "llm-library-missing" if found.missing_library else "llm-cpu-unsupported"
        return facts, [Problem(reason, found.problem)], False
    if found.variant:
        facts["llama_cpp_cpu_variant"] = found.variant
    facts["llama_cpp_needs"] = found.compiled or "-"
    return facts, [], True
