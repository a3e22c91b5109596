"""All the checks, in the order a person reads them."""

from __future__ import annotations

from core.settings import Settings
from doctor.cpu_check import cpu_facts
from doctor.environment import library_facts, offline_facts, python_facts, system_facts
from doctor.index_check import index_facts
from doctor.models import embedding_facts, llm_facts
from doctor.ocr_check import ocr_facts
from doctor.report import DoctorReport
from doctor.server_check import server_facts


def run_doctor(settings: Settings) -> DoctorReport:
    report = DoctorReport()
    report.sections["python"] = python_facts()
    report.sections["libraries"], problems = library_facts()
    report.problems += problems
    report.sections["embedding_model"], problems, fingerprint = embedding_facts(settings)
    report.problems += problems
    report.sections["cpu"], problems, llama_loads = cpu_facts()
    report.problems += problems
    report.sections["llm"], problems = llm_facts(settings, llama_loads)
    report.problems += problems
    report.sections["ocr"], problems = ocr_facts(settings)
    report.problems += problems
    name = report.sections["embedding_model"].get("name")
    report.sections["index"], problems = index_facts(
        settings.db, fingerprint, name, settings.index_url, settings.index_password_file
    )
    report.problems += problems
    report.sections["system"], problems = system_facts(settings.db)
    report.problems += problems
    report.sections["offline_switches"], problems = offline_facts()
    report.problems += problems
    report.sections["server"], problems = server_facts(settings)
    report.problems += problems
    return report
