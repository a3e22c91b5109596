"""A native library that failed to load because the system lacks a shared library it needs: which one,
and the package that provides it, so the user is not sent after the wrong cause (a CPU, a build)."""

from __future__ import annotations

import re

# The dynamic loader's words (glibc), as Python's ctypes passes them on:
#   "libgomp.so.1: cannot open shared object file: No such file or directory"
_NOT_FOUND = re.compile(r"([\w.+-]+\.so(?:\.[\w.]+)?): cannot open shared object file")

# Shared library -> (Debian/Ubuntu package, RHEL/Fedora/Rocky/Alma package).
PACKAGES = {
    "libgomp.so.1": ("libgomp1", "libgomp"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libopenblas.so.0": ("libopenblas0", "openblas"),
    "libvulkan.so.1": ("libvulkan1", "vulkan-loader"),
}


def missing_library(message: str) -> str:
    """The shared library the loader could not find, named in an error message; '' if none is."""
    found = _NOT_FOUND.findall(message)
    return found[-1] if found else ""


# A copy a wheel carries under a name of its own (auditwheel's, and deploy/bundletool.py's): libgomp-1a2b3c4d.so.1
_CARRIED = re.compile(r"^(lib[\w.+]+?)-[0-9a-f]{8}(\.so.*)$")


def install_hint(library: str) -> str:
    """How to get `library`: the package that provides it on Debian/Ubuntu and on RHEL-like systems, or, for
    a copy a wheel carries, that wheel again."""
    carried = _CARRIED.match(library)
    if carried:
        return (
            f"reinstall the package that carries it (its copy of {carried[1]}{carried[2]} was removed): "
            "run the bundle's install.sh again, or pip install --force-reinstall llama-cpp-python"
        )
    debian, rhel = PACKAGES.get(library, (None, None))
    if debian is None:
        return (
            f"install the package that provides {library} (Debian/Ubuntu: `apt-file search {library}`; "
            f"RHEL, Fedora, Rocky, Alma: `dnf provides '*/{library}'`)"
        )
    return f"install it: `apt-get install {debian}` on Debian/Ubuntu, `dnf install {rhel}` on RHEL, Fedora, Rocky, Alma"
