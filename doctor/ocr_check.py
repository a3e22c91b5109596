"""The OCR engine that reads scanned pages: the program and its language models (path, SHA-256)."""

from __future__ import annotations

import subprocess

from core.errors import ModelLoadError
from core.settings import Settings
from core.files import file_sha256
from doctor.report import WARNING, Problem, human_bytes


def ocr_facts(settings: Settings) -> tuple[dict[str, object], list[Problem]]:
    from ingest.ocr.engine import ENGINE, PACKAGE, installed, languages

    facts: dict[str, object] = {"engine": ENGINE, "mode": settings.ocr, "language": settings.ocr_language}
    if settings.ocr == "off":
        return facts, []
    try:
        program, tessdata = installed()
    except ModelLoadError as exc:
        return facts, [Problem("ocr-missing", f"{exc} Scanned pages and images cannot be read.", WARNING)]
    problems: list[Problem] = []
    facts["path"] = str(program)
    try:
        done = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=30, check=False)
        facts["version"] = (done.stdout or done.stderr).split("\n", 1)[0].strip()
        facts["sha256"] = file_sha256(program)
    except OSError as exc:
        problems.append(
            Problem(
                "ocr-broken", f"The OCR program {program} cannot run ({exc}): reinstall {PACKAGE}, or pass --ocr off."
            )
        )
    facts["languages_installed"] = languages(tessdata)
    models = []
    for part in settings.ocr_language.split("+"):
        path = tessdata / f"{part}.traineddata"
        if not path.is_file():
            problems.append(
                Problem(
                    "ocr-language-missing",
                    f"OCR language {part!r} is not installed in {tessdata}: "
                    f"pass --ocr-language with one of {', '.join(facts['languages_installed'])}.",
                )
            )
            continue
        models.append(
            {"language": part, "path": str(path), "size": human_bytes(path.stat().st_size), "sha256": file_sha256(path)}
        )
    facts["models"] = models
    return facts, problems
