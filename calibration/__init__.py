"""Calibration: from historical event logs, maintenance records and deliveries to a twin.

Not built yet (the calibration issue); nothing here is importable beyond this package.
"""
