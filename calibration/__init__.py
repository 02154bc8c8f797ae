"""Calibration: from historical event logs, maintenance records and deliveries to a twin.

    >>> from calibration import calibrate, load_events
    >>> events, loaded = load_events("tests/data/production_sample.csv")
    >>> spec, report = calibrate(events)          # plain twin spec data + report data
"""

from calibration.calibrate import calibrate
from calibration.fitters import DurationFitter
from calibration.loaders import CalibrationDataError, LoadReport, load_events

__all__ = ["CalibrationDataError", "DurationFitter", "LoadReport", "calibrate", "load_events"]
