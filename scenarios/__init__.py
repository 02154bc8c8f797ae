"""Scenarios: what-if studies over twins, with common random numbers and honest statistics.

    >>> from scenarios import load_study, run_study, settings_for, summarize_study
    >>> study = load_study(["scenarios/examples/clinic_baseline.yaml",
    ...                     "scenarios/examples/clinic_night_physician.yaml"])
    >>> result = run_study(study, settings_for(study[0], replications=5), executor="serial")
    >>> summary = summarize_study(result)   # the `twin study --json` object

`scenarios/examples/` ships ready twins and example studies. Stresses, contingency rules
and costs arrive with the engine-level part of issue 4.
"""

from scenarios.loader import Scenario, load_scenario, load_study
from scenarios.report import summarize_study
from scenarios.runner import Settings, StudyResult, run_study, settings_for

__all__ = [
    "Scenario",
    "Settings",
    "StudyResult",
    "load_scenario",
    "load_study",
    "run_study",
    "settings_for",
    "summarize_study",
]
