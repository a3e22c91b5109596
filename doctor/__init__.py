"""`localgpt doctor`: what a person checks in a room with no network, and why something would fail."""

from doctor.report import DoctorReport, Problem
from doctor.run import run_doctor

__all__ = ["DoctorReport", "Problem", "run_doctor"]
